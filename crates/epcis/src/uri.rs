//! Small URI helpers (no allocation, no I/O).

/// Whether `s` has the shape of an absolute URI (RFC 3986 `scheme ":" rest`,
/// with no white space or control characters). Non-ASCII characters are
/// allowed, as in IRIs.
pub fn is_absolute_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    first_ok
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_uris() {
        for ok in [
            "urn:epc:id:sgtin:0614141.107346.2018",
            "https://example.com/x",
            "ni:///sha-256;abc?ver=CBV2.0",
            "example:x",
        ] {
            assert!(is_absolute_uri(ok), "{ok}");
        }
        for bad in ["receiving", ":x", "1abc:x", "a b:c", "x:", "http://a b", ""] {
            assert!(!is_absolute_uri(bad), "{bad}");
        }
    }
}
