//! Reading `/v1/events/stream` (Server-Sent Events) record by record.

use crate::{Client, ClientError, decode_problem};
use std::time::Duration;

/// Finalized records from a node's event stream, in chain order.
pub struct RecordStream {
    url: String,
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl RecordStream {
    /// The next record, waiting for it; `None` once the node ends the stream.
    pub async fn next(&mut self) -> Result<Option<serde_json::Value>, ClientError> {
        loop {
            if let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                let frame: Vec<u8> = self.buffer.drain(..end + 2).collect();
                if let Some(record) = self.record(&frame)? {
                    return Ok(Some(record));
                }
                continue;
            }
            let chunk = self
                .response
                .chunk()
                .await
                .map_err(ClientError::http(&self.url))?;
            match chunk {
                Some(chunk) => self.buffer.extend_from_slice(&chunk),
                None => return Ok(None),
            }
        }
    }

    /// The record of one frame; keep-alive comments carry none.
    fn record(&self, frame: &[u8]) -> Result<Option<serde_json::Value>, ClientError> {
        let text = String::from_utf8_lossy(frame);
        let data: Vec<&str> = text
            .lines()
            .filter_map(|line| line.strip_prefix("data:"))
            .map(|data| data.strip_prefix(' ').unwrap_or(data))
            .collect();
        if data.is_empty() {
            return Ok(None);
        }
        serde_json::from_str(&data.join("\n"))
            .map(Some)
            .map_err(|e| ClientError::Unexpected {
                url: self.url.clone(),
                detail: format!("undecodable record: {e}"),
            })
    }
}

impl Client {
    /// Opens `/v1/events/stream?{query}`, resuming just after the record
    /// position `after` (sent as `Last-Event-ID`) when given.
    pub async fn stream(
        &self,
        query: &str,
        after: Option<&str>,
    ) -> Result<RecordStream, ClientError> {
        let url = format!("{}/v1/events/stream?{query}", self.base);
        // A stream lives as long as the caller wants: no overall timeout.
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        let mut request = http.get(&url);
        if let Some(after) = after {
            request = request.header("last-event-id", after);
        }
        let response = request.send().await.map_err(ClientError::http(&url))?;
        if !response.status().is_success() {
            return Err(decode_problem(url, response).await);
        }
        Ok(RecordStream {
            url,
            response,
            buffer: Vec::new(),
        })
    }
}
