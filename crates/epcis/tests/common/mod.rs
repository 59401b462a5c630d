//! Shared helpers for the integration tests: where the external test data
//! lives (shared/ beside the repository) and how to list it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The shared conformance data: `../shared/conformance` from the
/// repository root (found by walking up from this crate), or wherever
/// `TRACECHAIN_SHARED` points.
pub fn conformance_dir() -> PathBuf {
    if let Some(shared) = std::env::var_os("TRACECHAIN_SHARED") {
        return PathBuf::from(shared).join("conformance");
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("shared/conformance"))
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| {
            panic!("no shared/conformance beside the repository; set TRACECHAIN_SHARED")
        })
}

pub fn conformance(rel: &str) -> PathBuf {
    conformance_dir().join(rel)
}

/// Files in a conformance folder with the given extension, sorted by name.
pub fn files(rel_dir: &str, ext: &str) -> Vec<PathBuf> {
    let dir = conformance(rel_dir);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().and_then(|x| x.to_str()) == Some(ext))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no .{ext} files in {}", dir.display());
    out
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

pub fn name(path: &Path) -> String {
    path.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned()
}
