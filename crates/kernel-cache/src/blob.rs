//! A blob that never asks the kernel to bypass or drop its page cache, and
//! reads what the kernel has cached without a trip through the blocking
//! pool.

use crate::direct::DirectFile;
use commonware_runtime::{Blob, Error, Handle, IoBufs, IoBufsMut, ReadOptions, WriteOptions};
use futures::{
    Stream,
    future::{Either, ready},
    stream,
};

/// Wraps a blob; every read and write goes through the kernel's page cache.
pub struct KernelCachedBlob<B> {
    inner: B,
    /// The same file, read on the calling thread when the kernel has the
    /// bytes cached (none when it could not be opened or placed).
    direct: Option<DirectFile>,
}

impl<B> KernelCachedBlob<B> {
    pub(crate) fn new(inner: B, direct: Option<DirectFile>) -> Self {
        Self { inner, direct }
    }

    /// Every range, if the kernel has all of them cached.
    pub(crate) fn cached(&self, ranges: &[(u64, usize)]) -> Option<Vec<IoBufsMut>> {
        let direct = self.direct.as_ref()?;
        ranges
            .iter()
            .map(|&(offset, len)| direct.read_cached(offset, len))
            .collect()
    }
}

fn cached_read(options: ReadOptions) -> ReadOptions {
    options.without(ReadOptions::DONT_CACHE)
}

fn cached_write(options: WriteOptions) -> WriteOptions {
    options.without(WriteOptions::DONT_CACHE)
}

impl<B: Blob> Blob for KernelCachedBlob<B> {
    fn read_at_buf(
        &self,
        offset: u64,
        len: usize,
        bufs: impl Into<IoBufsMut> + Send,
        options: ReadOptions,
    ) -> impl Future<Output = Result<IoBufsMut, Error>> + Send {
        self.inner
            .read_at_buf(offset, len, bufs, cached_read(options))
    }

    fn read_at(
        &self,
        offset: u64,
        len: usize,
        options: ReadOptions,
    ) -> impl Future<Output = Result<IoBufsMut, Error>> + Send {
        match self
            .cached(&[(offset, len)])
            .and_then(|mut bufs| bufs.pop())
        {
            Some(buf) => Either::Left(ready(Ok(buf))),
            None => Either::Right(self.inner.read_at(offset, len, cached_read(options))),
        }
    }

    fn read_many(
        &self,
        ranges: &[(u64, usize)],
        options: ReadOptions,
    ) -> impl Stream<Item = Result<(usize, IoBufsMut), Error>> + Send {
        match self.cached(ranges) {
            Some(bufs) => Either::Left(stream::iter(bufs.into_iter().enumerate().map(Ok))),
            None => Either::Right(self.inner.read_many(ranges, cached_read(options))),
        }
    }

    fn start_read_many(
        &self,
        ranges: &[(u64, usize)],
        options: ReadOptions,
    ) -> impl Future<Output = Handle<Vec<IoBufsMut>>> + Send {
        match self.cached(ranges) {
            Some(bufs) => Either::Left(ready(Handle::ready(Ok(bufs)))),
            None => Either::Right(self.inner.start_read_many(ranges, cached_read(options))),
        }
    }

    fn write_at(
        &self,
        offset: u64,
        bufs: impl Into<IoBufs> + Send,
        options: WriteOptions,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        self.inner.write_at(offset, bufs, cached_write(options))
    }

    fn resize(&self, len: u64) -> impl Future<Output = Result<(), Error>> + Send {
        self.inner.resize(len)
    }

    fn sync(&self) -> impl Future<Output = Result<(), Error>> + Send {
        self.inner.sync()
    }

    fn start_sync(&self) -> impl Future<Output = Handle<()>> + Send {
        self.inner.start_sync()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::{StreamExt as _, executor::block_on};
    use std::sync::Mutex;

    /// Records the options every call passes down.
    #[derive(Default)]
    struct Recording {
        reads: Mutex<Vec<ReadOptions>>,
        writes: Mutex<Vec<WriteOptions>>,
    }

    fn filled(len: usize) -> IoBufsMut {
        commonware_runtime::IoBufMut::from(vec![7u8; len]).into()
    }

    impl Blob for Recording {
        async fn read_at_buf(
            &self,
            _: u64,
            len: usize,
            _: impl Into<IoBufsMut> + Send,
            options: ReadOptions,
        ) -> Result<IoBufsMut, Error> {
            self.reads.lock().unwrap().push(options);
            Ok(filled(len))
        }

        async fn read_at(
            &self,
            _: u64,
            len: usize,
            options: ReadOptions,
        ) -> Result<IoBufsMut, Error> {
            self.reads.lock().unwrap().push(options);
            Ok(filled(len))
        }

        fn read_many(
            &self,
            ranges: &[(u64, usize)],
            options: ReadOptions,
        ) -> impl Stream<Item = Result<(usize, IoBufsMut), Error>> + Send {
            self.reads.lock().unwrap().push(options);
            let reads: Vec<_> = ranges
                .iter()
                .enumerate()
                .map(|(i, &(_, len))| Ok((i, filled(len))))
                .collect();
            futures::stream::iter(reads)
        }

        async fn start_read_many(
            &self,
            ranges: &[(u64, usize)],
            options: ReadOptions,
        ) -> Handle<Vec<IoBufsMut>> {
            self.reads.lock().unwrap().push(options);
            Handle::ready(Ok(ranges.iter().map(|&(_, len)| filled(len)).collect()))
        }

        async fn write_at(
            &self,
            _: u64,
            _: impl Into<IoBufs> + Send,
            options: WriteOptions,
        ) -> Result<(), Error> {
            self.writes.lock().unwrap().push(options);
            Ok(())
        }

        async fn resize(&self, _: u64) -> Result<(), Error> {
            Ok(())
        }

        async fn sync(&self) -> Result<(), Error> {
            Ok(())
        }

        async fn start_sync(&self) -> Handle<()> {
            Handle::ready(Ok(()))
        }
    }

    #[test]
    fn page_cache_hints_are_dropped_and_durability_is_kept() {
        let blob = KernelCachedBlob::new(Recording::default(), None);
        block_on(async {
            let uncached = ReadOptions::DONT_CACHE;
            blob.read_at(0, 4, uncached).await.unwrap();
            blob.read_at_buf(0, 4, filled(4), uncached).await.unwrap();
            let many: Vec<_> = blob.read_many(&[(0, 4), (8, 4)], uncached).collect().await;
            assert_eq!(many.len(), 2);
            blob.start_read_many(&[(0, 4)], uncached)
                .await
                .await
                .unwrap();
            blob.write_at(0, vec![1u8; 4], WriteOptions::DONT_CACHE)
                .await
                .unwrap();
            blob.write_at(
                4,
                vec![1u8; 4],
                WriteOptions::SYNC | WriteOptions::DONT_CACHE,
            )
            .await
            .unwrap();
        });
        let inner = &blob.inner;
        let reads = inner.reads.lock().unwrap().clone();
        assert_eq!(reads, vec![ReadOptions::default(); 4]);
        let writes = inner.writes.lock().unwrap().clone();
        assert_eq!(writes, vec![WriteOptions::default(), WriteOptions::SYNC]);
    }
}
