//! Standard base64 (padding optional, ASCII whitespace ignored) decoded in
//! place: the bytes land at the front of the buffer that held the text, so a
//! returned image costs no second buffer of its size. Each 32 KiB of text is
//! decoded into a small stack buffer and copied back behind the read position
//! (three bytes out for every four characters in, so the write never passes
//! the read). Errors read as the `base64` crate's for the whole text would.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::{DecodeError, DecodeSliceError, Engine};

/// Characters decoded per step (a multiple of 4): large enough that the
/// engine's per-call work is noise, small enough for the stack.
const STEP: usize = 32 * 1024;

fn engine() -> GeneralPurpose {
    GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    )
}

/// Decodes the base64 text in `buf[start..]` into `buf` itself, which ends up
/// holding exactly the decoded bytes.
pub(crate) fn decode_in_place(buf: &mut Vec<u8>, start: usize) -> Result<(), DecodeError> {
    let engine = engine();
    let total = buf.len() - start;
    let mut tmp = [0u8; STEP / 4 * 3];
    // Text without whitespace is decoded straight from `buf`; once whitespace
    // shows up (line-wrapped base64), the rest is packed into `staged` first.
    let mut staged = [0u8; STEP];
    let mut slow = false;
    // Read position in `buf`, characters decoded so far, bytes written.
    let (mut read, mut seen, mut out) = (start, 0usize, 0usize);
    while read < buf.len() {
        let direct = !slow && buf.len() - read >= STEP;
        let (chunk_len, consumed) = if direct {
            (STEP, STEP)
        } else {
            let (mut n, mut i) = (0, read);
            while i < buf.len() && n < STEP {
                if !buf[i].is_ascii_whitespace() {
                    staged[n] = buf[i];
                    n += 1;
                }
                i += 1;
            }
            (n, i - read)
        };
        let chunk: &[u8] = if direct { &buf[read..read + STEP] } else { &staged[..chunk_len] };
        let n = match engine.decode_slice(chunk, &mut tmp) {
            Ok(n) => n,
            Err(DecodeSliceError::DecodeError(DecodeError::InvalidByte(_, b))) if direct && b.is_ascii_whitespace() => {
                slow = true;
                continue;
            }
            Err(DecodeSliceError::DecodeError(e)) => return Err(shift(e, seen, total)),
            // `tmp` holds three bytes for every four characters of a step.
            Err(DecodeSliceError::OutputSliceTooSmall) => unreachable!("a step's output fits"),
        };
        // A short step (padding) must be the last one, as in one piece.
        if n < tmp.len() && buf[read + consumed..].iter().any(|b| !b.is_ascii_whitespace()) {
            let at = chunk.iter().position(|&b| b == b'=').unwrap_or(chunk_len);
            return Err(DecodeError::InvalidByte(seen + at, b'='));
        }
        buf[out..out + n].copy_from_slice(&tmp[..n]);
        out += n;
        seen += chunk_len;
        read += consumed;
    }
    buf.truncate(out);
    Ok(())
}

/// An error of one step, as the whole text's decode reports it.
fn shift(e: DecodeError, before: usize, total: usize) -> DecodeError {
    match e {
        DecodeError::InvalidByte(at, b) => DecodeError::InvalidByte(before + at, b),
        DecodeError::InvalidLastSymbol(at, b) => DecodeError::InvalidLastSymbol(before + at, b),
        DecodeError::InvalidLength(_) => DecodeError::InvalidLength(total),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &[u8]) {
        let mut buf = b"data:".to_vec();
        buf.extend_from_slice(text);
        let got = decode_in_place(&mut buf, 5).map(|()| buf);
        let cleaned: Vec<u8> = text.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
        let want = engine().decode(&cleaned);
        match (&got, &want) {
            (Ok(a), Ok(b)) => assert!(a == b, "{} bytes differ", text.len()),
            (Err(a), Err(b)) => assert_eq!(
                std::mem::discriminant(a),
                std::mem::discriminant(b),
                "{a} vs {b}"
            ),
            _ => panic!("in place {:?} vs whole {:?} for {} characters", got.as_ref().map(Vec::len), want.as_ref().map(Vec::len), text.len()),
        }
    }

    #[test]
    fn decodes_as_the_whole_text_would() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let step = STEP / 4 * 3;
        for len in [0, 1, 2, 3, 4, step - 1, step, step + 1, 2 * step, 100_000] {
            let text = engine().encode(&data[..len]);
            check(text.as_bytes());
            check(text.trim_end_matches('=').as_bytes());
            // Wrapped at 76 columns, as MIME encoders do, with CRLF.
            let wrapped: Vec<u8> = text.as_bytes().chunks(76).flat_map(|l| l.iter().copied().chain(*b"\r\n")).collect();
            check(&wrapped);
        }
        let text = engine().encode(&data);
        // A bad character early, late, and padding in the middle.
        for at in [10, STEP - 1, STEP, STEP + 7, 120_000] {
            let mut bad = text.clone().into_bytes();
            bad[at] = b'!';
            check(&bad);
        }
        let mut early = text.clone().into_bytes();
        early[STEP + 5000] = b'=';
        check(&early);
        check(&text.as_bytes()[..text.len() - 3]);
    }

    #[test]
    fn errors_name_the_offset_in_the_whole_text() {
        let text = engine().encode(vec![7u8; 3 * STEP]);
        let mut bad = text.into_bytes();
        bad[STEP + 5000] = b'*';
        let mut buf = bad.clone();
        assert_eq!(decode_in_place(&mut buf, 0), Err(DecodeError::InvalidByte(STEP + 5000, b'*')));
        // Padding with more text after it.
        let mut early = engine().encode(vec![7u8; 3 * STEP]).into_bytes();
        early[STEP - 1] = b'=';
        assert_eq!(decode_in_place(&mut early, 0), Err(DecodeError::InvalidByte(STEP - 1, b'=')));
    }
}
