//! Secret redaction: the API key and presigned-URL signatures never reach output,
//! logs, reports or snapshots. Every text that can carry endpoint data (errors,
//! bodies, URLs) passes through [`redact`] before it is shown or written.

use std::borrow::Cow;
use std::sync::{OnceLock, RwLock};

use regex::Regex;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers a secret value (an API key) to be replaced by `[REDACTED]` everywhere.
pub fn register_secret(secret: &str) {
    // Very short values would redact ordinary words; a real key is long.
    if secret.len() >= 6 {
        let mut s = SECRETS.write().unwrap_or_else(|e| e.into_inner());
        if !s.iter().any(|x| x == secret) {
            s.push(secret.to_string());
        }
    }
}

fn signature_params() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)([?&](?:x-amz-signature|x-amz-credential|x-amz-security-token|signature|sig|token|x-goog-signature|x-goog-credential|awsaccesskeyid|se|sp|sv)=)[^&\s\x22'<>]+")
            .expect("static regex")
    })
}

fn bearer() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?i)(bearer\s+)[A-Za-z0-9._\-]{6,}").expect("static regex"))
}

/// Removes registered secrets, bearer tokens and URL signatures from `text`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    {
        let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
        for s in secrets.iter() {
            if out.contains(s.as_str()) {
                out = Cow::Owned(out.replace(s.as_str(), "[REDACTED]"));
            }
        }
    }
    if signature_params().is_match(&out) {
        out = Cow::Owned(
            signature_params()
                .replace_all(&out, "${1}[REDACTED]")
                .into_owned(),
        );
    }
    if bearer().is_match(&out) {
        out = Cow::Owned(bearer().replace_all(&out, "${1}[REDACTED]").into_owned());
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
}
