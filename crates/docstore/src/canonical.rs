//! Canonical JSON and the document fingerprint.
//!
//! The chain records `fingerprint(document)`; anyone holding the document
//! must be able to recompute exactly the same 32 bytes, whatever key order
//! or whitespace their copy happens to have. The rule:
//!
//! - objects: members sorted by key, comparing the keys' UTF-8 bytes
//!   (equivalently, by Unicode code point; this is *not* RFC 8785's UTF-16
//!   order, which differs only for keys with characters beyond U+FFFF);
//! - no whitespace anywhere outside strings; `,` and `:` as separators;
//! - strings as serde_json writes them: `"` and `\` escaped, control
//!   characters as `\b \f \n \r \t` or `\u00xx` (lowercase hex), everything
//!   else (including `/` and all non-ASCII) as raw UTF-8;
//! - numbers as serde_json writes them: integers that fit `i64`/`u64` in
//!   plain decimal; every other number is an `f64` written in its shortest
//!   round-trip form, always with a `.` or exponent (`1.0`, `1.5e+300`,
//!   `1e-7`, `-0.0`). So `1` and `1.0` are different documents with
//!   different fingerprints. serde_json has changed this text between
//!   releases (ryu wrote `1.5e300`, zmij writes `1.5e+300`); the reference
//!   vectors below fail if an upgrade changes it again.
//!
//! Documents are sealed only if their canonical bytes parse back to the same
//! value and re-canonicalise to the same bytes (property-tested), so every
//! sealed document can be opened and re-fingerprinted.

use crate::error::DocError;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Deepest nesting of arrays/objects accepted. serde_json's parser refuses
/// anything deeper, so sealing a deeper value would make a document nobody
/// could open.
pub const MAX_JSON_DEPTH: usize = 127;

/// The canonical bytes of `value` (see the module documentation for the rule).
pub fn canonical_json(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_value(&mut out, value);
    out
}

/// SHA-256 of `canonical_json(value)`: what the chain records.
pub fn fingerprint(value: &Value) -> [u8; 32] {
    sha256(&canonical_json(value))
}

/// Canonical bytes of a value about to be sealed, refusing values that could
/// not be opened again: nesting deeper than the parser reads, or a float
/// whose shortest text serde_json's default (fast, not always correctly
/// rounded) parser reads back as a neighbouring float. Sealing those would
/// make a document whose `open` fails.
pub(crate) fn canonical_json_checked(value: &Value) -> Result<Vec<u8>, DocError> {
    if depth(value) > MAX_JSON_DEPTH {
        return Err(DocError::TooDeep {
            max: MAX_JSON_DEPTH,
        });
    }
    let bytes = canonical_json(value);
    match parse_canonical(&bytes) {
        Ok(parsed) if parsed == *value => Ok(bytes),
        _ => Err(DocError::NotRoundTrip),
    }
}

/// Parses `bytes` and insists they are already canonical, so the hash of the
/// bytes is the fingerprint of the value.
pub(crate) fn parse_canonical(bytes: &[u8]) -> Result<Value, DocError> {
    let value: Value = serde_json::from_slice(bytes)?;
    if canonical_json(&value) != bytes {
        return Err(DocError::NotCanonical);
    }
    Ok(value)
}

pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // Sort explicitly: serde_json's map is only sorted when no crate
            // in the build enables its `preserve_order` feature.
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (key, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_scalar(out, key);
                out.push(b':');
                write_value(out, item);
            }
            out.push(b'}');
        }
        scalar => write_scalar(out, scalar),
    }
}

fn write_scalar<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, scalar: &T) {
    // Serialising a string, number, bool or null into a Vec has no failure
    // path in serde_json (no I/O, no map keys, no non-finite floats in Value).
    serde_json::to_writer(out, scalar).expect("serialising a JSON scalar into memory cannot fail");
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn key_order_and_whitespace_do_not_matter() {
        let a: Value = serde_json::from_str(
            r#"{"b": 1, "a": {"y": [1, 2, {"q": null, "p": true}], "x": "s"}}"#,
        )
        .expect("json");
        let b: Value = serde_json::from_str(
            "{\n\t\"a\":{\"x\":\"s\",\"y\":[1,2,{\"p\":true,\"q\":null}]},\"b\":1}",
        )
        .expect("json");
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_eq!(
            canonical_json(&a),
            br#"{"a":{"x":"s","y":[1,2,{"p":true,"q":null}]},"b":1}"#
        );
    }

    #[test]
    fn array_order_matters() {
        assert_ne!(fingerprint(&json!([1, 2])), fingerprint(&json!([2, 1])));
    }

    /// Fixed vectors: if a serde_json upgrade changes how numbers or strings
    /// are written, every fingerprint on chain would silently stop matching.
    /// This test is the alarm.
    #[test]
    fn reference_vectors() {
        let doc: Value = serde_json::from_str(
            r#"{"z":"é/\u0001\n\"\\","n":[0,-1,18446744073709551615,-9223372036854775808,1.0,1.5e300,-0.0,0.1,1e-7,123456789.125],"a":[],"m":{}}"#,
        )
        .expect("json");
        let canonical = canonical_json(&doc);
        assert_eq!(
            String::from_utf8(canonical.clone()).expect("utf8"),
            r#"{"a":[],"m":{},"n":[0,-1,18446744073709551615,-9223372036854775808,1.0,1.5e+300,-0.0,0.1,1e-7,123456789.125],"z":"é/\u0001\n\"\\"}"#
        );
        assert_eq!(
            hex::encode(fingerprint(&json!({"parcel": "p-1", "value": 12}))),
            hex::encode(sha256(br#"{"parcel":"p-1","value":12}"#))
        );
    }

    #[test]
    fn keys_sort_by_utf8_bytes() {
        let doc = json!({"b": 0, "B": 0, "é": 0, "a": 0, "😀": 0, "\u{ffff}": 0});
        assert_eq!(
            String::from_utf8(canonical_json(&doc)).expect("utf8"),
            "{\"B\":0,\"a\":0,\"b\":0,\"é\":0,\"\u{ffff}\":0,\"😀\":0}"
        );
    }

    #[test]
    fn parse_canonical_rejects_non_canonical_bytes() {
        assert!(parse_canonical(br#"{"a":1,"b":2}"#).is_ok());
        assert!(matches!(
            parse_canonical(br#"{"b":2,"a":1}"#),
            Err(DocError::NotCanonical)
        ));
        assert!(matches!(
            parse_canonical(br#"{"a": 1}"#),
            Err(DocError::NotCanonical)
        ));
        assert!(matches!(
            parse_canonical(b"1.50"),
            Err(DocError::NotCanonical)
        ));
        assert!(matches!(
            parse_canonical(b"{"),
            Err(DocError::InvalidJson(_))
        ));
    }

    fn nested(levels: usize) -> Value {
        let mut v = json!(0);
        for _ in 0..levels {
            v = json!([v]);
        }
        v
    }

    #[test]
    fn depth_limit_matches_the_parser() {
        let deepest = canonical_json_checked(&nested(MAX_JSON_DEPTH)).expect("within limit");
        assert!(parse_canonical(&deepest).is_ok());
        assert!(matches!(
            canonical_json_checked(&nested(MAX_JSON_DEPTH + 1)),
            Err(DocError::TooDeep { .. })
        ));
        // ...and the parser indeed refuses one level more.
        assert!(
            serde_json::from_slice::<Value>(&canonical_json(&nested(MAX_JSON_DEPTH + 1))).is_err()
        );
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let float = any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f));
        nest(prop_oneof![arb_scalar(), float].boxed())
    }

    fn arb_json_without_floats() -> impl Strategy<Value = Value> {
        nest(arb_scalar().boxed())
    }

    fn arb_scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<u64>().prop_map(|n| json!(n)),
            ".{0,12}".prop_map(Value::String),
        ]
    }

    fn nest(leaf: BoxedStrategy<Value>) -> impl Strategy<Value = Value> {
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(".{0,6}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// A float serde_json writes as `1.2345678901234567e+20` but reads back as
    /// the next float down: refused at seal time rather than sealed unopenable.
    #[test]
    fn floats_that_do_not_read_back_are_refused() {
        let value: Value = serde_json::from_str("123456789012345680000.0").expect("json");
        assert!(matches!(
            canonical_json_checked(&value),
            Err(DocError::NotRoundTrip)
        ));
        assert!(canonical_json_checked(&json!([1.5, 0.1, 1e300, -0.0])).is_ok());
    }

    proptest! {
        /// Whatever passes the seal-time check reads back as itself, and its
        /// canonical bytes are a fixed point.
        #[test]
        fn canonical_bytes_round_trip(value in arb_json()) {
            if let Ok(bytes) = canonical_json_checked(&value) {
                let parsed = parse_canonical(&bytes).expect("canonical bytes parse back canonically");
                prop_assert_eq!(&parsed, &value);
                prop_assert_eq!(fingerprint(&parsed), fingerprint(&value));
            }
        }

        /// Integers, strings and nesting always pass the check.
        #[test]
        fn float_free_documents_always_round_trip(value in arb_json_without_floats()) {
            prop_assert!(canonical_json_checked(&value).is_ok());
        }

        #[test]
        fn pretty_printing_keeps_the_fingerprint(value in arb_json()) {
            prop_assume!(canonical_json_checked(&value).is_ok());
            let pretty = serde_json::to_string_pretty(&value).expect("json");
            let reparsed: Value = serde_json::from_str(&pretty).expect("json");
            prop_assert_eq!(fingerprint(&reparsed), fingerprint(&value));
        }
    }
}
