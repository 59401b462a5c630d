//! Canonical forms of what callers pass in, so `urn:epc:id:sgtin:…`, a
//! Digital Link on any domain and `shipping` find what the index stored.

use tracechain_epcis::vocabulary::{VocabularyKind, resolve};
use tracechain_epcis::{Identifier, IdentifierKind};

/// The canonical form of an identifier written any accepted way; a string
/// that does not parse is used as given (it may still match an `Other`
/// identifier stored verbatim).
pub(crate) fn identifier(s: &str) -> String {
    match Identifier::parse(s) {
        Ok(id) => id.canonical().to_owned(),
        Err(_) => s.to_owned(),
    }
}

/// The web URI of a CBV value written bare, as a URN, a CURIE-expanded web
/// URI, or a custom URI.
pub(crate) fn vocabulary(kind: VocabularyKind, s: &str) -> String {
    match resolve(kind, s) {
        Ok(v) => v.uri(),
        Err(_) => s.to_owned(),
    }
}

const DL_GTIN_PREFIX: &str = "https://id.gs1.org/01/";
const GTIN_DIGITS: usize = 14;

/// The GTIN class (`https://id.gs1.org/01/<gtin>`) of a canonical trade-item
/// identifier that is finer than the class (SGTIN `/21/`, LGTIN `/10/`,
/// UPUI `/235/`). Pure string work on the canonical form, which the epcis
/// crate guarantees.
pub(crate) fn gtin_class_of(canonical: &str) -> Option<&str> {
    let rest = canonical.strip_prefix(DL_GTIN_PREFIX)?;
    let digits = rest.get(..GTIN_DIGITS)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !rest[GTIN_DIGITS..].starts_with('/') {
        return None;
    }
    canonical.get(..DL_GTIN_PREFIX.len() + GTIN_DIGITS)
}

/// True when the canonical identifier is a GTIN class (no lot, no serial).
pub(crate) fn is_gtin_class(canonical: &str) -> bool {
    match Identifier::parse(canonical) {
        Ok(id) => id.kind() == IdentifierKind::Gtin,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_of_serial_and_lot() {
        assert_eq!(
            gtin_class_of("https://id.gs1.org/01/10614141073464/21/2018"),
            Some("https://id.gs1.org/01/10614141073464")
        );
        assert_eq!(
            gtin_class_of("https://id.gs1.org/01/10614141073464/10/LOT1"),
            Some("https://id.gs1.org/01/10614141073464")
        );
        assert_eq!(gtin_class_of("https://id.gs1.org/01/10614141073464"), None);
        assert_eq!(
            gtin_class_of("https://id.gs1.org/00/106141410734640000"),
            None
        );
    }

    #[test]
    fn inputs_are_canonicalised() {
        assert_eq!(
            identifier("urn:epc:id:sgtin:0614141.107346.2018"),
            "https://id.gs1.org/01/10614141073464/21/2018"
        );
        assert_eq!(
            identifier("urn:epc:idpat:sgtin:0614141.107346.*"),
            "https://id.gs1.org/01/10614141073464"
        );
        assert!(is_gtin_class("https://id.gs1.org/01/10614141073464"));
        assert_eq!(
            vocabulary(VocabularyKind::BizStep, "shipping"),
            "https://ref.gs1.org/cbv/BizStep-shipping"
        );
        assert_eq!(
            vocabulary(
                VocabularyKind::BizStep,
                "urn:epcglobal:cbv:bizstep:shipping"
            ),
            "https://ref.gs1.org/cbv/BizStep-shipping"
        );
    }
}
