//! Video frames through an `ffmpeg` executable on PATH: the fallback for the
//! codecs the built-in decoders do not cover (VP9, AV1, HEVC, ...) in the
//! default build. The file is staged in a temporary file (ffmpeg seeks in
//! MP4s), decoded in presentation order up to the last wanted frame, and the
//! frames piped back as PPM, whose header carries each frame's size.

use std::io::Read;
use std::process::{Command, Stdio};

use image::RgbImage;

use super::facts::FramesError;

/// The executable run: `HARNESS_FFMPEG` (a path) or `ffmpeg` on PATH.
pub(crate) fn program() -> std::ffi::OsString {
    crate::settings::Env::process().get("HARNESS_FFMPEG").unwrap_or_else(|| "ffmpeg".into()).into()
}

/// Whether an ffmpeg executable answers `-version` (checked once per process).
pub(crate) fn available() -> bool {
    static FOUND: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FOUND.get_or_init(|| {
        let mut cmd = Command::new(program());
        cmd.arg("-version").stderr(Stdio::null());
        crate::clock::output_within(&mut cmd, std::time::Duration::from_secs(10)).is_some_and(|(s, _)| s.success())
    })
}

/// How long one ffmpeg decode may take before it is killed.
const FFMPEG_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Frames `wanted` (sorted, 0-based, in presentation order) of `bytes`.
pub(crate) fn frames(bytes: &[u8], wanted: &[u64]) -> Result<Vec<(u64, RgbImage)>, FramesError> {
    let staged = tempfile::Builder::new()
        .prefix("endpoint-harness-")
        .suffix(".media")
        .tempfile()
        .map_err(|e| FramesError::Decode(format!("cannot stage the file for ffmpeg: {e}")))?;
    std::fs::write(staged.path(), bytes).map_err(|e| FramesError::Decode(format!("cannot stage the file for ffmpeg: {e}")))?;
    let last = wanted.iter().copied().max().unwrap_or(0);
    let mut child = Command::new(program())
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-i"])
        .arg(staged.path())
        // every decoded frame once, in order: no frame-rate conversion
        .args(["-map", "0:v:0", "-fps_mode", "passthrough", "-frames:v"])
        .arg((last + 1).to_string())
        .args(["-f", "image2pipe", "-c:v", "ppm", "-pix_fmt", "rgb24", "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| FramesError::NoDecoder(format!("pixels not checked: cannot run ffmpeg ({e})")))?;
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    // A decode that hangs (a hostile file, a stuck ffmpeg) is killed after
    // FFMPEG_LIMIT: the pipe then ends and the read below returns.
    let child = std::sync::Arc::new(std::sync::Mutex::new(child));
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let watchdog = {
        let child = child.clone();
        std::thread::spawn(move || {
            if finished.recv_timeout(FFMPEG_LIMIT) == Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
                let _ = child.lock().unwrap_or_else(|e| e.into_inner()).kill();
            }
        })
    };
    // stderr is drained on its own thread so a chatty ffmpeg cannot block on a full pipe
    let errors = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut got = Vec::new();
    let mut index = 0u64;
    let read = loop {
        match read_ppm(&mut stdout) {
            Ok(Some(img)) => {
                if wanted.contains(&index) {
                    got.push((index, img));
                }
                index += 1;
            }
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    drop(stdout);
    let status = child.lock().unwrap_or_else(|e| e.into_inner()).wait();
    let _ = done.send(());
    let _ = watchdog.join();
    let errors = errors.join().unwrap_or_default();
    read?;
    match status {
        Ok(s) if s.success() => Ok(got),
        _ => {
            let said = errors.lines().last().unwrap_or("no message").trim();
            if said.contains("Decoder") || said.contains("decoder") {
                Err(FramesError::NoDecoder(format!("pixels not checked: this ffmpeg cannot decode it ({said})")))
            } else {
                Err(FramesError::Decode(format!("ffmpeg: {said}")))
            }
        }
    }
}

/// One binary PPM (`P6`, maxval 255) from the pipe; `None` at a clean end.
fn read_ppm(r: &mut impl Read) -> Result<Option<RgbImage>, FramesError> {
    let bad = |what: &str| FramesError::Decode(format!("ffmpeg wrote an unreadable frame: {what}"));
    let mut fields: Vec<u32> = Vec::with_capacity(3);
    let mut magic = [0u8; 2];
    match r.read_exact(&mut magic) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(bad(&e.to_string())),
    }
    if &magic != b"P6" {
        return Err(bad("not a P6 header"));
    }
    let mut byte = [0u8; 1];
    let mut current: Option<u32> = None;
    // width, height, maxval as ASCII decimals separated by whitespace; one whitespace byte ends the header
    while fields.len() < 3 {
        r.read_exact(&mut byte).map_err(|e| bad(&e.to_string()))?;
        match byte[0] {
            b'0'..=b'9' => {
                let d = u32::from(byte[0] - b'0');
                current = Some(current.unwrap_or(0).checked_mul(10).and_then(|v| v.checked_add(d)).ok_or_else(|| bad("header number too large"))?);
            }
            b' ' | b'\n' | b'\r' | b'\t' => {
                if let Some(v) = current.take() {
                    fields.push(v);
                }
            }
            _ => return Err(bad("unexpected header byte")),
        }
    }
    let (w, h, max) = (fields[0], fields[1], fields[2]);
    if max != 255 || w == 0 || h == 0 || w > crate::media::limits::MAX_SIDE || h > crate::media::limits::MAX_SIDE {
        return Err(bad(&format!("{w}x{h} maxval {max}")));
    }
    let mut buf = vec![0u8; w as usize * h as usize * 3];
    r.read_exact(&mut buf).map_err(|e| bad(&e.to_string()))?;
    Ok(RgbImage::from_raw(w, h, buf))
}

#[cfg(test)]
mod tests {
    use super::read_ppm;

    #[test]
    fn reads_consecutive_ppm_frames_and_stops_cleanly() {
        let mut data = b"P6\n2 1\n255\n".to_vec();
        data.extend_from_slice(&[1, 2, 3, 4, 5, 6]);
        data.extend_from_slice(b"P6 1 1 255\n");
        data.extend_from_slice(&[9, 9, 9]);
        let mut r = &data[..];
        let a = read_ppm(&mut r).unwrap().unwrap();
        assert_eq!((a.width(), a.height(), a.get_pixel(1, 0).0), (2, 1, [4, 5, 6]));
        let b = read_ppm(&mut r).unwrap().unwrap();
        assert_eq!(b.get_pixel(0, 0).0, [9, 9, 9]);
        assert!(read_ppm(&mut r).unwrap().is_none());
        assert!(read_ppm(&mut &b"P5\n"[..]).is_err());
        assert!(read_ppm(&mut &b"P6\n2 1\n255\n\x01"[..]).is_err(), "a short frame is an error");
    }
}
