//! Live subscriptions to finalized records: Server-Sent Events and
//! WebSocket, resumable from any position (`Last-Event-ID`).

use crate::{ApiState, Problem};
use axum::{
    extract::{
        Query, State, WebSocketUpgrade,
        ws::{Message, WebSocket},
    },
    http::HeaderMap,
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
};
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use tracechain_node::feed::{Feed, Filter, Position};
use tracechain_state::store::StorageContext;

/// Filters and the starting point of a subscription.
#[derive(Debug, Default, Deserialize, Serialize, Clone)]
pub struct StreamParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parcel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    #[serde(rename = "bizStep", skip_serializing_if = "Option::is_none")]
    pub biz_step: Option<String>,
    /// Record type (`event`, `handoff_accepted`, `parcel_delivered`, …).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Start at this block height (default: the next block).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<u64>,
    /// Resume just after this record position (as `Last-Event-ID`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

impl StreamParams {
    pub fn filter(&self) -> Filter {
        Filter {
            identifier: self.identifier.clone(),
            parcel: self.parcel.clone(),
            organisation: self.organisation.clone(),
            biz_step: self.biz_step.clone(),
            kind: self.kind.clone(),
        }
    }

    /// Where to start: `Last-Event-ID` (or `after`) wins over `from`; with
    /// neither, at the next block.
    pub async fn start<E: StorageContext + rand_core::CryptoRng>(
        &self,
        api: &ApiState<E>,
        last_event_id: Option<&str>,
    ) -> Result<(u64, Option<Position>), Problem> {
        let resume = last_event_id.or(self.after.as_deref());
        let after = resume
            .map(|text| {
                text.parse::<Position>().map_err(|reason| {
                    Problem::bad_request("bad-position", "Bad resume position", reason)
                        .at("header.last-event-id")
                })
            })
            .transpose()?;
        let from = match self.from {
            Some(from) => from,
            None => api.node.finalized().await.map_or(1, |f| f.height + 1),
        };
        Ok((from, after))
    }
}

fn last_event_id(headers: &HeaderMap) -> Option<&str> {
    headers.get("last-event-id").and_then(|v| v.to_str().ok())
}

/// `GET /v1/events/stream`: each finalized record once, in order, with its
/// position as the event id.
pub async fn sse<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    headers: HeaderMap,
    Query(params): Query<StreamParams>,
) -> Result<Response, Problem> {
    let (from, after) = params.start(&api, last_event_id(&headers)).await?;
    let feed = Feed::new(api.node.clone(), params.filter(), from, after);
    let stream = futures::stream::unfold(feed, |mut feed| async move {
        let record = feed.next().await;
        let event = Event::default()
            .id(record.id.clone())
            .event(record.kind.clone())
            .json_data(&record)
            .unwrap_or_else(|_| Event::default().comment("unencodable record"));
        Some((Ok::<_, Infallible>(event), feed))
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// `GET /v1/events/ws`: the same records as WebSocket text messages.
pub async fn websocket<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    headers: HeaderMap,
    Query(params): Query<StreamParams>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, Problem> {
    let (from, after) = params.start(&api, last_event_id(&headers)).await?;
    let feed = Feed::new(api.node.clone(), params.filter(), from, after);
    Ok(upgrade.on_upgrade(move |socket| send_records(socket, feed)))
}

async fn send_records<E: StorageContext + rand_core::CryptoRng>(
    mut socket: WebSocket,
    mut feed: Feed<E>,
) {
    loop {
        let record = feed.next().await;
        let Ok(text) = serde_json::to_string(&record) else {
            continue;
        };
        if socket.send(Message::Text(text.into())).await.is_err() {
            return;
        }
    }
}
