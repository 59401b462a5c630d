//! The layout version of a node's chain storage (`data/storage-format`).
//!
//! Some storage choices cannot change under existing files: the block
//! archive is zstd-compressed since format 2 and commonware's archive reads
//! values only the way they were written. A node refuses a data directory
//! of another format with a message saying what to do, instead of failing
//! on the first block it reads (docs/adr/0014-compressed-storage.md).

use anyhow::{Context as _, Result, bail};
use std::{fs, path::Path};

/// 1: uncompressed block archive; 2: zstd-compressed block archive;
/// 3: receipts and event records in their own lookup database, and its
/// root in every header (docs/adr/0019-a-lookup-database-for-records-found-by-id.md);
/// 4: items in their compact stored form (docs/adr/0020-compact-item-records.md).
pub const STORAGE_FORMAT: u32 = 4;

/// The chain storage's partition names start with this.
pub const PARTITION_PREFIX: &str = "tracechain";

const FILE: &str = "storage-format";

/// What a data directory holds.
#[derive(Debug, PartialEq, Eq)]
enum Found {
    /// Chain storage of this format.
    Current,
    /// No chain storage yet.
    Nothing,
}

/// Checks that `data_dir` holds chain storage of [`STORAGE_FORMAT`], and
/// marks a directory without chain storage as that format.
pub fn check_or_mark(data_dir: &Path) -> Result<()> {
    if check(data_dir)? == Found::Nothing {
        let marker = data_dir.join(FILE);
        fs::write(&marker, format!("{STORAGE_FORMAT}\n"))
            .with_context(|| format!("writing {}", marker.display()))?;
    }
    Ok(())
}

/// An error when `data_dir` holds chain storage of another format; a
/// missing or empty directory is fine. Changes nothing.
pub fn check_readable(data_dir: &Path) -> Result<()> {
    check(data_dir).map(|_| ())
}

fn check(data_dir: &Path) -> Result<Found> {
    let marker = data_dir.join(FILE);
    match fs::read_to_string(&marker) {
        Ok(text) => {
            let found: u32 = text.trim().parse().with_context(|| {
                format!(
                    "{} holds {:?}, not a format number",
                    marker.display(),
                    text.trim()
                )
            })?;
            if found != STORAGE_FORMAT {
                bail!(mismatch(data_dir, &found.to_string()));
            }
            Ok(Found::Current)
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            if holds_chain_storage(data_dir)? {
                bail!(mismatch(data_dir, "1"));
            }
            Ok(Found::Nothing)
        }
        Err(err) => Err(err).with_context(|| format!("reading {}", marker.display())),
    }
}

fn holds_chain_storage(data_dir: &Path) -> Result<bool> {
    let entries = match fs::read_dir(data_dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(err) => {
            return Err(err).with_context(|| format!("listing {}", data_dir.display()));
        }
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("listing {}", data_dir.display()))?;
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(PARTITION_PREFIX)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

fn mismatch(data_dir: &Path, found: &str) -> String {
    format!(
        "{} holds chain storage of format {found}; this tracechain reads format \
         {STORAGE_FORMAT}. Stop the node, remove that directory and start it again: it \
         catches up from its peers (a sole validator's chain cannot be carried over)",
        data_dir.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_directory_is_marked_and_then_accepted() {
        let dir = tempfile::tempdir().expect("tempdir");
        check_or_mark(dir.path()).expect("new");
        let text = fs::read_to_string(dir.path().join(FILE)).expect("marker");
        assert_eq!(text.trim(), STORAGE_FORMAT.to_string());
        fs::create_dir(dir.path().join("tracechain-blocks-value")).expect("partition");
        check_or_mark(dir.path()).expect("same format");
    }

    #[test]
    fn unmarked_chain_storage_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir(dir.path().join("tracechain-blocks-value")).expect("partition");
        let err = check_or_mark(dir.path()).expect_err("format 1");
        assert!(format!("{err:#}").contains("format 1"), "{err:#}");
        assert!(!dir.path().join(FILE).exists());
    }

    #[test]
    fn another_or_unreadable_format_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        // The format before compact item records (ADR 0020).
        fs::write(dir.path().join(FILE), "3\n").expect("marker");
        let err = check_or_mark(dir.path()).expect_err("format 3");
        assert!(format!("{err:#}").contains("format 3"), "{err:#}");
        fs::write(dir.path().join(FILE), "two").expect("marker");
        assert!(check_or_mark(dir.path()).is_err());
    }

    #[test]
    fn checking_reads_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        check_readable(&dir.path().join("absent")).expect("no directory");
        check_readable(dir.path()).expect("empty");
        assert!(!dir.path().join(FILE).exists());
        fs::create_dir(dir.path().join("tracechain-blocks-value")).expect("partition");
        assert!(check_readable(dir.path()).is_err());
    }

    #[test]
    fn other_files_do_not_count_as_chain_storage() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("index.redb"), b"").expect("index");
        fs::create_dir(dir.path().join("documents")).expect("documents");
        check_or_mark(dir.path()).expect("no chain storage");
    }
}
