//! JSON-LD `@context` handling, as far as EPCIS needs it: which namespace
//! each prefix stands for.
//!
//! Remote contexts are never fetched (no I/O). The EPCIS 2.0 context is
//! known by heart: a document must reference it, and its prefixes (`gs1`,
//! `cbv`, `epcis`, `cbvmda`, …) are always available. Other prefixes must be
//! declared inline, at the document or the event level.

use std::borrow::Cow;

use crate::error::{EpcisError, Pointer};
use crate::json::JsonValue;

/// Prefixes the EPCIS 2.0 JSON-LD context defines.
const STANDARD_PREFIXES: [(&str, &str); 8] = [
    ("epcis", "https://ref.gs1.org/epcis/"),
    ("cbv", "https://ref.gs1.org/cbv/"),
    ("cbvmda", "urn:epcglobal:cbv:mda:"),
    ("gs1", "https://gs1.org/voc/"),
    ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
    ("owl", "http://www.w3.org/2002/07/owl#"),
    ("xsd", "http://www.w3.org/2001/XMLSchema#"),
    ("dcterms", "http://purl.org/dc/terms/"),
];

/// Prefix → namespace IRI; later declarations override earlier ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespaces {
    declared: Vec<(String, String)>,
    references_epcis_context: bool,
}

impl Default for Namespaces {
    fn default() -> Self {
        Self::standard()
    }
}

impl Namespaces {
    /// Only the prefixes of the EPCIS 2.0 context.
    pub fn standard() -> Self {
        Self {
            declared: STANDARD_PREFIXES
                .iter()
                .map(|(p, iri)| ((*p).to_owned(), (*iri).to_owned()))
                .collect(),
            references_epcis_context: false,
        }
    }

    /// Whether some `@context` seen so far named the EPCIS 2.0 context.
    pub fn references_epcis_context(&self) -> bool {
        self.references_epcis_context
    }

    /// Add the declarations of an `@context` value (a URL, an object of
    /// prefix definitions, or an array of those).
    pub(crate) fn add_context(
        &mut self,
        ctx: &JsonValue,
        path: &Pointer,
        errors: &mut Vec<EpcisError>,
    ) {
        match ctx {
            JsonValue::String(url) => {
                if url.contains("epcis-context") {
                    self.references_epcis_context = true;
                }
            }
            JsonValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if matches!(item, JsonValue::Array(_)) {
                        errors.push(
                            path.index(i)
                                .error("a nested array is not a valid @context entry"),
                        );
                    } else {
                        self.add_context(item, &path.index(i), errors);
                    }
                }
            }
            JsonValue::Object(obj) => {
                for (prefix, def) in obj.iter() {
                    if prefix.starts_with('@') {
                        continue;
                    }
                    let iri = match def {
                        JsonValue::String(s) => Some(s.as_str()),
                        JsonValue::Object(o) => o.get("@id").and_then(JsonValue::as_str),
                        _ => None,
                    };
                    match iri {
                        Some(iri) if crate::uri::is_absolute_uri(iri) => {
                            self.declared.push((prefix.to_owned(), iri.to_owned()));
                        }
                        _ => errors.push(
                            path.key(prefix)
                                .error("a prefix definition must be an absolute IRI"),
                        ),
                    }
                }
            }
            other => errors.push(path.error(format!(
                "@context must be a URL, an object or an array, not {}",
                other.type_name()
            ))),
        }
    }

    /// The namespace IRI of `prefix`.
    pub fn resolve(&self, prefix: &str) -> Option<&str> {
        self.declared
            .iter()
            .rev()
            .find(|(p, _)| p == prefix)
            .map(|(_, iri)| iri.as_str())
    }

    /// `prefix:rest` with a declared prefix becomes `namespace` + `rest`;
    /// anything else is returned unchanged (as the reference does for every
    /// value).
    pub fn expand_value<'a>(&self, value: &'a str) -> Cow<'a, str> {
        if let Some((prefix, rest)) = value.split_once(':')
            && let Some(iri) = self.resolve(prefix)
        {
            return Cow::Owned(format!("{iri}{rest}"));
        }
        Cow::Borrowed(value)
    }

    /// The expanded name of a non-standard field: `{namespace}localName` for
    /// `prefix:localName`, or the key itself when it is an absolute IRI.
    /// `None` when the namespace cannot be resolved.
    pub fn expand_key(&self, key: &str) -> Option<String> {
        let (prefix, local) = key.split_once(':')?;
        if let Some(iri) = self.resolve(prefix) {
            if local.is_empty() {
                return None;
            }
            return Some(format!("{{{iri}}}{local}"));
        }
        let absolute =
            crate::uri::is_absolute_uri(key) && (local.starts_with("//") || prefix == "urn");
        absolute.then(|| key.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    #[test]
    fn inline_prefixes_and_standard_ones() {
        let ctx = json::parse(
            r#"["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                {"example": "https://ns.example.com/epcis/"}, {"ext": {"@id": "urn:x:"}}]"#,
        )
        .unwrap();
        let mut ns = Namespaces::standard();
        let mut errors = Vec::new();
        ns.add_context(&ctx, &Pointer::root().key("@context"), &mut errors);
        assert!(errors.is_empty());
        assert!(ns.references_epcis_context());
        assert_eq!(
            ns.expand_key("example:myField").as_deref(),
            Some("{https://ns.example.com/epcis/}myField")
        );
        assert_eq!(ns.expand_key("ext:a").as_deref(), Some("{urn:x:}a"));
        assert_eq!(
            ns.expand_key("cbvmda:lotNumber").as_deref(),
            Some("{urn:epcglobal:cbv:mda:}lotNumber")
        );
        assert_eq!(ns.expand_key("materialType"), None);
        assert_eq!(ns.expand_key("nope:x"), None);
        assert_eq!(
            ns.expand_key("https://example.com/ns#x").as_deref(),
            Some("https://example.com/ns#x")
        );
        assert_eq!(
            ns.expand_value("gs1:Temperature"),
            "https://gs1.org/voc/Temperature"
        );
        assert_eq!(ns.expand_value("urn:epc:id:x"), "urn:epc:id:x");
    }

    #[test]
    fn later_declarations_win() {
        let mut ns = Namespaces::standard();
        let mut errors = Vec::new();
        let ctx = json::parse(r#"{"cbvmda": "http://example.com/cbvmda/"}"#).unwrap();
        ns.add_context(&ctx, &Pointer::root(), &mut errors);
        assert_eq!(ns.resolve("cbvmda"), Some("http://example.com/cbvmda/"));
        let bad = json::parse(r#"{"x": 5}"#).unwrap();
        ns.add_context(&bad, &Pointer::root(), &mut errors);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, "/x");
    }
}
