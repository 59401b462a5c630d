//! Proof bundles: what a node hands out so anyone can check an answer
//! against the validators' signatures alone, and their verification.
