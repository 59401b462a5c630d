//! Static files served under `/static/`, embedded in the binary so a node
//! needs nothing beside itself to serve its pages.
//!
//! `verifier.js` and `verifier.wasm` are the proof verifier built for the
//! browser by `scripts/build-wasm` (crates/proof); the committed files may
//! be placeholders until it has run. `include_bytes!` re-embeds them
//! whenever they change.

/// One embedded file.
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            bytes: include_bytes!(concat!("../static/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file under `static/`.
pub const ASSETS: &[Asset] = &[
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("passport.js", JS),
    asset!("parcel.js", JS),
    asset!("explorer.js", JS),
    asset!("live.js", JS),
    asset!("verifier.js", JS),
    asset!("verifier.wasm", "application/wasm"),
];

/// The embedded file called `name` (no directories).
pub fn asset(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|asset| asset.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_embedded_files() {
        let css = asset("style.css").expect("style.css");
        assert!(css.content_type.starts_with("text/css"));
        assert!(!css.bytes.is_empty());
        assert_eq!(
            asset("verifier.wasm").map(|a| a.content_type),
            Some("application/wasm")
        );
        assert!(asset("../Cargo.toml").is_none());
        assert!(asset("missing.js").is_none());
    }

    /// Scripts are modules that import each other by absolute path; every
    /// import must name an embedded file.
    #[test]
    fn script_imports_are_embedded() {
        for script in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
            let text = std::str::from_utf8(script.bytes).expect("utf-8");
            for line in text
                .lines()
                .filter(|l| l.trim_start().starts_with("import "))
            {
                let target = line
                    .split(['"', '\''])
                    .nth(1)
                    .unwrap_or_else(|| panic!("{}: {line}", script.name));
                let name = target
                    .trim_start_matches("/static/")
                    .trim_start_matches("./");
                assert!(asset(name).is_some(), "{} imports {target}", script.name);
            }
        }
    }
}
