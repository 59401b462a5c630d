//! The product passport: what a consumer sees after scanning an item's
//! code — the verdict in plain words, the item's life as a timeline, what
//! it was made from and travelled in, its sensor readings, a QR code, and
//! a proof badge the browser computes itself (passport.js runs the WASM
//! verifier over the proof bundle; the server's word is not the proof).

use crate::{
    chart,
    format::{self, Directory, text},
    layout::Page,
};
use maud::{Markup, html};
use serde_json::Value;
use std::collections::BTreeSet;

/// What the passport is made from: the API's own JSON.
pub struct Passport<'a> {
    /// `GET /v1/verify/{id}`.
    pub verification: &'a Value,
    /// `GET /v1/trace/{id}?direction=back`, each event also carrying
    /// `identifiers` (the canonical ids it names).
    pub trace: &'a Value,
    /// `GET /v1/organisations`.
    pub organisations: &'a Value,
    /// The item's Digital Link path (`/01/…/21/…`), when it has one.
    pub digital_link: Option<&'a str>,
    /// Its tracking page, when the item is also a registered parcel.
    pub parcel: Option<&'a str>,
}

/// The passport page.
pub fn render(passport: &Passport) -> String {
    let directory = Directory::new(passport.organisations);
    let id = passport.verification["id"].as_str().unwrap_or_default();
    let verdict = passport.verification["verdict"]
        .as_str()
        .unwrap_or("unknown");
    let journey = Journey::of(id, passport.trace);
    let body = html! {
        (heading(passport, id))
        (verdict_section(passport.verification, verdict, &directory))
        @if let Some(tracking) = passport.parcel {
            p.track { "This is a parcel: " a #track-parcel href=(tracking) { "track its hand-offs" } "." }
        }
        div.columns {
            (proof_badge(id))
            (qr_figure(id, passport.digital_link))
        }
        @if verdict != "unknown" {
            (state_section(&passport.verification["item"], &directory))
            (timeline(&journey, id, &directory))
            (sensors(&journey, &directory))
            (made_from(id, passport.trace, &directory))
        }
    };
    let title = format!("Product passport: {id}");
    Page {
        title: &title,
        description: "Where this item comes from, and whether it is genuine — checked against the validators' signatures.",
        body,
        scripts: &["/static/passport.js"],
    }
    .render()
}

fn heading(passport: &Passport, id: &str) -> Markup {
    let brand = passport.verification["checks"]["brand_owner"].as_str();
    html! {
        header.page {
            p.kicker { "Product passport" }
            h1 { @if let Some(b) = brand { (b) " · " } (format::id_label(id)) }
            p.id.small { (id) }
            @if let Some(path) = passport.digital_link {
                dl.inline {
                    @for (name, value) in format::digital_link_pairs(path) {
                        div { dt { (name) } dd { (value) } }
                    }
                }
            }
        }
    }
}

/// The verdict, said so that nobody needs to know what EPCIS is.
fn verdict_words(verdict: &str) -> (&'static str, &'static str) {
    match verdict {
        "genuine" => (
            "Genuine",
            "This item is genuine: its maker put it on the chain and every hand-off since is recorded.",
        ),
        "recalled" => (
            "Recalled",
            "This item has been recalled. Do not use it; return it where you bought it.",
        ),
        "suspicious" => (
            "Suspicious",
            "Something about this item does not add up. It may be a copy of a genuine code.",
        ),
        _ => (
            "Unknown",
            "This code was never registered on the chain. It may be counterfeit or mistyped.",
        ),
    }
}

fn verdict_section(verification: &Value, verdict: &str, directory: &Directory) -> Markup {
    let (word, sentence) = verdict_words(verdict);
    let class = format!("verdict verdict-{}", format::path_segment(verdict));
    html! {
        section class=(class) #verdict data-verdict=(verdict) aria-labelledby="verdict-title" {
            h2 #verdict-title { span.verdict-word { (word) } }
            p.sentence { (sentence) }
            @if let Some(reasons) = verification["reasons"].as_array() {
                ul.reasons {
                    @for reason in reasons { li { (text(reason)) } }
                }
            }
            @if let Some(recalls) = verification["recalls"].as_array().filter(|r| !r.is_empty()) {
                div.recall #recall {
                    h3 { "Recall" }
                    ul {
                        @for recall in recalls {
                            li {
                                @let recalled = text(&recall["id"]);
                                "Recalled: " a href=(format::item_href(&recalled)) title=(recalled) { (format::id_label(&recalled)) }
                                " — " strong { (text(&recall["reason"])) }
                                " (" a href={"/explorer/blocks/" (text(&recall["height"]))} { "block " (text(&recall["height"])) }
                                ", " a href={"/explorer/transactions/" (text(&recall["transaction"]))} { "record" } ")"
                            }
                        }
                    }
                }
            }
            @if let Some(direct) = verification["item"]["recall"].as_object() {
                p.recall {
                    "Recalled directly by "
                    (directory.name(direct.get("organisation").and_then(Value::as_str).unwrap_or_default()))
                    ": " strong { (direct.get("reason").map(text).unwrap_or_default()) }
                }
            }
        }
    }
}

/// Filled in by passport.js: `data-state` goes from `pending` to
/// `verified`, `failed` or `unverified` (no proof served).
fn proof_badge(id: &str) -> Markup {
    let verify = format!("/v1/verify{}?proof=true", format::id_path(id));
    html! {
        section.proof aria-labelledby="proof-title" {
            h2 #proof-title { "Proof" }
            p #proof-badge .badge data-state="pending" data-verify=(verify) role="status" aria-live="polite" {
                "Checking the validators' signatures in your browser…"
            }
            noscript {
                p { "The proof is checked in your browser, which needs JavaScript. The proof itself: "
                    a href=(verify) { "proof bundle (JSON)" } "." }
            }
            p.small {
                "Your browser checks the proof bundle against the chain's validator keys ("
                a href="/v1/genesis" { "genesis" } ") — you do not have to trust this server."
            }
        }
    }
}

fn qr_figure(id: &str, digital_link: Option<&str>) -> Markup {
    let target = format!("/qr{}", format::id_path(id));
    html! {
        figure.qr {
            img src={(target) "?format=svg"} width="160" height="160"
                alt={"QR code: the Digital Link of this item" @if let Some(p) = digital_link { " (" (p) ")" }};
            figcaption {
                "Scan to open this page. "
                a href={(target) "?format=png"} download { "Download PNG" }
            }
        }
    }
}

/// Where the item is now and who holds it.
fn state_section(item: &Value, directory: &Directory) -> Markup {
    let custodian = item["custodian"].as_str();
    let location = item["location"].as_str();
    html! {
        section aria-labelledby="now-title" {
            h2 #now-title { "Now" }
            dl.facts {
                @if let Some(c) = custodian { div { dt { "Held by" } dd { (directory.name(c)) } } }
                @if let Some(l) = location { div { dt { "At" } dd { (directory.place(l)) } } }
                @if let Some(d) = item["disposition"].as_str() { div { dt { "Condition" } dd { (format::cbv_term(d).replace('_', " ")) } } }
                @if let Some(p) = item["parent"].as_str() {
                    div { dt { "Packed in" } dd { a href=(format::item_href(p)) title=(p) { (format::id_label(p)) } } }
                }
                @if let Some(by) = item["created_by"].as_str() { div { dt { "Made by" } dd { (directory.name(by)) } } }
                div { dt { "Times sold" } dd { (item["sold_count"].as_u64().unwrap_or_default()) } }
                @if let Some(ms) = item["last_seen_ms"].as_i64() {
                    div { dt { "Last seen" } dd { time datetime=(format::iso(ms)) { (format::utc(ms)) } } }
                }
            }
        }
    }
}

/// The item and the containers it travelled in, and the events of each.
struct Journey<'a> {
    /// The item and every container it was packed in (recursively).
    carriers: BTreeSet<String>,
    /// Events naming the item or a carrier, in time order.
    events: Vec<&'a Value>,
}

impl<'a> Journey<'a> {
    fn of(id: &str, trace: &'a Value) -> Self {
        let edges = trace["edges"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        let mut carriers = BTreeSet::from([id.to_string()]);
        // Containers of containers: keep adding until nothing changes.
        loop {
            let before = carriers.len();
            for edge in edges.iter().filter(|e| e["kind"] == "aggregation") {
                if let (Some(from), Some(to)) = (edge["from"].as_str(), edge["to"].as_str())
                    && carriers.contains(to)
                {
                    carriers.insert(from.to_string());
                }
            }
            if carriers.len() == before {
                break;
            }
        }
        let mut events: Vec<&Value> = trace["events"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|event| match event["identifiers"].as_array() {
                Some(ids) => ids
                    .iter()
                    .any(|i| i.as_str().is_some_and(|i| carriers.contains(i))),
                // Without the ids an event names, keep it: better too
                // much history than a gap.
                None => true,
            })
            .collect();
        events.sort_by_key(|e| e["eventTimeMs"].as_i64().unwrap_or_default());
        Self { carriers, events }
    }

    /// The carrier (not the item itself) an event is about, if any.
    fn carrier_of(&self, event: &Value, id: &str) -> Option<String> {
        let ids: Vec<&str> = event["identifiers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if ids.contains(&id) {
            return None;
        }
        ids.into_iter()
            .find(|i| self.carriers.contains(*i))
            .map(str::to_string)
    }
}

fn timeline(journey: &Journey, id: &str, directory: &Directory) -> Markup {
    html! {
        section aria-labelledby="timeline-title" {
            h2 #timeline-title { "Its journey" }
            @if journey.events.is_empty() {
                p { "No events recorded yet." }
            } @else {
                ol.timeline {
                    @for event in &journey.events {
                        (timeline_entry(event, journey.carrier_of(event, id), directory))
                    }
                }
            }
        }
    }
}

fn timeline_entry(event: &Value, carrier: Option<String>, directory: &Directory) -> Markup {
    let ms = event["eventTimeMs"].as_i64().unwrap_or_default();
    let step = event["bizStep"]
        .as_str()
        .map(format::step_words)
        .unwrap_or_else(|| text(&event["type"]));
    let place = event["bizLocation"]
        .as_str()
        .or(event["readPoint"].as_str());
    let erroneous = !event["declaredInError"].is_null();
    html! {
        li.event.erroneous[erroneous] data-step=(format::cbv_term(event["bizStep"].as_str().unwrap_or_default())) {
            time datetime=(format::iso(ms)) { (format::utc(ms)) }
            div.what {
                strong { (step) }
                @if let Some(c) = &carrier { " — with " a href=(format::item_href(c)) title=(c) { (format::id_label(c)) } }
                @if let Some(org) = event["organisation"].as_str() { " · by " (directory.name(org)) }
                @if let Some(p) = place { " · at " (directory.place(p)) }
                @if let Some(d) = event["disposition"].as_str() { " · " span.disposition { (format::cbv_term(d).replace('_', " ")) } }
                @if erroneous { " · " strong.warn { "declared in error" } }
            }
            div.small {
                a href={"/explorer/transactions/" (text(&event["transaction"]))} { "record" }
                " in "
                a href={"/explorer/blocks/" (text(&event["blockHeight"]))} { "block " (text(&event["blockHeight"])) }
            }
        }
    }
}

fn sensors(journey: &Journey, directory: &Directory) -> Markup {
    let readings = chart::readings(&journey.events);
    if readings.is_empty() {
        return html! {};
    }
    html! {
        section #sensors aria-labelledby="sensors-title" {
            h2 #sensors-title { "Conditions on the way" }
            p.small { "Readings of the loggers that travelled with it (and with its containers). Marked points are excursions the device flagged." }
            (chart::charts(&readings, directory, "sensor"))
        }
    }
}

/// Longest chain of inputs and containers shown (the trace is deeper
/// only for unusual goods; the explorer has the rest).
const MAX_TREE_DEPTH: usize = 12;

/// The back trace as nested, expandable lists: containers it travelled in,
/// inputs it was made from, and theirs.
fn made_from(id: &str, trace: &Value, directory: &Directory) -> Markup {
    let edges = trace["edges"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    if edges.is_empty() {
        return html! {};
    }
    let mut seen = BTreeSet::from([id.to_string()]);
    html! {
        section #trace aria-labelledby="trace-title" {
            h2 #trace-title { "Made from and travelled in" }
            (tree(id, edges, trace, directory, &mut seen, 0))
        }
    }
}

fn relation(kind: &str) -> &'static str {
    match kind {
        "aggregation" => "travelled in",
        "transformation" => "made from",
        "association" => "with device",
        _ => "linked to",
    }
}

fn tree(
    node: &str,
    edges: &[Value],
    trace: &Value,
    directory: &Directory,
    seen: &mut BTreeSet<String>,
    depth: usize,
) -> Markup {
    let children: Vec<(&str, &str)> = edges
        .iter()
        .filter(|e| e["to"] == node)
        .filter_map(|e| Some((e["from"].as_str()?, e["kind"].as_str().unwrap_or_default())))
        .collect();
    if children.is_empty() || depth >= MAX_TREE_DEPTH {
        return html! {};
    }
    html! {
        ul.tree {
            @for (child, kind) in children {
                @let fresh = seen.insert(child.to_string());
                li {
                    details open[depth == 0] {
                        summary {
                            span.relation { (relation(kind)) } " "
                            span title=(child) { (format::id_label(child)) }
                            @if let Some(owner) = directory.owner_of(child) { " · " (owner) }
                        }
                        p.small {
                            (count_events(trace, child)) " event(s) · "
                            a href=(format::item_href(child)) { "its passport" }
                        }
                        @if fresh { (tree(child, edges, trace, directory, seen, depth + 1)) }
                    }
                }
            }
        }
    }
}

fn count_events(trace: &Value, id: &str) -> usize {
    trace["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| {
            e["identifiers"]
                .as_array()
                .is_some_and(|ids| ids.iter().any(|i| i == id))
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LOAF: &str = "https://id.gs1.org/01/04023456000222/21/1002";
    const CASE: &str = "https://id.gs1.org/01/14023456000229/21/1";
    const PALLET: &str = "https://id.gs1.org/00/040345670000000018";
    const LOT: &str = "https://id.gs1.org/01/04012345000114/10/WHEAT-B";

    fn event(time: i64, step: &str, ids: &[&str], extra: Value) -> Value {
        json!({
            "eventTimeMs": time, "bizStep": format!("https://ref.gs1.org/cbv/BizStep-{step}"),
            "organisation": "bakery", "bizLocation": "https://id.gs1.org/414/4023456000010",
            "blockHeight": 7, "transaction": "ab".repeat(32), "declaredInError": null,
            "type": "ObjectEvent", "identifiers": ids, "event": extra,
        })
    }

    fn trace() -> Value {
        json!({
            "edges": [
                {"from": CASE, "to": LOAF, "kind": "aggregation", "event": "x"},
                {"from": PALLET, "to": CASE, "kind": "aggregation", "event": "y"},
                {"from": LOT, "to": LOAF, "kind": "transformation", "event": "z"},
            ],
            "events": [
                event(3, "shipping", &[PALLET], json!({"sensorElementList": [{"sensorMetadata": {"time": "2026-01-01T00:00:00Z"}, "sensorReport": [{"type": "Temperature", "value": 4.0, "uom": "CEL"}]}]})),
                event(1, "commissioning", &[LOAF], json!({})),
                event(2, "packing", &[CASE, LOAF], json!({})),
                event(0, "harvesting", &[LOT], json!({})),
            ],
        })
    }

    fn verification(verdict: &str) -> Value {
        json!({
            "id": LOAF, "verdict": verdict, "reasons": ["commissioned by its brand owner <b>"],
            "checks": {"brand_owner": "Golden Crust Bakery"},
            "item": {"custodian": "bakery", "sold_count": 0, "location": "https://id.gs1.org/414/4023456000010"},
            "recalls": if verdict == "recalled" { json!([{"id": LOT, "reason": "mould", "height": 9, "transaction": "cd".repeat(32)}]) } else { json!([]) },
        })
    }

    fn page(verdict: &str) -> String {
        let orgs = json!({"organisations": [{"id": "bakery", "name": "Golden Crust Bakery", "company_prefixes": ["4023456"]}]});
        render(&Passport {
            verification: &verification(verdict),
            trace: &trace(),
            organisations: &orgs,
            digital_link: Some("/01/04023456000222/21/1002"),
            parcel: None,
        })
    }

    #[test]
    fn genuine_item_shows_verdict_badge_qr_and_journey() {
        let html = page("genuine");
        assert!(html.contains(r#"data-verdict="genuine""#));
        assert!(html.contains(">Genuine<"));
        assert!(html.contains("&lt;b&gt;"), "reasons are escaped");
        assert!(html.contains(r#"id="proof-badge""#));
        assert!(html.contains(r#"data-state="pending""#));
        assert!(
            html.contains("/v1/verify/01/04023456000222/21/1002?proof=true"),
            "{html}"
        );
        assert!(html.contains("/qr/01/04023456000222/21/1002?format=svg"));
        assert!(html.contains("<dt>GTIN</dt><dd>04023456000222</dd>"));
        // The loaf's journey: made, packed, then its pallet shipped — not
        // the harvest of the wheat it was made from.
        let timeline = html.split("class=\"timeline\"").nth(1).expect("timeline");
        let made = timeline.find("Made").expect("made");
        let packed = timeline.find("Packed").expect("packed");
        let shipped = timeline.find("Shipped").expect("shipped");
        assert!(made < packed && packed < shipped);
        assert!(
            !timeline
                .split("</ol>")
                .next()
                .unwrap()
                .contains("Harvested")
        );
        assert!(html.contains("Golden Crust Bakery (GLN 4023456000010)"));
        assert!(html.contains("Conditions on the way"));
        assert!(html.contains("made from"));
        assert!(html.contains("travelled in"));
    }

    #[test]
    fn recalled_item_names_the_recall() {
        let html = page("recalled");
        assert!(html.contains(r#"data-verdict="recalled""#));
        assert!(html.contains(r#"id="recall""#));
        assert!(html.contains("mould"));
        assert!(html.contains("Do not use it"));
    }

    #[test]
    fn unknown_code_shows_only_the_verdict() {
        let html = render(&Passport {
            verification: &json!({"id": "https://id.gs1.org/01/04023456000222/21/9", "verdict": "unknown", "reasons": ["never commissioned"]}),
            trace: &json!(null),
            organisations: &json!(null),
            digital_link: None,
            parcel: Some("/parcels/00/1"),
        });
        assert!(html.contains(">Unknown<"));
        assert!(!html.contains("Its journey"));
        assert!(html.contains(r#"<a id="track-parcel" href="/parcels/00/1">"#));
    }

    #[test]
    fn cyclic_traces_end() {
        let trace = json!({"edges": [
            {"from": "a", "to": "b", "kind": "transformation"},
            {"from": "b", "to": "a", "kind": "transformation"},
        ], "events": []});
        let html = made_from("a", &trace, &Directory::default()).into_string();
        assert_eq!(html.matches("<details").count(), 2, "{html}");
    }
}
