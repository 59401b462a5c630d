//! Webhook subscriptions (EPCIS 2.0 style): a URL and a filter; every
//! matching finalized record is POSTed to the URL, in order, retried with
//! backoff until accepted. Subscriptions and their delivery cursors are kept
//! in a file next to the node's data, so a restart resumes where delivery
//! stopped.

use crate::{ApiState, Problem, stream::StreamParams};
use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};
use tracechain_node::{
    NodeHandle,
    feed::{Feed, Position},
};
use tracechain_state::store::StorageContext;
use tracing::{debug, warn};

/// Longest wait between delivery attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Subscription {
    pub id: String,
    pub url: String,
    /// The filters, and `from`: the first block to deliver.
    #[serde(flatten)]
    pub params: StreamParams,
    /// The last record delivered (accepted by the receiver).
    pub delivered: Option<String>,
}

struct Inner {
    subscriptions: BTreeMap<String, Subscription>,
    tasks: BTreeMap<String, tokio::task::JoinHandle<()>>,
}

/// The node's webhook subscriptions and their delivery tasks.
pub struct Webhooks {
    path: PathBuf,
    inner: Mutex<Inner>,
    http: reqwest::Client,
}

impl Webhooks {
    /// Loads the subscriptions file (missing = none).
    pub fn open(path: PathBuf) -> std::io::Result<Arc<Self>> {
        let subscriptions = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice::<Vec<Subscription>>(&bytes)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(err) => return Err(err),
        };
        Ok(Arc::new(Self {
            path,
            inner: Mutex::new(Inner {
                subscriptions: subscriptions
                    .into_iter()
                    .map(|s| (s.id.clone(), s))
                    .collect(),
                tasks: BTreeMap::new(),
            }),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes the subscriptions atomically (temp file, then rename).
    fn persist(&self) {
        let list: Vec<Subscription> = self.lock().subscriptions.values().cloned().collect();
        let Ok(bytes) = serde_json::to_vec_pretty(&list) else {
            return;
        };
        let temp = self.path.with_extension("tmp");
        if let Err(err) =
            std::fs::write(&temp, bytes).and_then(|_| std::fs::rename(&temp, &self.path))
        {
            warn!(%err, "cannot save webhook subscriptions");
        }
    }

    /// Starts delivering every stored subscription.
    pub fn start_all<E: StorageContext + rand_core::CryptoRng>(
        self: &Arc<Self>,
        node: &NodeHandle<E>,
    ) {
        let ids: Vec<String> = self.lock().subscriptions.keys().cloned().collect();
        for id in ids {
            self.start(node, &id);
        }
    }

    fn start<E: StorageContext + rand_core::CryptoRng>(
        self: &Arc<Self>,
        node: &NodeHandle<E>,
        id: &str,
    ) {
        let Some(subscription) = self.lock().subscriptions.get(id).cloned() else {
            return;
        };
        let task = tokio::spawn(deliver(self.clone(), node.clone(), subscription));
        if let Some(old) = self.lock().tasks.insert(id.to_string(), task) {
            old.abort();
        }
    }

    fn delivered(&self, id: &str, position: &str) {
        if let Some(subscription) = self.lock().subscriptions.get_mut(id) {
            subscription.delivered = Some(position.to_string());
        }
        self.persist();
    }
}

/// Sends every matching record in order; a record is retried (with
/// exponential backoff) until the receiver answers 2xx.
async fn deliver<E: StorageContext + rand_core::CryptoRng>(
    hooks: Arc<Webhooks>,
    node: NodeHandle<E>,
    subscription: Subscription,
) {
    let after = subscription
        .delivered
        .as_deref()
        .and_then(|p| p.parse::<Position>().ok());
    let from = subscription.params.from.unwrap_or(1);
    let mut feed = Feed::new(node, subscription.params.filter(), from, after);
    loop {
        let record = feed.next().await;
        let mut backoff = Duration::from_millis(250);
        loop {
            let sent = hooks
                .http
                .post(&subscription.url)
                .header("content-type", "application/json")
                .header("tracechain-subscription", &subscription.id)
                .header("tracechain-record", &record.id)
                .json(&record)
                .send()
                .await;
            match sent {
                Ok(response) if response.status().is_success() => break,
                Ok(response) => {
                    debug!(status = %response.status(), url = %subscription.url, "webhook refused; retrying")
                }
                Err(err) => debug!(%err, url = %subscription.url, "webhook unreachable; retrying"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
        hooks.delivered(&subscription.id, &record.id);
    }
}

#[derive(Debug, Deserialize)]
pub struct NewSubscription {
    pub url: String,
    #[serde(flatten)]
    pub params: StreamParams,
}

fn hooks<E: StorageContext + rand_core::CryptoRng>(
    api: &ApiState<E>,
) -> Result<Arc<Webhooks>, Problem> {
    api.webhooks
        .clone()
        .ok_or_else(|| Problem::unavailable("this node keeps no webhook subscriptions"))
}

/// `POST /v1/subscriptions`.
pub async fn subscribe<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    Json(request): Json<NewSubscription>,
) -> Result<Response, Problem> {
    let hooks = hooks(&api)?;
    let url = reqwest::Url::parse(&request.url).map_err(|e| {
        Problem::bad_request("bad-url", "Bad URL", format!("'{}': {e}", request.url)).at("url")
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(
            Problem::bad_request("bad-url", "Bad URL", "only http and https URLs").at("url"),
        );
    }
    let (from, after) = request.params.start(&api, None).await?;
    let id = tracechain_types::to_hex(tracechain_types::hash(
        format!("{}|{}|{:?}", request.url, api.node.now_ms(), request.params).as_bytes(),
    ))[..16]
        .to_string();
    let subscription = Subscription {
        id: id.clone(),
        url: request.url,
        params: StreamParams {
            from: Some(from),
            after: None,
            ..request.params
        },
        delivered: after.map(|p| p.to_string()),
    };
    hooks
        .lock()
        .subscriptions
        .insert(id.clone(), subscription.clone());
    hooks.persist();
    hooks.start(&api.node, &id);
    Ok((StatusCode::CREATED, Json(subscription)).into_response())
}

/// `GET /v1/subscriptions`.
pub async fn list<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
) -> Result<Json<Value>, Problem> {
    let hooks = hooks(&api)?;
    let list: Vec<Subscription> = hooks.lock().subscriptions.values().cloned().collect();
    Ok(Json(json!({"subscriptions": list})))
}

/// `DELETE /v1/subscriptions/{id}`.
pub async fn unsubscribe<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let hooks = hooks(&api)?;
    let removed = {
        let mut inner = hooks.lock();
        if let Some(task) = inner.tasks.remove(&id) {
            task.abort();
        }
        inner.subscriptions.remove(&id)
    };
    if removed.is_none() {
        return Err(
            Problem::not_found("Subscription", format!("no subscription '{id}'")).at("path.id"),
        );
    }
    hooks.persist();
    Ok(StatusCode::NO_CONTENT)
}
