//! How one value is written in the pre-hash string.
//!
//! The reference implementation (which produced the test vectors) passes
//! every value that is not a timestamp through the same three steps, in this
//! order, whatever field it sits in (so a user extension holding a URN or a
//! number is normalised too):
//! 1. CBV 1.x URNs become CBV 2.0 web URIs (`urn:epcglobal:cbv:bizstep:` →
//!    `https://ref.gs1.org/cbv/BizStep-`, likewise `disp`, `btt`, `sdt`,
//!    `er`), wherever they occur in the value;
//! 2. numbers are rewritten canonically ([`crate::number`]);
//! 3. EPC URNs and GS1 Digital Link URIs become the canonical Digital Link.

use std::borrow::Cow;

use crate::identifier::{self, CANONICAL_DL_ORIGIN, cpid_dl_chars, dl_chars};
use crate::number::canonical_number;

/// The canonical form of a (stripped) value.
pub fn canonize(value: &str) -> Cow<'_, str> {
    let web = web_vocabulary(value);
    let numeric = match canonical_number(&web) {
        Some(n) => Cow::Owned(n),
        None => web,
    };
    match normalise_gs1_uri(&numeric) {
        Some(dl) => Cow::Owned(dl),
        None => numeric,
    }
}

fn web_vocabulary(value: &str) -> Cow<'_, str> {
    const CBV_URNS: [(&str, &str); 5] = [
        (
            "urn:epcglobal:cbv:bizstep:",
            "https://ref.gs1.org/cbv/BizStep-",
        ),
        ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
        ("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"),
        ("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"),
        ("urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"),
    ];
    if !value.contains("urn:epcglobal:cbv:") {
        return Cow::Borrowed(value);
    }
    let mut s = value.to_owned();
    for (urn, web) in CBV_URNS {
        if s.contains(urn) {
            s = s.replace(urn, web);
        }
    }
    Cow::Owned(s)
}

/// The canonical Digital Link for an EPC URN or a GS1 Digital Link URI;
/// `None` for anything else (which is then written as it is).
pub fn normalise_gs1_uri(value: &str) -> Option<String> {
    // The reference gives up on any value without a '.'.
    if !value.contains('.') {
        return None;
    }
    if value.starts_with("urn:epc:") {
        // A malformed GS1 URN is left as written, as the reference does.
        let id = identifier::Identifier::parse(value).ok()?;
        return id.kind().is_gs1().then(|| id.canonical().to_owned());
    }
    normalise_digital_link(value)
}

const PRIMARY_AIS: [&str; 14] = [
    "01", "8006", "8010", "414", "417", "8017", "8018", "255", "00", "253", "401", "402", "8003",
    "8004",
];

const SHORT_NAMES: [(&str, &str); 17] = [
    ("/gtin/", "/01/"),
    ("/itip/", "/8006/"),
    ("/cpid/", "/8010/"),
    ("/gln/", "/414/"),
    ("/party/", "/417/"),
    ("/gsrnp/", "/8017/"),
    ("/gsrn/", "/8018/"),
    ("/gcn/", "/255/"),
    ("/sscc/", "/00/"),
    ("/gdti/", "/253/"),
    ("/ginc/", "/401/"),
    ("/gsin/", "/402/"),
    ("/grai/", "/8003/"),
    ("/giai/", "/8004/"),
    ("/cpv/", "/22/"),
    ("/lot/", "/10/"),
    ("/ser/", "/21/"),
];

/// Whether `s` starts with `/AI/dddd` followed by one more non-'/' character,
/// for a primary-key AI (also under its short name when `short_names`).
fn key_segment_at(s: &str, short_names: bool) -> bool {
    let Some(rest) = s.strip_prefix('/') else {
        return false;
    };
    let Some((ai, value)) = rest.split_once('/') else {
        return false;
    };
    let known = PRIMARY_AIS.contains(&ai)
        || (short_names
            && SHORT_NAMES[..14]
                .iter()
                .any(|(name, _)| name.len() == ai.len() + 2 && &name[1..name.len() - 1] == ai));
    let v = value.as_bytes();
    known && v.len() >= 5 && v[..4].iter().all(u8::is_ascii_digit) && v[4] != b'/'
}

/// The part after `https://id.gs1.org` (the reference's pattern, in which the
/// dots match any character).
fn after_canonical_host(u: &str) -> Option<&str> {
    fn any_char(s: &str) -> Option<&str> {
        let mut it = s.chars();
        match it.next() {
            Some('\n') | None => None,
            Some(_) => Some(it.as_str()),
        }
    }
    let s = u.strip_prefix("https://id")?;
    let s = any_char(s)?.strip_prefix("gs1")?;
    any_char(s)?.strip_prefix("org")
}

fn digits_then(s: &str, n: usize) -> Option<&str> {
    let head = s.get(..n)?;
    head.bytes().all(|b| b.is_ascii_digit()).then(|| &s[n..])
}

fn chars_upto(s: &str, max: usize) -> bool {
    dl_chars(s).is_some_and(|n| n <= max)
}

/// Port of the reference's Digital Link normaliser (see the README for the
/// one deliberate difference: percent escapes are accepted).
fn normalise_digital_link(value: &str) -> Option<String> {
    let rest = value
        .strip_prefix("https:")
        .or_else(|| value.strip_prefix("http:"))?;
    let query_at = rest.find(['?', '#']).unwrap_or(rest.len());
    let has_key = rest
        .char_indices()
        .filter(|(i, c)| *c == '/' && *i < query_at)
        .any(|(i, _)| {
            let seg = &rest[i..];
            let ai_end = seg[1..].find('/').map(|e| e + 1).unwrap_or(seg.len());
            i + ai_end < query_at && key_segment_at(seg, true)
        });
    if !has_key {
        return None;
    }
    let mut u = match value.find('?') {
        Some(i) => value[..i].to_owned(),
        None => value.to_owned(),
    };
    for (name, ai) in SHORT_NAMES {
        if u.contains(name) {
            u = u.replace(name, ai);
        }
    }
    let canonical = after_canonical_host(&u).is_some_and(|p| key_segment_at(p, false));
    if !canonical {
        const PRECEDENCE: [&str; 14] = [
            "/00/", "/01/", "/253/", "/255/", "/401/", "/402/", "/414/", "/417/", "/8003/",
            "/8004/", "/8006/", "/8010/", "/8017/", "/8018/",
        ];
        if let Some(i) = PRECEDENCE.iter().find_map(|ai| u.find(ai)) {
            u = format!("{CANONICAL_DL_ORIGIN}{}", &u[i..]);
        }
    }
    // GTIN-8/12/13 are padded to 14 digits.
    if let Some(p) = after_canonical_host(&u).and_then(|p| p.strip_prefix("/01/")) {
        let run = p.bytes().take_while(u8::is_ascii_digit).count();
        let pad = match run {
            14.. => "",
            13 => "/01/0",
            12 => "/01/00",
            8..=11 => "/01/000000",
            _ => "",
        };
        if !pad.is_empty() {
            u = u.replace("/01/", pad);
        }
    }
    // Drop the consumer product variant (AI 22).
    let gtin_path = |u: &str, stop: &str| -> Option<usize> {
        let p = after_canonical_host(u)?;
        let tail = if let Some(t) = p.strip_prefix("/8006/") {
            digits_then(t, 18)?
        } else {
            digits_then(p.strip_prefix("/01/")?, 14)?
        };
        tail.strip_prefix(stop).map(|t| u.len() - t.len())
    };
    if let Some(cpv_at) = gtin_path(&u, "/22/") {
        let cpv_and_rest = &u[cpv_at..];
        let key_end = cpv_at - "/22/".len();
        if chars_upto(cpv_and_rest, 20) {
            u.truncate(key_end);
        } else if cpv_and_rest.chars().count() <= 20
            && cpv_and_rest.split('/').all(|part| dl_chars(part).is_some())
            && let Some(slash) = cpv_and_rest.find('/')
        {
            u = format!("{}{}", &u[..key_end], &cpv_and_rest[slash..]);
        }
    }
    // Keep only the finest qualifier: a serial makes the lot redundant.
    if let Some(lot_at) = gtin_path(&u, "/10/") {
        let lot_and_rest = &u[lot_at..];
        if let Some((lot, serial)) = lot_and_rest.split_once("/21/")
            && chars_upto(lot, 20)
            && chars_upto(serial, 20)
        {
            u = format!("{}/21/{serial}", &u[..lot_at - "/10/".len()]);
        }
    }
    final_form_ok(&u).then_some(u)
}

/// The reference's list of acceptable results.
fn final_form_ok(u: &str) -> bool {
    let Some(p) = after_canonical_host(u) else {
        return false;
    };
    let Some((ai, v)) = p.strip_prefix('/').and_then(|p| p.split_once('/')) else {
        return false;
    };
    let digits_only = |s: &str, min: usize, max: usize| {
        (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    let with_qualifiers = |v: &str, key_len: usize, quals: &[(&str, usize)]| -> bool {
        let Some(rest) = digits_then(v, key_len) else {
            return false;
        };
        if rest.is_empty() {
            return true;
        }
        quals.iter().any(|(q, max)| {
            rest.strip_prefix('/')
                .and_then(|r| r.strip_prefix(q))
                .and_then(|r| r.strip_prefix('/'))
                .is_some_and(|s| chars_upto(s, *max))
        })
    };
    match ai {
        "00" => digits_only(v, 18, 18),
        "01" => with_qualifiers(v, 14, &[("21", 20), ("10", 20), ("235", 28)]),
        "253" => digits_then(v, 13).is_some_and(|s| chars_upto(s, 17)),
        "255" => digits_then(v, 13).is_some_and(|s| digits_only(s, 0, 12)),
        "401" | "8004" => chars_upto(v, 30),
        "402" => digits_only(v, 17, 17),
        "414" => with_qualifiers(v, 13, &[("254", 20)]),
        "417" => digits_only(v, 13, 13),
        "8003" => digits_then(v, 14).is_some_and(|s| chars_upto(s, 16)),
        "8006" => with_qualifiers(v, 18, &[("21", 20), ("10", 20)]),
        "8010" => {
            let cpid_ok = |s: &str| cpid_dl_chars(s).is_some_and(|n| n <= 30);
            cpid_ok(v)
                || v.match_indices("/8011/")
                    .any(|(i, _)| cpid_ok(&v[..i]) && digits_only(&v[i + "/8011/".len()..], 0, 12))
        }
        "8017" | "8018" => digits_only(v, 18, 18),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_from_the_vectors() {
        let cases = [
            (
                "urn:epc:id:sscc:4012345.0000000111",
                "https://id.gs1.org/00/040123450000001112",
            ),
            (
                "urn:epc:id:sgln:4012345.00011.987",
                "https://id.gs1.org/414/4012345000115/254/987",
            ),
            (
                "urn:epc:id:gdti:4012345.11111.123",
                "https://id.gs1.org/253/4012345111118123",
            ),
            (
                "https://id.gs1.org/8004/4000001111",
                "https://id.gs1.org/8004/4000001111",
            ),
            (
                "urn:epcglobal:cbv:bizstep:receiving",
                "https://ref.gs1.org/cbv/BizStep-receiving",
            ),
            ("2", "2"),
            ("23.0", "23"),
            ("CD-34", "CD-34"),
            (
                "https://example.com/253/4012345000054987",
                "https://id.gs1.org/253/4012345000054987",
            ),
            (
                "https://id.gs1.de/01/04012345999990/21/XYZ-1234",
                "https://id.gs1.org/01/04012345999990/21/XYZ-1234",
            ),
            (
                "http://transaction.acme.com/po/12345678",
                "http://transaction.acme.com/po/12345678",
            ),
            (
                "urn:epcglobal:cbv:bt:0614141073467:1152",
                "urn:epcglobal:cbv:bt:0614141073467:1152",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(canonize(input), want, "input {input}");
        }
    }

    #[test]
    fn digital_link_forms() {
        let cases = [
            (
                "https://example.com/gtin/9521234543213/lot/L1/ser/S1?x=y",
                Some("https://id.gs1.org/01/09521234543213/21/S1"),
            ),
            (
                "https://id.gs1.org/01/09521234543213/22/V1",
                Some("https://id.gs1.org/01/09521234543213"),
            ),
            (
                "https://id.gs1.org/01/09521234543213/22/V1/10/L1",
                Some("https://id.gs1.org/01/09521234543213/10/L1"),
            ),
            (
                "https://id.gs1.org/01/12345678/21/1",
                Some("https://id.gs1.org/01/00000012345678/21/1"),
            ),
            (
                "https://id.gs1.org/01/09521234543213/21/A%2FB",
                Some("https://id.gs1.org/01/09521234543213/21/A%2FB"),
            ),
            ("https://id.gs1.org/01/09521234543213/21/a!b", None),
            ("https://id.gs1.org/01/09521234543213/", None),
            (
                "https://id.gs1.org/8010/4012345ABC%2F1/8011/12",
                Some("https://id.gs1.org/8010/4012345ABC%2F1/8011/12"),
            ),
            ("https://id.gs1.org/8010/ABC%2F1/8011/12", None),
            ("https://example.com/2023/01/05/x", None),
            (
                "https://example.org/8004/401234599999",
                Some("https://id.gs1.org/8004/401234599999"),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(normalise_gs1_uri(input).as_deref(), want, "input {input}");
        }
    }
}
