//! The concrete databases and their on-disk configuration.

use commonware_cryptography::Sha256;
use commonware_glue::stateful::db::{DatabaseSet, Shared};
use commonware_parallel::Sequential;
use commonware_runtime::buffer::paged::CacheRef;
use commonware_storage::{
    journal::contiguous::{
        fixed::Config as FixedJournalConfig, variable::Config as VarJournalConfig,
    },
    mmr::{self, full::Config as MerkleConfig},
    qmdb::{
        any::unordered::variable as any_unordered,
        current::{VariableConfig, ordered::variable as current_ordered},
        keyless::fixed as keyless_fixed,
    },
    translator::EightCap,
};
use commonware_utils::{NZU16, NZU64, NZUsize};
use std::num::{NonZeroU16, NonZeroU64, NonZeroUsize};
use tracechain_types::StateValue;
use tracechain_types::{Digest, LogRecord};

/// Bytes per bitmap chunk of the `current` state database (256 operations).
pub const STATE_CHUNK_BYTES: usize = 32;
pub use tracechain_types::MAX_STATE_VALUE_BYTES;

/// World state: 32-byte keys (hashes of namespaced logical keys, see
/// [`crate::keys`]) to encoded values.
pub type StateDb<E> = current_ordered::Db<
    mmr::Family,
    E,
    Digest,
    StateValue,
    Sha256,
    EightCap,
    STATE_CHUNK_BYTES,
    Sequential,
>;

/// Records found only by their id (receipts by transaction id, event
/// records by canonical event hash; ADR 0019): 32-byte keys to encoded
/// values, unordered, so a new key is one operation and relinks nothing.
/// No proofs are served from it; its root is in every header so all nodes
/// agree on it.
pub type LookupDb<E> =
    any_unordered::Db<mmr::Family, E, Digest, StateValue, Sha256, EightCap, Sequential>;

/// The append-only event log.
pub type LogDb<E> = keyless_fixed::Db<mmr::Family, E, LogRecord, Sha256, Sequential>;

/// The set of databases the stateful actor manages for us.
pub type Databases<E> = (Shared<StateDb<E>>, Shared<LogDb<E>>, Shared<LookupDb<E>>);

/// Configuration of [`Databases`] as the stateful actor wants it.
pub type DatabasesConfig<E> = <Databases<E> as DatabaseSet<E>>::Config;

const PAGE_SIZE: NonZeroU16 = NZU16!(4096);
const IO_BUFFER: NonZeroUsize = NZUsize!(64 * 1024);

/// Where and how the databases live on disk.
#[derive(Clone)]
pub struct StorageConfig {
    /// Prefix of every partition name (one chain's node keeps all its
    /// partitions under one storage directory).
    pub prefix: String,
    pub page_cache: CacheRef,
    /// Operations per state journal section, the unit pruning removes
    /// (fixed for a data directory; small only in simulations).
    pub state_section_ops: NonZeroU64,
}

/// Operations per state journal section on disk.
pub const STATE_SECTION_OPS: NonZeroU64 = NZU64!(4096);

impl StorageConfig {
    /// A config with a page cache of `cache_pages` pages of 4 KiB.
    pub fn new(prefix: impl Into<String>, cache_pages: usize) -> Self {
        Self {
            prefix: prefix.into(),
            page_cache: CacheRef::new(
                PAGE_SIZE,
                NonZeroUsize::new(cache_pages.max(16)).unwrap_or(NZUsize!(16)),
            ),
            state_section_ops: STATE_SECTION_OPS,
        }
    }

    fn merkle(&self, name: &str) -> MerkleConfig<Sequential> {
        MerkleConfig {
            journal_partition: format!("{}-{name}-merkle-journal", self.prefix),
            metadata_partition: format!("{}-{name}-merkle-metadata", self.prefix),
            items_per_blob: NZU64!(65_536),
            write_buffer: IO_BUFFER,
            replay_buffer: IO_BUFFER,
            strategy: Sequential,
            page_cache: self.page_cache.clone(),
        }
    }

    fn operations(&self, name: &str) -> VarJournalConfig<((), ())> {
        VarJournalConfig {
            partition: format!("{}-{name}-log", self.prefix),
            items_per_section: self.state_section_ops,
            compression: None,
            codec_config: ((), ()),
            page_cache: self.page_cache.clone(),
            write_buffer: IO_BUFFER,
            replay_buffer: IO_BUFFER,
        }
    }

    /// Configuration for the state, log and lookup databases.
    pub fn databases<E>(&self) -> (StateConfig, LogConfig, LookupConfig) {
        let state = VariableConfig {
            merkle_config: self.merkle("state"),
            journal_config: self.operations("state"),
            grafted_metadata_partition: format!("{}-state-grafted", self.prefix),
            translator: EightCap,
            init_cache: Some(NZUsize!(4096)),
            init_buffer: NZUsize!(1 << 20),
            init_concurrency: (),
        };
        let lookup = LookupConfig {
            merkle_config: self.merkle("lookup"),
            journal_config: self.operations("lookup"),
            translator: EightCap,
            init_cache: Some(NZUsize!(4096)),
            init_buffer: NZUsize!(1 << 20),
            init_concurrency: (),
        };
        let log = keyless_fixed::Config {
            merkle: self.merkle("events"),
            log: FixedJournalConfig {
                partition: format!("{}-events-log", self.prefix),
                items_per_blob: NZU64!(65_536),
                page_cache: self.page_cache.clone(),
                write_buffer: IO_BUFFER,
                replay_buffer: IO_BUFFER,
            },
        };
        (state, log, lookup)
    }
}

/// Configuration of the state database.
pub type StateConfig = VariableConfig<EightCap, ((), ()), Sequential>;

/// Configuration of the lookup database.
pub type LookupConfig =
    commonware_storage::qmdb::any::VariableConfig<EightCap, ((), ()), Sequential>;

/// Configuration of the event log database.
pub type LogConfig = keyless_fixed::Config<Sequential>;

/// Canonical root of the empty state: the genesis block's state root.
///
/// storage exposes no pure function for the canonical (grafted) root of an
/// empty `current` database, so it is computed once by opening one in an
/// in-memory deterministic runtime on a scratch thread (which keeps it clear
/// of whatever runtime the caller is on).
pub fn empty_state_root() -> Digest {
    static ROOT: std::sync::OnceLock<Digest> = std::sync::OnceLock::new();
    *ROOT.get_or_init(|| {
        std::thread::spawn(|| {
            use commonware_runtime::{Runner as _, Supervisor as _, deterministic};
            deterministic::Runner::default().start(|context| async move {
                let config = StorageConfig::new("empty", 16)
                    .databases::<deterministic::Context>()
                    .0;
                let db =
                    StateDb::<deterministic::Context>::init(context.child("empty"), config, None)
                        .await
                        .expect("an in-memory database opens");
                db.root()
            })
        })
        .join()
        .expect("computing the empty state root does not panic")
    })
}
