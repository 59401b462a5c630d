//! Keys for tests, made the way tracechain-crypto makes them (x25519-dalek
//! `StaticSecret`), so the tests prove the envelope opens with node keys.

use crate::{Reader, rng::os_rng};
use rand_core::Rng;
use x25519_dalek::{PublicKey, StaticSecret};

pub(crate) struct Org {
    pub(crate) id: String,
    pub(crate) secret: [u8; 32],
    pub(crate) public: [u8; 32],
}

impl Org {
    pub(crate) fn new(id: &str) -> Org {
        let mut secret = [0u8; 32];
        os_rng().fill_bytes(&mut secret);
        let public = PublicKey::from(&StaticSecret::from(secret)).to_bytes();
        Org {
            id: id.to_owned(),
            secret,
            public,
        }
    }

    pub(crate) fn reader(&self) -> Reader {
        Reader {
            id: self.id.clone(),
            public_key: self.public,
        }
    }
}

pub(crate) fn orgs(n: usize) -> Vec<Org> {
    (0..n).map(|i| Org::new(&format!("org-{i}"))).collect()
}

/// A deterministic generator for reproducible test vectors only:
/// SHA-256(seed || counter) blocks. Never use outside tests.
pub(crate) struct TestRng {
    seed: [u8; 32],
    counter: u64,
    buffer: Vec<u8>,
}

impl TestRng {
    pub(crate) fn new(label: &str) -> TestRng {
        TestRng {
            seed: crate::canonical::sha256(label.as_bytes()),
            counter: 0,
            buffer: Vec::new(),
        }
    }
}

impl rand_core::TryRng for TestRng {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for byte in dst {
            if self.buffer.is_empty() {
                let block = [&self.seed[..], &self.counter.to_be_bytes()].concat();
                self.buffer = crate::canonical::sha256(&block).to_vec();
                self.counter += 1;
            }
            *byte = self.buffer.remove(0);
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for TestRng {}

/// A fixed key for test vectors: secret = SHA-256(label).
pub(crate) fn fixed_org(id: &str, label: &str) -> Org {
    let secret = crate::canonical::sha256(label.as_bytes());
    Org {
        id: id.to_owned(),
        secret,
        public: PublicKey::from(&StaticSecret::from(secret)).to_bytes(),
    }
}
