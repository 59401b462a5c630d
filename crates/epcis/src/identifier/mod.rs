//! GS1 identifiers: EPC URNs (`urn:epc:id:…`, `urn:epc:class:…`,
//! `urn:epc:idpat:…`) and GS1 Digital Link URIs on any domain, validated
//! (check digits, lengths, character sets) and normalised to one canonical
//! form: the GS1 Digital Link URI on `https://id.gs1.org` carrying only the
//! finest-grained key qualifier, as the event hash uses it.

mod chars;
mod digital_link;
mod epc_urn;

use std::fmt;

pub use chars::check_digit;
pub(crate) use chars::{cpid_dl_chars, dl_chars};

/// The canonical Digital Link domain.
pub const CANONICAL_DL_ORIGIN: &str = "https://id.gs1.org";

/// What an identifier identifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdentifierKind {
    /// Serialised trade item (GTIN + serial; AI 01 + 21).
    Sgtin,
    /// Batch/lot of a trade item (GTIN + lot; AI 01 + 10).
    Lgtin,
    /// Trade item class without lot or serial (AI 01 alone, `idpat:sgtin`).
    Gtin,
    /// Trade item + third-party controlled serial (AI 01 + 235).
    Upui,
    /// Logistic unit (AI 00).
    Sscc,
    /// Physical location, optionally with extension (AI 414 [+ 254]).
    Sgln,
    /// Party (AI 417).
    Pgln,
    /// Returnable asset (AI 8003).
    Grai,
    /// Individual asset (AI 8004).
    Giai,
    /// Service relation, recipient (AI 8018).
    Gsrn,
    /// Service relation, provider (AI 8017).
    Gsrnp,
    /// Document (AI 253).
    Gdti,
    /// Coupon (AI 255).
    Sgcn,
    /// Consignment (AI 401).
    Ginc,
    /// Shipment (AI 402).
    Gsin,
    /// Piece of a trade item (AI 8006 [+ 21/10]).
    Itip,
    /// Component/part (AI 8010 [+ 8011]).
    Cpi,
    /// Any other absolute URI (not a GS1 key): kept as written.
    Other,
}

impl IdentifierKind {
    pub fn is_gs1(self) -> bool {
        self != Self::Other
    }

    /// Instance-level (one physical or digital thing) rather than a class.
    pub fn is_instance(self) -> bool {
        !matches!(self, Self::Lgtin | Self::Gtin)
    }
}

/// Why a string is not an acceptable identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct IdentifierError(pub String);

/// A validated identifier with its canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identifier {
    kind: IdentifierKind,
    canonical: String,
    /// GS1 Application Identifier elements of the canonical form, primary key
    /// first. Values are written as in the canonical URI (percent-encoded).
    elements: Vec<(&'static str, String)>,
    /// Length of the GS1 company prefix within the primary key's value,
    /// where the input said it (EPC URNs).
    company_prefix: Option<(usize, usize)>,
}

impl Identifier {
    /// Parse an EPC URN, a GS1 Digital Link URI or any other absolute URI.
    /// A string that has the shape of a GS1 key (an `urn:epc:` URN of a GS1
    /// scheme, or an http(s) URI with a primary-key path such as `/01/…`)
    /// must be a valid one.
    pub fn parse(s: &str) -> Result<Self, IdentifierError> {
        if let Some(parsed) = epc_urn::parse(s) {
            return parsed.map(Self::from_key);
        }
        if let Some(parsed) = digital_link::parse_uri(s) {
            return parsed.map(Self::from_key);
        }
        if crate::uri::is_absolute_uri(s) {
            return Ok(Self {
                kind: IdentifierKind::Other,
                canonical: s.to_owned(),
                elements: Vec::new(),
                company_prefix: None,
            });
        }
        Err(IdentifierError(format!("'{s}' is not an absolute URI")))
    }

    /// Parse the path of a GS1 Digital Link URI, e.g.
    /// `/01/09521234543213/21/abc` (the form the node serves item pages at).
    pub fn from_digital_link_path(path: &str) -> Result<Self, IdentifierError> {
        digital_link::parse_path(path).map(Self::from_key)
    }

    fn from_key(key: Gs1Key) -> Self {
        let mut canonical = String::from(CANONICAL_DL_ORIGIN);
        for (ai, v) in &key.elements {
            canonical.push('/');
            canonical.push_str(ai);
            canonical.push('/');
            canonical.push_str(v);
        }
        Self {
            kind: key.kind,
            canonical,
            elements: key.elements,
            company_prefix: key.company_prefix,
        }
    }

    pub fn kind(&self) -> IdentifierKind {
        self.kind
    }

    /// The canonical form: a Digital Link URI on `https://id.gs1.org` for GS1
    /// keys, the input itself otherwise.
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// The path of the canonical Digital Link (`/01/…/21/…`), for GS1 keys.
    pub fn digital_link_path(&self) -> Option<&str> {
        if self.kind.is_gs1() {
            self.canonical.get(CANONICAL_DL_ORIGIN.len()..)
        } else {
            None
        }
    }

    /// `(AI, value)` pairs of the canonical form, primary key first.
    pub fn elements(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.elements.iter().map(|(ai, v)| (*ai, v.as_str()))
    }

    fn element(&self, ai: &str) -> Option<&str> {
        self.elements().find(|(a, _)| *a == ai).map(|(_, v)| v)
    }

    /// The 14-digit GTIN of trade-item identifiers (SGTIN, LGTIN, GTIN,
    /// UPUI, ITIP).
    pub fn gtin(&self) -> Option<&str> {
        match self.kind {
            IdentifierKind::Itip => self.element("8006").and_then(|v| v.get(..14)),
            _ => self.element("01"),
        }
    }

    /// The serial component (AI 21; the serial part of GRAI, GDTI and SGCN;
    /// AI 8011 of a CPI), as written in the canonical URI.
    pub fn serial(&self) -> Option<&str> {
        let s = match self.kind {
            IdentifierKind::Grai => self.element("8003").and_then(|v| v.get(14..)),
            IdentifierKind::Gdti => self.element("253").and_then(|v| v.get(13..)),
            IdentifierKind::Sgcn => self.element("255").and_then(|v| v.get(13..)),
            IdentifierKind::Cpi => self.element("8011"),
            _ => self.element("21"),
        };
        s.filter(|s| !s.is_empty())
    }

    /// The batch/lot (AI 10).
    pub fn lot(&self) -> Option<&str> {
        self.element("10")
    }

    /// The 18-digit SSCC.
    pub fn sscc(&self) -> Option<&str> {
        self.element("00")
    }

    /// The 13-digit GLN of a location (SGLN) or party (PGLN).
    pub fn gln(&self) -> Option<&str> {
        self.element("414").or_else(|| self.element("417"))
    }

    /// The GLN extension (AI 254) of a sub-location.
    pub fn gln_extension(&self) -> Option<&str> {
        self.element("254")
    }

    /// The GS1 company prefix, when the input form states its length (EPC
    /// URNs do; a Digital Link does not, so this is `None` for those).
    pub fn company_prefix(&self) -> Option<&str> {
        let (start, len) = self.company_prefix?;
        self.elements.first()?.1.get(start..start + len)
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}

impl std::str::FromStr for Identifier {
    type Err = IdentifierError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for Identifier {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.canonical)
    }
}

impl<'de> serde::Deserialize<'de> for Identifier {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A parsed GS1 key before rendering.
pub(crate) struct Gs1Key {
    pub kind: IdentifierKind,
    pub elements: Vec<(&'static str, String)>,
    pub company_prefix: Option<(usize, usize)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        Identifier::parse(s).unwrap().canonical().to_owned()
    }

    #[test]
    fn epc_urns_become_canonical_digital_links() {
        let cases = [
            (
                "urn:epc:id:sscc:4012345.0000000333",
                "https://id.gs1.org/00/040123450000003338",
            ),
            (
                "urn:epc:id:sgln:4012345.00011.987",
                "https://id.gs1.org/414/4012345000115/254/987",
            ),
            (
                "urn:epc:id:sgln:4012345.00005.0",
                "https://id.gs1.org/414/4012345000054",
            ),
            (
                "urn:epc:id:sgtin:4012345.011111.9876",
                "https://id.gs1.org/01/04012345111118/21/9876",
            ),
            (
                "urn:epc:id:giai:4000001.111",
                "https://id.gs1.org/8004/4000001111",
            ),
            (
                "urn:epc:id:gdti:4012345.11111.123",
                "https://id.gs1.org/253/4012345111118123",
            ),
            (
                "urn:epc:id:pgln:4012345.00000",
                "https://id.gs1.org/417/4012345000009",
            ),
            (
                "urn:epc:class:lgtin:4012345.012345.998877",
                "https://id.gs1.org/01/04012345123456/10/998877",
            ),
            (
                "urn:epc:idpat:sgtin:4012345.012345.*",
                "https://id.gs1.org/01/04012345123456",
            ),
            (
                "urn:epc:id:grai:4012345.55555.987",
                "https://id.gs1.org/8003/04012345555554987",
            ),
            (
                "urn:epc:id:gsrn:0614141.0000010253",
                "https://id.gs1.org/8018/061414100000102534",
            ),
            (
                "urn:epc:id:sgtin:0614141.112345.A!b",
                "https://id.gs1.org/01/10614141123459/21/A%21b",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(canon(input), want, "input {input}");
        }
    }

    #[test]
    fn accessors() {
        let id = Identifier::parse("urn:epc:id:sgtin:0614141.107346.2018").unwrap();
        assert_eq!(id.kind(), IdentifierKind::Sgtin);
        assert_eq!(id.gtin(), Some("10614141073464"));
        assert_eq!(id.serial(), Some("2018"));
        assert_eq!(id.company_prefix(), Some("0614141"));
        assert_eq!(id.digital_link_path(), Some("/01/10614141073464/21/2018"));

        let dl = Identifier::parse("https://example.com/01/10614141073464/21/2018?x=1").unwrap();
        assert_eq!(
            dl,
            Identifier {
                company_prefix: None,
                ..id.clone()
            }
        );
        assert_eq!(dl.company_prefix(), None);

        let sscc = Identifier::parse("urn:epc:id:sscc:0614141.1234567890").unwrap();
        assert_eq!(sscc.sscc(), Some("106141412345678908"));
        assert_eq!(sscc.company_prefix(), Some("0614141"));

        let sgln = Identifier::parse("urn:epc:id:sgln:0614141.07346.1234").unwrap();
        assert_eq!(sgln.gln(), Some("0614141073467"));
        assert_eq!(sgln.gln_extension(), Some("1234"));
        assert_eq!(sgln.company_prefix(), Some("0614141"));

        let lgtin = Identifier::parse("https://id.gs1.org/01/09521234543213/10/LOT1").unwrap();
        assert_eq!(lgtin.kind(), IdentifierKind::Lgtin);
        assert_eq!(lgtin.lot(), Some("LOT1"));
        assert!(!lgtin.kind().is_instance());
    }

    #[test]
    fn digital_links_on_any_domain_normalise() {
        assert_eq!(
            canon("https://id.gs1.de/01/04012345999990/21/XYZ-1234"),
            "https://id.gs1.org/01/04012345999990/21/XYZ-1234"
        );
        assert_eq!(
            canon("https://brand.example/products/gtin/9521234543213/lot/L1/ser/S1?linkType=all"),
            "https://id.gs1.org/01/09521234543213/21/S1"
        );
        assert_eq!(
            canon("http://id.gs1.org/01/09521234543213/22/V1/10/L1"),
            "https://id.gs1.org/01/09521234543213/10/L1"
        );
        assert_eq!(
            canon("https://example.com/414/4012345000115"),
            "https://id.gs1.org/414/4012345000115"
        );
    }

    #[test]
    fn wrong_check_digits_are_rejected() {
        for bad in [
            "https://id.gs1.org/01/09521234543214/21/1",
            "https://id.gs1.org/00/040123450000003339",
            "https://id.gs1.org/414/4012345000116",
        ] {
            let e = Identifier::parse(bad).unwrap_err();
            assert!(e.0.contains("check digit"), "{bad}: {e}");
        }
    }

    #[test]
    fn malformed_gs1_keys_are_rejected() {
        for bad in [
            "urn:epc:id:sgtin:0614141.10734.2018",
            "urn:epc:id:sgtin:0614141.107346.",
            "urn:epc:id:sgtin:0614141.107346.a b",
            "urn:epc:id:sgtin:0614141.107346.123456789012345678901",
            "urn:epc:id:sscc:0614141.123456789",
            "urn:epc:class:lgtin:4012345.012345",
            "https://id.gs1.org/01/0952123454321/21/1",
            "https://id.gs1.org/01/09521234543213/21/a!b",
            "https://id.gs1.org/01/09521234543213/99/x",
            "https://id.gs1.org/01/09521234543213/21/",
            "https://id.gs1.org/01/09521234543213/",
            "https://id.gs1.org/01/09521234543213#frag",
            "not a uri",
        ] {
            assert!(Identifier::parse(bad).is_err(), "accepted {bad}");
        }
    }

    #[test]
    fn other_uris_are_kept() {
        let id = Identifier::parse("http://transaction.acme.com/po/12345678").unwrap();
        assert_eq!(id.kind(), IdentifierKind::Other);
        assert_eq!(id.canonical(), "http://transaction.acme.com/po/12345678");
        assert_eq!(id.gtin(), None);
        let id = Identifier::parse("https://example.com/2023/01/05/report").unwrap();
        assert_eq!(id.kind(), IdentifierKind::Other);
    }

    #[test]
    fn digital_link_paths() {
        let id = Identifier::from_digital_link_path("/01/09521234543213/21/abc").unwrap();
        assert_eq!(id.kind(), IdentifierKind::Sgtin);
        assert_eq!(
            id.canonical(),
            "https://id.gs1.org/01/09521234543213/21/abc"
        );
        assert!(Identifier::from_digital_link_path("01/09521234543213").is_err());
        assert!(Identifier::from_digital_link_path("/foo").is_err());
        let sscc = Identifier::from_digital_link_path("/00/106141412345678908").unwrap();
        assert_eq!(sscc.kind(), IdentifierKind::Sscc);
    }

    #[test]
    fn serde_uses_the_canonical_form() {
        let id = Identifier::parse("urn:epc:id:sgln:4012345.00005.0").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"https://id.gs1.org/414/4012345000054\"");
        let back: Identifier = serde_json::from_str(&json).unwrap();
        assert_eq!(back.canonical(), id.canonical());
    }
}
