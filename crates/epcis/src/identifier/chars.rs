//! Character classes of EPC URNs and GS1 Digital Link values, and the GS1
//! check digit.

/// GS1 mod-10 check digit over ASCII digits (GS1 General Specifications
/// 7.9.1): weights 3,1,3,… from the right.
pub fn check_digit(digits: &[u8]) -> u8 {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let v = u32::from(d - b'0');
        sum += if i % 2 == 0 { v * 3 } else { v };
    }
    ((10 - sum % 10) % 10) as u8 + b'0'
}

/// Whether the last digit of `digits` is the right check digit.
pub fn has_valid_check_digit(digits: &[u8]) -> bool {
    match digits.split_last() {
        Some((last, body)) => check_digit(body) == *last,
        None => false,
    }
}

pub fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

/// Count the characters of `s` (a percent escape counts as one) if every
/// character is allowed by `plain` or is an escape accepted by `escape`
/// (which receives the two hex digits).
fn count_with_escapes(
    s: &str,
    plain: impl Fn(u8) -> bool,
    escape: impl Fn(u8, u8) -> bool,
) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut n = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let (h, l) = (*b.get(i + 1)?, *b.get(i + 2)?);
            if !(is_hex(h) && is_hex(l) && escape(h.to_ascii_uppercase(), l.to_ascii_uppercase())) {
                return None;
            }
            i += 3;
        } else if plain(b[i]) {
            i += 1;
        } else {
            return None;
        }
        n += 1;
    }
    Some(n)
}

/// The EPC URN serial character set (GS1 TDS "escaped" AI 82 characters):
/// `! ' ( ) * + , - . 0-9 : ; = A-Z _ a-z` and the escapes the reference
/// implementation accepts. Returns the character count.
pub fn epc_chars(s: &str) -> Option<usize> {
    count_with_escapes(
        s,
        |c| c.is_ascii_alphanumeric() || b"!')(*+,.:;=_-".contains(&c),
        |h, l| match h {
            b'2' => matches!(l, b'1' | b'2' | b'5'..=b'9' | b'A'..=b'F'),
            b'3' => true,
            b'4' => l != b'0',
            b'5' => matches!(l, b'0'..=b'9' | b'A' | b'F'),
            b'6' => l != b'0',
            b'7' => matches!(l, b'0'..=b'9' | b'A'),
            _ => false,
        },
    )
}

/// Characters of a CPI component reference in an EPC URN: `0-9 A-Z -` and
/// the escapes `%23 %2D %2F`.
pub fn cpi_urn_chars(s: &str) -> Option<usize> {
    count_with_escapes(
        s,
        |c| c.is_ascii_digit() || c.is_ascii_uppercase() || c == b'-',
        |h, l| match h {
            b'2' => matches!(l, b'3' | b'D' | b'F'),
            b'3' => l.is_ascii_digit(),
            b'4' => l != b'0',
            b'5' => matches!(l, b'0'..=b'9' | b'A'),
            _ => false,
        },
    )
}

/// Characters of a GS1 Digital Link path value as the reference
/// implementation accepts them (`" ' - . 0-9 ; < = > ? A-Z _ a-z`), plus any
/// percent escape (the reference leaves a Digital Link with an escape
/// unnormalised; we normalise it, see the README).
pub fn dl_chars(s: &str) -> Option<usize> {
    count_with_escapes(
        s,
        |c| c.is_ascii_alphanumeric() || b"\"'-.;<=>?_".contains(&c),
        |_, _| true,
    )
}

/// Characters of a CPID (AI 8010) in a Digital Link: `# - / 0-9 A-Z`, and
/// percent escapes.
pub fn cpid_dl_chars(s: &str) -> Option<usize> {
    count_with_escapes(
        s,
        |c| c.is_ascii_digit() || c.is_ascii_uppercase() || b"#-/".contains(&c),
        |_, _| true,
    )
}

/// Percent-encode the characters of an EPC URN value that a Digital Link
/// path must not carry raw (as the reference implementation does).
pub fn encode_for_dl(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '!' => out.push_str("%21"),
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '*' => out.push_str("%2A"),
            '+' => out.push_str("%2B"),
            ',' => out.push_str("%2C"),
            ':' => out.push_str("%3A"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits() {
        assert_eq!(check_digit(b"0401234511111"), b'8');
        assert!(has_valid_check_digit(b"09521234543213"));
        assert!(!has_valid_check_digit(b"09521234543214"));
        assert!(has_valid_check_digit(b"4012345000115"));
        assert!(has_valid_check_digit(b"040123450000001112"));
    }

    #[test]
    fn character_sets() {
        assert_eq!(epc_chars("A%2FB"), Some(3));
        assert_eq!(epc_chars("a b"), None);
        assert_eq!(epc_chars("%40"), None);
        assert_eq!(dl_chars("XYZ-1234"), Some(8));
        assert_eq!(dl_chars("a!b"), None);
        assert_eq!(encode_for_dl("a!b:c"), "a%21b%3Ac");
    }
}
