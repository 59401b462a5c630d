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
//!   round-trip form, always with a `.` or exponent (`1.0`, `1e300`, `-0.0`).
//!   So `1` and `1.0` are different documents with different fingerprints.
//!
//! The canonical bytes of a value parse back to the same value and
//! re-canonicalise to the same bytes (a property test checks this).

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

/// Canonical bytes, refusing values that nest deeper than the decoder reads.
pub(crate) fn canonical_json_checked(value: &Value) -> Result<Vec<u8>, DocError> {
    if depth(value) > MAX_JSON_DEPTH {
        return Err(DocError::TooDeep {
            max: MAX_JSON_DEPTH,
        });
    }
    Ok(canonical_json(value))
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
        let a: Value = serde_json::from_str(r#"{"b": 1, "a": {"y": [1, 2, {"q": null, "p": true}], "x": "s"}}"#)
            .expect("json");
        let b: Value =
            serde_json::from_str("{\n\t\"a\":{\"x\":\"s\",\"y\":[1,2,{\"p\":true,\"q\":null}]},\"b\":1}")
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
            r#"{"a":[],"m":{},"n":[0,-1,18446744073709551615,-9223372036854775808,1.0,1.5e300,-0.0,0.1,1e-7,123456789.125],"z":"é/\u0001\n\"\\"}"#
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
        assert!(serde_json::from_slice::<Value>(&canonical_json(&nested(MAX_JSON_DEPTH + 1))).is_err());
    }

    pub(crate) fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<u64>().prop_map(|n| json!(n)),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| json!(f)),
            ".{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(".{0,6}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn canonical_bytes_round_trip(value in arb_json()) {
            let bytes = canonical_json(&value);
            let parsed = parse_canonical(&bytes).expect("canonical bytes parse back canonically");
            prop_assert_eq!(&parsed, &value);
            prop_assert_eq!(fingerprint(&parsed), fingerprint(&value));
        }

        #[test]
        fn pretty_printing_keeps_the_fingerprint(value in arb_json()) {
            let pretty = serde_json::to_string_pretty(&value).expect("json");
            let reparsed: Value = serde_json::from_str(&pretty).expect("json");
            prop_assert_eq!(fingerprint(&reparsed), fingerprint(&value));
        }
    }
}
