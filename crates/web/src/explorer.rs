//! The explorer: latest blocks and transactions (kept current by
//! explorer.js), validators and their recent signing, and pages for one
//! block, one transaction and one organisation.
//!
//! A **transaction summary** is the JSON the page layer assembles for one
//! transaction: `id`, `kind` (payload kind), `sender` (key), `agent`
//! (`GET /v1/agents/{key}` or null), `nonce`, `status` (`pending`,
//! `applied`, `failed`), `height`, `index`, `code`, `reason`, and
//! `records`: the public records it produced (the record feed's JSON, as
//! `GET /v1/events/stream` sends them).

use crate::{
    format::{self, Directory, text},
    layout::Page,
};
use maud::{Markup, html};
use serde_json::Value;
use std::collections::BTreeSet;

/// `/explorer`: the chain at a glance.
pub struct Home<'a> {
    /// `GET /v1/status`.
    pub status: &'a Value,
    /// `GET /v1/blocks/{h}` of the latest blocks, newest first.
    pub blocks: &'a [Value],
    /// Summaries of the transactions in those blocks, newest first.
    pub transactions: &'a [Value],
    /// Per validator: `name`, `public_key`, `signed` (of the latest
    /// `window` certificates), `window`, `proposed`, `last_signed`.
    pub validators: &'a [Value],
    /// `GET /v1/organisations`.
    pub organisations: &'a Value,
}

pub fn home(input: &Home) -> String {
    let directory = Directory::new(input.organisations);
    let status = input.status;
    let height = status["height"].as_u64().unwrap_or_default();
    let body = html! {
        header.page {
            p.kicker { "Explorer" }
            h1 { "Chain " span.id { (text(&status["chain_id"])) } }
            dl.inline #chain-status data-height=(height) {
                div { dt { "Height" } dd #chain-height { (height) } }
                div { dt { "Validators" } dd { (input.validators.len()) } }
                div { dt { "Log size" } dd { (text(&status["log_size"])) " events" } }
                div { dt { "This node" } dd { (text(&status["node"]["role"])) ", " (text(&status["peers_connected"])) " peers" } }
            }
            p.small { "State root " span.hash title=(text(&status["state_root"])) { (format::short_hash(&text(&status["state_root"]))) }
                " · log root " span.hash title=(text(&status["log_root"])) { (format::short_hash(&text(&status["log_root"]))) } }
        }
        div #latest data-height=(height) {
            div.columns {
                (latest_blocks(input.blocks, &names(status)))
                (latest_transactions(input.transactions, &directory))
            }
            (validators(input.validators))
        }
        (organisations_list(input.organisations))
    };
    Page {
        title: "Explorer",
        description: "Latest blocks, transactions and validators of this tracechain network.",
        body,
        scripts: &["/static/explorer.js"],
    }
    .render()
}

/// Validator names by public key (from `/v1/status` or `/v1/genesis`).
fn names(status: &Value) -> Vec<(String, String)> {
    status["validators"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| Some((text(&v["public_key"]), v["name"].as_str()?.to_string())))
        .collect()
}

fn validator_name<'a>(names: &'a [(String, String)], key: &'a str) -> &'a str {
    names
        .iter()
        .find(|(k, _)| k == key)
        .map_or(key, |(_, n)| n.as_str())
}

fn block_link(height: &Value) -> Markup {
    html! { a href={"/explorer/blocks/" (text(height))} { (text(height)) } }
}

fn tx_link(id: &str) -> Markup {
    html! { a.hash href={"/explorer/transactions/" (id)} title=(id) { (format::short_hash(id)) } }
}

fn latest_blocks(blocks: &[Value], names: &[(String, String)]) -> Markup {
    html! {
        section aria-labelledby="blocks-title" {
            h2 #blocks-title { "Latest blocks" }
            div.scroll {
                table #latest-blocks {
                    thead { tr { th scope="col" { "Height" } th scope="col" { "Time" } th scope="col" { "Transactions" } th scope="col" { "Proposer" } } }
                    tbody {
                        @for block in blocks {
                            @let header = &block["header"];
                            tr data-height=(text(&header["height"])) {
                                td { (block_link(&header["height"])) }
                                td { (timestamp(&header["timestamp_ms"])) }
                                td { (text(&header["tx_count"])) }
                                td { (validator_name(names, header["proposer"].as_str().unwrap_or_default())) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn timestamp(ms: &Value) -> Markup {
    let ms = ms.as_i64().unwrap_or_default();
    html! { time datetime=(format::iso(ms)) { (format::utc(ms)) } }
}

/// Words for a transaction's payload kind.
fn kind_words(kind: &str) -> String {
    kind.replace('_', " ")
}

fn sender(tx: &Value, directory: &Directory) -> Markup {
    let agent = &tx["agent"];
    html! {
        @if let Some(org) = agent["organisation"].as_str() {
            a href={"/explorer/organisations/" (format::path_segment(org))} { (directory.name(org)) }
        } @else {
            span.hash title=(text(&tx["sender"])) { (format::short_hash(&text(&tx["sender"]))) }
        }
    }
}

fn latest_transactions(transactions: &[Value], directory: &Directory) -> Markup {
    html! {
        section aria-labelledby="txs-title" {
            h2 #txs-title { "Latest transactions" }
            @if transactions.is_empty() {
                p { "No transactions in the latest blocks." }
            } @else {
                div.scroll {
                    table #latest-transactions {
                        thead { tr { th scope="col" { "Transaction" } th scope="col" { "What" } th scope="col" { "By" } th scope="col" { "Block" } } }
                        tbody {
                            @for tx in transactions {
                                tr data-tx=(text(&tx["id"])) {
                                    td { (tx_link(tx["id"].as_str().unwrap_or_default())) }
                                    td { (kind_words(&text(&tx["kind"]))) @if tx["status"] == "failed" { " " span.warn { "(failed)" } } }
                                    td { (sender(tx, directory)) }
                                    td { (block_link(&tx["height"])) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn validators(list: &[Value]) -> Markup {
    html! {
        section aria-labelledby="validators-title" {
            h2 #validators-title { "Validators" }
            div.scroll {
                table #validators {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Status" } th scope="col" { "Signed" } th scope="col" { "Proposed" } th scope="col" { "Key" } } }
                    tbody {
                        @for v in list {
                            @let signed = v["signed"].as_u64().unwrap_or_default();
                            @let window = v["window"].as_u64().unwrap_or_default();
                            @let active = signed > 0;
                            tr data-active=(active) {
                                td { (text(&v["name"])) }
                                td { @if active { span.ok { "signing" } } @else { span.warn { "not signing" } } }
                                td { (signed) " of the last " (window) " blocks" }
                                td { (text(&v["proposed"])) }
                                td.hash title=(text(&v["public_key"])) { (format::short_hash(&text(&v["public_key"]))) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn organisations_list(organisations: &Value) -> Markup {
    html! {
        section aria-labelledby="orgs-title" {
            h2 #orgs-title { "Organisations" }
            ul.orgs {
                @for org in organisations["organisations"].as_array().into_iter().flatten() {
                    li {
                        a href={"/explorer/organisations/" (format::path_segment(&text(&org["id"])))} { (text(&org["name"])) }
                        @if org["regulator"] == true { " · regulator" }
                        @if org["active"] == false { " · left" }
                    }
                }
            }
        }
    }
}

/// `/explorer/blocks/{height}`.
pub struct BlockPage<'a> {
    /// `GET /v1/blocks/{height}`.
    pub block: &'a Value,
    /// Summaries of its transactions, in block order.
    pub transactions: &'a [Value],
    /// `GET /v1/genesis` (validator names).
    pub genesis: &'a Value,
    /// `GET /v1/organisations`.
    pub organisations: &'a Value,
}

pub fn block(input: &BlockPage) -> String {
    let header = &input.block["header"];
    let height = header["height"].as_u64().unwrap_or_default();
    let directory = Directory::new(input.organisations);
    let names = names(input.genesis);
    let body = html! {
        header.page {
            p.kicker { "Block" }
            h1 #block-title data-height=(height) { "Block " (height) }
            nav.pager aria-label="Neighbouring blocks" {
                @if height > 0 { a rel="prev" href={"/explorer/blocks/" (height - 1)} { "← Block " (height - 1) } }
                " "
                a rel="next" href={"/explorer/blocks/" (height + 1)} { "Block " (height + 1) " →" }
            }
        }
        section aria-labelledby="header-title" {
            h2 #header-title { "Header" }
            dl.facts.wide {
                div { dt { "Digest" } dd.hash { (text(&header["digest"])) } }
                div { dt { "Parent" } dd.hash { @if height > 0 { a href={"/explorer/blocks/" (height - 1)} { (text(&header["parent"])) } } @else { (text(&header["parent"])) } } }
                div { dt { "Time" } dd { (timestamp(&header["timestamp_ms"])) } }
                div { dt { "Proposer" } dd { (validator_name(&names, header["proposer"].as_str().unwrap_or_default())) } }
                div { dt { "Epoch / view" } dd { (text(&header["epoch"])) " / " (text(&header["view"])) " (parent view " (text(&header["parent_view"])) ")" } }
                div { dt { "Transactions" } dd { (text(&header["tx_count"])) } }
            }
        }
        section aria-labelledby="roots-title" {
            h2 #roots-title { "Roots" }
            p.small { "What proofs check against: the authenticated world state and the append-only event log after this block." }
            dl.facts.wide {
                div { dt { "Transactions root" } dd.hash { (text(&header["tx_root"])) } }
                div { dt { "State root" } dd.hash { (text(&header["state_root"])) } }
                div { dt { "State operations root" } dd.hash { (text(&header["state_ops_root"])) } }
                div { dt { "State size / floor" } dd { (text(&header["state_size"])) " / " (text(&header["state_floor"])) } }
                div { dt { "Event log root" } dd.hash { (text(&header["log_root"])) } }
                div { dt { "Event log size / floor" } dd { (text(&header["log_size"])) " / " (text(&header["log_floor"])) } }
                div { dt { "Lookup root (receipts, event records)" } dd.hash { (text(&header["lookup_root"])) } }
            }
        }
        (certificate(&input.block["certificate"], &names))
        section aria-labelledby="block-txs-title" {
            h2 #block-txs-title { "Transactions" }
            @if input.transactions.is_empty() {
                p { "None: an empty block." }
            } @else {
                ol.txs {
                    @for tx in input.transactions {
                        li { (tx_link(tx["id"].as_str().unwrap_or_default())) " · " (kind_words(&text(&tx["kind"]))) " by " (sender(tx, &directory))
                            @if tx["status"] == "failed" { " · " span.warn { "failed: " (text(&tx["code"])) } } }
                    }
                }
            }
        }
        p.small { a href={"/v1/blocks/" (height)} { "This block as JSON" } }
    };
    let title = format!("Block {height}");
    Page {
        title: &title,
        description: "A finalized block: header, roots, the validators' certificate and its transactions.",
        body,
        scripts: &[],
    }
    .render()
}

fn certificate(certificate: &Value, names: &[(String, String)]) -> Markup {
    html! {
        section aria-labelledby="cert-title" {
            h2 #cert-title { "Finality certificate" }
            @if certificate.is_null() {
                p { "None: the genesis block is not voted on." }
            } @else {
                @let signers = certificate["signers"].as_array().map(Vec::as_slice).unwrap_or(&[]);
                p #certificate-summary {
                    "Signed by " strong { (signers.len()) " of " (text(&certificate["validators"])) " validators" }
                    " (a quorum is " (text(&certificate["quorum"])) ") in view " (text(&certificate["view"])) "."
                }
                div.scroll {
                    table {
                        thead { tr { th scope="col" { "Validator" } th scope="col" { "Signature" } } }
                        tbody {
                            @for s in signers {
                                tr {
                                    td { (validator_name(names, s["public_key"].as_str().unwrap_or_default())) }
                                    td.hash title=(text(&s["signature"])) { (format::short_hash(&text(&s["signature"]))) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `/explorer/transactions/{id}`.
pub struct TransactionPage<'a> {
    /// A transaction summary (see the module docs).
    pub transaction: &'a Value,
    /// `GET /v1/organisations`.
    pub organisations: &'a Value,
}

pub fn transaction(input: &TransactionPage) -> String {
    let tx = input.transaction;
    let id = tx["id"].as_str().unwrap_or_default();
    let directory = Directory::new(input.organisations);
    let records = tx["records"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let body = html! {
        header.page {
            p.kicker { "Transaction" }
            h1 { span.hash #tx-id { (id) } }
        }
        section aria-labelledby="tx-title" {
            h2 #tx-title { (kind_words(&text(&tx["kind"]))) }
            dl.facts {
                div { dt { "Status" } dd #tx-status data-status=(text(&tx["status"])) { (text(&tx["status"]))
                    @if let Some(code) = tx["code"].as_str() { ": " (code) } @if let Some(r) = tx["reason"].as_str() { " — " (r) } } }
                @if !tx["height"].is_null() {
                    div { dt { "Block" } dd { (block_link(&tx["height"])) " (position " (text(&tx["index"])) ")" } }
                }
                div { dt { "Signed by" } dd {
                    @if let Some(name) = tx["agent"]["display_name"].as_str() { (name) ", " }
                    (sender(tx, &directory))
                    " " span.hash title=(text(&tx["sender"])) { "(key " (format::short_hash(&text(&tx["sender"]))) ")" }
                } }
                div { dt { "Nonce" } dd { (text(&tx["nonce"])) } }
            }
        }
        @if !records.is_empty() {
            section aria-labelledby="records-title" {
                h2 #records-title { "What it recorded" }
                ol.records { @for r in records { (record(r, &directory)) } }
            }
        }
        p.small { a href={"/v1/transactions/" (id)} { "Its status as JSON" } }
    };
    let title = format!("Transaction {}", format::short_hash(id));
    Page {
        title: &title,
        description: "A signed transaction: who signed it, where it was finalized, what it recorded.",
        body,
        scripts: &[],
    }
    .render()
}

/// Where an identifier's page is: parcels have tracking pages, the rest
/// passports.
fn identifier_link(id: &str, parcel: bool) -> Markup {
    let href = if parcel {
        format::parcel_href(id)
    } else {
        format::item_href(id)
    };
    html! { a href=(href) title=(id) { (format::id_label(id)) } }
}

/// Identifiers shown in full before they are folded away.
const SHOWN_IDENTIFIERS: usize = 4;

/// What a record names, places excluded (they are in the event itself).
fn identifiers(ids: &[&str]) -> Markup {
    let links = html! {
        ul.ids { @for i in ids { li { (identifier_link(i, false)) } } }
    };
    html! {
        @if ids.len() > SHOWN_IDENTIFIERS {
            details { summary { (ids.len()) " identifiers" } (links) }
        } @else if !ids.is_empty() {
            (links)
        }
    }
}

/// One feed record (`event`, `handoff_accepted`, `recall`, …).
fn record(record: &Value, directory: &Directory) -> Markup {
    let kind = text(&record["type"]);
    let data = &record["data"];
    let parcel = record["parcel"].as_str();
    html! {
        li.record data-kind=(kind) {
            strong { (kind_words(&kind)) }
            @if let Some(step) = record["biz_step"].as_str() { " · " (format::step_words(step)) }
            @if let Some(org) = record["organisation"].as_str() { " · by " (directory.name(org)) }
            @if let Some(hash) = data["eventHash"].as_str() {
                " · event " a.hash href={"/v1/events/" (format::event_hex(hash))} title=(hash) { (format::short_hash(hash)) }
            }
            @if let Some(p) = parcel { div { "Parcel " (identifier_link(p, true)) } }
            @let ids: BTreeSet<&str> = record["identifiers"].as_array().into_iter().flatten().filter_map(Value::as_str)
                .filter(|i| Some(*i) != parcel && !is_place(i)).collect();
            (identifiers(&ids.into_iter().collect::<Vec<_>>()))
            @if let Some(reason) = data["reason"].as_str() { div { "Reason: " (reason) } }
        }
    }
}

/// Locations (GLNs) are where things happened, not what happened to.
fn is_place(id: &str) -> bool {
    format::digital_link_path(id).is_some_and(|p| p.starts_with("/414/"))
        || id.starts_with("urn:epc:id:sgln:")
}

/// `/explorer/organisations/{id}`.
pub struct OrganisationPage<'a> {
    /// `GET /v1/organisations/{id}`.
    pub organisation: &'a Value,
    /// `GET /v1/agents/{key}` of its agents.
    pub agents: &'a [Value],
    /// Its latest feed records, newest first.
    pub records: &'a [Value],
    /// How many of the latest blocks `records` and `agents` were read from
    /// (founding agents come from genesis).
    pub blocks_scanned: u64,
    /// `GET /v1/organisations`.
    pub organisations: &'a Value,
}

pub fn organisation(input: &OrganisationPage) -> String {
    let org = input.organisation;
    let directory = Directory::new(input.organisations);
    let name = text(&org["name"]);
    let list = |field: &str| -> Vec<String> {
        org[field]
            .as_array()
            .into_iter()
            .flatten()
            .map(text)
            .collect()
    };
    let body = html! {
        header.page {
            p.kicker { "Organisation" }
            h1 { (name) }
            dl.inline {
                div { dt { "Id" } dd.id { (text(&org["id"])) } }
                div { dt { "Member since" } dd { (block_link(&org["joined_height"])) } }
                @if org["regulator"] == true { div { dt { "Role" } dd { "regulator" } } }
                @if org["active"] == false { div { dt { "Left at" } dd { (block_link(&org["left_height"])) } } }
            }
            dl.facts {
                div { dt { "Company prefixes" } dd { (list("company_prefixes").join(", ")) } }
                div { dt { "Locations (GLN)" } dd { (list("glns").join(", ")) } }
                div { dt { "Admin key" } dd.hash { (text(&org["admin"])) } }
            }
        }
        section aria-labelledby="agents-title" {
            h2 #agents-title { "Agents" }
            div.scroll {
                table #agents {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Roles" } th scope="col" { "Since block" } th scope="col" { "Key" } } }
                    tbody {
                        @for a in input.agents {
                            tr {
                                td { (text(&a["display_name"])) }
                                td { @for (i, role) in a["roles"].as_array().into_iter().flatten().enumerate() { @if i > 0 { ", " } code { (text(role)) } } }
                                td { (block_link(&a["registered_height"])) }
                                td.hash title=(text(&a["public_key"])) { (format::short_hash(&text(&a["public_key"]))) }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="org-records-title" {
            h2 #org-records-title { "Recent records" }
            p.small { "From the latest " (input.blocks_scanned) " blocks." }
            @if input.records.is_empty() {
                p { "None in that range." }
            } @else {
                ol.records {
                    @for r in input.records {
                        li.record-row {
                            "Block " (block_link(&r["height"])) " · " (timestamp(&r["block_time_ms"])) " · "
                            (tx_link(r["transaction"].as_str().unwrap_or_default()))
                            ol.records { (record(r, &directory)) }
                        }
                    }
                }
            }
        }
    };
    Page {
        title: &name,
        description: "A member organisation: its agents, their roles, and what it recorded lately.",
        body,
        scripts: &[],
    }
    .render()
}

/// A search that found nothing.
pub fn nothing_found(query: &str) -> String {
    let body = html! {
        section.error aria-labelledby="search-title" {
            h1 #search-title { "Nothing found" }
            p { "No block, transaction, event, item, parcel or organisation matches " strong #search-query { (query) } "." }
            p { "Search by block height (" code { "42" } "), transaction or event hash (64 hex digits), an item or parcel code (" code { "urn:epc:id:sgtin:…" } " or a Digital Link), or an organisation id or name." }
        }
    };
    Page {
        title: "Nothing found",
        description: "The explorer search found nothing.",
        body,
        scripts: &[],
    }
    .render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn status() -> Value {
        json!({"chain_id": "demo", "height": 12, "log_size": 40, "node": {"role": "validator"}, "peers_connected": 3,
            "state_root": "aa".repeat(32), "log_root": "bb".repeat(32),
            "validators": [{"name": "validator-0", "public_key": "k0"}]})
    }

    fn block_json(height: u64) -> Value {
        json!({"header": {"height": height, "timestamp_ms": 0, "tx_count": 1, "proposer": "k0", "digest": "dd", "parent": "pp",
            "tx_root": "t", "state_root": "s", "state_ops_root": "o", "log_root": "l", "state_size": 1, "state_floor": 0, "log_size": 1, "log_floor": 0,
            "epoch": 0, "view": 3, "parent_view": 2},
            "transactions": ["ee"],
            "certificate": {"view": 3, "signers": [{"index": 0, "public_key": "k0", "signature": "ss"}], "quorum": 3, "validators": 4}})
    }

    fn tx() -> Value {
        json!({"id": "ee".repeat(32), "kind": "capture", "sender": "k9", "agent": {"organisation": "bakery", "display_name": "Anna"},
            "nonce": 4, "status": "applied", "height": 12, "index": 0,
            "records": [{"type": "event", "biz_step": "https://ref.gs1.org/cbv/BizStep-packing", "organisation": "bakery",
                "identifiers": ["https://id.gs1.org/01/04023456000222/21/1002"], "data": {"eventHash": "ni:///sha-256;abcd?ver=CBV2.0"}}]})
    }

    fn orgs() -> Value {
        json!({"organisations": [{"id": "bakery", "name": "Golden Crust Bakery"}]})
    }

    #[test]
    fn home_lists_blocks_transactions_validators() {
        let html = home(&Home {
            status: &status(),
            blocks: &[block_json(12)],
            transactions: &[tx()],
            validators: &[
                json!({"name": "validator-0", "public_key": "k0", "signed": 5, "window": 10, "proposed": 2}),
            ],
            organisations: &orgs(),
        });
        assert!(html.contains(r#"<tr data-height="12">"#));
        assert!(html.contains(r#"href="/explorer/blocks/12""#));
        assert!(html.contains("validator-0"));
        assert!(html.contains("5 of the last 10 blocks"));
        assert!(html.contains("Golden Crust Bakery"));
        assert!(html.contains("/static/explorer.js"));
    }

    #[test]
    fn block_page_shows_roots_certificate_transactions() {
        let html = block(&BlockPage {
            block: &block_json(12),
            transactions: &[tx()],
            genesis: &json!({"validators": [{"name": "validator-0", "public_key": "k0"}]}),
            organisations: &orgs(),
        });
        assert!(html.contains(r#"data-height="12""#));
        assert!(html.contains("Event log root"));
        assert!(html.contains("Signed by <strong>1 of 4 validators</strong>"));
        assert!(html.contains("capture"));
    }

    #[test]
    fn transaction_page_links_what_it_recorded() {
        let html = transaction(&TransactionPage {
            transaction: &tx(),
            organisations: &orgs(),
        });
        assert!(html.contains(r#"data-status="applied""#));
        assert!(html.contains("Anna, "));
        assert!(html.contains(r#"href="/items/01/04023456000222/21/1002""#));
        assert!(html.contains(">GTIN 04023456000222 serial 1002<"));
        assert!(html.contains(r#"href="/v1/events/abcd""#));
        assert!(html.contains("Packed"));
    }

    #[test]
    fn organisation_page_lists_agents_and_records() {
        let html = organisation(&OrganisationPage {
            organisation: &json!({"id": "bakery", "name": "Golden Crust Bakery", "company_prefixes": ["4023456"], "joined_height": 0}),
            agents: &[
                json!({"display_name": "Anna", "roles": ["capture:packing", "shipment:handoff"], "public_key": "k9", "registered_height": 0}),
            ],
            records: &[
                json!({"height": 3, "block_time_ms": 0, "transaction": "ee", "type": "recall", "data": {"reason": "mould"}, "identifiers": []}),
            ],
            blocks_scanned: 100,
            organisations: &orgs(),
        });
        assert!(html.contains("<code>capture:packing</code>, <code>shipment:handoff</code>"));
        assert!(html.contains("Reason: mould"));
        assert!(html.contains("latest 100 blocks"));
    }

    #[test]
    fn nothing_found_escapes_the_query() {
        let html = nothing_found("<img src=x>");
        assert!(html.contains("&lt;img src=x&gt;"));
        assert!(!html.contains("<img src=x>"));
    }
}
