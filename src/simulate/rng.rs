//! Per-trajectory random streams.
//!
//! Every trajectory owns a [`Xoshiro256PlusPlus`] generator whose state is a pure function
//! of `(seed, index)`, so a simulation gives the same result on any number of threads and
//! in any scheduling order, and trajectory `i` of a run with `n` trials is trajectory `i`
//! of every longer run with the same seed.
//!
//! Construction (SplitMix64, Steele, Lea & Flood 2014; the constants are those of
//! `java.util.SplittableRandom` and of `rand_xoshiro`'s own `seed_from_u64`):
//!
//! 1. `x0 = mix64(seed + γ)`, the first SplitMix64 output for `seed`; this whitens
//!    nearby seeds (0, 1, 2, …) into unrelated starting points.
//! 2. Trajectory `i` takes outputs `4i+1 … 4i+4` of the SplitMix64 sequence started at
//!    `x0`, i.e. state word `j` is `mix64(x0 + (4i + j + 1)·γ)` for `j = 0..4`, computed in
//!    O(1) without stepping through earlier trajectories.
//!
//! Because γ is odd, `c ↦ x0 + c·γ` is a bijection mod 2^64, and `mix64` is a bijection,
//! so for one seed the 4·n state words of n ≤ 2^62 trajectories are pairwise distinct:
//! no two trajectories of a run share a state. The counter 4i wraps, so indices are
//! distinct modulo 2^62 only: `index` and `index + 2^62` give the same stream (and
//! `u64::MAX − i` the stream of `2^62 − 1 − i`). `mix64(z) = 0` only for `z = 0`, so at most
//! one word of a state is zero and the all-zero state (forbidden for xoshiro) never occurs.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The SplitMix64 increment γ = 2^64 / φ, rounded to odd.
const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// The SplitMix64 output function (variant 13 of Stafford's mixers); a bijection of u64.
#[inline]
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The xoshiro256++ state words of trajectory `index` for `seed` (see the module
/// documentation); [`trajectory_rng`] is the generator with this state.
#[inline]
pub(crate) fn trajectory_state(seed: u64, index: u64) -> [u64; 4] {
    let x0 = mix64(seed.wrapping_add(GAMMA));
    let base = index.wrapping_mul(4);
    let mut s = [0u64; 4];
    for (j, w) in s.iter_mut().enumerate() {
        let counter = base.wrapping_add(j as u64 + 1);
        *w = mix64(x0.wrapping_add(counter.wrapping_mul(GAMMA)));
    }
    s
}

/// The generator of trajectory `index` for `seed` (see the module documentation).
pub fn trajectory_rng(seed: u64, index: u64) -> Xoshiro256PlusPlus {
    let mut bytes = [0u8; 32];
    for (chunk, w) in bytes.chunks_exact_mut(8).zip(trajectory_state(seed, index)) {
        chunk.copy_from_slice(&w.to_le_bytes());
    }
    Xoshiro256PlusPlus::from_seed(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngCore;
    use rand_xoshiro::SplitMix64;

    /// `mix64` against the reference outputs of `splitmix64.c`
    /// (<http://xoshiro.di.unimi.it/splitmix64.c>) for seed 1477776061723855037, as quoted
    /// in the test suite of `rand_xoshiro` 0.7 (`src/splitmix64.rs`).
    #[test]
    fn mix64_matches_splitmix64_reference() {
        let mut x: u64 = 1477776061723855037;
        let expected = [
            1985237415132408290u64,
            2979275885539914483,
            13511426838097143398,
            8488337342461049707,
            15141737807933549159,
        ];
        for e in expected {
            x = x.wrapping_add(GAMMA);
            assert_eq!(mix64(x), e);
        }
    }

    /// The O(1) jump to trajectory `i` equals stepping an independent SplitMix64
    /// implementation (`rand_xoshiro::SplitMix64`) through the earlier trajectories.
    #[test]
    fn state_is_the_ith_block_of_a_splitmix64_stream() {
        for seed in [0u64, 1, 42, u64::MAX] {
            let mut sm = SplitMix64::seed_from_u64(mix64(seed.wrapping_add(GAMMA)));
            for i in 0..5u64 {
                let mut bytes = [0u8; 32];
                for chunk in bytes.chunks_exact_mut(8) {
                    chunk.copy_from_slice(&sm.next_u64().to_le_bytes());
                }
                let mut a = Xoshiro256PlusPlus::from_seed(bytes);
                let mut b = trajectory_rng(seed, i);
                for _ in 0..4 {
                    assert_eq!(a.next_u64(), b.next_u64());
                }
            }
        }
    }
}
