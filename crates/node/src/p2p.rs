//! The production network: commonware's authenticated `lookup` p2p over
//! TCP, with the static key -> address map from genesis.

use crate::engine::{Channels, channel_quotas, max_message_size};
use commonware_runtime::Quota;
use commonware_utils::NZU32;

/// The p2p channel documents are replicated on.
pub const CHANNEL_DOCUMENTS: u64 = 7;
use commonware_cryptography::{ChaCha20Poly1305, Signer};
use commonware_p2p::{
    Address, AddressableManager, AddressableTrackedPeers,
    authenticated::lookup::{self, Network},
};
use commonware_runtime::{Handle, Supervisor as _, tokio};
use commonware_stream::{
    cups::{self, Cups},
    sake::{self, Sake},
};
use commonware_utils::{NZUsize, ordered::Map};
use std::{net::SocketAddr, time::Duration};
use tracechain_types::{Genesis, PrivateKey, PublicKey, public_key_from_hex};

/// Namespace of the p2p handshake (keeps other commonware networks out).
pub const P2P_NAMESPACE: &[u8] = b"tracechain/p2p/v1";

pub type P2pSender = lookup::Sender<PublicKey, tokio::Context>;
pub type P2pReceiver = lookup::Receiver<PublicKey>;

/// A started network: the node's channels and the oracle (peer provider and
/// blocker for the consensus actors).
pub struct P2p {
    pub channels: Channels<P2pSender, P2pReceiver>,
    /// Off-chain document replication (not part of consensus).
    pub documents: (P2pSender, P2pReceiver),
    pub oracle: lookup::Oracle<PublicKey>,
    pub handle: Handle<()>,
}

/// Every peer of the chain: validators (primary: dialled) and full nodes
/// (secondary: accepted, not dialled, receive broadcasts).
fn peer_sets(genesis: &Genesis) -> AddressableTrackedPeers<PublicKey> {
    let entries = |list: Vec<(PublicKey, SocketAddr)>| -> Map<PublicKey, Address> {
        Map::from_iter_dedup(
            list.into_iter()
                .map(|(key, address)| (key, Address::Symmetric(address))),
        )
    };
    let validators = genesis
        .validators
        .iter()
        .filter_map(|v| Some((public_key_from_hex(&v.public_key)?, v.p2p_address)))
        .collect();
    let full_nodes = genesis
        .full_nodes
        .iter()
        .filter_map(|v| Some((public_key_from_hex(&v.public_key)?, v.p2p_address)))
        .collect();
    AddressableTrackedPeers::new(entries(validators), entries(full_nodes))
}

/// Starts the network listening on `listen`, with every channel registered.
pub fn start(
    context: &tokio::Context,
    signer: PrivateKey,
    genesis: &Genesis,
    listen: SocketAddr,
) -> P2p {
    let peers = genesis.validators.len() + genesis.full_nodes.len();
    let handshake = Cups::<_, ChaCha20Poly1305>::new(
        Sake {
            signer: signer.clone(),
            synchrony_bound: Duration::from_secs(5),
            max_handshake_age: Duration::from_secs(10),
            version: sake::Version::V1,
        },
        cups::Version::V1,
    );
    let config = lookup::Config::local(
        handshake,
        &[P2P_NAMESPACE, genesis.chain_id.as_bytes()].concat(),
        listen,
        NZUsize!(peers.max(1)),
        max_message_size(genesis.validators.len() as u32),
        NZUsize!(4096),
    );
    let (mut network, mut oracle) = Network::new(context.child("p2p"), config);
    let _ = oracle.track(0, peer_sets(genesis));
    let registered = channel_quotas()
        .into_iter()
        .map(|(channel, quota)| network.register(channel, quota))
        .collect();
    let channels = Channels::from_ordered(registered).expect("every channel registered");
    let documents = network.register(CHANNEL_DOCUMENTS, Quota::per_second(NZU32!(1_000)));
    let handle = network.start();
    let _ = signer.public_key();
    P2p {
        channels,
        documents,
        oracle,
        handle,
    }
}
