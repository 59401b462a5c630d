//! Numbers in the pre-hash string, without floating point.
//!
//! The reference implementation writes a value that Python's `float()`
//! accepts as `str(int(x))` when it is integral and `repr(x)` otherwise, so
//! `1.0` → `1`, `0.50` → `0.5`, `007` → `7`, `1e-5` → `1e-05`. It does this
//! for every value, quoted or not (an XML document has no number type, so
//! `"2"` and `2` must hash alike). We reproduce exactly that output from the
//! decimal text with integer arithmetic only, inside the range where it is
//! fully determined by the decimal digits:
//! - non-integral values with at most 15 significant digits (an IEEE double
//!   round-trips every such decimal, so `repr` prints exactly those digits);
//! - integral values that a double holds exactly.
//!
//! Outside that range (more than 15 significant digits, magnitudes a double
//! cannot hold exactly, infinities, NaN) the text is left as it was: the
//! reference's output there is an artefact of binary rounding, which we do
//! not emulate (see the README).

/// Python's `str.isspace()`: Rust's `char::is_whitespace` plus the four
/// ASCII information separators.
pub fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()` without arguments.
pub fn python_strip(s: &str) -> &str {
    // Most values start and end with a visible ASCII character; the
    // general trim walks Unicode whitespace tables.
    let visible = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_graphic());
    if visible(s.as_bytes().first()) && visible(s.as_bytes().last()) {
        return s;
    }
    s.trim_matches(is_python_space)
}

/// Canonical text of `text` if it is a number (Python `float()` syntax with
/// ASCII digits) inside the exactly emulated range; `None` otherwise.
/// `text` must already be stripped.
pub fn canonical_number(text: &str) -> Option<String> {
    let parsed = parse_decimal(text)?;
    render(&parsed)
}

struct Decimal {
    negative: bool,
    /// Significant digits, no leading or trailing zeros; empty for zero.
    digits: Vec<u8>,
    /// value = digits × 10^exp10
    exp10: i64,
}

/// Digits separated by single underscores, as in Python's `digitpart`.
fn take_digitpart(b: &[u8], mut i: usize, out: &mut Vec<u8>) -> Option<usize> {
    if !b.get(i)?.is_ascii_digit() {
        return None;
    }
    loop {
        match b.get(i) {
            Some(d) if d.is_ascii_digit() => {
                out.push(*d);
                i += 1;
            }
            Some(b'_') if b.get(i + 1).is_some_and(u8::is_ascii_digit) => i += 1,
            _ => return Some(i),
        }
    }
}

fn parse_decimal(text: &str) -> Option<Decimal> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut negative = false;
    match b.first()? {
        b'+' => i += 1,
        b'-' => {
            negative = true;
            i += 1;
        }
        _ => {}
    }
    let mut int_digits = Vec::new();
    let mut frac_digits = Vec::new();
    let has_int = b.get(i).is_some_and(u8::is_ascii_digit);
    if has_int {
        i = take_digitpart(b, i, &mut int_digits)?;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if b.get(i).is_some_and(u8::is_ascii_digit) {
            i = take_digitpart(b, i, &mut frac_digits)?;
        } else if !has_int {
            return None;
        }
    } else if !has_int {
        return None;
    }
    let mut exp: i64 = 0;
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        let mut exp_negative = false;
        match b.get(i) {
            Some(b'+') => i += 1,
            Some(b'-') => {
                exp_negative = true;
                i += 1;
            }
            _ => {}
        }
        let mut exp_digits = Vec::new();
        i = take_digitpart(b, i, &mut exp_digits)?;
        for d in exp_digits {
            // Saturate: anything this large is outside the emulated range.
            exp = exp.saturating_mul(10).saturating_add(i64::from(d - b'0'));
            if exp > 1_000_000 {
                exp = 1_000_000;
            }
        }
        if exp_negative {
            exp = -exp;
        }
    }
    if i != b.len() {
        return None;
    }
    let frac_len = i64::try_from(frac_digits.len()).ok()?;
    let mut digits = int_digits;
    digits.extend_from_slice(&frac_digits);
    let mut exp10 = exp - frac_len;
    let first_nonzero = digits.iter().position(|&d| d != b'0');
    let Some(first) = first_nonzero else {
        return Some(Decimal {
            negative: false,
            digits: Vec::new(),
            exp10: 0,
        });
    };
    digits.drain(..first);
    while digits.last() == Some(&b'0') {
        digits.pop();
        exp10 += 1;
    }
    Some(Decimal {
        negative,
        digits,
        exp10,
    })
}

const TWO_POW_53: u128 = 1 << 53;

fn render(d: &Decimal) -> Option<String> {
    if d.digits.is_empty() {
        return Some("0".to_owned());
    }
    let n = i64::try_from(d.digits.len()).ok()?;
    let decpt = n + d.exp10;
    let mut out = String::new();
    if d.negative {
        out.push('-');
    }
    let digits = std::str::from_utf8(&d.digits).ok()?;
    if d.exp10 >= 0 {
        // Integral: exact only if mantissa × 10^e fits a double exactly.
        if decpt > 309 || n > 38 {
            return None;
        }
        let mut m: u128 = digits.parse().ok()?;
        for _ in 0..d.exp10 {
            m = m.checked_mul(5)?;
        }
        let odd = m >> m.trailing_zeros();
        if odd >= TWO_POW_53 {
            return None;
        }
        out.push_str(digits);
        for _ in 0..d.exp10 {
            out.push('0');
        }
        return Some(out);
    }
    if n > 15 || decpt < -300 {
        return None;
    }
    if decpt <= -4 {
        // Python repr switches to scientific notation below 1e-4.
        out.push_str(&digits[..1]);
        if n > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let e = decpt - 1;
        out.push_str("e-");
        let abs = e.unsigned_abs();
        if abs < 10 {
            out.push('0');
        }
        out.push_str(&abs.to_string());
    } else if decpt <= 0 {
        out.push_str("0.");
        for _ in 0..(-decpt) {
            out.push('0');
        }
        out.push_str(digits);
    } else {
        let split = usize::try_from(decpt).ok()?;
        out.push_str(&digits[..split]);
        out.push('.');
        out.push_str(&digits[split..]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Option<String> {
        canonical_number(s)
    }

    #[test]
    fn matches_python_str_of_float_or_int() {
        // Expected values are what Python prints for the reference's
        // `str(int(f)) if int(f) == f else str(f)` with f = float(text).
        let cases = [
            ("1", "1"),
            ("1.0", "1"),
            ("1.50", "1.5"),
            ("-0", "0"),
            ("-0.0", "0"),
            ("007", "7"),
            ("+5", "5"),
            ("12.1", "12.1"),
            ("0.05", "0.05"),
            ("0.0001", "0.0001"),
            ("0.00001", "1e-05"),
            ("0.000012", "1.2e-05"),
            ("-1.5e-7", "-1.5e-07"),
            ("1e-100", "1e-100"),
            ("1e3", "1000"),
            ("1E+2", "100"),
            ("2.5e1", "25"),
            ("1_000", "1000"),
            ("1_0.2_5", "10.25"),
            (".5", "0.5"),
            ("5.", "5"),
            ("123456789.123456", "123456789.123456"),
            ("9007199254740992", "9007199254740992"),
            ("1e20", "100000000000000000000"),
            ("26.2", "26.2"),
            ("100.000", "100"),
        ];
        for (input, want) in cases {
            assert_eq!(c(input).as_deref(), Some(want), "input {input}");
        }
    }

    #[test]
    fn not_numbers_or_out_of_range_are_left_alone() {
        for input in [
            "",
            "abc",
            "1_",
            "_1",
            "1__0",
            "1e",
            "e5",
            ".",
            "+",
            "1.2.3",
            "0x10",
            "nan",
            "inf",
            "Infinity",
            "1e400",
            "9007199254740993",
            "0.12345678901234567",
            "A93",
            "1 2",
        ] {
            assert_eq!(c(input), None, "input {input}");
        }
    }

    #[test]
    fn python_strip_includes_information_separators() {
        assert_eq!(python_strip("\u{1c} a b\u{a0}\n"), "a b");
    }
}
