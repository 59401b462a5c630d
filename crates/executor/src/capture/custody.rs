//! Who may act on an identifier: brand ownership (GS1 company prefix),
//! custody (walking up containers) and addressees of a shipment.

use tracechain_epcis::{Identifier, IdentifierKind};
use tracechain_state::{
    StateRead,
    domain::{self, ItemState, OrganisationRecord},
    records::RecordError,
};

/// How deep containers may nest (case in pallet in container in …).
const MAX_NESTING: usize = 16;

/// Whether brand ownership applies to an identifier, and if so whether
/// the organisation has it.
#[derive(Debug, PartialEq, Eq)]
pub enum Brand {
    /// Not a GS1 key with a company prefix (e.g. a private URI): anyone may
    /// create it.
    NotApplicable,
    Owner,
    NotOwner,
}

/// The digits of a GS1 key that start with the company prefix.
fn prefixed_digits(id: &Identifier) -> Option<&str> {
    match id.kind() {
        IdentifierKind::Sgtin | IdentifierKind::Lgtin | IdentifierKind::Gtin => {
            // GTIN-14: an indicator digit precedes the company prefix.
            id.gtin().and_then(|gtin| gtin.get(1..))
        }
        IdentifierKind::Sscc => id.sscc().and_then(|sscc| sscc.get(1..)),
        IdentifierKind::Sgln | IdentifierKind::Pgln => id.gln(),
        _ => None,
    }
}

/// Whether `org` owns the company prefix of `id`.
pub fn brand(id: &Identifier, org: &OrganisationRecord) -> Brand {
    if let Some(prefix) = id.company_prefix()
        && prefixed_digits(id).is_some()
    {
        return if org.company_prefixes.iter().any(|p| p == prefix) {
            Brand::Owner
        } else {
            Brand::NotOwner
        };
    }
    match prefixed_digits(id) {
        None => Brand::NotApplicable,
        Some(digits)
            if org
                .company_prefixes
                .iter()
                .any(|p| digits.starts_with(p.as_str())) =>
        {
            Brand::Owner
        }
        Some(_) => Brand::NotOwner,
    }
}

/// The outermost container `item` is packed in (itself when unpacked):
/// whoever holds and wherever is that container, holds and is the item.
pub async fn outermost(store: &impl StateRead, item: &ItemState) -> Result<ItemState, RecordError> {
    let mut current = item.clone();
    for _ in 0..MAX_NESTING {
        let Some(id) = current.parent.clone() else {
            break;
        };
        let Some(container) = domain::item(store, &id).await? else {
            break;
        };
        current = container;
    }
    Ok(current)
}

/// The organisation holding `item` now: its own custodian, or the
/// custodian of the container it is packed in, recursively.
pub async fn effective_custodian(
    store: &impl StateRead,
    item: &ItemState,
) -> Result<String, RecordError> {
    Ok(outermost(store, item).await?.custodian)
}

/// Whether `org` is one of the destinations a shipment named: by id, or by
/// a GLN (party or location) the organisation owns — registered, or under
/// one of its company prefixes (its sites).
pub async fn is_addressee(
    store: &impl StateRead,
    destinations: &[String],
    org: &OrganisationRecord,
) -> Result<bool, RecordError> {
    for destination in destinations {
        if destination == &org.id {
            return Ok(true);
        }
        let Ok(id) = Identifier::parse(destination) else {
            continue;
        };
        if let Some(gln) = id.gln() {
            let own_site = org
                .company_prefixes
                .iter()
                .any(|p| gln.starts_with(p.as_str()));
            if own_site || org.glns.iter().any(|g| g == gln) {
                return Ok(true);
            }
            if domain::owner_of_gln(store, gln).await?.as_deref() == Some(org.id.as_str()) {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(prefixes: &[&str]) -> OrganisationRecord {
        OrganisationRecord {
            id: "acme".into(),
            name: "ACME".into(),
            company_prefixes: prefixes.iter().map(|p| p.to_string()).collect(),
            glns: vec![],
            admin: String::new(),
            encryption_key: [0; 32],
            regulator: false,
            active: true,
            joined_height: 1,
            left_height: None,
        }
    }

    #[test]
    fn brand_ownership_by_prefix() {
        let urn = Identifier::parse("urn:epc:id:sgtin:0614141.107346.2018").unwrap();
        assert_eq!(brand(&urn, &org(&["0614141"])), Brand::Owner);
        assert_eq!(brand(&urn, &org(&["0614142"])), Brand::NotOwner);
        let dl = Identifier::parse("https://id.gs1.org/01/10614141073464/21/2018").unwrap();
        assert_eq!(brand(&dl, &org(&["0614141"])), Brand::Owner);
        assert_eq!(brand(&dl, &org(&["061415"])), Brand::NotOwner);
        let private = Identifier::parse("https://example.com/assets/42").unwrap();
        assert_eq!(brand(&private, &org(&[])), Brand::NotApplicable);
    }
}
