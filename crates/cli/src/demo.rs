//! The demo supply chain `tracechain up` loads: wheat from a farm becomes
//! bread at a bakery, loaves are packed in cases on a pallet, a carrier
//! moves the pallet with temperature readings to a distribution centre,
//! cases go on to a retailer, a loaf is sold, a wheat lot is recalled, and
//! one loaf's code shows up in two shops at once (a clone).

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::{
    fs,
    path::{Path, PathBuf},
    time::Duration,
};
use tracechain_client::Client;
use tracechain_crypto::{
    generate, generate_encryption_key, read_key_file, write_encryption_key_file, write_key_file,
};
use tracechain_types::{
    Payload, PrivateKey,
    genesis::{GenesisAgent, GenesisOrganisation},
    to_hex,
};

const CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";
const LOADED_MARKER: &str = "loaded";

/// One demo organisation: id, name, company prefix, whether it may recall.
struct Member {
    id: &'static str,
    name: &'static str,
    prefix: &'static str,
    gln: &'static str,
    recalls: bool,
    regulator: bool,
}

const MEMBERS: [Member; 8] = [
    Member {
        id: "greenfield-farm",
        name: "Greenfield Farm",
        prefix: "4012345",
        gln: "4012345000009",
        recalls: true,
        regulator: false,
    },
    Member {
        id: "golden-crust-bakery",
        name: "Golden Crust Bakery",
        prefix: "4023456",
        gln: "4023456000000",
        recalls: true,
        regulator: false,
    },
    Member {
        id: "packright",
        name: "PackRight Packers",
        prefix: "4034567",
        gln: "4034567000001",
        recalls: false,
        regulator: false,
    },
    Member {
        id: "swift-freight",
        name: "Swift Freight",
        prefix: "4045678",
        gln: "4045678000002",
        recalls: false,
        regulator: false,
    },
    Member {
        id: "central-dc",
        name: "Central Distribution Centre",
        prefix: "4056789",
        gln: "4056789000003",
        recalls: false,
        regulator: false,
    },
    Member {
        id: "freshmart",
        name: "FreshMart",
        prefix: "4067890",
        gln: "4067890000004",
        recalls: false,
        regulator: false,
    },
    Member {
        id: "food-safety-authority",
        name: "Food Safety Authority",
        prefix: "4078901",
        gln: "4078901000005",
        recalls: true,
        regulator: true,
    },
    Member {
        id: "metro-couriers",
        name: "Metro Couriers",
        prefix: "4090123",
        gln: "4090123000007",
        recalls: false,
        regulator: false,
    },
];

/// The demo organisations, for node configuration.
pub fn member_ids() -> impl Iterator<Item = &'static str> {
    MEMBERS.iter().map(|m| m.id)
}

/// A demo organisation's X25519 key file, relative to a node home in `dir`.
pub fn encryption_key_from_home(member: &str) -> PathBuf {
    PathBuf::from("..")
        .join("demo")
        .join(member)
        .join("encryption.key")
}

fn keys_dir(dir: &Path, member: &str) -> PathBuf {
    dir.join("demo").join(member)
}

/// Creates every member's admin, agent and encryption keys under
/// `DIR/demo/<member>/` and returns the founding organisations for genesis.
pub fn founding_members(dir: &Path) -> Result<Vec<GenesisOrganisation>> {
    MEMBERS
        .iter()
        .map(|member| {
            let home = keys_dir(dir, member.id);
            fs::create_dir_all(&home).with_context(|| format!("creating {}", home.display()))?;
            let admin = generate();
            let agent = generate();
            let encryption = generate_encryption_key();
            write_key_file(&home.join("admin.key"), &admin)?;
            write_key_file(&home.join("agent.key"), &agent)?;
            write_encryption_key_file(&home.join("encryption.key"), &encryption)?;
            let mut roles = vec![
                "capture:*".to_string(),
                "shipment:handoff".to_string(),
                "read:private".to_string(),
            ];
            if member.recalls {
                roles.push("recall:issue".into());
            }
            use commonware_cryptography::Signer;
            Ok(GenesisOrganisation {
                id: member.id.into(),
                name: member.name.into(),
                company_prefixes: vec![member.prefix.into()],
                glns: vec![member.gln.into()],
                admin_key: to_hex(admin.public_key()),
                encryption_key: hex::encode(encryption.public),
                regulator: member.regulator,
                agents: vec![GenesisAgent {
                    public_key: to_hex(agent.public_key()),
                    display_name: format!("{} operations", member.name),
                    roles,
                }],
            })
        })
        .collect()
}

fn agent(dir: &Path, member: &str) -> Result<PrivateKey> {
    Ok(read_key_file(&keys_dir(dir, member).join("agent.key"))?)
}

/// Identifiers of the demo.
pub mod ids {
    pub const WHEAT_A: &str = "urn:epc:class:lgtin:4012345.000011.WHEAT-A";
    pub const WHEAT_B: &str = "urn:epc:class:lgtin:4012345.000011.WHEAT-B";
    pub const BREAD_A: &str = "urn:epc:class:lgtin:4023456.000022.BREAD-A";
    pub const BREAD_B: &str = "urn:epc:class:lgtin:4023456.000022.BREAD-B";
    pub const PALLET: &str = "urn:epc:id:sscc:4034567.0000000001";
    /// A parcel of sample loaves the bakery sends FreshMart by courier.
    pub const PARCEL: &str = "urn:epc:id:sscc:4023456.0000000777";
    pub const CASES: [&str; 3] = [
        "urn:epc:id:sscc:4034567.0000000011",
        "urn:epc:id:sscc:4034567.0000000012",
        "urn:epc:id:sscc:4034567.0000000013",
    ];

    /// A loaf of batch A (`1001`…`1006`) or B (`2001`…`2006`).
    pub fn loaf(serial: u32) -> String {
        format!("urn:epc:id:sgtin:4023456.000022.{serial}")
    }

    /// A site of a member: `sgln` with location reference `site`.
    pub fn site(prefix: &str, site: u32) -> String {
        format!("urn:epc:id:sgln:{prefix}.{site:05}.0")
    }
}

fn loaves(serials: impl IntoIterator<Item = u32>) -> Vec<String> {
    serials.into_iter().map(ids::loaf).collect()
}

fn document(events: Vec<Value>) -> Vec<u8> {
    json!({
        "@context": [CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2025-06-01T00:00:00Z",
        "epcisBody": {"eventList": events},
    })
    .to_string()
    .into_bytes()
}

/// Event times: hours after the start of the demo story.
struct Clock {
    start_ms: i64,
}

impl Clock {
    fn at(&self, hours: f64) -> String {
        tracechain_epcis::time::format_utc_millis(self.start_ms + (hours * 3_600_000.0) as i64)
    }
}

fn object(
    time: &str,
    action: &str,
    step: &str,
    epcs: &[String],
    location: &str,
    extra: Value,
) -> Value {
    let mut event = json!({
        "type": "ObjectEvent",
        "eventTime": time,
        "eventTimeZoneOffset": "+00:00",
        "epcList": epcs,
        "action": action,
        "bizStep": step,
        "readPoint": {"id": location},
        "bizLocation": {"id": location},
    });
    merge(&mut event, extra);
    event
}

fn merge(event: &mut Value, extra: Value) {
    if let (Some(target), Value::Object(fields)) = (event.as_object_mut(), extra) {
        target.extend(fields);
    }
}

fn ship_to(destination: &str) -> Value {
    json!({
        "disposition": "in_transit",
        "destinationList": [{"type": "location", "destination": destination}],
    })
}

fn aggregation(
    time: &str,
    action: &str,
    step: &str,
    parent: &str,
    children: &[String],
    location: &str,
) -> Value {
    json!({
        "type": "AggregationEvent",
        "eventTime": time,
        "eventTimeZoneOffset": "+00:00",
        "parentID": parent,
        "childEPCs": children,
        "action": action,
        "bizStep": step,
        "readPoint": {"id": location},
        "bizLocation": {"id": location},
    })
}

fn temperature(time: &str, celsius: &str) -> Value {
    json!({"sensorElementList": [{
        "sensorMetadata": {"time": time, "deviceID": "urn:epc:id:giai:4045678.TRUCK7-LOGGER"},
        "sensorReport": [{"type": "Temperature", "value": celsius.parse::<f64>().unwrap_or_default(), "uom": "CEL"}]
    }]})
}

/// One step of the story: which member captures what.
struct Step {
    member: &'static str,
    what: &'static str,
    events: Vec<Value>,
}

fn story(clock: &Clock) -> Vec<Step> {
    use ids::*;
    let farm = site("4012345", 1);
    let bakery = site("4023456", 1);
    let packer = site("4034567", 1);
    let depot = site("4045678", 1);
    let dc = site("4056789", 1);
    let shop = site("4067890", 1);
    let other_shop = site("4067890", 2);
    let t = |h: f64| clock.at(h);
    let quantity = |class: &str, amount: u32, uom: &str| json!({"epcClass": class, "quantity": amount, "uom": uom});
    let all_a = loaves(1001..=1006);
    let all_b = loaves(2001..=2006);
    let all: Vec<String> = all_a.iter().chain(&all_b).cloned().collect();
    let cases: Vec<String> = CASES.iter().map(|c| c.to_string()).collect();
    vec![
        Step {
            member: "greenfield-farm",
            what: "harvests two wheat lots",
            events: vec![json!({
                "type": "ObjectEvent", "eventTime": t(0.0), "eventTimeZoneOffset": "+00:00",
                "epcList": [], "quantityList": [quantity(WHEAT_A, 1000, "KGM"), quantity(WHEAT_B, 1000, "KGM")],
                "action": "ADD", "bizStep": "commissioning", "disposition": "active",
                "readPoint": {"id": farm}, "bizLocation": {"id": farm},
            })],
        },
        Step {
            member: "greenfield-farm",
            what: "ships the wheat to the bakery",
            events: vec![{
                let mut e = json!({"type": "ObjectEvent", "eventTime": t(2.0), "eventTimeZoneOffset": "+00:00",
                "epcList": [], "quantityList": [quantity(WHEAT_A, 400, "KGM"), quantity(WHEAT_B, 400, "KGM")],
                "action": "OBSERVE", "bizStep": "shipping", "readPoint": {"id": farm}});
                merge(&mut e, ship_to(&bakery));
                e
            }],
        },
        Step {
            member: "golden-crust-bakery",
            what: "receives the wheat",
            events: vec![json!({
                "type": "ObjectEvent", "eventTime": t(6.0), "eventTimeZoneOffset": "+00:00",
                "epcList": [], "quantityList": [quantity(WHEAT_A, 400, "KGM"), quantity(WHEAT_B, 400, "KGM")],
                "action": "OBSERVE", "bizStep": "receiving", "disposition": "in_progress",
                "readPoint": {"id": bakery}, "bizLocation": {"id": bakery},
            })],
        },
        Step {
            member: "golden-crust-bakery",
            what: "bakes batch A from lot A and batch B from lot B",
            events: vec![
                json!({"type": "TransformationEvent", "eventTime": t(10.0), "eventTimeZoneOffset": "+00:00",
                "inputQuantityList": [quantity(WHEAT_A, 200, "KGM")],
                "outputQuantityList": [quantity(BREAD_A, 400, "EA")], "outputEPCList": all_a,
                "transformationID": "urn:uuid:5b1c7e2a-0c1d-4a8b-9f10-000000000001",
                "bizStep": "commissioning", "disposition": "active",
                "readPoint": {"id": bakery}, "bizLocation": {"id": bakery},
                "ilmd": {"cbvmda:bestBeforeDate": "2025-06-10"}}),
                json!({"type": "TransformationEvent", "eventTime": t(11.0), "eventTimeZoneOffset": "+00:00",
                "inputQuantityList": [quantity(WHEAT_B, 200, "KGM")],
                "outputQuantityList": [quantity(BREAD_B, 400, "EA")], "outputEPCList": all_b,
                "transformationID": "urn:uuid:5b1c7e2a-0c1d-4a8b-9f10-000000000002",
                "bizStep": "commissioning", "disposition": "active",
                "readPoint": {"id": bakery}, "bizLocation": {"id": bakery},
                "ilmd": {"cbvmda:bestBeforeDate": "2025-06-11"}}),
            ],
        },
        Step {
            member: "golden-crust-bakery",
            what: "ships the loaves to the packer",
            events: vec![object(
                &t(12.0),
                "OBSERVE",
                "shipping",
                &all,
                &bakery,
                ship_to(&packer),
            )],
        },
        Step {
            member: "packright",
            what: "receives the loaves",
            events: vec![object(
                &t(14.0),
                "OBSERVE",
                "receiving",
                &all,
                &packer,
                json!({}),
            )],
        },
        Step {
            member: "packright",
            what: "packs three cases onto a pallet",
            events: vec![
                aggregation(
                    &t(15.0),
                    "ADD",
                    "packing",
                    CASES[0],
                    &loaves(1001..=1003),
                    &packer,
                ),
                aggregation(
                    &t(15.1),
                    "ADD",
                    "packing",
                    CASES[1],
                    &loaves(2001..=2003),
                    &packer,
                ),
                aggregation(
                    &t(15.2),
                    "ADD",
                    "packing",
                    CASES[2],
                    &loaves([1004, 1005, 1006, 2004, 2005, 2006]),
                    &packer,
                ),
                aggregation(&t(15.5), "ADD", "packing", PALLET, &cases, &packer),
            ],
        },
        Step {
            member: "packright",
            what: "hands the pallet to the carrier",
            events: vec![object(
                &t(16.0),
                "OBSERVE",
                "shipping",
                &[PALLET.to_string()],
                &packer,
                ship_to(&depot),
            )],
        },
        Step {
            member: "swift-freight",
            what: "collects the pallet and drives it, logging temperature",
            events: vec![
                object(
                    &t(16.5),
                    "OBSERVE",
                    "receiving",
                    &[PALLET.to_string()],
                    &depot,
                    json!({}),
                ),
                object(
                    &t(17.0),
                    "OBSERVE",
                    "departing",
                    &[PALLET.to_string()],
                    &depot,
                    temperature(&t(17.0), "4.2"),
                ),
                object(
                    &t(19.0),
                    "OBSERVE",
                    "transporting",
                    &[PALLET.to_string()],
                    &depot,
                    temperature(&t(19.0), "5.1"),
                ),
                object(
                    &t(21.0),
                    "OBSERVE",
                    "transporting",
                    &[PALLET.to_string()],
                    &depot,
                    temperature(&t(21.0), "4.6"),
                ),
                object(
                    &t(22.0),
                    "OBSERVE",
                    "shipping",
                    &[PALLET.to_string()],
                    &depot,
                    ship_to(&dc),
                ),
            ],
        },
        Step {
            member: "central-dc",
            what: "receives and breaks down the pallet",
            events: vec![
                object(
                    &t(23.0),
                    "OBSERVE",
                    "receiving",
                    &[PALLET.to_string()],
                    &dc,
                    json!({}),
                ),
                aggregation(&t(23.5), "DELETE", "unpacking", PALLET, &[], &dc),
            ],
        },
        Step {
            member: "central-dc",
            what: "ships cases 1 and 3 to FreshMart",
            events: vec![object(
                &t(30.0),
                "OBSERVE",
                "shipping",
                &[CASES[0].to_string(), CASES[2].to_string()],
                &dc,
                ship_to(&shop),
            )],
        },
        Step {
            member: "freshmart",
            what: "receives the cases and shelves loaves",
            events: vec![
                object(
                    &t(34.0),
                    "OBSERVE",
                    "receiving",
                    &[CASES[0].to_string(), CASES[2].to_string()],
                    &shop,
                    json!({}),
                ),
                aggregation(&t(34.5), "DELETE", "unpacking", CASES[0], &[], &shop),
                object(
                    &t(35.0),
                    "OBSERVE",
                    "stocking",
                    &loaves(1001..=1003),
                    &shop,
                    json!({"disposition": "sellable_accessible"}),
                ),
            ],
        },
        Step {
            member: "freshmart",
            what: "sells loaf 1001",
            events: vec![object(
                &t(40.0),
                "OBSERVE",
                "retail_selling",
                &loaves([1001]),
                &shop,
                json!({"disposition": "retail_sold"}),
            )],
        },
        Step {
            member: "freshmart",
            what: "scans loaf 1003 in two shops five minutes apart (a cloned code)",
            events: vec![
                object(
                    &t(41.0),
                    "OBSERVE",
                    "inspecting",
                    &loaves([1003]),
                    &shop,
                    json!({}),
                ),
                object(
                    &t(41.08),
                    "OBSERVE",
                    "inspecting",
                    &loaves([1003]),
                    &other_shop,
                    json!({}),
                ),
            ],
        },
    ]
}

/// Runs the demo against a network whose genesis came from
/// `founding_members(dir)`. Does nothing if it was already loaded.
pub async fn load(client: &Client, dir: &Path) -> Result<()> {
    let marker = dir.join("demo").join(LOADED_MARKER);
    if marker.exists() {
        eprintln!("Demo supply chain already loaded.");
        return Ok(());
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default();
    // The story took place over the last two days.
    let clock = Clock {
        start_ms: now_ms - 48 * 3_600_000,
    };
    for step in story(&clock) {
        let key = agent(dir, step.member)?;
        let (id, _) = client
            .capture(&key, document(step.events))
            .await
            .with_context(|| format!("{} {}", step.member, step.what))?;
        let status = client.wait_final(&id, Duration::from_secs(60)).await?;
        if status.status != "applied" {
            bail!(
                "demo step '{} {}' failed: {}",
                step.member,
                step.what,
                status.reason.unwrap_or_default()
            );
        }
        eprintln!(
            "  {:<22} {} (block {})",
            step.member,
            step.what,
            status.block_height.unwrap_or_default()
        );
    }
    let regulator = agent(dir, "food-safety-authority")?;
    let recall = Payload::Recall {
        target: ids::WHEAT_B.into(),
        reason: "Salmonella found in wheat lot B; recall everything made from it".into(),
    };
    let tx = client.sign_and_submit(&regulator, recall).await?;
    let status = client.wait_final(&tx.id(), Duration::from_secs(60)).await?;
    if status.status != "applied" {
        bail!("demo recall failed: {}", status.reason.unwrap_or_default());
    }
    eprintln!(
        "  {:<22} recalls wheat lot B (block {})",
        "food-safety-authority",
        status.block_height.unwrap_or_default()
    );
    parcel_story(client, dir).await?;
    fs::write(&marker, "loaded\n")?;
    Ok(())
}

/// The Digital Link path of a demo loaf (`/01/{gtin}/21/{serial}`).
pub fn loaf_path(serial: u32) -> String {
    tracechain_epcis::Identifier::parse(&ids::loaf(serial))
        .ok()
        .and_then(|id| id.digital_link_path().map(str::to_string))
        .unwrap_or_default()
}

/// Submits one transaction, waits for it, says what happened.
async fn step(
    client: &Client,
    key: &PrivateKey,
    who: &str,
    what: &str,
    payload: Payload,
) -> Result<tracechain_types::Transaction> {
    let tx = client
        .sign_and_submit(key, payload)
        .await
        .with_context(|| format!("{who} {what}"))?;
    let status = client.wait_final(&tx.id(), Duration::from_secs(60)).await?;
    if status.status != "applied" {
        bail!(
            "demo step '{who} {what}' failed: {}",
            status.reason.unwrap_or_default()
        );
    }
    eprintln!(
        "  {who:<22} {what} (block {})",
        status.block_height.unwrap_or_default()
    );
    Ok(tx)
}

/// The courier parcel: sender → collecting courier → origin station →
/// destination station (accepted late) → delivering courier → recipient,
/// with a temperature excursion on the way.
async fn parcel_story(client: &Client, dir: &Path) -> Result<()> {
    use tracechain_types::parcel::{DocumentAnchor, RouteStop};
    let bakery = agent(dir, "golden-crust-bakery")?;
    let swift = agent(dir, "swift-freight")?;
    let metro = agent(dir, "metro-couriers")?;
    let shop = agent(dir, "freshmart")?;
    let stop = |org: &str, prefix: &str, site: u32| RouteStop {
        organisation: org.into(),
        location: Some(ids::site(prefix, site)),
    };
    let route = vec![
        stop("swift-freight", "4045678", 1),
        stop("swift-freight", "4045678", 2),
        stop("metro-couriers", "4090123", 1),
        stop("metro-couriers", "4090123", 2),
        stop("freshmart", "4067890", 1),
    ];
    let info = json!({
        "sender": {"name": "Golden Crust Bakery", "address": "12 Mill Lane, Harvestown"},
        "recipient": {"name": "FreshMart Central", "address": "1 Market Square, Cityville", "contact": "+1 555 0100"},
        "contents": "12 sample loaves, batch A, for in-store tasting",
        "declaredValue": {"amount": 48, "currency": "EUR"},
        "serviceLevel": "next-day, chilled (2-8 °C)",
        "plannedRoute": ["collecting courier", "origin station", "destination station", "delivering courier", "FreshMart"],
    });
    let readers: Vec<String> = [
        "golden-crust-bakery",
        "swift-freight",
        "metro-couriers",
        "freshmart",
        "food-safety-authority",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    let (fingerprint, ciphertext_hash) = client.upload_document(&bakery, &readers, &info).await?;
    let anchor = DocumentAnchor {
        fingerprint,
        ciphertext_hash,
        readers,
        label: "sample loaves for FreshMart".into(),
    };
    let register = Payload::RegisterParcel {
        parcel: ids::PARCEL.into(),
        recipient: "freshmart".into(),
        route: route.clone(),
        document: anchor,
    };
    step(
        client,
        &bakery,
        "golden-crust-bakery",
        "registers a courier parcel (information sealed to its readers)",
        register,
    )
    .await?;

    let hops: [(&PrivateKey, &str, &PrivateKey, &str, usize, &str); 5] = [
        (
            &bakery,
            "golden-crust-bakery",
            &swift,
            "swift-freight",
            0,
            "the courier collects the parcel",
        ),
        (
            &swift,
            "swift-freight",
            &swift,
            "swift-freight",
            1,
            "the parcel reaches the origin station",
        ),
        (
            &swift,
            "swift-freight",
            &metro,
            "metro-couriers",
            2,
            "the destination station accepts it (late)",
        ),
        (
            &metro,
            "metro-couriers",
            &metro,
            "metro-couriers",
            3,
            "the delivering courier takes it",
        ),
        (
            &metro,
            "metro-couriers",
            &shop,
            "freshmart",
            4,
            "FreshMart signs the receipt: delivered",
        ),
    ];
    for (giver, giver_org, taker, taker_org, at, what) in hops {
        let proposal = Payload::ProposeHandoff {
            parcel: ids::PARCEL.into(),
            to: taker_org.into(),
            next: route.get(at + 1).map(|s| s.organisation.clone()),
            location: route[at].location.clone(),
            // Out for delivery; the other steps take their defaults
            // (shipping, arriving, arriving, receiving).
            step: (at == 3).then(|| "departing".to_string()),
            wait_ms: 3_600_000,
        };
        let proposed = step(
            client,
            giver,
            giver_org,
            &format!("offers the parcel to {taker_org}"),
            proposal,
        )
        .await?;
        if at == 2 {
            // The delayed acceptance: the hand-off waits, visibly pending.
            tokio::time::sleep(Duration::from_secs(3)).await;
            // On the way to the destination station the truck ran warm.
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or_default();
            let time = tracechain_epcis::time::format_utc_millis(now - 60_000);
            let depot = ids::site("4045678", 2);
            let mut excursion = object(
                &time,
                "OBSERVE",
                "transporting",
                &[ids::PARCEL.to_string()],
                &depot,
                temperature(&time, "11.5"),
            );
            excursion["sensorElementList"][0]["sensorReport"][0]["exception"] =
                json!("ALARM_CONDITION");
            let (id, _) = client.capture(&swift, document(vec![excursion])).await?;
            let status = client.wait_final(&id, Duration::from_secs(60)).await?;
            if status.status != "applied" {
                bail!(
                    "demo temperature excursion failed: {}",
                    status.reason.unwrap_or_default()
                );
            }
            eprintln!(
                "  {:<22} logs 11.5 °C in the van (above 8 °C) (block {})",
                "swift-freight",
                status.block_height.unwrap_or_default()
            );
        }
        let accept = Payload::AcceptHandoff {
            parcel: ids::PARCEL.into(),
            handoff: proposed.id(),
        };
        step(client, taker, taker_org, what, accept).await?;
    }
    Ok(())
}

/// What to look at once the demo is loaded.
pub fn guide(api: &str) -> String {
    let dl = |serial: u32| format!("{api}{}", loaf_path(serial));
    format!(
        "Demo supply chain loaded. Try:\n  \
         genuine, sold:      curl -s {}\n  \
         genuine:            curl -s {}\n  \
         recalled (lot B):   curl -s {}\n  \
         suspicious (clone): curl -s {}\n  \
         trace back:         curl -s '{api}/v1/trace{}?direction=back'\n  \
         events at FreshMart: curl -s '{api}/v1/events?EQ_bizLocation=urn:epc:id:sgln:4067890.00001.0'\n  \
         courier parcel:     curl -s {api}/v1/parcels/{}\n  \
         live records:       curl -sN '{api}/v1/events/stream?from=1'\n",
        dl(1001),
        dl(1002),
        dl(2004),
        dl(1003),
        loaf_path(1002),
        ids::PARCEL,
    )
}
