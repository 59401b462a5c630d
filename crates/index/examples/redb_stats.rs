//! Prints how a query index file's bytes are used (stored, metadata,
//! fragmented), in total and per table — for sizing the index on disk
//! (BENCHMARKS.md).
//!
//! `cargo run --release -p tracechain-index --example redb_stats -- <index.redb>`

use redb::{ReadableDatabase, ReadableTableMetadata, TableHandle};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: redb_stats <index.redb>")?;
    let file_bytes = std::fs::metadata(&path)?.len();
    let db = redb::Database::open(&path)?;
    let stats = db.begin_write()?.stats()?;
    println!(
        "{{\"file_bytes\":{file_bytes},\"stored_bytes\":{},\"metadata_bytes\":{},\"fragmented_bytes\":{},\"tree_height\":{},\"leaf_pages\":{},\"branch_pages\":{}}}",
        stats.stored_bytes(),
        stats.metadata_bytes(),
        stats.fragmented_bytes(),
        stats.tree_height(),
        stats.leaf_pages(),
        stats.branch_pages()
    );
    let read = db.begin_read()?;
    for handle in read.list_tables()? {
        let table = read.open_untyped_table(handle.clone())?;
        let stats = table.stats()?;
        println!(
            "{{\"table\":\"{}\",\"entries\":{},\"stored_bytes\":{},\"metadata_bytes\":{},\"fragmented_bytes\":{},\"leaf_pages\":{},\"branch_pages\":{}}}",
            handle.name(),
            table.len()?,
            stats.stored_bytes(),
            stats.metadata_bytes(),
            stats.fragmented_bytes(),
            stats.leaf_pages(),
            stats.branch_pages()
        );
    }
    Ok(())
}
