//! Parcel tracking: the route, each custody hand-off with both signers,
//! the pending hand-off, exceptions, delivery — kept current by
//! parcel.js, which listens to the record stream and re-reads the
//! `#parcel-state` part of this page when anything about the parcel is
//! finalized.

use crate::{
    chart,
    format::{self, Directory, text},
    layout::Page,
};
use maud::{Markup, html};
use serde_json::Value;

/// What the page is made from: the API's own JSON.
pub struct Parcel<'a> {
    /// `GET /v1/parcels/{id}`.
    pub parcel: &'a Value,
    /// `GET /v1/events?MATCH_epc={id}` `events` (for sensor readings).
    pub events: &'a Value,
    /// `GET /v1/organisations`.
    pub organisations: &'a Value,
    /// `{agent key: GET /v1/agents/{key}}` for the keys the parcel names.
    pub agents: &'a Value,
    /// The finalized height this page shows; live updates start after it.
    pub height: u64,
}

/// The tracking page.
pub fn render(input: &Parcel) -> String {
    let id = input.parcel["id"].as_str().unwrap_or_default();
    let directory = Directory::new(input.organisations);
    let body = html! {
        header.page {
            p.kicker { "Parcel tracking" }
            h1 { "Parcel " (format::id_label(id)) }
            p.id.small { (id) }
            p {
                "From " strong { (directory.name(input.parcel["sender"].as_str().unwrap_or_default())) }
                " to " strong { (directory.name(input.parcel["recipient"].as_str().unwrap_or_default())) }
            }
        }
        div #parcel-state { (state(input, &directory)) }
        (live_section(id, input.height))
    };
    let title = format!("Parcel {id}");
    Page {
        title: &title,
        description: "Where this parcel is, who handed it to whom, and who signed for it.",
        body,
        scripts: &["/static/parcel.js"],
    }
    .render()
}

/// The part of the page that changes as the parcel moves.
fn state(input: &Parcel, directory: &Directory) -> Markup {
    let parcel = input.parcel;
    let status = parcel["status"].as_str().unwrap_or("registered");
    let events: Vec<&Value> = input.events.as_array().into_iter().flatten().collect();
    let readings = chart::readings(&events);
    html! {
        section.status-banner #parcel-status data-status=(status) data-damaged=(parcel["damaged"] == true) aria-labelledby="status-title" {
            h2 #status-title { (status_words(status)) }
            p {
                @if status == "delivered" {
                    "Delivered to " (directory.name(parcel["custodian"].as_str().unwrap_or_default())) ", who signed the receipt."
                } @else {
                    "Held by " strong #custodian { (directory.name(parcel["custodian"].as_str().unwrap_or_default())) } "."
                }
                @if parcel["damaged"] == true { " " strong.warn { "Declared damaged." } }
            }
        }
        (route(parcel, directory))
        (pending(&parcel["pending"], input.agents, directory))
        (custody(parcel, input.agents, directory))
        (closed(parcel, input.agents, directory))
        (exceptions(parcel, directory))
        @if !readings.is_empty() {
            section #sensors aria-labelledby="sensors-title" {
                h2 #sensors-title { "Conditions on the way" }
                (chart::charts(&readings, directory, "parcel-sensor"))
            }
        }
        (registration(parcel))
    }
}

fn status_words(status: &str) -> &'static str {
    match status {
        "registered" => "Registered, not yet handed over",
        "in_transit" => "On its way",
        "delivered" => "Delivered",
        "lost" => "Lost",
        "returned" => "Returned to sender",
        _ => "Status unknown",
    }
}

/// The planned stops, each marked passed, current or ahead.
fn route(parcel: &Value, directory: &Directory) -> Markup {
    let custodian = parcel["custodian"].as_str().unwrap_or_default();
    let reached: Vec<&str> = parcel["custody"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|step| step["to"].as_str())
        .collect();
    let sender = parcel["sender"].as_str().unwrap_or_default();
    let mut stops: Vec<(&str, Option<&str>)> = vec![(sender, None)];
    stops.extend(
        parcel["route"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| Some((s["organisation"].as_str()?, s["location"].as_str()))),
    );
    html! {
        section aria-labelledby="route-title" {
            h2 #route-title { "Route" }
            ol.route {
                @for (org, location) in &stops {
                    @let state = if *org == custodian { "current" } else if *org == sender || reached.contains(org) { "passed" } else { "ahead" };
                    li data-state=(state) {
                        span.stop-name { (directory.name(org)) }
                        @if let Some(l) = location { " (" (format::place_label(l)) ")" }
                        " " span.stop-state { "(" (match state { "current" => "here now", "passed" => "passed", _ => "ahead" }) ")" }
                    }
                }
            }
        }
    }
}

/// An agent key as "Name, Organisation" with the key in a tooltip.
fn agent(key: &str, agents: &Value, directory: &Directory) -> Markup {
    let record = &agents[key];
    let name = record["display_name"].as_str();
    let org = record["organisation"].as_str().map(|o| directory.name(o));
    html! {
        span.agent title=(key) {
            @match (name, org) {
                (Some(n), Some(o)) => { (n) ", " (o) },
                _ => { "agent " (format::short_hash(key)) },
            }
        }
    }
}

fn tx_link(tx: &Value, label: &str) -> Markup {
    html! { a href={"/explorer/transactions/" (text(tx))} title=(text(tx)) { (label) } }
}

fn time(ms: &Value) -> Markup {
    let ms = ms.as_i64().unwrap_or_default();
    html! { time datetime=(format::iso(ms)) { (format::utc(ms)) } }
}

fn pending(pending: &Value, agents: &Value, directory: &Directory) -> Markup {
    if pending.is_null() {
        return html! {};
    }
    let to = directory.name(pending["to"].as_str().unwrap_or_default());
    html! {
        section.pending #pending aria-labelledby="pending-title" {
            h2 #pending-title { "Hand-off waiting for " (to) }
            p {
                (directory.name(pending["from"].as_str().unwrap_or_default()))
                " offered the parcel to " strong { (to) } " at " (time(&pending["proposedAtMs"]))
                " (signed by " (agent(pending["proposedBy"].as_str().unwrap_or_default(), agents, directory)) "). "
                "Custody moves only when " (to) " signs the acceptance. The offer can be withdrawn after "
                (time(&pending["expiresAtMs"])) "."
            }
            @if pending["offRoute"] == true { p.warn { "Not on the planned route." } }
            p.small { (tx_link(&pending["handoff"], "the signed offer")) }
        }
    }
}

fn custody(parcel: &Value, agents: &Value, directory: &Directory) -> Markup {
    let steps = parcel["custody"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    html! {
        section aria-labelledby="custody-title" {
            h2 #custody-title { "Hand-offs" }
            @if steps.is_empty() {
                p #no-handoffs { "No hand-off yet." }
            } @else {
                p.small { "Each hand-off is two signed records: the offer by the party handing over, the acceptance by the party taking over." }
                ol.custody #custody {
                    @for step in steps {
                        li.handoff data-from=(text(&step["from"])) data-to=(text(&step["to"])) {
                            p.parties {
                                strong { (directory.name(step["from"].as_str().unwrap_or_default())) }
                                " → "
                                strong { (directory.name(step["to"].as_str().unwrap_or_default())) }
                                @if let Some(s) = step["bizStep"].as_str() { " · " (format::step_words(s)) }
                                @if step["offRoute"] == true { " · " span.warn { "off route" } }
                            }
                            dl.signers {
                                div { dt { "Offered" } dd { (time(&step["proposedAtMs"])) " by " (agent(step["proposedBy"].as_str().unwrap_or_default(), agents, directory)) " · " (tx_link(&step["handoff"], "signed offer")) } }
                                div { dt { "Accepted" } dd { (time(&step["acceptedAtMs"])) " by " (agent(step["acceptedBy"].as_str().unwrap_or_default(), agents, directory)) " · " (tx_link(&step["acceptance"], "signed acceptance")) } }
                                div { dt { "Block" } dd { a href={"/explorer/blocks/" (text(&step["blockHeight"]))} { (text(&step["blockHeight"])) } } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn closed(parcel: &Value, agents: &Value, directory: &Directory) -> Markup {
    let closed = parcel["closedProposals"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if closed.is_empty() {
        return html! {};
    }
    html! {
        section aria-labelledby="closed-title" {
            h2 #closed-title { "Offers not taken" }
            ul {
                @for c in closed {
                    li {
                        (directory.name(c["from"].as_str().unwrap_or_default())) " → " (directory.name(c["to"].as_str().unwrap_or_default()))
                        ": " strong { (text(&c["outcome"])) }
                        @if let Some(r) = c["reason"].as_str() { " (" (r) ")" }
                        " by " (agent(c["closedBy"].as_str().unwrap_or_default(), agents, directory))
                        " at " (time(&c["closedAtMs"]))
                    }
                }
            }
        }
    }
}

fn exceptions(parcel: &Value, directory: &Directory) -> Markup {
    let list = parcel["exceptions"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if list.is_empty() {
        return html! {};
    }
    html! {
        section aria-labelledby="exceptions-title" {
            h2 #exceptions-title { "Exceptions" }
            ul {
                @for e in list {
                    li { strong { (text(&e["kind"])) } ": " (text(&e["reason"])) " — declared by " (directory.name(e["by"].as_str().unwrap_or_default())) " at " (time(&e["atMs"])) }
                }
            }
        }
    }
}

/// Registration and the off-chain document's fingerprint.
fn registration(parcel: &Value) -> Markup {
    let registered = &parcel["registered"];
    html! {
        section aria-labelledby="registered-title" {
            h2 #registered-title { "Registration" }
            dl.facts {
                div { dt { "Registered" } dd { (time(&registered["timestampMs"])) " in " a href={"/explorer/blocks/" (text(&registered["blockHeight"]))} { "block " (text(&registered["blockHeight"])) } " · " (tx_link(&registered["transaction"], "record")) } }
                div { dt { "Parcel information" } dd { "kept off chain, encrypted to its readers; fingerprint " span.hash title=(text(&parcel["document"]["fingerprint"])) { (format::short_hash(&text(&parcel["document"]["fingerprint"]))) } } }
            }
        }
    }
}

/// The live feed of the parcel's records (filled by parcel.js).
fn live_section(id: &str, height: u64) -> Markup {
    html! {
        section.live #live data-parcel=(id) data-from=(height + 1) aria-labelledby="live-title" {
            h2 #live-title { "Live updates " span #live-status data-state="connecting" { "(connecting…)" } }
            ol #live-log aria-live="polite" {}
            noscript { p { "Reload the page to see new hand-offs." } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parcel(status: &str, pending: Value) -> Value {
        json!({
            "id": "urn:epc:id:sscc:4023456.0000000777", "status": status, "damaged": false,
            "sender": "bakery", "recipient": "shop", "custodian": if status == "delivered" { "shop" } else { "courier" },
            "route": [{"organisation": "courier", "location": null}, {"organisation": "shop", "location": null}],
            "registered": {"blockHeight": 3, "timestampMs": 0, "transaction": "aa"},
            "document": {"fingerprint": "ff".repeat(32)},
            "custody": [{"from": "bakery", "to": "courier", "proposedBy": "k1", "acceptedBy": "k2",
                "handoff": "11", "acceptance": "22", "proposedAtMs": 0, "acceptedAtMs": 1000, "blockHeight": 5,
                "bizStep": "shipping", "offRoute": false}],
            "pending": pending, "closedProposals": [], "exceptions": [],
        })
    }

    fn page(status: &str, pending: Value) -> String {
        render(&Parcel {
            parcel: &parcel(status, pending),
            events: &json!([]),
            organisations: &json!({"organisations": [{"id": "courier", "name": "Swift <Freight>"}]}),
            agents: &json!({"k1": {"display_name": "Anna", "organisation": "bakery"}}),
            height: 41,
        })
    }

    #[test]
    fn shows_route_handoffs_and_both_signers() {
        let html = page("in_transit", json!(null));
        assert!(html.contains(r#"data-status="in_transit""#));
        assert!(html.contains("Swift &lt;Freight&gt;"));
        assert!(
            html.contains(
                r#"<li data-state="current"><span class="stop-name">Swift &lt;Freight&gt;"#
            ),
            "{html}"
        );
        assert!(html.contains("Anna, bakery"));
        assert!(html.contains("signed offer"));
        assert!(html.contains("signed acceptance"));
        assert!(html.contains(r#"data-from="42""#));
        assert!(!html.contains(r#"id="pending""#));
    }

    #[test]
    fn shows_pending_and_delivered() {
        let pending = json!({"from": "courier", "to": "shop", "proposedBy": "k3", "handoff": "33", "proposedAtMs": 0, "expiresAtMs": 60000, "offRoute": false});
        let html = page("in_transit", pending);
        assert!(html.contains(r#"id="pending""#));
        assert!(html.contains("Hand-off waiting for shop"));
        let html = page("delivered", json!(null));
        assert!(html.contains(">Delivered<"));
        assert!(html.contains("signed the receipt"));
    }
}
