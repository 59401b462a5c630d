//! Reads of a blob's file that the kernel can answer from its page cache.
//!
//! commonware's tokio storage runs every read on tokio's blocking pool: one
//! task hand-off and two thread wake-ups per read, ~10 µs and a context
//! switch each, for a copy of a cached page that takes ~1 µs. At ~1,000,000
//! events a catching-up node made ~30 % of its CPU time such hand-offs.
//! This file is opened a second time, read-only, and read with
//! `preadv2(RWF_NOWAIT)`, which copies what is cached and refuses (instead
//! of waiting for the device) when anything is not; a refusal, a short read
//! or any error leaves the read to the wrapped blob as before.

use commonware_runtime::{IoBufMut, IoBufsMut};
use std::{fs::File, path::Path};

/// Where a blob's bytes start in its file: the header commonware's tokio
/// storage writes for new blobs (`BlobLayout::V1`, the only layout this
/// node creates). A file whose length does not match is not read here.
const DATA_OFFSET: u64 = 4096;

pub(crate) struct DirectFile {
    file: File,
}

impl DirectFile {
    /// Opens the file of a blob just opened with `logical_size` bytes, when
    /// its length shows the expected header.
    pub(crate) fn open(path: &Path, logical_size: u64) -> Option<Self> {
        let file = File::open(path).ok()?;
        let length = file.metadata().ok()?.len();
        (length.checked_sub(logical_size)? == DATA_OFFSET).then_some(Self { file })
    }

    /// The `len` bytes at `offset` (of the blob's data), if the kernel has
    /// all of them cached.
    pub(crate) fn read_cached(&self, offset: u64, len: usize) -> Option<IoBufsMut> {
        let mut buf = vec![0u8; len];
        if len > 0
            && read_nowait(&self.file, &mut buf, offset.checked_add(DATA_OFFSET)?) != Some(len)
        {
            return None;
        }
        Some(IoBufMut::from(buf).into())
    }
}

#[cfg(target_os = "linux")]
fn read_nowait(file: &File, buf: &mut [u8], at: u64) -> Option<usize> {
    use rustix::io::{ReadWriteFlags, preadv2};
    preadv2(
        file,
        &mut [std::io::IoSliceMut::new(buf)],
        at,
        ReadWriteFlags::NOWAIT,
    )
    .ok()
}

/// Elsewhere every read goes to the wrapped blob.
#[cfg(not(target_os = "linux"))]
fn read_nowait(_: &File, _: &mut [u8], _: u64) -> Option<usize> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KernelCached;
    use commonware_runtime::{Blob as _, Runner as _, Storage as _, tokio};
    use futures::StreamExt as _;

    fn bytes(bufs: &mut [IoBufsMut], index: usize) -> Vec<u8> {
        std::mem::take(&mut bufs[index])
            .coalesce()
            .as_ref()
            .to_vec()
    }

    #[test]
    fn cached_reads_come_from_the_file_and_the_rest_from_the_blob() {
        let directory = tempfile::tempdir().expect("a scratch directory");
        let root = directory.path().to_path_buf();
        let runner = tokio::Runner::new(tokio::Config::new().with_storage_directory(&root));
        runner.start(|context| async move {
            let context = KernelCached::new(context).reading_files_under(&root);
            let (blob, size) = context.open("part", b"blob").await.expect("opens");
            assert_eq!(size, 0);
            let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
            blob.write_at(0, data.clone(), Default::default())
                .await
                .expect("writes");
            blob.sync().await.expect("syncs");

            // Just written, so in the kernel's cache: served on this thread.
            let mut direct = blob.cached(&[(100, 50), (9_000, 1_000)]).expect("cached");
            assert_eq!(bytes(&mut direct, 0), data[100..150]);
            assert_eq!(bytes(&mut direct, 1), data[9_000..]);

            let one = blob
                .read_at(4_096, 10, Default::default())
                .await
                .expect("reads");
            assert_eq!(bytes(&mut [one], 0), data[4_096..4_106]);
            let mut many: Vec<_> = blob
                .read_many(&[(0, 8), (5_000, 8)], Default::default())
                .map(|read| read.expect("reads"))
                .collect()
                .await;
            many.sort_by_key(|(index, _)| *index);
            let mut many: Vec<IoBufsMut> = many.into_iter().map(|(_, bufs)| bufs).collect();
            assert_eq!(bytes(&mut many, 1), data[5_000..5_008]);
            let mut started = blob
                .start_read_many(&[(9_990, 10)], Default::default())
                .await
                .await
                .expect("reads");
            assert_eq!(bytes(&mut started, 0), data[9_990..]);

            // Past the end: not served here, and the blob's own error stands.
            assert!(blob.cached(&[(9_995, 10)]).is_none());
            assert!(blob.read_at(9_995, 10, Default::default()).await.is_err());

            // Reopened, the length tells where the data starts again.
            drop(blob);
            let (again, size) = context.open("part", b"blob").await.expect("reopens");
            assert_eq!(size, 10_000);
            let read = again
                .read_at(7, 3, Default::default())
                .await
                .expect("reads");
            assert_eq!(bytes(&mut [read], 0), data[7..10]);
            assert!(again.cached(&[(7, 3)]).is_some());
        });
    }

    #[test]
    fn a_file_of_another_layout_is_left_to_the_blob() {
        let directory = tempfile::tempdir().expect("a scratch directory");
        let path = directory.path().join("file");
        std::fs::write(&path, vec![0u8; 4_096 + 10]).expect("writes");
        assert!(DirectFile::open(&path, 10).is_some());
        assert!(DirectFile::open(&path, 20).is_none());
        assert!(DirectFile::open(&directory.path().join("missing"), 0).is_none());
    }
}
