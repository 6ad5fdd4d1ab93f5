//! Secret redaction: the API key and presigned-URL signatures never reach output,
//! logs, reports or snapshots. Every text that can carry endpoint data (errors,
//! bodies, URLs) passes through [`redact`] before it is shown or written.

use std::borrow::Cow;
use std::sync::RwLock;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers a secret value (an API key, a password, a token) to be replaced
/// by `[REDACTED]` everywhere, whatever its length: one of 6 characters or
/// more wherever it appears, a shorter one where it stands as a word of its own
/// (so a 4-character password is redacted without mangling every word that
/// contains its letters).
pub fn register_secret(secret: &str) {
    if secret.is_empty() {
        return;
    }
    let mut s = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    if !s.iter().any(|x| x == secret) {
        s.push(secret.to_string());
        // Longest first: a secret that contains another is redacted whole.
        s.sort_by_key(|x| std::cmp::Reverse(x.len()));
    }
}

/// Below this length a secret is redacted only where it stands alone.
const SHORT: usize = 6;

/// `text` with every standalone occurrence of `word` (not touching a letter,
/// digit or `_` on either side) replaced; None when there is none.
fn replace_word(text: &str, word: &str) -> Option<String> {
    let is_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let mut splice = Splice::new(text);
    let mut from = 0;
    while let Some(k) = text[from..].find(word) {
        let (start, end) = (from + k, from + k + word.len());
        if !is_word(text[..start].chars().next_back()) && !is_word(text[end..].chars().next()) {
            splice.redact(start, end);
        }
        from = end;
    }
    splice.finish()
}

/// Query parameters whose values are credentials in presigned URLs (S3, GCS, Azure SAS).
const SIGNATURE_PARAMS: [&str; 13] = [
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "signature",
    "sig",
    "token",
    "x-goog-signature",
    "x-goog-credential",
    "awsaccesskeyid",
    "se",
    "sp",
    "sv",
    "x-goog-security-token",
];

/// Where a redacted value ends: the next parameter, whitespace, or markup/quote.
fn ends_value(text: &str, at: usize) -> bool {
    let b = text.as_bytes()[at];
    matches!(b, b'&' | b'"' | b'\'' | b'<' | b'>') || whitespace_len(text, at).is_some()
}

/// The byte length of the whitespace character (Unicode's) at `at`, if it is one.
fn whitespace_len(text: &str, at: usize) -> Option<usize> {
    let b = text.as_bytes()[at];
    if b.is_ascii() {
        return b.is_ascii_whitespace().then_some(1).or((b == 0x0B).then_some(1));
    }
    let c = text.get(at..)?.chars().next()?;
    c.is_whitespace().then(|| c.len_utf8())
}

/// Builds a redacted copy of a text: what lies between replaced spans is
/// copied as is; None when nothing was replaced (the caller keeps the original).
struct Splice<'a> {
    text: &'a str,
    out: String,
    copied: usize,
}

impl<'a> Splice<'a> {
    fn new(text: &'a str) -> Self {
        Splice { text, out: String::new(), copied: 0 }
    }

    /// Replaces `text[from..to]` with `[REDACTED]`.
    fn redact(&mut self, from: usize, to: usize) {
        self.out.push_str(&self.text[self.copied..from]);
        self.out.push_str("[REDACTED]");
        self.copied = to;
    }

    fn finish(mut self) -> Option<String> {
        (self.copied > 0).then(|| {
            self.out.push_str(&self.text[self.copied..]);
            self.out
        })
    }
}

/// `?name=value` / `&name=value` for a credential `name` (any ASCII case):
/// the value becomes `[REDACTED]`. Hand-scanned rather than a regex: building
/// that case-insensitive regex cost a nextest trial process about a millisecond.
fn redact_signatures(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut splice = Splice::new(text);
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'?' || b[i] == b'&' {
            let name_start = i + 1;
            let mut j = name_start;
            while j < b.len() && b[j] != b'=' && !ends_value(text, j) && b[j] != b'?' {
                j += 1;
            }
            if j < b.len() && b[j] == b'=' {
                let name = &text[name_start..j];
                let value_start = j + 1;
                let mut k = value_start;
                while k < b.len() && !ends_value(text, k) {
                    k += 1;
                }
                if k > value_start && SIGNATURE_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(name)) {
                    splice.redact(value_start, k);
                    i = k;
                    continue;
                }
            }
        }
        i += 1;
    }
    splice.finish()
}

/// `Bearer <token>` (any ASCII case, at least 6 token characters): the token becomes `[REDACTED]`.
fn redact_bearer(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let token = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-');
    let mut splice = Splice::new(text);
    let mut i = 0;
    while i + 6 <= b.len() {
        if b[i..i + 6].eq_ignore_ascii_case(b"bearer") {
            let mut j = i + 6;
            while j < b.len() {
                match whitespace_len(text, j) {
                    Some(n) => j += n,
                    None => break,
                }
            }
            let mut k = j;
            while k < b.len() && token(b[k]) {
                k += 1;
            }
            if j > i + 6 && k - j >= 6 {
                splice.redact(j, k);
                i = k;
                continue;
            }
        }
        i += 1;
    }
    splice.finish()
}

/// Removes registered secrets, bearer tokens and URL signatures from `text`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    {
        let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
        for s in secrets.iter() {
            if !out.contains(s.as_str()) {
                continue;
            }
            if s.len() >= SHORT {
                out = Cow::Owned(out.replace(s.as_str(), "[REDACTED]"));
            } else if let Some(r) = replace_word(&out, s) {
                out = Cow::Owned(r);
            }
        }
    }
    if let Some(r) = redact_signatures(&out) {
        out = Cow::Owned(r);
    }
    if let Some(r) = redact_bearer(&out) {
        out = Cow::Owned(r);
    }
    out
}

/// A URL safe to show: no query string at all (presigned URLs carry credentials there).
pub fn url_for_display(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{}?[query redacted]", redact(base)),
        None => redact(url).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_keys_and_signatures() {
        register_secret("rpa_TESTKEY_123456");
        let s = redact("key rpa_TESTKEY_123456 at https://b.s3/x.png?X-Amz-Signature=abc&X-Amz-Date=1 Bearer zzzzzzzz");
        assert_eq!(s, "key [REDACTED] at https://b.s3/x.png?X-Amz-Signature=[REDACTED]&X-Amz-Date=1 Bearer [REDACTED]");
        assert_eq!(
            url_for_display("https://h/p.png?sig=1"),
            "https://h/p.png?[query redacted]"
        );
    }

    /// A short secret (a 4-character proxy password) is redacted where it
    /// stands alone, and never cuts into other words; a key echoed at any
    /// offset of a long error survives no cut (redacted first, cut after).
    #[test]
    fn short_secrets_and_secrets_at_any_offset() {
        register_secret("pw9z");
        assert_eq!(redact("user me, password pw9z; pw9zx stays, xpw9z too"), "user me, password [REDACTED]; pw9zx stays, xpw9z too");
        register_secret("rpa_OFFSETKEY_0123456789");
        for at in [0, 1, 250, 290, 299, 300, 301, 2000] {
            let text = format!("{}rpa_OFFSETKEY_0123456789 tail", "x".repeat(at));
            let head = crate::text::truncate(&redact(&text), 300);
            assert!(!head.contains("rpa_"), "at {at}");
        }
    }

    #[test]
    fn the_scanners_match_what_the_regexes_matched() {
        // The regexes the scanners replaced, as the reference.
        let sig = regex::Regex::new(r"(?i)([?&](?:x-amz-signature|x-amz-credential|x-amz-security-token|signature|sig|token|x-goog-signature|x-goog-credential|x-goog-security-token|awsaccesskeyid|se|sp|sv)=)[^&\s\x22'<>]+").unwrap();
        let bearer = regex::Regex::new(r"(?i)(bearer\s+)[A-Za-z0-9._\-]{6,}").unwrap();
        let cases = [
            "https://b.s3/x.png?X-Amz-Signature=abc&X-Amz-Date=1",
            "u?a=1&SIG=zz&sv=2020-01-01&se=2030&sp=r&x=y",
            "<a href='https://h/x?token=t0k3n'>x</a> \"?Signature=q\"",
            "?sig=&token=\t&sig==x",
            "??sig=1 &token=2&&se=3",
            "Authorization: Bearer abcdef, bearer\tabc, BEARER  abc.DEF_gh-1 xbearer 123456",
            "bearerabcdefgh bearer  ",
            "ünïcødé?sig=ßecret&x=ü bearer 日本語abcdef",
        ];
        let check = |c: &str| {
            let want = bearer.replace_all(&sig.replace_all(c, "${1}[REDACTED]"), "${1}[REDACTED]").into_owned();
            assert_eq!(redact(c), want, "{c:?}");
        };
        cases.into_iter().for_each(check);
        // And 20,000 random strings over the characters that matter.
        let pieces = ["?", "&", "=", "sig", "SE", "token", "x-amz-signature", "bearer", "Bearer", " ", "\t", "\u{b}", "\u{2003}", "\u{a0}", "\u{85}", "abcdef", "1", "'", "<", "é", "_-."];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            let mut c = String::new();
            for _ in 0..12 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                c.push_str(pieces[(seed % pieces.len() as u64) as usize]);
            }
            check(&c);
        }
    }
}
