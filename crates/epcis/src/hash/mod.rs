//! The canonical event hash (CBV 2.0 event hash ID), as specified in
//! `shared/design/EVENT_HASH.md` and fixed by its test vectors.

mod value;

pub use value::{canonize, normalise_gs1_uri};

use sha2::{Digest, Sha256};

use crate::model::*;
use crate::number::python_strip;
use crate::time::Timestamp;
use crate::vocabulary::VocabularyValue;

/// The pre-hash string of an event: its data elements, canonicalised and
/// concatenated in the specified order.
pub fn pre_hash_string(event: &Event) -> String {
    let mut out = String::with_capacity(512);
    out.push_str("eventType=");
    out.push_str(event.event_type.as_str());
    time(&mut out, "eventTime", &event.event_time);
    leaf(
        &mut out,
        "eventTimeZoneOffset",
        &event.event_time_zone_offset.to_string(),
    );
    opt_leaf(
        &mut out,
        "certificationInfo",
        event.certification_info.as_deref(),
    );
    opt_leaf(
        &mut out,
        "parentID",
        event.parent_id.as_ref().map(|p| p.written.as_str()),
    );
    epc_list(&mut out, "epcList", &event.epc_list);
    epc_list(&mut out, "inputEPCList", &event.input_epc_list);
    epc_list(&mut out, "childEPCs", &event.child_epcs);
    quantity_list(&mut out, "quantityList", &event.quantity_list);
    quantity_list(&mut out, "childQuantityList", &event.child_quantity_list);
    quantity_list(&mut out, "inputQuantityList", &event.input_quantity_list);
    epc_list(&mut out, "outputEPCList", &event.output_epc_list);
    quantity_list(&mut out, "outputQuantityList", &event.output_quantity_list);
    opt_leaf(&mut out, "action", event.action.map(Action::as_str));
    opt_leaf(
        &mut out,
        "transformationID",
        event.transformation_id.as_deref(),
    );
    opt_vocab(&mut out, "bizStep", event.biz_step.as_ref());
    opt_vocab(&mut out, "disposition", event.disposition.as_ref());
    if let Some(pd) = &event.persistent_disposition {
        let mut body = String::new();
        body.push_str(&sorted(pd.set.iter().map(|v| leaf_string("set", &v.uri()))));
        body.push_str(&sorted(
            pd.unset.iter().map(|v| leaf_string("unset", &v.uri())),
        ));
        parent(&mut out, "persistentDisposition", &body);
    }
    location(&mut out, "readPoint", event.read_point.as_ref());
    location(&mut out, "bizLocation", event.biz_location.as_ref());
    if !event.sensor_element_list.is_empty() {
        let elements = sorted(event.sensor_element_list.iter().map(sensor_element));
        parent(&mut out, "sensorElementList", &elements);
    }

    // The reference implementation writes these remaining elements as one
    // list sorted by their rendered strings (which is why the vectors show
    // destinationList before sourceList, and ilmd between them).
    let mut tail: Vec<String> = Vec::new();
    if !event.biz_transaction_list.is_empty() {
        let items = sorted(event.biz_transaction_list.iter().map(|bt| {
            let mut s = String::new();
            if let Some(kind) = &bt.kind {
                s.push_str(&leaf_string("type", &kind.uri()));
            }
            s.push_str(&identifier_leaf("bizTransaction", &bt.id));
            s
        }));
        tail.push(format!("bizTransactionList{items}"));
    }
    for (name, field, list) in [
        ("sourceList", "source", &event.source_list),
        ("destinationList", "destination", &event.destination_list),
    ] {
        if !list.is_empty() {
            let items =
                sorted(list.iter().map(|sd| {
                    leaf_string("type", &sd.kind.uri()) + &identifier_leaf(field, &sd.id)
                }));
            tail.push(format!("{name}{items}"));
        }
    }
    if let Some(leftover) = misplaced_sensor_fields(&event.sensor_element_list) {
        tail.push(leftover);
    }
    if let Some(ilmd) = &event.ilmd {
        tail.push(format!("ilmd{}", extensions_string(ilmd)));
    }
    for ext in &event.extensions {
        render_extension(&ext.name, &ext.value, &mut tail);
    }
    tail.sort_unstable();
    for t in tail {
        out.push_str(&t);
    }
    out
}

/// SHA-256 of the pre-hash string.
pub fn event_hash(event: &Event) -> [u8; 32] {
    Sha256::digest(pre_hash_string(event).as_bytes()).into()
}

/// `ni:///sha-256;<hex>?ver=CBV2.0` (RFC 6920 named information).
pub fn event_hash_id(event: &Event) -> String {
    hash_id_from_digest(&event_hash(event))
}

/// The hash ID form of a SHA-256 digest.
pub fn hash_id_from_digest(digest: &[u8; 32]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(14 + 64 + 11);
    s.push_str("ni:///sha-256;");
    for b in digest {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    s.push_str("?ver=CBV2.0");
    s
}

impl Event {
    pub fn pre_hash_string(&self) -> String {
        pre_hash_string(self)
    }

    /// The event hash, computed once per parsed event (an event is not
    /// meant to be edited after it is hashed; a clone hashes afresh).
    pub fn hash(&self) -> [u8; 32] {
        *self.hash_memo.0.get_or_init(|| event_hash(self))
    }

    pub fn hash_id(&self) -> String {
        hash_id_from_digest(&self.hash())
    }
}

/// `key=value` with the value stripped and canonicalised; empty values are
/// left out entirely (as the reference does).
fn leaf_string(key: &str, value: &str) -> String {
    let v = python_strip(value);
    if v.is_empty() {
        return String::new();
    }
    let mut s = String::with_capacity(key.len() + 1 + v.len());
    s.push_str(key);
    s.push('=');
    s.push_str(&canonize(v));
    s
}

/// [`leaf_string`] of an identifier. An EPC URN of a GS1 key canonicalises
/// to the Digital Link its parse already holds (`normalise_gs1_uri` parses
/// the same string the same way), so that parse is not repeated.
fn identifier_leaf(key: &str, value: &IdentifierValue) -> String {
    let written = value.written.as_str();
    let reused = written.starts_with("urn:epc:")
        && written.contains('.')
        && !written.contains("urn:epcglobal:cbv:")
        && value.id.kind().is_gs1()
        && python_strip(written).len() == written.len();
    if !reused {
        return leaf_string(key, written);
    }
    let canonical = value.id.canonical();
    let mut s = String::with_capacity(key.len() + 1 + canonical.len());
    s.push_str(key);
    s.push('=');
    s.push_str(canonical);
    s
}

fn leaf(out: &mut String, key: &str, value: &str) {
    out.push_str(&leaf_string(key, value));
}

fn opt_leaf(out: &mut String, key: &str, value: Option<&str>) {
    if let Some(v) = value {
        leaf(out, key, v);
    }
}

fn opt_vocab(out: &mut String, key: &str, value: Option<&VocabularyValue>) {
    match value {
        // A standard term's web URI is its own canonical form (a test below
        // checks every term), so it is written without the URI scan.
        Some(VocabularyValue::Standard { kind, term }) => {
            out.push_str(key);
            out.push('=');
            out.push_str(kind.web_prefix());
            out.push_str(term);
        }
        Some(v) => leaf(out, key, &v.uri()),
        None => {}
    }
}

fn time_string(key: &str, t: &Timestamp) -> String {
    format!("{key}={}", t.to_utc_string())
}

fn time(out: &mut String, key: &str, t: &Timestamp) {
    out.push_str(&time_string(key, t));
}

fn parent(out: &mut String, key: &str, body: &str) {
    if !body.is_empty() {
        out.push_str(key);
        out.push_str(body);
    }
}

/// Concatenation of the non-empty items in byte order.
fn sorted(items: impl Iterator<Item = String>) -> String {
    let mut v: Vec<String> = items.filter(|s| !s.is_empty()).collect();
    v.sort_unstable();
    v.concat()
}

fn epc_list(out: &mut String, key: &str, list: &[IdentifierValue]) {
    let body = sorted(list.iter().map(|e| identifier_leaf("epc", e)));
    parent(out, key, &body);
}

fn quantity_list(out: &mut String, key: &str, list: &[QuantityElement]) {
    let body = sorted(list.iter().map(|q| {
        let mut s = identifier_leaf("epcClass", &q.epc_class);
        if let Some(n) = &q.quantity {
            s.push_str(&leaf_string("quantity", n.as_str()));
        }
        if let Some(u) = &q.uom {
            s.push_str(&leaf_string("uom", u));
        }
        if s.is_empty() {
            s
        } else {
            format!("quantityElement{s}")
        }
    }));
    parent(out, key, &body);
}

fn location(out: &mut String, key: &str, loc: Option<&Location>) {
    if let Some(loc) = loc {
        let mut body = identifier_leaf("id", &loc.id);
        body.push_str(&extensions_string(&loc.extensions));
        parent(out, key, &body);
    }
}

fn sensor_element(e: &SensorElement) -> String {
    let mut body = String::new();
    if let Some(m) = &e.metadata {
        let mut s = String::new();
        for (k, t) in [
            ("time", &m.time),
            ("startTime", &m.start_time),
            ("endTime", &m.end_time),
        ] {
            if let Some(t) = t {
                s.push_str(&time_string(k, t));
            }
        }
        for (k, v) in [
            ("deviceID", &m.device_id),
            ("deviceMetadata", &m.device_metadata),
            ("rawData", &m.raw_data),
            ("dataProcessingMethod", &m.data_processing_method),
            ("bizRules", &m.biz_rules),
        ] {
            opt_leaf(&mut s, k, v.as_deref());
        }
        s.push_str(&extensions_string(&m.extensions));
        parent(&mut body, "sensorMetadata", &s);
    }
    body.push_str(&sorted(e.reports.iter().map(sensor_report)));
    body.push_str(&extensions_string(&e.extensions));
    if body.is_empty() {
        body
    } else {
        format!("sensorElement{body}")
    }
}

fn sensor_report(r: &SensorReport) -> String {
    let mut s = String::new();
    opt_vocab(&mut s, "type", r.measurement_type.as_ref());
    opt_vocab(&mut s, "exception", r.exception.as_ref());
    opt_leaf(&mut s, "deviceID", r.device_id.as_deref());
    opt_leaf(&mut s, "deviceMetadata", r.device_metadata.as_deref());
    opt_leaf(&mut s, "rawData", r.raw_data.as_deref());
    opt_leaf(
        &mut s,
        "dataProcessingMethod",
        r.data_processing_method.as_deref(),
    );
    if let Some(t) = &r.time {
        time(&mut s, "time", t);
    }
    opt_leaf(&mut s, "microorganism", r.microorganism.as_deref());
    opt_leaf(&mut s, "chemicalSubstance", r.chemical_substance.as_deref());
    opt_leaf(&mut s, "value", r.value.as_ref().map(Number::as_str));
    opt_vocab(&mut s, "component", r.component.as_ref());
    opt_leaf(&mut s, "stringValue", r.string_value.as_deref());
    // XML and the JSON-LD context define booleans as xsd:boolean, whose
    // canonical form is lower case (the reference writes Python's `True`).
    opt_leaf(
        &mut s,
        "booleanValue",
        r.boolean_value.map(|b| if b { "true" } else { "false" }),
    );
    opt_leaf(&mut s, "hexBinaryValue", r.hex_binary_value.as_deref());
    opt_leaf(&mut s, "uriValue", r.uri_value.as_deref());
    for (k, v) in [
        ("minValue", &r.min_value),
        ("maxValue", &r.max_value),
        ("meanValue", &r.mean_value),
        ("sDev", &r.s_dev),
        ("percRank", &r.perc_rank),
        ("percValue", &r.perc_value),
    ] {
        opt_leaf(&mut s, k, v.as_ref().map(Number::as_str));
    }
    opt_leaf(&mut s, "uom", r.uom.as_deref());
    opt_leaf(
        &mut s,
        "coordinateReferenceSystem",
        r.coordinate_reference_system.as_deref(),
    );
    s.push_str(&extensions_string(&r.extensions));
    if s.is_empty() {
        s
    } else {
        format!("sensorReport{s}")
    }
}

/// A sensorReport field the reference does not know (`bizRules`) is not
/// written inside its report: it stays behind when the known fields have
/// been consumed and is written in the tail, wrapped in the names of the
/// structures it sits in. Reproduced for the one such field we accept.
fn misplaced_sensor_fields(elements: &[SensorElement]) -> Option<String> {
    let per_element = sorted(elements.iter().map(|e| {
        let reports = sorted(e.reports.iter().map(|r| match &r.biz_rules {
            Some(b) => {
                let leaf = leaf_string("bizRules", b);
                if leaf.is_empty() {
                    leaf
                } else {
                    format!("sensorReport{leaf}")
                }
            }
            None => String::new(),
        }));
        if reports.is_empty() {
            reports
        } else {
            format!("sensorElement{reports}")
        }
    }));
    (!per_element.is_empty()).then(|| format!("sensorElementList{per_element}"))
}

/// Extension elements rendered and sorted.
fn extensions_string(exts: &[Extension]) -> String {
    let mut items = Vec::new();
    for e in exts {
        render_extension(&e.name, &e.value, &mut items);
    }
    items.sort_unstable();
    items.concat()
}

/// One extension element; an array yields one element per item, all named
/// `name`.
fn render_extension(name: &str, value: &ExtensionValue, out: &mut Vec<String>) {
    match value {
        ExtensionValue::Text(s) => {
            let v = python_strip(s);
            if v.is_empty() {
                out.push(name.to_owned());
            } else {
                out.push(format!("{name}={}", canonize(v)));
            }
        }
        ExtensionValue::Number(n) => out.push(format!("{name}={}", canonize(n.as_str()))),
        ExtensionValue::Bool(b) => out.push(format!("{name}={b}")),
        ExtensionValue::Object(children) => {
            out.push(format!("{name}{}", extensions_string(children)))
        }
        ExtensionValue::Array(items) => {
            for item in items {
                render_extension(name, item, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocabulary::VocabularyKind;

    #[test]
    fn standard_terms_are_written_as_the_general_path_would() {
        for kind in VocabularyKind::ALL {
            for &term in kind.terms() {
                let value = VocabularyValue::Standard { kind, term };
                let mut fast = String::new();
                opt_vocab(&mut fast, "k", Some(&value));
                assert_eq!(fast, leaf_string("k", &value.uri()), "{kind:?} {term}");
            }
        }
    }

    #[test]
    fn identifiers_are_written_as_the_general_path_would() {
        let written = [
            "urn:epc:id:sgtin:4023456.000022.R1N2",
            "urn:epc:id:sgln:4023456.00001.0",
            "urn:epc:id:sscc:4012345.0000000333",
            "urn:epc:class:lgtin:4012345.012345.998877",
            "urn:epc:idpat:sgtin:4012345.012345.*",
            "urn:epc:id:sgtin:4023456.000022.urn:epcglobal:cbv:x",
            "https://id.gs1.org/01/09520123456788/21/12345",
            "urn:example:not-gs1",
        ];
        let mut compared = 0;
        for w in written {
            // Only what parses becomes an `IdentifierValue`.
            let Ok(id) = crate::identifier::Identifier::parse(w) else {
                continue;
            };
            let value = IdentifierValue {
                written: w.to_owned(),
                id,
            };
            assert_eq!(identifier_leaf("epc", &value), leaf_string("epc", w), "{w}");
            compared += 1;
        }
        assert!(compared >= 6, "only {compared} identifiers parsed");
    }
}
