//! The thresholds and decoding limits every returned file is held to: a leaf,
//! so the media readers can use them without depending on the checks.

/// A frame whose every channel varies less than this (standard deviation, 0-255
/// scale) is blank: a safety-filtered black frame with compression noise still is.
pub const BLANK_STDDEV: f64 = 2.0;
/// An image whose neighbouring pixels' luma correlates less than this is pure
/// noise (a broken VAE or sampler). Real diffusion outputs in the drift corpus
/// (`tests/fixtures/drift/`) score far above it, uniform noise near 0.
pub const NOISE_CORRELATION: f64 = 0.3;
/// Decoder limits: a PNG that declares huge dimensions fails cleanly instead of
/// allocating gigabytes.
pub const MAX_SIDE: u32 = 16384;
pub const MAX_DECODE_BYTES: u64 = 1024 * 1024 * 1024;

/// Why an image could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The bytes could not even be read as an image.
    #[error("cannot read image: {0}")]
    Read(std::io::Error),
    /// The header declares a side over [`MAX_SIDE`]: refused before any pixel is
    /// allocated (a corrupt header, or a "huge dimensions" fault).
    // Worded as the media readers word theirs (`media::facts`).
    #[error("image declares {width}x{height} pixels, over the {MAX_SIDE} px a side the harness reads")]
    TooLarge { width: u32, height: u32 },
    /// The decoder refused them (corrupt, truncated, over the limits).
    #[error("image does not decode: {0}")]
    Decode(image::ImageError),
}
