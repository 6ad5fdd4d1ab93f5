//! What a file is, from its first bytes: a still (PNG, JPEG, WebP, GIF of one
//! frame is decided later), an animation (APNG by its `acTL` chunk, WebP by
//! the animation flag of `VP8X`, GIF) or a video (an ISO-BMFF `ftyp`, or an
//! EBML header for WebM/Matroska).

use crate::model::ImageFormat;

/// The containers of moving files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    /// MP4 (ISO base media).
    Mp4,
    /// QuickTime.
    Mov,
    /// WebM.
    Webm,
    /// Matroska.
    Mkv,
    /// GIF.
    Gif,
    /// Animated WebP.
    Webp,
    /// Animated PNG.
    Apng,
}

impl Container {
    /// The name scenarios use (`expect.videos.container`).
    pub fn as_str(self) -> &'static str {
        match self {
            Container::Mp4 => "mp4",
            Container::Mov => "mov",
            Container::Webm => "webm",
            Container::Mkv => "mkv",
            Container::Gif => "gif",
            Container::Webp => "webp",
            Container::Apng => "png",
        }
    }

    /// Whether it holds coded video (else an animation of pictures).
    pub fn is_video(self) -> bool {
        matches!(self, Container::Mp4 | Container::Mov | Container::Webm | Container::Mkv)
    }
}

/// What a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A picture.
    Still(ImageFormat),
    /// An animation or a video (a GIF may still turn out to have one frame).
    Moving(Container),
    /// Not something the harness knows.
    Unknown,
}

/// Sniffs the bytes.
pub fn sniff(b: &[u8]) -> Kind {
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        return if apng(b) { Kind::Moving(Container::Apng) } else { Kind::Still(ImageFormat::Png) };
    }
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Kind::Still(ImageFormat::Jpeg);
    }
    if b.len() >= 12 && &b[0..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        // VP8X: flags byte at 20, bit 1 = animation.
        let animated = b.len() > 20 && &b[12..16] == b"VP8X" && b[20] & 0x02 != 0;
        return if animated { Kind::Moving(Container::Webp) } else { Kind::Still(ImageFormat::Webp) };
    }
    if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        return Kind::Moving(Container::Gif);
    }
    if b.len() >= 12 && &b[4..8] == b"ftyp" {
        return Kind::Moving(if &b[8..12] == b"qt  " { Container::Mov } else { Container::Mp4 });
    }
    if b.len() >= 8 && matches!(&b[4..8], b"moov" | b"mdat" | b"wide" | b"free" | b"skip") {
        return Kind::Moving(Container::Mov);
    }
    if b.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        let head = &b[..b.len().min(64)];
        let webm = head.windows(4).any(|w| w == b"webm");
        return Kind::Moving(if webm { Container::Webm } else { Container::Mkv });
    }
    Kind::Unknown
}

/// A PNG with an `acTL` chunk declaring more than one frame, before the image data.
fn apng(b: &[u8]) -> bool {
    let mut at = 8;
    while at + 12 <= b.len() {
        let len = u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize;
        let kind = &b[at + 4..at + 8];
        if kind == b"acTL" && at + 12 <= b.len() {
            let frames = u32::from_be_bytes([b[at + 8], b[at + 9], b[at + 10], b[at + 11]]);
            return frames > 1;
        }
        if kind == b"IDAT" {
            return false;
        }
        at = at.saturating_add(12).saturating_add(len);
    }
    false
}
