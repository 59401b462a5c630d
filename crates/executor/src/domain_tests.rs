//! The traceability rules on a small supply chain, against a MemoryStore.

use super::*;
use commonware_cryptography::{Signer, ed25519};
use futures::executor::block_on;
use std::sync::Arc;
use tracechain_state::{MemoryStore, domain};
use tracechain_types::{
    MembershipChange, OrganisationSpec, Payload, PrivateKey, UnsignedTransaction,
    domain::gs1_check_digit_ok, genesis::FoundingOrganisation,
};

const CHAIN: &str = "domain-test";

/// A 13-digit GLN from 12 digits, with its check digit.
fn gln(body: &str) -> String {
    (0..10)
        .map(|d| format!("{body}{d}"))
        .find(|candidate| gs1_check_digit_ok(candidate))
        .expect("some check digit fits")
}

struct Chain {
    store: MemoryStore,
    height: u64,
    nonces: std::collections::BTreeMap<u64, u64>,
}

/// Organisations: brand (prefix 0614141), farm (4012345), mill (4023456),
/// retailer (4034567), carrier (no prefix), regulator.
const BRAND: u64 = 1;
const FARM: u64 = 2;
const MILL: u64 = 3;
const RETAILER: u64 = 4;
const CARRIER: u64 = 5;
const REGULATOR: u64 = 6;
/// Agent keys are the organisation's seed + 100; a clerk with only
/// `capture:commissioning` is seed 200.
const CLERK: u64 = 200;

pub(crate) fn key(seed: u64) -> PrivateKey {
    ed25519::PrivateKey::from_seed(seed)
}

fn founding() -> Vec<FoundingOrganisation> {
    let org = |seed: u64, id: &str, prefix: Option<&str>, regulator: bool| {
        let prefixes: Vec<String> = prefix.into_iter().map(String::from).collect();
        let glns = prefix
            .map(|p| vec![gln(&format!("{p}{}", "0".repeat(12 - p.len())))])
            .unwrap_or_default();
        let mut agents = vec![(
            key(seed + 100).public_key(),
            format!("{id} agent"),
            vec![
                "capture:*".to_string(),
                "recall:issue".to_string(),
                "shipment:handoff".to_string(),
            ],
        )];
        if seed == BRAND {
            agents.push((
                key(CLERK).public_key(),
                "clerk".into(),
                vec!["capture:commissioning".into()],
            ));
        }
        FoundingOrganisation {
            spec: OrganisationSpec {
                id: id.into(),
                name: id.to_uppercase(),
                company_prefixes: prefixes,
                glns,
                admin: key(seed).public_key(),
                encryption_key: [seed as u8; 32],
                regulator,
            },
            agents,
        }
    };
    vec![
        org(BRAND, "brand", Some("0614141"), false),
        org(FARM, "farm", Some("4012345"), false),
        org(MILL, "mill", Some("4023456"), false),
        org(RETAILER, "retailer", Some("4034567"), false),
        org(CARRIER, "carrier", None, false),
        org(REGULATOR, "regulator", None, true),
    ]
}

impl Chain {
    fn new() -> Self {
        let mut chain = Self {
            store: MemoryStore::default(),
            height: 0,
            nonces: Default::default(),
        };
        chain.block(vec![]);
        chain
    }

    fn env(&self) -> BlockEnv {
        BlockEnv {
            chain_id: CHAIN.into(),
            height: self.height,
            timestamp_ms: 1_700_000_000_000 + self.height,
            founding: Arc::new(founding()),
            acting: Default::default(),
        }
    }

    fn block(&mut self, txs: Vec<Transaction>) -> Vec<Outcome> {
        self.height += 1;
        let env = self.env();
        block_on(execute_block(&mut self.store, &env, &txs)).expect("valid block");
        txs.iter()
            .map(|tx| {
                block_on(records::receipt(&self.store, &tx.id()))
                    .unwrap()
                    .unwrap()
                    .outcome
            })
            .collect()
    }

    fn sign(&mut self, seed: u64, payload: Payload) -> Transaction {
        let nonce = self.nonces.entry(seed).or_default();
        let tx = UnsignedTransaction {
            chain_id: CHAIN.into(),
            sender: key(seed).public_key(),
            nonce: *nonce,
            payload,
        }
        .sign(&key(seed));
        *nonce += 1;
        tx
    }

    /// Submits one transaction in its own block.
    fn run(&mut self, seed: u64, payload: Payload) -> Outcome {
        let tx = self.sign(seed, payload);
        self.block(vec![tx]).remove(0)
    }

    fn capture(&mut self, seed: u64, events: &[String]) -> Outcome {
        self.run(
            seed,
            Payload::Capture {
                document: document(events),
            },
        )
    }

    fn item(&self, id: &str) -> Option<domain::ItemState> {
        let canonical = tracechain_epcis::Identifier::parse(id).unwrap();
        block_on(domain::item(&self.store, canonical.canonical())).unwrap()
    }
}

pub(crate) fn document(events: &[String]) -> Vec<u8> {
    format!(
        r#"{{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2025-01-01T00:00:00Z","epcisBody":{{"eventList":[{}]}}}}"#,
        events.join(",")
    )
    .into_bytes()
}

pub(crate) fn object(action: &str, step: &str, epcs: &[&str], minute: u32, extra: &str) -> String {
    let list: Vec<String> = epcs.iter().map(|e| format!("\"{e}\"")).collect();
    format!(
        r#"{{"type":"ObjectEvent","eventTime":"2025-01-01T10:{minute:02}:00Z","eventTimeZoneOffset":"+00:00","epcList":[{}],"action":"{action}","bizStep":"{step}"{extra}}}"#,
        list.join(",")
    )
}

fn aggregation(action: &str, parent: &str, children: &[&str], minute: u32) -> String {
    let list: Vec<String> = children.iter().map(|e| format!("\"{e}\"")).collect();
    format!(
        r#"{{"type":"AggregationEvent","eventTime":"2025-01-01T11:{minute:02}:00Z","eventTimeZoneOffset":"+00:00","parentID":"{parent}","childEPCs":[{}],"action":"{action}","bizStep":"packing"}}"#,
        list.join(",")
    )
}

fn failed_code(outcome: &Outcome) -> Option<&str> {
    match outcome {
        Outcome::Failed { code, .. } => Some(code),
        Outcome::Applied => None,
    }
}

const ITEM: &str = "urn:epc:id:sgtin:0614141.107346.2018";
const ITEM2: &str = "urn:epc:id:sgtin:0614141.107346.2019";

fn retailer_gln() -> String {
    "urn:epc:id:sgln:4034567.00000.0".to_string()
}

#[test]
fn genesis_applies_founding_members() {
    let chain = Chain::new();
    let members = block_on(domain::members(&chain.store)).unwrap();
    assert_eq!(members.len(), 6);
    let agent = block_on(domain::agent(&chain.store, &key(BRAND + 100).public_key()))
        .unwrap()
        .unwrap();
    assert_eq!(agent.organisation, "brand");
    let admin = block_on(domain::agent(&chain.store, &key(BRAND).public_key()))
        .unwrap()
        .unwrap();
    assert!(admin.roles.contains("org:admin"));
}

#[test]
fn commissioning_only_by_the_brand_owner_and_once() {
    let mut chain = Chain::new();
    let by_farm = chain.capture(
        FARM + 100,
        &[object("ADD", "commissioning", &[ITEM], 0, "")],
    );
    assert_eq!(failed_code(&by_farm), Some("not_brand_owner"));
    assert!(
        chain.item(ITEM).is_none(),
        "a failed capture changes nothing"
    );
    let by_brand = chain.capture(
        BRAND + 100,
        &[object("ADD", "commissioning", &[ITEM], 1, "")],
    );
    assert_eq!(by_brand, Outcome::Applied);
    assert_eq!(chain.item(ITEM).unwrap().custodian, "brand");
    let again = chain.capture(
        BRAND + 100,
        &[object("ADD", "commissioning", &[ITEM], 2, "")],
    );
    assert_eq!(failed_code(&again), Some("already_commissioned"));
}

#[test]
fn roles_limit_business_steps() {
    let mut chain = Chain::new();
    assert_eq!(
        chain.capture(CLERK, &[object("ADD", "commissioning", &[ITEM], 0, "")]),
        Outcome::Applied
    );
    let shipping = chain.capture(CLERK, &[object("OBSERVE", "shipping", &[ITEM], 1, "")]);
    assert_eq!(failed_code(&shipping), Some("role_missing"));
    let stranger = chain.capture(999, &[object("OBSERVE", "inspecting", &[ITEM], 2, "")]);
    assert_eq!(failed_code(&stranger), Some("not_an_agent"));
}

#[test]
fn custody_moves_only_by_receiving_at_the_addressee() {
    let mut chain = Chain::new();
    chain.capture(
        BRAND + 100,
        &[object("ADD", "commissioning", &[ITEM], 0, "")],
    );
    let not_holder = chain.capture(
        CARRIER + 100,
        &[object("OBSERVE", "shipping", &[ITEM], 1, "")],
    );
    assert_eq!(failed_code(&not_holder), Some("not_custodian"));

    let destination = format!(
        r#","destinationList":[{{"type":"location","destination":"{}"}}]"#,
        retailer_gln()
    );
    let shipped = chain.capture(
        BRAND + 100,
        &[object("OBSERVE", "shipping", &[ITEM], 2, &destination)],
    );
    assert_eq!(shipped, Outcome::Applied);
    assert_eq!(chain.item(ITEM).unwrap().in_transit_to.len(), 1);

    let wrong_receiver = chain.capture(
        MILL + 100,
        &[object("OBSERVE", "receiving", &[ITEM], 3, "")],
    );
    assert_eq!(failed_code(&wrong_receiver), Some("not_custodian"));
    let received = chain.capture(
        RETAILER + 100,
        &[object("OBSERVE", "receiving", &[ITEM], 4, "")],
    );
    assert_eq!(received, Outcome::Applied);
    let item = chain.item(ITEM).unwrap();
    assert_eq!(item.custodian, "retailer");
    assert!(item.in_transit_to.is_empty());
    let former = chain.capture(
        BRAND + 100,
        &[object("OBSERVE", "inspecting", &[ITEM], 5, "")],
    );
    assert_eq!(failed_code(&former), Some("not_custodian"));
    let regulator = chain.capture(
        REGULATOR + 100,
        &[object("OBSERVE", "inspecting", &[ITEM], 6, "")],
    );
    assert_eq!(regulator, Outcome::Applied, "regulators inspect anything");
}

#[test]
fn packing_moves_items_with_their_container() {
    let mut chain = Chain::new();
    chain.capture(
        BRAND + 100,
        &[object("ADD", "commissioning", &[ITEM, ITEM2], 0, "")],
    );
    let case = "urn:epc:id:sscc:0614141.1234567890";
    assert_eq!(
        chain.capture(BRAND + 100, &[aggregation("ADD", case, &[ITEM, ITEM2], 1)]),
        Outcome::Applied
    );
    assert_eq!(
        chain.item(ITEM).unwrap().parent.as_deref(),
        Some(
            tracechain_epcis::Identifier::parse(case)
                .unwrap()
                .canonical()
        )
    );
    assert_eq!(chain.item(case).unwrap().children.len(), 2);

    // Ship and receive the case: the items inside follow it.
    let destination = format!(
        r#","destinationList":[{{"type":"location","destination":"{}"}}]"#,
        retailer_gln()
    );
    chain.capture(
        BRAND + 100,
        &[object("OBSERVE", "shipping", &[case], 2, &destination)],
    );
    assert_eq!(
        chain.capture(
            RETAILER + 100,
            &[object("OBSERVE", "receiving", &[case], 3, "")]
        ),
        Outcome::Applied
    );
    let by_retailer = chain.capture(
        RETAILER + 100,
        &[object("OBSERVE", "retail_selling", &[ITEM], 4, "")],
    );
    assert_eq!(
        by_retailer,
        Outcome::Applied,
        "the retailer holds what is in the case it received"
    );
    let by_brand = chain.capture(
        BRAND + 100,
        &[object("OBSERVE", "inspecting", &[ITEM2], 5, "")],
    );
    assert_eq!(failed_code(&by_brand), Some("not_custodian"));

    // Unpacking everything empties the case; items stay with the retailer.
    let unpack = aggregation("DELETE", case, &[], 6).replace("\"packing\"", "\"unpacking\"");
    assert_eq!(chain.capture(RETAILER + 100, &[unpack]), Outcome::Applied);
    assert!(chain.item(case).unwrap().children.is_empty());
    let item = chain.item(ITEM2).unwrap();
    assert_eq!((item.parent, item.custodian.as_str()), (None, "retailer"));
}

#[test]
fn a_document_is_all_or_nothing() {
    let mut chain = Chain::new();
    let good = object("ADD", "commissioning", &[ITEM], 0, "");
    let bad = object(
        "ADD",
        "commissioning",
        &["urn:epc:id:sgtin:4012345.011111.1"],
        1,
        "",
    );
    let outcome = chain.capture(BRAND + 100, &[good.clone(), bad]);
    match &outcome {
        Outcome::Failed { code, reason } => {
            assert_eq!(code, "not_brand_owner");
            assert!(reason.starts_with("event 1:"), "{reason}");
        }
        Outcome::Applied => panic!("second event should fail"),
    }
    assert!(
        chain.item(ITEM).is_none(),
        "the valid first event was not applied either"
    );
    assert_eq!(
        chain.capture(BRAND + 100, std::slice::from_ref(&good)),
        Outcome::Applied
    );
    // The very same event again is a duplicate (same canonical hash).
    assert_eq!(
        failed_code(&chain.capture(BRAND + 100, &[good])),
        Some("duplicate_event")
    );
}

#[test]
fn duplicate_events_and_invalid_documents_fail() {
    let mut chain = Chain::new();
    let event = object("ADD", "commissioning", &[ITEM], 0, "");
    chain.capture(BRAND + 100, std::slice::from_ref(&event));
    let observe = object("OBSERVE", "inspecting", &[ITEM], 1, "");
    assert_eq!(
        chain.capture(BRAND + 100, std::slice::from_ref(&observe)),
        Outcome::Applied
    );
    assert_eq!(
        failed_code(&chain.capture(BRAND + 100, &[observe])),
        Some("duplicate_event")
    );
    let invalid = chain.run(
        BRAND + 100,
        Payload::Capture {
            document: b"{\"type\":\"EPCISDocument\"}".to_vec(),
        },
    );
    assert_eq!(failed_code(&invalid), Some("invalid_epcis"));
}

#[test]
fn error_declarations_mark_the_original() {
    let mut chain = Chain::new();
    let original = object("ADD", "commissioning", &[ITEM], 0, "");
    chain.capture(BRAND + 100, std::slice::from_ref(&original));
    let declaration = original.replacen(
        "\"type\":\"ObjectEvent\",",
        r#""type":"ObjectEvent","errorDeclaration":{"declarationTime":"2025-01-02T00:00:00Z","reason":"incorrect_data"},"#,
        1,
    );
    let by_other = chain.capture(FARM + 100, std::slice::from_ref(&declaration));
    assert_eq!(failed_code(&by_other), Some("not_original_capturer"));
    assert_eq!(
        chain.capture(BRAND + 100, std::slice::from_ref(&declaration)),
        Outcome::Applied
    );
    let hash =
        tracechain_epcis::parse_capture(std::str::from_utf8(&document(&[original])).unwrap())
            .unwrap()
            .into_events()[0]
            .hash();
    let record = block_on(domain::event(&chain.store, &hash))
        .unwrap()
        .unwrap();
    assert!(record.declared_in_error.is_some());
    assert_eq!(
        failed_code(&chain.capture(BRAND + 100, &[declaration])),
        Some("already_declared")
    );
}

#[test]
fn transformations_consume_inputs_and_create_outputs() {
    let mut chain = Chain::new();
    let flour = "urn:epc:class:lgtin:4012345.012345.LOT1";
    let bread = "urn:epc:class:lgtin:4023456.067890.BATCH7";
    let commission = format!(
        r#"{{"type":"ObjectEvent","eventTime":"2025-01-01T09:00:00Z","eventTimeZoneOffset":"+00:00","epcList":[],"quantityList":[{{"epcClass":"{flour}","quantity":500,"uom":"KGM"}}],"action":"ADD","bizStep":"commissioning"}}"#
    );
    assert_eq!(chain.capture(FARM + 100, &[commission]), Outcome::Applied);
    let transform = format!(
        r#"{{"type":"TransformationEvent","eventTime":"2025-01-01T12:00:00Z","eventTimeZoneOffset":"+00:00","inputQuantityList":[{{"epcClass":"{flour}","quantity":100,"uom":"KGM"}}],"outputQuantityList":[{{"epcClass":"{bread}","quantity":200}}],"bizStep":"commissioning"}}"#
    );
    let by_mill_without_flour = chain.capture(MILL + 100, std::slice::from_ref(&transform));
    assert_eq!(failed_code(&by_mill_without_flour), Some("not_custodian"));

    let mill_gln = "urn:epc:id:sgln:4023456.00000.0";
    let ship = format!(
        r#"{{"type":"ObjectEvent","eventTime":"2025-01-01T10:00:00Z","eventTimeZoneOffset":"+00:00","epcList":[],"quantityList":[{{"epcClass":"{flour}","quantity":100,"uom":"KGM"}}],"action":"OBSERVE","bizStep":"shipping","destinationList":[{{"type":"owning_party","destination":"{mill_gln}"}}]}}"#
    );
    assert_eq!(
        chain.capture(FARM + 100, std::slice::from_ref(&ship)),
        Outcome::Applied
    );
    let receive = ship
        .replace("shipping", "receiving")
        .replace("10:00:00", "11:00:00");
    assert_eq!(chain.capture(MILL + 100, &[receive]), Outcome::Applied);
    assert_eq!(chain.capture(MILL + 100, &[transform]), Outcome::Applied);
    let bread_state = chain.item(bread).unwrap();
    assert_eq!(
        (
            bread_state.created_by.as_str(),
            bread_state.custodian.as_str()
        ),
        ("mill", "mill")
    );
}

#[test]
fn recalls_by_brand_owner_or_regulator_only() {
    let mut chain = Chain::new();
    let class = "https://id.gs1.org/01/10614141073464";
    let by_retailer = chain.run(
        RETAILER + 100,
        Payload::Recall {
            target: class.into(),
            reason: "contamination".into(),
        },
    );
    assert_eq!(failed_code(&by_retailer), Some("not_brand_owner"));
    let by_brand = chain.run(
        BRAND + 100,
        Payload::Recall {
            target: class.into(),
            reason: "contamination".into(),
        },
    );
    assert_eq!(by_brand, Outcome::Applied);
    let twice = chain.run(
        BRAND + 100,
        Payload::Recall {
            target: class.into(),
            reason: "again".into(),
        },
    );
    assert_eq!(failed_code(&twice), Some("already_recalled"));
    let by_regulator = chain.run(
        REGULATOR + 100,
        Payload::Recall {
            target: "urn:epc:class:lgtin:4012345.012345.LOT1".into(),
            reason: "salmonella".into(),
        },
    );
    assert_eq!(by_regulator, Outcome::Applied);
    let by_clerk = chain.run(
        CLERK,
        Payload::Recall {
            target: ITEM.into(),
            reason: "x".into(),
        },
    );
    assert_eq!(failed_code(&by_clerk), Some("role_missing"));
}

#[test]
fn agents_and_roles_are_managed_by_their_admin() {
    let mut chain = Chain::new();
    let new_agent = key(300).public_key();
    let by_agent = chain.run(
        BRAND + 100,
        Payload::RegisterAgent {
            agent: new_agent.clone(),
            display_name: "x".into(),
        },
    );
    assert_eq!(failed_code(&by_agent), Some("not_admin"));
    let added = chain.run(
        BRAND,
        Payload::RegisterAgent {
            agent: new_agent.clone(),
            display_name: "packer".into(),
        },
    );
    assert_eq!(added, Outcome::Applied);
    let foreign = chain.run(
        FARM,
        Payload::GrantRole {
            agent: new_agent.clone(),
            role: "capture:packing".into(),
        },
    );
    assert_eq!(failed_code(&foreign), Some("other_organisation"));
    let unknown = chain.run(
        BRAND,
        Payload::GrantRole {
            agent: new_agent.clone(),
            role: "root".into(),
        },
    );
    assert_eq!(failed_code(&unknown), Some("unknown_role"));
    assert_eq!(
        chain.run(
            BRAND,
            Payload::GrantRole {
                agent: new_agent.clone(),
                role: "capture:commissioning".into()
            }
        ),
        Outcome::Applied
    );
    assert_eq!(
        chain.capture(300, &[object("ADD", "commissioning", &[ITEM], 0, "")]),
        Outcome::Applied
    );
    assert_eq!(
        chain.run(
            BRAND,
            Payload::RevokeRole {
                agent: new_agent,
                role: "capture:commissioning".into()
            }
        ),
        Outcome::Applied
    );
    let revoked = chain.capture(300, &[object("ADD", "commissioning", &[ITEM2], 1, "")]);
    assert_eq!(failed_code(&revoked), Some("role_missing"));
}

/// A block remembers the agents its captures acted as; a role change in
/// the same block must still count for the captures after it.
#[test]
fn a_role_revoked_mid_block_stops_the_captures_after_it() {
    let mut chain = Chain::new();
    let packer = key(300).public_key();
    let register = chain.sign(
        BRAND,
        Payload::RegisterAgent {
            agent: packer.clone(),
            display_name: "packer".into(),
        },
    );
    let grant = chain.sign(
        BRAND,
        Payload::GrantRole {
            agent: packer.clone(),
            role: "capture:commissioning".into(),
        },
    );
    assert_eq!(
        chain.block(vec![register, grant]),
        vec![Outcome::Applied, Outcome::Applied]
    );
    let capture = |chain: &mut Chain, epc: &str, minute: u32| {
        chain.sign(
            300,
            Payload::Capture {
                document: document(&[object("ADD", "commissioning", &[epc], minute, "")]),
            },
        )
    };
    let before = capture(&mut chain, ITEM, 0);
    let again = capture(&mut chain, "urn:epc:id:sgtin:0614141.107346.2020", 1);
    let revoke = chain.sign(
        BRAND,
        Payload::RevokeRole {
            agent: packer,
            role: "capture:commissioning".into(),
        },
    );
    let after = capture(&mut chain, ITEM2, 2);
    let outcomes = chain.block(vec![before, again, revoke, after]);
    assert_eq!(
        outcomes[..3],
        [Outcome::Applied, Outcome::Applied, Outcome::Applied]
    );
    assert_eq!(failed_code(&outcomes[3]), Some("role_missing"));
    assert!(chain.item(ITEM2).is_none());
}

#[test]
fn membership_needs_more_than_two_thirds() {
    let mut chain = Chain::new();
    let newcomer = OrganisationSpec {
        id: "newco".into(),
        name: "NewCo".into(),
        company_prefixes: vec!["4045678".into()],
        glns: vec![],
        admin: key(400).public_key(),
        encryption_key: [9; 32],
        regulator: false,
    };
    let propose = chain.sign(
        BRAND,
        Payload::ProposeMembership {
            change: MembershipChange::Add(Box::new(newcomer)),
        },
    );
    let proposal = propose.id();
    assert_eq!(chain.block(vec![propose]), vec![Outcome::Applied]);
    // 6 members: 5 approvals are needed (5 * 3 > 12; 4 * 3 is not).
    for (i, admin) in [FARM, MILL, RETAILER].into_iter().enumerate() {
        assert_eq!(
            chain.run(admin, Payload::ApproveProposal { proposal }),
            Outcome::Applied
        );
        assert!(
            block_on(domain::organisation(&chain.store, "newco"))
                .unwrap()
                .is_none(),
            "applied after {} approvals",
            i + 2
        );
    }
    let again = chain.run(FARM, Payload::ApproveProposal { proposal });
    assert_eq!(failed_code(&again), Some("already_approved"));
    assert_eq!(
        chain.run(CARRIER, Payload::ApproveProposal { proposal }),
        Outcome::Applied
    );
    let joined = block_on(domain::organisation(&chain.store, "newco"))
        .unwrap()
        .unwrap();
    assert!(joined.active);
    assert_eq!(block_on(domain::members(&chain.store)).unwrap().len(), 7);
    let closed = chain.run(REGULATOR, Payload::ApproveProposal { proposal });
    assert_eq!(failed_code(&closed), Some("proposal_closed"));
    // The new member's admin acts at once.
    let agent = key(401).public_key();
    assert_eq!(
        chain.run(
            400,
            Payload::RegisterAgent {
                agent,
                display_name: "ops".into()
            }
        ),
        Outcome::Applied
    );
}

#[test]
fn removed_members_can_no_longer_capture() {
    let mut chain = Chain::new();
    let propose = chain.sign(
        BRAND,
        Payload::ProposeMembership {
            change: MembershipChange::Remove {
                organisation: "carrier".into(),
            },
        },
    );
    let proposal = propose.id();
    chain.block(vec![propose]);
    for admin in [FARM, MILL, RETAILER, REGULATOR] {
        chain.run(admin, Payload::ApproveProposal { proposal });
    }
    let record = block_on(domain::organisation(&chain.store, "carrier"))
        .unwrap()
        .unwrap();
    assert!(!record.active, "kept, but inactive");
    let capture = chain.capture(
        CARRIER + 100,
        &[object("OBSERVE", "inspecting", &[ITEM], 0, "")],
    );
    assert_eq!(failed_code(&capture), Some("organisation_inactive"));
}

mod parcels {
    use super::*;
    use tracechain_state::parcels::{self, ParcelStatus};
    use tracechain_types::{
        Digest, hash,
        parcel::{DocumentAnchor, ParcelException, RouteStop},
    };

    const PARCEL: &str = "urn:epc:id:sscc:0614141.0000000042";

    fn anchor(readers: &[&str]) -> DocumentAnchor {
        DocumentAnchor {
            fingerprint: hash(b"parcel info"),
            ciphertext_hash: hash(b"envelope"),
            readers: readers.iter().map(|r| r.to_string()).collect(),
            label: "parcel 42".into(),
        }
    }

    fn register(chain: &mut Chain) -> Outcome {
        chain.run(
            BRAND + 100,
            Payload::RegisterParcel {
                parcel: PARCEL.into(),
                recipient: "retailer".into(),
                route: vec![RouteStop {
                    organisation: "carrier".into(),
                    location: None,
                }],
                document: anchor(&["brand", "carrier", "retailer", "regulator"]),
            },
        )
    }

    fn propose(chain: &mut Chain, seed: u64, to: &str, wait_ms: u64) -> (Digest, Outcome) {
        let tx = chain.sign(
            seed,
            Payload::ProposeHandoff {
                parcel: PARCEL.into(),
                to: to.into(),
                next: None,
                location: Some("urn:epc:id:sgln:0614141.00001.0".into()),
                step: None,
                wait_ms,
            },
        );
        let id = tx.id();
        (id, chain.block(vec![tx]).remove(0))
    }

    fn parcel(chain: &Chain) -> parcels::ParcelRecord {
        let id = tracechain_epcis::Identifier::parse(PARCEL).unwrap();
        block_on(parcels::parcel(&chain.store, id.canonical()))
            .unwrap()
            .unwrap()
    }

    #[test]
    fn registration_is_checked() {
        let mut chain = Chain::new();
        assert_eq!(register(&mut chain), Outcome::Applied);
        assert_eq!(failed_code(&register(&mut chain)), Some("parcel_exists"));
        let record = parcel(&chain);
        assert_eq!(
            (record.sender.as_str(), record.custodian.as_str()),
            ("brand", "brand")
        );
        assert!(
            block_on(parcels::document(&chain.store, &hash(b"parcel info")))
                .unwrap()
                .is_some()
        );
        let unknown = chain.run(
            BRAND + 100,
            Payload::RegisterParcel {
                parcel: "urn:epc:id:sscc:0614141.0000000043".into(),
                recipient: "nobody".into(),
                route: vec![],
                document: anchor(&[]),
            },
        );
        assert_eq!(failed_code(&unknown), Some("unknown_organisation"));
    }

    #[test]
    fn a_parcel_can_be_handed_over_without_limit() {
        let mut chain = Chain::new();
        register(&mut chain);
        let mut holder = (BRAND + 100, "brand");
        let mut other = (CARRIER + 100, "carrier");
        // Far more hand-offs than one state value could list.
        for _ in 0..120 {
            let (handoff, proposed) = propose(&mut chain, holder.0, other.1, 60_000);
            assert_eq!(proposed, Outcome::Applied);
            let accept = Payload::AcceptHandoff {
                parcel: PARCEL.into(),
                handoff,
            };
            assert_eq!(chain.run(other.0, accept), Outcome::Applied);
            std::mem::swap(&mut holder, &mut other);
        }
        let record = parcel(&chain);
        assert_eq!(record.handoff_count, 120);
        let handoffs = block_on(parcels::handoffs(&chain.store, &record)).unwrap();
        assert_eq!(handoffs.len(), 120);
        assert_eq!(handoffs[119].proposal.to, "brand");
    }

    #[test]
    fn handoff_steps_are_cbv_terms() {
        let mut chain = Chain::new();
        register(&mut chain);
        let with_step = |step: &str| Payload::ProposeHandoff {
            parcel: PARCEL.into(),
            to: "carrier".into(),
            next: None,
            location: None,
            step: Some(step.into()),
            wait_ms: 60_000,
        };
        let bad = chain.run(BRAND + 100, with_step("teleporting"));
        assert_eq!(failed_code(&bad), Some("invalid_step"));
        assert_eq!(
            chain.run(BRAND + 100, with_step("departing")),
            Outcome::Applied
        );
        let pending = parcel(&chain).pending.expect("pending");
        assert_eq!(pending.step, "departing");
    }

    #[test]
    fn custody_moves_only_when_both_sides_sign() {
        let mut chain = Chain::new();
        register(&mut chain);
        let (_, by_stranger) = propose(&mut chain, CARRIER + 100, "retailer", 60_000);
        assert_eq!(failed_code(&by_stranger), Some("not_custodian"));
        let (handoff, proposed) = propose(&mut chain, BRAND + 100, "carrier", 60_000);
        assert_eq!(proposed, Outcome::Applied);
        assert_eq!(
            parcel(&chain).custodian,
            "brand",
            "a proposal alone moves nothing"
        );
        let (_, second) = propose(&mut chain, BRAND + 100, "carrier", 60_000);
        assert_eq!(failed_code(&second), Some("handoff_pending"));

        let wrong = chain.run(
            RETAILER + 100,
            Payload::AcceptHandoff {
                parcel: PARCEL.into(),
                handoff,
            },
        );
        assert_eq!(failed_code(&wrong), Some("not_party"));
        let accepted = chain.run(
            CARRIER + 100,
            Payload::AcceptHandoff {
                parcel: PARCEL.into(),
                handoff,
            },
        );
        assert_eq!(accepted, Outcome::Applied);
        let record = parcel(&chain);
        assert_eq!(
            (record.custodian.as_str(), record.status),
            ("carrier", ParcelStatus::InTransit)
        );
        let handoffs = block_on(parcels::handoffs(&chain.store, &record)).unwrap();
        let done = &handoffs[0];
        assert_eq!(done.proposal.from, "brand");
        assert!(!done.proposal.off_route);
        assert!(
            block_on(domain::event(&chain.store, &done.event_hash))
                .unwrap()
                .is_some()
        );
        assert!(done.event_json.contains("handoffAcceptance"));
        assert!(done.event_json.contains(&hex::encode(record.document)));
    }

    #[test]
    fn a_handoff_does_not_record_an_event_already_on_chain() {
        let mut chain = Chain::new();
        register(&mut chain);
        let (handoff, _) = propose(&mut chain, BRAND + 100, "carrier", 60_000);
        let accept = Payload::AcceptHandoff {
            parcel: PARCEL.into(),
            handoff,
        };
        // A rehearsal on a copy learns which event the acceptance records.
        let mut copy = Chain {
            store: chain.store.clone(),
            height: chain.height,
            nonces: chain.nonces.clone(),
        };
        assert_eq!(copy.run(CARRIER + 100, accept.clone()), Outcome::Applied);
        let rehearsed = block_on(parcels::handoffs(&copy.store, &parcel(&copy))).unwrap();
        let event_hash = rehearsed[0].event_hash;

        let earlier = domain::EventRecord {
            height: chain.height,
            tx: [7; 32],
            position: 0,
            organisation: "carrier".into(),
            event_time_ms: 0,
            declared_in_error: None,
        };
        domain::put_event(&mut chain.store, &event_hash, &earlier);
        let accepted = chain.run(CARRIER + 100, accept);
        assert_eq!(failed_code(&accepted), Some("duplicate_event"));
        assert_eq!(parcel(&chain).custodian, "brand");
    }

    #[test]
    fn rejection_keeps_custody_and_off_route_is_flagged() {
        let mut chain = Chain::new();
        register(&mut chain);
        let (handoff, _) = propose(&mut chain, BRAND + 100, "mill", 60_000);
        assert!(
            parcel(&chain).pending.as_ref().unwrap().off_route,
            "the mill is not on the route"
        );
        let no_reason = chain.run(
            MILL + 100,
            Payload::RejectHandoff {
                parcel: PARCEL.into(),
                handoff,
                reason: " ".into(),
            },
        );
        assert_eq!(failed_code(&no_reason), Some("missing_reason"));
        let rejected = chain.run(
            MILL + 100,
            Payload::RejectHandoff {
                parcel: PARCEL.into(),
                handoff,
                reason: "wrong depot".into(),
            },
        );
        assert_eq!(rejected, Outcome::Applied);
        let record = parcel(&chain);
        assert_eq!(record.custodian, "brand");
        assert!(record.pending.is_none());
        assert_eq!(
            block_on(parcels::closed_proposals(&chain.store, &record)).unwrap()[0]
                .rejection_reason
                .as_deref(),
            Some("wrong depot")
        );
    }

    #[test]
    fn unanswered_proposals_expire_and_can_be_cancelled() {
        let mut chain = Chain::new();
        register(&mut chain);
        // Block timestamps advance 1 ms per height in this harness.
        let (handoff, _) = propose(&mut chain, BRAND + 100, "carrier", 2);
        let early = chain.run(
            BRAND + 100,
            Payload::CancelHandoff {
                parcel: PARCEL.into(),
                handoff,
            },
        );
        assert_eq!(failed_code(&early), Some("not_expired"));
        chain.block(vec![]);
        let late = chain.run(
            CARRIER + 100,
            Payload::AcceptHandoff {
                parcel: PARCEL.into(),
                handoff,
            },
        );
        assert_eq!(failed_code(&late), Some("handoff_expired"));
        let cancelled = chain.run(
            BRAND + 100,
            Payload::CancelHandoff {
                parcel: PARCEL.into(),
                handoff,
            },
        );
        assert_eq!(cancelled, Outcome::Applied);
        assert!(parcel(&chain).pending.is_none());
    }

    #[test]
    fn delivery_closes_the_parcel_and_exceptions_are_recorded() {
        let mut chain = Chain::new();
        register(&mut chain);
        let (first, _) = propose(&mut chain, BRAND + 100, "carrier", 60_000);
        chain.run(
            CARRIER + 100,
            Payload::AcceptHandoff {
                parcel: PARCEL.into(),
                handoff: first,
            },
        );
        let damaged = chain.run(
            CARRIER + 100,
            Payload::DeclareParcelException {
                parcel: PARCEL.into(),
                exception: ParcelException::Damaged,
                reason: "crushed corner".into(),
            },
        );
        assert_eq!(damaged, Outcome::Applied);
        let (last, _) = propose(&mut chain, CARRIER + 100, "retailer", 60_000);
        let delivered = chain.run(
            RETAILER + 100,
            Payload::AcceptHandoff {
                parcel: PARCEL.into(),
                handoff: last,
            },
        );
        assert_eq!(delivered, Outcome::Applied);
        let record = parcel(&chain);
        assert_eq!(record.status, ParcelStatus::Delivered);
        assert!(record.damaged);
        let handoffs = block_on(parcels::handoffs(&chain.store, &record)).unwrap();
        assert_eq!(handoffs.len(), 2);
        assert!(handoffs[0].event_json.contains("\"bizStep\":\"shipping\""));
        assert!(handoffs[1].event_json.contains("\"bizStep\":\"receiving\""));
        let (_, after) = propose(&mut chain, RETAILER + 100, "carrier", 60_000);
        assert_eq!(failed_code(&after), Some("parcel_closed"));
    }
}
