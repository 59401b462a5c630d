//! The traceability domain's on-chain vocabulary: organisations, roles and
//! membership changes (DOMAIN.md "Participants").

use crate::{PublicKey, transaction::read_string};
use bytes::BufMut;
use commonware_codec::{
    Buf, EncodeSize, Error as CodecError, FixedSize, RangeCfg, Read, ReadExt, Write,
};

pub const MAX_ORG_ID_BYTES: usize = 64;
pub const MAX_NAME_BYTES: usize = 128;
pub const MAX_PREFIXES: usize = 16;
pub const MAX_ROLE_BYTES: usize = 128;

/// Roles are named permissions an organisation admin grants to its agents.
pub mod roles {
    /// Manage the organisation's agents and their roles.
    pub const ORG_ADMIN: &str = "org:admin";
    /// Declare a recall.
    pub const RECALL_ISSUE: &str = "recall:issue";
    /// Read confidential records addressed to the organisation.
    pub const READ_PRIVATE: &str = "read:private";
    /// Hand parcels over and accept them.
    pub const SHIPMENT_HANDOFF: &str = "shipment:handoff";
    /// Capture events of any business step.
    pub const CAPTURE_ANY: &str = "capture:*";
    /// Prefix of per-business-step capture roles (`capture:shipping`, …).
    pub const CAPTURE_PREFIX: &str = "capture:";
    /// Capture events without a standard business step.
    pub const CAPTURE_OTHER: &str = "capture:other";

    /// Whether `role` is a role tracechain knows.
    pub fn is_known(role: &str) -> bool {
        matches!(
            role,
            ORG_ADMIN | RECALL_ISSUE | READ_PRIVATE | SHIPMENT_HANDOFF
        ) || role.strip_prefix(CAPTURE_PREFIX).is_some_and(|step| {
            !step.is_empty()
                && step
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'*')
                && (step == "*" || !step.contains('*'))
        })
    }

    /// The capture role that permits an event with this business step
    /// (bare CBV name, e.g. `shipping`; `None` for no or a non-standard step).
    pub fn capture_role(biz_step: Option<&str>) -> String {
        match biz_step {
            Some(step) => format!("{CAPTURE_PREFIX}{step}"),
            None => CAPTURE_OTHER.to_string(),
        }
    }
}

fn write_str(value: &str, buf: &mut impl BufMut) {
    value.as_bytes().write(buf);
}

fn str_size(value: &str) -> usize {
    value.as_bytes().encode_size()
}

fn write_strings(values: &[String], buf: &mut impl BufMut) {
    values.len().write(buf);
    for value in values {
        write_str(value, buf);
    }
}

fn strings_size(values: &[String]) -> usize {
    values.len().encode_size() + values.iter().map(|v| str_size(v)).sum::<usize>()
}

fn read_strings(
    buf: &mut impl Buf,
    max_items: usize,
    max_len: usize,
    what: &'static str,
) -> Result<Vec<String>, CodecError> {
    let count = usize::read_cfg(buf, &RangeCfg::new(0..=max_items))?;
    (0..count)
        .map(|_| read_string(buf, max_len, what))
        .collect()
}

/// A consortium member as registered on chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrganisationSpec {
    /// Short stable id (`acme-foods`): lower-case letters, digits, `-`.
    pub id: String,
    pub name: String,
    /// GS1 company prefixes (4 to 12 digits) the organisation owns.
    pub company_prefixes: Vec<String>,
    /// 13-digit GLNs of its locations and of itself as a party.
    pub glns: Vec<String>,
    /// The key that administers the organisation.
    pub admin: PublicKey,
    /// X25519 public key confidential records are encrypted to.
    pub encryption_key: [u8; 32],
    /// Regulators may recall anything and read every record.
    pub regulator: bool,
}

impl Write for OrganisationSpec {
    fn write(&self, buf: &mut impl BufMut) {
        write_str(&self.id, buf);
        write_str(&self.name, buf);
        write_strings(&self.company_prefixes, buf);
        write_strings(&self.glns, buf);
        self.admin.write(buf);
        self.encryption_key.write(buf);
        self.regulator.write(buf);
    }
}

impl EncodeSize for OrganisationSpec {
    fn encode_size(&self) -> usize {
        str_size(&self.id)
            + str_size(&self.name)
            + strings_size(&self.company_prefixes)
            + strings_size(&self.glns)
            + PublicKey::SIZE
            + 32
            + 1
    }
}

impl Read for OrganisationSpec {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        Ok(Self {
            id: read_string(buf, MAX_ORG_ID_BYTES, "organisation id")?,
            name: read_string(buf, MAX_NAME_BYTES, "organisation name")?,
            company_prefixes: read_strings(buf, MAX_PREFIXES, 12, "company prefix")?,
            glns: read_strings(buf, MAX_PREFIXES, 13, "gln")?,
            admin: PublicKey::read(buf)?,
            encryption_key: <[u8; 32]>::read(buf)?,
            regulator: bool::read(buf)?,
        })
    }
}

/// Checks an organisation's fields: id, name, prefixes, GLNs (with GS1
/// check digits).
pub fn check_organisation(spec: &OrganisationSpec) -> Result<(), String> {
    let id_ok = (2..=MAX_ORG_ID_BYTES).contains(&spec.id.len())
        && spec
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !spec.id.starts_with('-');
    if !id_ok {
        return Err(format!(
            "organisation id '{}' must be 2-64 characters of a-z, 0-9 and '-'",
            spec.id
        ));
    }
    if spec.name.trim().is_empty() {
        return Err("organisation name must not be empty".into());
    }
    if let Some(bad) = spec
        .company_prefixes
        .iter()
        .find(|p| !(4..=12).contains(&p.len()) || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!("company prefix '{bad}' must be 4 to 12 digits"));
    }
    if let Some(bad) = spec.glns.iter().find(|g| !is_valid_gln(g)) {
        return Err(format!(
            "GLN '{bad}' must be 13 digits with a valid check digit"
        ));
    }
    Ok(())
}

/// A 13-digit GLN with a correct GS1 mod-10 check digit.
pub fn is_valid_gln(gln: &str) -> bool {
    gln.len() == 13 && gln.bytes().all(|b| b.is_ascii_digit()) && gs1_check_digit_ok(gln)
}

/// GS1 mod-10: weights 3,1,3,1… from the right, excluding the check digit.
pub fn gs1_check_digit_ok(digits: &str) -> bool {
    let values: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
    let Some((check, body)) = values.split_last() else {
        return false;
    };
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { d * 3 } else { *d })
        .sum();
    (10 - sum % 10) % 10 == *check
}

/// What a membership proposal changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MembershipChange {
    Add(Box<OrganisationSpec>),
    Remove { organisation: String },
}

impl Write for MembershipChange {
    fn write(&self, buf: &mut impl BufMut) {
        match self {
            MembershipChange::Add(spec) => {
                0u8.write(buf);
                spec.write(buf);
            }
            MembershipChange::Remove { organisation } => {
                1u8.write(buf);
                write_str(organisation, buf);
            }
        }
    }
}

impl EncodeSize for MembershipChange {
    fn encode_size(&self) -> usize {
        1 + match self {
            MembershipChange::Add(spec) => spec.encode_size(),
            MembershipChange::Remove { organisation } => str_size(organisation),
        }
    }
}

impl Read for MembershipChange {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        match u8::read(buf)? {
            0 => Ok(MembershipChange::Add(Box::new(OrganisationSpec::read(
                buf,
            )?))),
            1 => Ok(MembershipChange::Remove {
                organisation: read_string(buf, MAX_ORG_ID_BYTES, "organisation id")?,
            }),
            other => Err(CodecError::InvalidEnum(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_codec::{DecodeExt, Encode};
    use commonware_cryptography::{Signer, ed25519};

    #[test]
    fn membership_change_roundtrip() {
        let spec = OrganisationSpec {
            id: "acme-foods".into(),
            name: "ACME Foods".into(),
            company_prefixes: vec!["0614141".into()],
            glns: vec!["0614141000005".into()],
            admin: ed25519::PrivateKey::from_seed(1).public_key(),
            encryption_key: [7; 32],
            regulator: false,
        };
        for change in [
            MembershipChange::Add(Box::new(spec)),
            MembershipChange::Remove {
                organisation: "acme-foods".into(),
            },
        ] {
            assert_eq!(MembershipChange::decode(change.encode()).unwrap(), change);
        }
    }

    #[test]
    fn gln_check_digits() {
        assert!(is_valid_gln("0614141000005"));
        assert!(!is_valid_gln("0614141000006"));
        assert!(!is_valid_gln("061414100000"));
    }

    #[test]
    fn known_roles() {
        for role in [
            "org:admin",
            "recall:issue",
            "capture:*",
            "capture:shipping",
            "capture:other",
        ] {
            assert!(roles::is_known(role), "{role}");
        }
        for role in [
            "admin",
            "capture:",
            "capture:Ship",
            "capture:ship*",
            "org:root",
        ] {
            assert!(!roles::is_known(role), "{role}");
        }
    }
}
