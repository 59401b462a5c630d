//! EPC URNs (GS1 Tag Data Standard): pure identity (`urn:epc:id:`), class
//! (`urn:epc:class:lgtin:`) and the ID patterns that name a whole class
//! (`urn:epc:idpat:sgtin:cp.ref.*`).

use super::chars::{all_digits, check_digit, cpi_urn_chars, encode_for_dl, epc_chars};
use super::{Gs1Key, IdentifierError, IdentifierKind};

/// `None` if `s` is not an EPC URN of a GS1 scheme; otherwise the result of
/// parsing it.
pub(crate) fn parse(s: &str) -> Option<Result<Gs1Key, IdentifierError>> {
    let (form, rest) = if let Some(r) = s.strip_prefix("urn:epc:id:") {
        (Form::Id, r)
    } else if let Some(r) = s.strip_prefix("urn:epc:class:") {
        (Form::Class, r)
    } else if let Some(r) = s.strip_prefix("urn:epc:idpat:") {
        (Form::Pattern, r)
    } else {
        return None;
    };
    let (scheme, body) = rest.split_once(':')?;
    let result = match (form, scheme) {
        (Form::Id, "sgtin") => sgtin(body),
        (Form::Id, "sscc") => sscc(body),
        (Form::Id, "sgln") => sgln(body),
        (Form::Id, "grai") => grai(body),
        (Form::Id, "giai") => giai_like(body, "8004", IdentifierKind::Giai),
        (Form::Id, "gsrn") => numeric_key(body, 17, "8018", IdentifierKind::Gsrn),
        (Form::Id, "gsrnp") => numeric_key(body, 17, "8017", IdentifierKind::Gsrnp),
        (Form::Id, "gdti") => gdti(body),
        (Form::Id, "cpi") => cpi(body),
        (Form::Id, "sgcn") => sgcn(body),
        (Form::Id, "ginc") => giai_like(body, "401", IdentifierKind::Ginc),
        (Form::Id, "gsin") => numeric_key(body, 16, "402", IdentifierKind::Gsin),
        (Form::Id, "itip") => itip(body),
        (Form::Id, "upui") => upui(body),
        (Form::Id, "pgln") => numeric_key(body, 12, "417", IdentifierKind::Pgln),
        (Form::Class, "lgtin") => lgtin(body),
        (Form::Pattern, "sgtin" | "upui") => gtin_pattern(body),
        (Form::Pattern, "grai") => pattern_12(body, "8003", IdentifierKind::Grai, true),
        (Form::Pattern, "gdti") => pattern_12(body, "253", IdentifierKind::Gdti, false),
        (Form::Pattern, "sgcn") => pattern_12(body, "255", IdentifierKind::Sgcn, false),
        (Form::Pattern, "cpi") => cpi_pattern(body),
        (Form::Pattern, "itip") => itip_pattern(body),
        // Other EPC schemes (ADI, USDoD, GID, …) carry no GS1 key.
        _ => return None,
    };
    Some(result.map_err(|why| IdentifierError(format!("'{s}' is not a valid EPC URN: {why}"))))
}

#[derive(Clone, Copy)]
enum Form {
    Id,
    Class,
    Pattern,
}

type Parsed = Result<Gs1Key, String>;

fn company_prefix(cp: &str) -> Result<(), String> {
    if all_digits(cp) && (6..=12).contains(&cp.len()) {
        Ok(())
    } else {
        Err("the company prefix must be 6 to 12 digits".into())
    }
}

/// `cp` and `reference` digits that together make `total` digits.
fn digits_totalling(cp: &str, reference: &str, total: usize) -> Result<(), String> {
    company_prefix(cp)?;
    if (reference.is_empty() || all_digits(reference)) && cp.len() + reference.len() == total {
        Ok(())
    } else {
        Err(format!(
            "company prefix and reference must be {total} digits together"
        ))
    }
}

fn with_check(digits: String) -> String {
    let c = check_digit(digits.as_bytes());
    let mut d = digits;
    d.push(char::from(c));
    d
}

/// GTIN-14 from company prefix and indicator+item reference (13 digits).
fn gtin(cp: &str, item_ref: &str) -> Result<String, String> {
    digits_totalling(cp, item_ref, 13)?;
    let (indicator, rest) = item_ref.split_at(1);
    Ok(with_check(format!("{indicator}{cp}{rest}")))
}

fn serial(s: &str, max: usize, what: &str) -> Result<String, String> {
    match epc_chars(s) {
        Some(n) if (1..=max).contains(&n) => Ok(encode_for_dl(s)),
        Some(_) => Err(format!("the {what} must be 1 to {max} characters")),
        None => Err(format!(
            "the {what} has characters outside the EPC character set"
        )),
    }
}

fn key(kind: IdentifierKind, elements: Vec<(&'static str, String)>, cp: (usize, usize)) -> Parsed {
    Ok(Gs1Key {
        kind,
        elements,
        company_prefix: Some(cp),
    })
}

fn parts<const N: usize>(body: &str) -> Result<[&str; N], String> {
    let mut it = body.splitn(N, '.');
    let mut out = [""; N];
    for slot in &mut out {
        *slot = it
            .next()
            .ok_or_else(|| format!("expected {N} dot-separated parts"))?;
    }
    Ok(out)
}

fn sgtin(body: &str) -> Parsed {
    let [cp, item_ref, ser] = parts(body)?;
    let g = gtin(cp, item_ref)?;
    let ser = serial(ser, 20, "serial")?;
    key(
        IdentifierKind::Sgtin,
        vec![("01", g), ("21", ser)],
        (1, cp.len()),
    )
}

fn lgtin(body: &str) -> Parsed {
    let [cp, item_ref, lot] = parts(body)?;
    let g = gtin(cp, item_ref)?;
    let lot = serial(lot, 20, "lot")?;
    key(
        IdentifierKind::Lgtin,
        vec![("01", g), ("10", lot)],
        (1, cp.len()),
    )
}

fn upui(body: &str) -> Parsed {
    let [cp, item_ref, tpx] = parts(body)?;
    let g = gtin(cp, item_ref)?;
    let tpx = serial(tpx, 28, "third-party serial")?;
    key(
        IdentifierKind::Upui,
        vec![("01", g), ("235", tpx)],
        (1, cp.len()),
    )
}

fn gtin_pattern(body: &str) -> Parsed {
    let [cp, item_ref, star] = parts(body)?;
    if star != "*" {
        return Err("only the pattern 'companyPrefix.itemReference.*' is supported".into());
    }
    let g = gtin(cp, item_ref)?;
    key(IdentifierKind::Gtin, vec![("01", g)], (1, cp.len()))
}

fn sscc(body: &str) -> Parsed {
    let [cp, serial_ref] = parts(body)?;
    digits_totalling(cp, serial_ref, 17)?;
    let (ext, rest) = serial_ref.split_at(1);
    let s = with_check(format!("{ext}{cp}{rest}"));
    key(IdentifierKind::Sscc, vec![("00", s)], (1, cp.len()))
}

fn sgln(body: &str) -> Parsed {
    let [cp, loc_ref, ext] = parts(body)?;
    digits_totalling(cp, loc_ref, 12)?;
    let gln = with_check(format!("{cp}{loc_ref}"));
    let mut elements = vec![("414", gln)];
    // TDS: extension "0" means "no extension".
    if ext != "0" {
        elements.push(("254", serial(ext, 20, "extension")?));
    }
    key(IdentifierKind::Sgln, elements, (0, cp.len()))
}

/// Keys that are company prefix + reference digits + check digit.
fn numeric_key(body: &str, total: usize, ai: &'static str, kind: IdentifierKind) -> Parsed {
    let [cp, reference] = parts(body)?;
    digits_totalling(cp, reference, total)?;
    key(
        kind,
        vec![(ai, with_check(format!("{cp}{reference}")))],
        (0, cp.len()),
    )
}

fn grai(body: &str) -> Parsed {
    let [cp, asset_type, ser] = parts(body)?;
    digits_totalling(cp, asset_type, 12)?;
    let ser = serial(ser, 16, "serial")?;
    let v = with_check(format!("0{cp}{asset_type}")) + &ser;
    key(IdentifierKind::Grai, vec![("8003", v)], (1, cp.len()))
}

/// GIAI and GINC: company prefix + free-form reference, 30 characters at most.
fn giai_like(body: &str, ai: &'static str, kind: IdentifierKind) -> Parsed {
    let [cp, reference] = parts(body)?;
    company_prefix(cp)?;
    let n =
        epc_chars(reference).ok_or("the reference has characters outside the EPC character set")?;
    if n == 0 || cp.len() + n > 30 {
        return Err("company prefix and reference must be 30 characters at most".into());
    }
    key(
        kind,
        vec![(ai, format!("{cp}{}", encode_for_dl(reference)))],
        (0, cp.len()),
    )
}

fn gdti(body: &str) -> Parsed {
    let [cp, doc_type, ser] = parts(body)?;
    digits_totalling(cp, doc_type, 12)?;
    let ser = serial(ser, 17, "serial")?;
    let v = with_check(format!("{cp}{doc_type}")) + &ser;
    key(IdentifierKind::Gdti, vec![("253", v)], (0, cp.len()))
}

fn sgcn(body: &str) -> Parsed {
    let [cp, coupon_ref, ser] = parts(body)?;
    digits_totalling(cp, coupon_ref, 12)?;
    if !all_digits(ser) || ser.len() > 12 {
        return Err("the serial must be 1 to 12 digits".into());
    }
    let v = with_check(format!("{cp}{coupon_ref}")) + ser;
    key(IdentifierKind::Sgcn, vec![("255", v)], (0, cp.len()))
}

fn cpi_reference(cp: &str, cp_ref: &str) -> Result<String, String> {
    company_prefix(cp)?;
    let n = cpi_urn_chars(cp_ref).ok_or("the component reference has invalid characters")?;
    if n == 0 || cp.len() + n > 30 {
        return Err("company prefix and component reference must be 30 characters at most".into());
    }
    Ok(encode_for_dl(&format!("{cp}{cp_ref}")))
}

fn cpi(body: &str) -> Parsed {
    let (head, ser) = body
        .rsplit_once('.')
        .ok_or("expected companyPrefix.reference.serial")?;
    let (cp, cp_ref) = head
        .split_once('.')
        .ok_or("expected companyPrefix.reference.serial")?;
    let v = cpi_reference(cp, cp_ref)?;
    if !all_digits(ser) || ser.len() > 12 {
        return Err("the serial must be 1 to 12 digits".into());
    }
    key(
        IdentifierKind::Cpi,
        vec![("8010", v), ("8011", ser.to_owned())],
        (0, cp.len()),
    )
}

fn cpi_pattern(body: &str) -> Parsed {
    let (head, star) = body
        .rsplit_once('.')
        .ok_or("expected companyPrefix.reference.*")?;
    if star != "*" {
        return Err("only the pattern 'companyPrefix.reference.*' is supported".into());
    }
    let (cp, cp_ref) = head
        .split_once('.')
        .ok_or("expected companyPrefix.reference.*")?;
    let v = cpi_reference(cp, cp_ref)?;
    key(IdentifierKind::Cpi, vec![("8010", v)], (0, cp.len()))
}

fn two_digits(s: &str) -> Result<(), String> {
    if s.len() == 2 && all_digits(s) {
        Ok(())
    } else {
        Err("piece and total must be two digits each".into())
    }
}

fn itip(body: &str) -> Parsed {
    let [cp, item_ref, piece, total, ser] = parts(body)?;
    let g = gtin(cp, item_ref)?;
    two_digits(piece)?;
    two_digits(total)?;
    let ser = serial(ser, 20, "serial")?;
    key(
        IdentifierKind::Itip,
        vec![("8006", format!("{g}{piece}{total}")), ("21", ser)],
        (1, cp.len()),
    )
}

fn itip_pattern(body: &str) -> Parsed {
    let [cp, item_ref, piece, total, star] = parts(body)?;
    if star != "*" {
        return Err("only the pattern 'cp.itemRef.piece.total.*' is supported".into());
    }
    let g = gtin(cp, item_ref)?;
    two_digits(piece)?;
    two_digits(total)?;
    key(
        IdentifierKind::Itip,
        vec![("8006", format!("{g}{piece}{total}"))],
        (1, cp.len()),
    )
}

/// `cp.ref.*` patterns of 12-digit keys (GRAI, GDTI, SGCN).
fn pattern_12(body: &str, ai: &'static str, kind: IdentifierKind, grai_filler: bool) -> Parsed {
    let [cp, reference, star] = parts(body)?;
    if star != "*" {
        return Err("only the pattern 'companyPrefix.reference.*' is supported".into());
    }
    digits_totalling(cp, reference, 12)?;
    let filler = if grai_filler { "0" } else { "" };
    let v = with_check(format!("{filler}{cp}{reference}"));
    key(kind, vec![(ai, v)], (filler.len(), cp.len()))
}
