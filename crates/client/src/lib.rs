//! A client for a tracechain node's REST API.

mod stream;

use commonware_codec::Encode;
use commonware_cryptography::Signer as _;
use serde::Deserialize;
use std::time::{Duration, Instant};
pub use stream::RecordStream;
use tracechain_types::{
    Digest, Payload, PrivateKey, Transaction, UnsignedTransaction, digest_from_hex, to_hex,
};

/// An RFC 9457 problem returned by the node.
#[derive(Clone, Debug, Deserialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(default)]
    pub field: Option<String>,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.title, self.status, self.detail)?;
        if let Some(field) = &self.field {
            write!(f, " [field: {field}]")?;
        }
        Ok(())
    }
}

/// The answer to a batch submission.
#[derive(Clone, Debug, Deserialize)]
pub struct BatchAnswer {
    pub accepted: usize,
    pub rejected: usize,
    /// One per submitted transaction, in order.
    pub results: Vec<BatchItem>,
}

/// What became of one transaction of a batch.
#[derive(Clone, Debug, Deserialize)]
pub struct BatchItem {
    /// Present when accepted.
    pub id: Option<String>,
    /// `pending` or `rejected`.
    pub status: String,
    /// Why it was rejected.
    pub problem: Option<Problem>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach {url}: {source}")]
    Http { url: String, source: reqwest::Error },
    #[error("node refused the request: {0}")]
    Problem(Problem),
    #[error("unexpected response from {url}: {detail}")]
    Unexpected { url: String, detail: String },
    #[error("transaction {id} not final after {waited:?}")]
    Timeout { id: String, waited: Duration },
}

impl ClientError {
    /// Maps a transport error on a request to `url`.
    fn http(url: &str) -> impl FnOnce(reqwest::Error) -> Self + '_ {
        move |source| Self::Http {
            url: url.to_string(),
            source,
        }
    }
}

/// `/v1/status`, the parts clients use.
#[derive(Clone, Debug, Deserialize)]
pub struct Status {
    pub chain_id: String,
    pub height: u64,
    pub finalized_height: u64,
    pub state_root: String,
    pub log_root: String,
    pub log_size: u64,
    /// Root of the lookup database (receipts and event records).
    #[serde(default)]
    pub lookup_root: String,
    /// Height the node's query index has reached (`None` without an index).
    #[serde(default)]
    pub indexed_height: Option<u64>,
    pub peers_connected: usize,
    pub validators: Vec<serde_json::Value>,
    pub mempool: MempoolStatus,
}

#[derive(Clone, Debug, Deserialize)]
pub struct MempoolStatus {
    pub transactions: usize,
    pub bytes: usize,
}

/// `/v1/transactions/{id}`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct TxStatus {
    pub id: String,
    pub status: String,
    pub block_height: Option<u64>,
    pub index: Option<u32>,
    pub code: Option<String>,
    pub reason: Option<String>,
}

impl TxStatus {
    /// Applied or failed: it is in a finalized block.
    pub fn is_final(&self) -> bool {
        self.status == "applied" || self.status == "failed"
    }
}

/// `/v1/accounts/{account}`.
#[derive(Clone, Debug, Deserialize)]
pub struct Account {
    pub public_key: String,
    pub name: Option<String>,
    pub next_nonce: u64,
    /// Past the transactions the node holds pending from this key.
    #[serde(default)]
    pub pending_next_nonce: Option<u64>,
}

impl Account {
    /// The nonce a new transaction should carry.
    pub fn nonce_for_next(&self) -> u64 {
        self.pending_next_nonce.unwrap_or(self.next_nonce)
    }
}

/// A client bound to one node.
#[derive(Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    /// `base` is the node's API address, e.g. `http://127.0.0.1:8100`.
    pub fn new(base: &str) -> Self {
        let base = base.trim_end_matches('/').to_string();
        let base = if base.starts_with("http://") || base.starts_with("https://") {
            base
        } else {
            format!("http://{base}")
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            // A load generator keeps many requests in flight; a connection
            // closed because the idle pool was full is reopened a moment
            // later, and both ends pay for it. Idle ones still time out.
            .pool_max_idle_per_host(1024)
            .build()
            .unwrap_or_default();
        Self { base, http }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let url = format!("{}{path}", self.base);
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(ClientError::http(&url))?;
        decode(url, response).await
    }

    pub async fn status(&self) -> Result<Status, ClientError> {
        self.get("/v1/status").await
    }

    pub async fn account(&self, who: &str) -> Result<Account, ClientError> {
        self.get(&format!("/v1/accounts/{who}")).await
    }

    pub async fn transaction(&self, id: &str) -> Result<TxStatus, ClientError> {
        self.get(&format!("/v1/transactions/{id}")).await
    }

    /// A block as JSON (`height` or `"latest"`).
    pub async fn block(&self, height: &str) -> Result<serde_json::Value, ClientError> {
        self.get(&format!("/v1/blocks/{height}")).await
    }

    /// Submits a signed transaction's canonical bytes; returns its id.
    pub async fn submit(&self, tx: &Transaction) -> Result<Digest, ClientError> {
        self.submit_bytes(tx.encode().to_vec()).await
    }

    /// Submits raw bytes (tests use this to send malformed transactions).
    pub async fn submit_bytes(&self, bytes: Vec<u8>) -> Result<Digest, ClientError> {
        #[derive(Deserialize)]
        struct Accepted {
            id: String,
        }
        let (url, accepted): (_, Accepted) = self.post_octets("/v1/transactions", bytes).await?;
        digest_from_hex(&accepted.id).ok_or(ClientError::Unexpected {
            url,
            detail: format!("id '{}' is not hex", accepted.id),
        })
    }

    /// Submits many signed transactions in one request
    /// (`/v1/transactions/batch`); each is accepted or rejected on its own.
    pub async fn submit_batch(&self, txs: &[Transaction]) -> Result<BatchAnswer, ClientError> {
        let answer = self
            .submit_batch_bytes(tracechain_types::transaction::encode_batch(txs))
            .await?;
        if answer.results.len() != txs.len() {
            return Err(ClientError::Unexpected {
                url: format!("{}/v1/transactions/batch", self.base),
                detail: format!(
                    "{} results for {} transactions",
                    answer.results.len(),
                    txs.len()
                ),
            });
        }
        Ok(answer)
    }

    /// Posts a raw batch body (tests use this to send malformed batches).
    pub async fn submit_batch_bytes(&self, body: Vec<u8>) -> Result<BatchAnswer, ClientError> {
        let (_, answer) = self.post_octets("/v1/transactions/batch", body).await?;
        Ok(answer)
    }

    /// POSTs `body` as octet-stream to `path`; returns the URL and the
    /// decoded JSON answer.
    async fn post_octets<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: Vec<u8>,
    ) -> Result<(String, T), ClientError> {
        let url = format!("{}{path}", self.base);
        let response = self
            .http
            .post(&url)
            .header("content-type", "application/octet-stream")
            .body(body)
            .send()
            .await
            .map_err(ClientError::http(&url))?;
        let answer = decode(url.clone(), response).await?;
        Ok((url, answer))
    }

    /// Builds and signs a transaction from `key` for this node's chain,
    /// with the next nonce past what the node holds pending.
    pub async fn sign(
        &self,
        key: &PrivateKey,
        payload: Payload,
    ) -> Result<Transaction, ClientError> {
        let chain_id = self.status().await?.chain_id;
        let nonce = self
            .account(&to_hex(key.public_key()))
            .await?
            .nonce_for_next();
        Ok(UnsignedTransaction {
            chain_id,
            sender: key.public_key(),
            nonce,
            payload,
        }
        .sign(key))
    }

    /// Builds, signs and submits a transaction from `key`; returns it.
    pub async fn sign_and_submit(
        &self,
        key: &PrivateKey,
        payload: Payload,
    ) -> Result<Transaction, ClientError> {
        let tx = self.sign(key, payload).await?;
        self.submit(&tx).await?;
        Ok(tx)
    }

    /// Signs an EPCIS document as a capture by `key` (the agent) and posts
    /// it to `/v1/capture` with the signature headers. Returns the capture
    /// id and the node's answer (each event's id and hash).
    pub async fn capture(
        &self,
        key: &PrivateKey,
        document: Vec<u8>,
    ) -> Result<(Digest, serde_json::Value), ClientError> {
        let tx = self.sign(key, Payload::Capture { document }).await?;
        let answer = self.submit_capture(&tx).await?;
        Ok((tx.id(), answer))
    }

    /// Posts a signed capture transaction EPCIS-style: the document as the
    /// body, the signer, nonce and signature as headers (docs/adr/0007).
    pub async fn submit_capture(&self, tx: &Transaction) -> Result<serde_json::Value, ClientError> {
        let Payload::Capture { document } = tx.payload() else {
            return Err(ClientError::Unexpected {
                url: self.base.clone(),
                detail: "not a capture transaction".into(),
            });
        };
        let url = format!("{}/v1/capture", self.base);
        let response = self
            .http
            .post(&url)
            .header("content-type", "application/ld+json")
            .header("tracechain-signer", to_hex(tx.sender()))
            .header("tracechain-nonce", tx.nonce().to_string())
            .header("tracechain-signature", to_hex(tx.signature()))
            .body(document.clone())
            .send()
            .await
            .map_err(ClientError::http(&url))?;
        decode(url, response).await
    }

    /// `/v1/capture/{id}`.
    pub async fn capture_status(&self, id: &str) -> Result<serde_json::Value, ClientError> {
        self.get(&format!("/v1/capture/{id}")).await
    }

    /// Any JSON resource of the API (`path` starts with `/`).
    pub async fn get_json(&self, path: &str) -> Result<serde_json::Value, ClientError> {
        self.get(path).await
    }

    /// Sends a request signed by an agent key (docs/adr/0008): the method,
    /// path, a timestamp and the body's SHA-256.
    pub async fn signed(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
        key: &PrivateKey,
    ) -> Result<serde_json::Value, ClientError> {
        let url = format!("{}{path}", self.base);
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or_default();
        let message = format!(
            "{}\n{path}\n{timestamp}\n{}",
            method.as_str(),
            to_hex(tracechain_types::hash(&body))
        );
        let signature = key.sign(b"tracechain/request/v1", message.as_bytes());
        let response = self
            .http
            .request(method, &url)
            .header("content-type", "application/json")
            .header("tracechain-agent", to_hex(key.public_key()))
            .header("tracechain-timestamp", timestamp.to_string())
            .header("tracechain-request-signature", to_hex(&signature))
            .body(body)
            .send()
            .await
            .map_err(ClientError::http(&url))?;
        decode(url, response).await
    }

    /// Stores a document on the node, sealed to `readers` (organisation
    /// ids; none = public). Returns (fingerprint, ciphertext hash) to anchor.
    pub async fn upload_document(
        &self,
        key: &PrivateKey,
        readers: &[String],
        document: &serde_json::Value,
    ) -> Result<(Digest, Digest), ClientError> {
        let body = serde_json::json!({"readers": readers, "document": document}).to_string();
        let answer = self
            .signed(
                reqwest::Method::POST,
                "/v1/documents",
                body.into_bytes(),
                key,
            )
            .await?;
        let hash = |field: &str| {
            answer[field]
                .as_str()
                .and_then(digest_from_hex)
                .ok_or_else(|| ClientError::Unexpected {
                    url: format!("{}/v1/documents", self.base),
                    detail: format!("no {field} in {answer}"),
                })
        };
        Ok((hash("fingerprint")?, hash("ciphertextHash")?))
    }

    /// Polls until the transaction is in a finalized block.
    pub async fn wait_final(
        &self,
        id: &Digest,
        timeout: Duration,
    ) -> Result<TxStatus, ClientError> {
        let start = Instant::now();
        let id = to_hex(id);
        loop {
            match self.transaction(&id).await {
                Ok(status) if status.is_final() => return Ok(status),
                Ok(_) => {}
                // Not yet visible on this node (e.g. submitted elsewhere).
                Err(ClientError::Problem(p)) if p.status == 404 => {}
                Err(err) => return Err(err),
            }
            if start.elapsed() > timeout {
                return Err(ClientError::Timeout {
                    id,
                    waited: timeout,
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn decode<T: serde::de::DeserializeOwned>(
    url: String,
    response: reqwest::Response,
) -> Result<T, ClientError> {
    if !response.status().is_success() {
        return Err(decode_problem(url, response).await);
    }
    let body = response.bytes().await.map_err(ClientError::http(&url))?;
    serde_json::from_slice(&body).map_err(|e| ClientError::Unexpected {
        url,
        detail: format!("undecodable body: {e}"),
    })
}

/// The error an unsuccessful response carries (problem+json, or its text).
async fn decode_problem(url: String, response: reqwest::Response) -> ClientError {
    let status = response.status();
    let body = match response.bytes().await {
        Ok(body) => body,
        Err(source) => return ClientError::Http { url, source },
    };
    match serde_json::from_slice::<Problem>(&body) {
        Ok(problem) => ClientError::Problem(problem),
        Err(_) => ClientError::Unexpected {
            url,
            detail: format!("{status}: {}", String::from_utf8_lossy(&body)),
        },
    }
}
