//! GS1 Digital Link URIs (uncompressed), on any domain and with any path
//! prefix before the primary key.

use super::chars::{all_digits, cpid_dl_chars, dl_chars, has_valid_check_digit};
use super::{Gs1Key, IdentifierError, IdentifierKind};

/// Primary-key and qualifier AIs by their Digital Link short names.
fn ai_code(segment: &str) -> &str {
    match segment {
        "gtin" => "01",
        "itip" => "8006",
        "cpid" => "8010",
        "gln" => "414",
        "party" => "417",
        "gsrnp" => "8017",
        "gsrn" => "8018",
        "gcn" => "255",
        "sscc" => "00",
        "gdti" => "253",
        "ginc" => "401",
        "gsin" => "402",
        "grai" => "8003",
        "giai" => "8004",
        "cpv" => "22",
        "lot" => "10",
        "ser" => "21",
        other => other,
    }
}

fn primary_ai(code: &str) -> Option<&'static str> {
    const PRIMARY: [&str; 14] = [
        "01", "8006", "8010", "414", "417", "8017", "8018", "255", "00", "253", "401", "402",
        "8003", "8004",
    ];
    PRIMARY.iter().copied().find(|ai| *ai == code)
}

/// `None` if `s` is not an http(s) URI with a GS1 primary key in its path
/// (the same test the reference implementation makes: a primary-key segment
/// followed by a value starting with four digits).
pub(crate) fn parse_uri(s: &str) -> Option<Result<Gs1Key, IdentifierError>> {
    let after_scheme = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))?;
    let path_start = after_scheme.find('/')?;
    let path_and_more = &after_scheme[path_start..];
    let path_end = path_and_more
        .find(['?', '#'])
        .unwrap_or(path_and_more.len());
    let path = &path_and_more[..path_end];
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let start = segments.windows(2).position(|w| {
        primary_ai(ai_code(w[0])).is_some()
            && w[1].len() >= 5
            && w[1].as_bytes()[..4].iter().all(u8::is_ascii_digit)
    })?;
    let fail =
        |why: String| IdentifierError(format!("'{s}' is not a valid GS1 Digital Link: {why}"));
    if path_and_more[path_end..].starts_with('#') {
        return Some(Err(fail("a fragment is not allowed".into())));
    }
    Some(parse_segments(&segments[start..]).map_err(fail))
}

/// Parse a Digital Link path such as `/01/09521234543213/21/abc`.
pub(crate) fn parse_path(path: &str) -> Result<Gs1Key, IdentifierError> {
    let fail = |why: String| {
        IdentifierError(format!(
            "'{path}' is not a valid GS1 Digital Link path: {why}"
        ))
    };
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| fail("it must start with '/'".into()))?;
    let segments: Vec<&str> = rest.split('/').collect();
    parse_segments(&segments).map_err(fail)
}

fn digits_then(s: &str, n: usize) -> Option<&str> {
    let head = s.get(..n)?;
    all_digits(head).then(|| &s[n..])
}

fn check(digits: &str, what: &str) -> Result<(), String> {
    if has_valid_check_digit(digits.as_bytes()) {
        Ok(())
    } else {
        Err(format!("wrong check digit in {what} {digits}"))
    }
}

fn fixed_digits(v: &str, len: usize, what: &str) -> Result<(), String> {
    if v.len() == len && all_digits(v) {
        check(v, what)
    } else {
        Err(format!("{what} must be {len} digits"))
    }
}

fn text(v: &str, max: usize, what: &str) -> Result<(), String> {
    match dl_chars(v) {
        Some(n) if (1..=max).contains(&n) => Ok(()),
        Some(_) => Err(format!("{what} must be 1 to {max} characters")),
        None => Err(format!(
            "{what} has characters that must be percent-encoded or are not allowed"
        )),
    }
}

/// Digits with a check digit followed by an optional serial part.
fn key_with_serial(
    v: &str,
    key_len: usize,
    what: &str,
    serial_ok: impl Fn(&str) -> bool,
) -> Result<(), String> {
    let key = v
        .get(..key_len)
        .filter(|k| all_digits(k))
        .ok_or(format!("{what} must start with {key_len} digits"))?;
    check(key, what)?;
    let serial = &v[key_len..];
    if serial.is_empty() || serial_ok(serial) {
        Ok(())
    } else {
        Err(format!("invalid serial component in {what}"))
    }
}

fn primary_value(ai: &str, v: &str) -> Result<String, String> {
    match ai {
        "01" => {
            if !all_digits(v) || ![8, 12, 13, 14].contains(&v.len()) {
                return Err("a GTIN must be 8, 12, 13 or 14 digits".into());
            }
            let padded = format!("{v:0>14}");
            check(&padded, "GTIN")?;
            return Ok(padded);
        }
        "8006" => {
            if v.len() != 18 || !all_digits(v) {
                return Err("an ITIP must be 18 digits".into());
            }
            check(&v[..14], "GTIN")?;
        }
        "00" => fixed_digits(v, 18, "SSCC")?,
        "414" | "417" => fixed_digits(v, 13, "GLN")?,
        "8017" | "8018" => fixed_digits(v, 18, "GSRN")?,
        "402" => fixed_digits(v, 17, "GSIN")?,
        "253" => key_with_serial(v, 13, "GDTI", |s| dl_chars(s).is_some_and(|n| n <= 17))?,
        "255" => key_with_serial(v, 13, "GCN", |s| all_digits(s) && s.len() <= 12)?,
        "8003" => {
            // Not checked: the filler digit and the check digit. Published
            // EPCIS conformance data (OpenEPCIS) carries GRAIs that fail
            // both and must be accepted; see the README.
            let serial = digits_then(v, 14).ok_or("a GRAI must start with 14 digits")?;
            if !serial.is_empty() && dl_chars(serial).is_none_or(|n| n > 16) {
                return Err("invalid serial component in GRAI".into());
            }
        }
        "8004" => text(v, 30, "GIAI")?,
        "401" => text(v, 30, "GINC")?,
        "8010" => {
            if !cpid_dl_chars(v).is_some_and(|n| (1..=30).contains(&n)) {
                return Err("a CPID must be 1 to 30 characters of 0-9 A-Z # - /".into());
            }
        }
        _ => return Err(format!("unsupported primary key AI {ai}")),
    }
    Ok(v.to_owned())
}

/// Qualifier AIs allowed after a primary key, in the order they must appear.
fn qualifier_order(primary: &str) -> &'static [&'static [&'static str]] {
    match primary {
        "01" => &[&["22"], &["10"], &["21", "235"]],
        "8006" => &[&["22"], &["10"], &["21"]],
        "414" => &[&["254"]],
        "8010" => &[&["8011"]],
        _ => &[],
    }
}

fn qualifier_value(ai: &str, v: &str) -> Result<(), String> {
    match ai {
        "21" => text(v, 20, "serial"),
        "10" => text(v, 20, "lot"),
        "22" => text(v, 20, "consumer product variant"),
        "254" => text(v, 20, "GLN extension"),
        "235" => text(v, 28, "third-party serial"),
        "8011" if all_digits(v) && v.len() <= 12 => Ok(()),
        "8011" => Err("a CPI serial must be 1 to 12 digits".into()),
        _ => Err(format!("unexpected qualifier AI {ai}")),
    }
}

fn static_ai(code: &str) -> &'static str {
    const ALL: [&str; 20] = [
        "01", "8006", "8010", "414", "417", "8017", "8018", "255", "00", "253", "401", "402",
        "8003", "8004", "22", "10", "21", "235", "254", "8011",
    ];
    ALL.iter().copied().find(|a| *a == code).unwrap_or("")
}

fn parse_segments(segments: &[&str]) -> Result<Gs1Key, String> {
    let [first, value, rest @ ..] = segments else {
        return Err("expected /<primary key AI>/<value>".into());
    };
    let ai = primary_ai(ai_code(first))
        .ok_or_else(|| format!("'{first}' is not a GS1 primary key AI"))?;
    let primary = primary_value(ai, value)?;
    if rest.len() % 2 != 0 {
        return Err("key qualifiers must come in /<AI>/<value> pairs (no trailing '/')".into());
    }
    let order = qualifier_order(ai);
    let mut next_slot = 0;
    let mut qualifiers: Vec<(&'static str, String)> = Vec::new();
    for pair in rest.chunks(2) {
        let q = ai_code(pair[0]);
        let slot = order
            .iter()
            .enumerate()
            .skip(next_slot)
            .find(|(_, allowed)| allowed.contains(&q))
            .map(|(i, _)| i)
            .ok_or_else(|| format!("qualifier '{}' is not allowed here after AI {ai}", pair[0]))?;
        qualifier_value(q, pair[1])?;
        next_slot = slot + 1;
        qualifiers.push((static_ai(q), pair[1].to_owned()));
    }
    let has = |q: &str| {
        qualifiers
            .iter()
            .find(|(a, _)| *a == q)
            .map(|(_, v)| v.clone())
    };
    let mut elements = vec![(ai, primary)];
    let kind = match ai {
        "01" | "8006" => {
            let finest = ["21", "235", "10"]
                .into_iter()
                .find_map(|q| has(q).map(|v| (q, v)));
            let kind = match (ai, finest.as_ref().map(|(q, _)| *q)) {
                ("8006", _) => IdentifierKind::Itip,
                (_, Some("21")) => IdentifierKind::Sgtin,
                (_, Some("235")) => IdentifierKind::Upui,
                (_, Some(_)) => IdentifierKind::Lgtin,
                (_, None) => IdentifierKind::Gtin,
            };
            if let Some((q, v)) = finest {
                elements.push((static_ai(q), v));
            }
            kind
        }
        "414" => {
            if let Some(ext) = has("254") {
                elements.push(("254", ext));
            }
            IdentifierKind::Sgln
        }
        "8010" => {
            if let Some(s) = has("8011") {
                elements.push(("8011", s));
            }
            IdentifierKind::Cpi
        }
        "417" => IdentifierKind::Pgln,
        "8017" => IdentifierKind::Gsrnp,
        "8018" => IdentifierKind::Gsrn,
        "255" => IdentifierKind::Sgcn,
        "00" => IdentifierKind::Sscc,
        "253" => IdentifierKind::Gdti,
        "401" => IdentifierKind::Ginc,
        "402" => IdentifierKind::Gsin,
        "8003" => IdentifierKind::Grai,
        _ => IdentifierKind::Giai,
    };
    Ok(Gs1Key {
        kind,
        elements,
        company_prefix: None,
    })
}
