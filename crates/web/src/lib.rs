//! tracechain's web pages: HTML rendering and embedded static assets.
//!
//! No I/O here: each page is a function from the JSON the API serves
//! (`serde_json::Value`) to an HTML string; the API crate fetches the data
//! and serves the result (`crates/api/src/pages.rs`). Templates are `maud`
//! macros, so every interpolated value is HTML-escaped unless it is
//! explicitly marked otherwise (nothing is). Scripts are small ES modules
//! under `static/`, no build step.

pub mod assets;
pub mod chart;
pub mod explorer;
pub mod format;
pub mod layout;
pub mod parcel;
pub mod passport;
pub mod qr;

pub use layout::error_page;
