//! The context wrapper: storage wrapped, everything else delegated.

use crate::{KernelCachedBlob, direct::DirectFile};
use commonware_runtime::{
    BlobVersion, Clock, Error, Metrics, Name, Network, Resolver, SinkOf, Spawner, Storage,
    Strategizer, StreamOf, Supervisor, signal::Signal, telemetry::metrics::Metric,
    telemetry::metrics::Registered,
};
use std::{
    net::{IpAddr, SocketAddr},
    num::NonZeroUsize,
    ops::RangeInclusive,
    path::Path,
    sync::Arc,
    time::{Duration, SystemTime},
};

/// A runtime context whose storage keeps file data in the kernel's page
/// cache (see the crate documentation). Children and spawned tasks get the
/// same wrapper.
#[derive(Clone)]
pub struct KernelCached<C>(C, Option<Arc<Path>>);

impl<C> KernelCached<C> {
    pub fn new(inner: C) -> Self {
        Self(inner, None)
    }

    /// Reads what the kernel has cached on the calling thread; `directory`
    /// is the runtime's storage directory (where it keeps a partition's
    /// blobs as `<partition>/<hex name>`).
    pub fn reading_files_under(self, directory: &Path) -> Self {
        Self(self.0, Some(directory.into()))
    }

    /// The wrapped context, for what must use the runtime's own type.
    pub fn inner(&self) -> &C {
        &self.0
    }
}

impl<C: Supervisor> Supervisor for KernelCached<C> {
    fn name(&self) -> Name {
        self.0.name()
    }

    fn child(&self, label: &'static str) -> Self {
        Self(self.0.child(label), self.1.clone())
    }

    fn with_attribute(self, key: &'static str, value: impl std::fmt::Display) -> Self {
        Self(self.0.with_attribute(key, value), self.1)
    }
}

impl<C: Spawner> Spawner for KernelCached<C> {
    fn shared(self, blocking: bool) -> Self {
        Self(self.0.shared(blocking), self.1)
    }

    fn dedicated(self) -> Self {
        Self(self.0.dedicated(), self.1)
    }

    fn spawn<F, Fut, T>(self, f: F) -> commonware_runtime::Handle<T>
    where
        F: FnOnce(Self) -> Fut + Send + 'static,
        Fut: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let files = self.1;
        self.0.spawn(move |inner| f(Self(inner, files)))
    }

    fn stop(
        self,
        value: i32,
        timeout: Option<Duration>,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        self.0.stop(value, timeout)
    }

    fn stopped(&self) -> Signal {
        self.0.stopped()
    }
}

impl<C: Strategizer> Strategizer for KernelCached<C> {
    fn strategy(&self, parallelism: NonZeroUsize) -> commonware_parallel::Rayon {
        self.0.strategy(parallelism)
    }
}

impl<C: Metrics> Metrics for KernelCached<C> {
    fn register<N: Into<String>, H: Into<String>, M: Metric>(
        &self,
        name: N,
        help: H,
        metric: M,
    ) -> Registered<M> {
        self.0.register(name, help, metric)
    }

    fn encode(&self) -> String {
        self.0.encode()
    }
}

impl<C: Clock> governor::clock::Clock for KernelCached<C> {
    type Instant = SystemTime;

    fn now(&self) -> SystemTime {
        self.0.current()
    }
}

impl<C: Clock> governor::clock::ReasonablyRealtime for KernelCached<C> {}

impl<C: Clock> Clock for KernelCached<C> {
    fn current(&self) -> SystemTime {
        self.0.current()
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send + 'static + use<C> {
        self.0.sleep(duration)
    }

    fn sleep_until(
        &self,
        deadline: SystemTime,
    ) -> impl Future<Output = ()> + Send + 'static + use<C> {
        self.0.sleep_until(deadline)
    }
}

impl<C: Network> Network for KernelCached<C> {
    type Listener = C::Listener;

    fn bind(
        &self,
        socket: SocketAddr,
    ) -> impl Future<Output = Result<Self::Listener, Error>> + Send {
        self.0.bind(socket)
    }

    fn dial(
        &self,
        socket: SocketAddr,
    ) -> impl Future<Output = Result<(SinkOf<Self>, StreamOf<Self>), Error>> + Send {
        self.0.dial(socket)
    }
}

impl<C: Resolver> Resolver for KernelCached<C> {
    fn resolve(&self, host: &str) -> impl Future<Output = Result<Vec<IpAddr>, Error>> + Send {
        self.0.resolve(host)
    }
}

impl<C: rand_core::TryRng> rand_core::TryRng for KernelCached<C> {
    type Error = C::Error;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        self.0.try_next_u32()
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0.try_next_u64()
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Self::Error> {
        self.0.try_fill_bytes(dest)
    }
}

impl<C: rand_core::TryCryptoRng> rand_core::TryCryptoRng for KernelCached<C> {}

impl<C: Storage> Storage for KernelCached<C> {
    type Blob = KernelCachedBlob<C::Blob>;

    async fn open_versioned(
        &self,
        partition: &str,
        name: &[u8],
        versions: RangeInclusive<BlobVersion>,
    ) -> Result<(Self::Blob, u64, BlobVersion), Error> {
        let (blob, size, version) = self.0.open_versioned(partition, name, versions).await?;
        let direct = self.1.as_ref().and_then(|directory| {
            DirectFile::open(&directory.join(partition).join(hex::encode(name)), size)
        });
        Ok((KernelCachedBlob::new(blob, direct), size, version))
    }

    async fn remove(&self, partition: &str, name: Option<&[u8]>) -> Result<(), Error> {
        self.0.remove(partition, name).await
    }

    async fn scan(&self, partition: &str) -> Result<Vec<Vec<u8>>, Error> {
        self.0.scan(partition).await
    }
}
