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
