//! Print the pre-hash string and hash ID of every event in EPCIS JSON-LD
//! files (documents or bare events), or the validation errors.
//!
//! `cargo run -p tracechain-epcis --example epcis_hash -- FILE...`

fn main() {
    let mut failed = false;
    for path in std::env::args().skip(1) {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{path}: {e}");
                failed = true;
                continue;
            }
        };
        match tracechain_epcis::parse_capture(&text) {
            Ok(capture) => {
                for event in capture.into_events() {
                    println!("{path}\t{}\t{}", event.hash_id(), event.pre_hash_string());
                }
            }
            Err(errors) => {
                failed = true;
                for e in errors.errors() {
                    println!("{path}\tERROR\t{e}");
                }
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
}
