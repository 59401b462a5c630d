//! Proof bundles: what a node hands out so anyone can check an answer
//! against the validators' signatures alone, and their verification —
//! the same code natively (`tracechain verify-proof`) and in the browser
//! (WebAssembly, `crates/verifier-wasm`).

pub mod bundle;
pub mod verify;

pub use bundle::{Anchor, BUNDLE_VERSION, Bundle, ConsistencyProof, EventProof, StateProof};
pub use verify::{Trust, Verified, VerifyError, encode_hex, verify, verify_json};
