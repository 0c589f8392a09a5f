//! Deterministic random streams.
//!
//! Every random quantity in this crate is drawn from a ChaCha8 stream whose
//! 256-bit key is the tuple (seed, domain, index). ChaCha is a keyed
//! pseudo-random function, so distinct tuples give independent streams and a
//! value depends only on the tuple, never on which thread asked for it or on
//! how many other streams were consumed before.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Separates the streams of different quantities drawn from one user seed.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
pub(crate) enum Domain {
    AdcStatic = 1,
    AdcNoise = 2,
    LifThreshold = 3,
    LifNoise = 4,
    DriverStatic = 5,
    TiaStatic = 6,
    TiaNoise = 7,
    SenseStatic = 8,
    SenseNoise = 9,
}

/// The stream for item `index` of quantity `domain` under `seed`.
pub(crate) fn stream(seed: u64, domain: Domain, index: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&(domain as u64).to_le_bytes());
    key[16..24].copy_from_slice(&index.to_le_bytes());
    ChaCha8Rng::from_seed(key)
}
