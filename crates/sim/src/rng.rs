//! Deterministic random streams. Every stream is derived from (seed, purpose, shard) alone, so
//! a day generated on any thread, in any order, draws exactly the same numbers, and adding a
//! draw to one purpose does not shift the numbers of another.
//!
//! The generator is ChaCha8: portable, well studied, and fast enough that drawing is not the
//! bottleneck (formatting is). The distributions are written here rather than taken from
//! `rand_distr`, so their exact output is pinned by this crate and not by a dependency's
//! version.

use rand::{Rng as _, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What a stream is for; each purpose has its own sequence of numbers.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
pub enum Purpose {
    World = 1,
    Social = 2,
    Fraud = 3,
    Life = 4,
    History = 5,
    Lookalike = 6,
}

/// splitmix64's finaliser: spreads (seed, purpose, shard) over the whole key space.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform number in [0, 1) from a hash of (seed, a, b): for per-entity decisions that must
/// not depend on which day or thread asks.
pub fn hash_unit(seed: u64, a: u64, b: u64) -> f64 {
    (mix(mix(seed ^ mix(a)) ^ b) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A seeded stream with the draws the simulator needs.
pub struct Stream(ChaCha8Rng);

impl Stream {
    pub fn new(seed: u64, purpose: Purpose, shard: u64) -> Stream {
        let a = mix(seed ^ mix(purpose as u64));
        let b = mix(a ^ mix(shard.wrapping_add(0x5151)));
        let mut key = [0u8; 32];
        for (i, chunk) in key.chunks_mut(8).enumerate() {
            chunk.copy_from_slice(&mix(b.wrapping_add(i as u64)).to_le_bytes());
        }
        Stream(ChaCha8Rng::from_seed(key))
    }

    pub fn u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.0.gen_range(0..n)
        }
    }

    /// Uniform index into a slice of length `n`.
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            self.0.gen_range(lo..=hi)
        }
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        // 53 random bits: exactly representable, identical on every platform.
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// Standard normal by Box–Muller (one of the pair; simplicity over speed).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.f64().max(1e-300);
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Log-normal with the given median and σ of the log.
    pub fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    /// Poisson by inversion for small means, a rounded normal for large ones.
    pub fn poisson(&mut self, mean: f64) -> u32 {
        if mean <= 0.0 {
            return 0;
        }
        if mean > 30.0 {
            let v = mean + mean.sqrt() * self.normal();
            return v.round().max(0.0) as u32;
        }
        let mut k = 0u32;
        let mut p = (-mean).exp();
        let mut cdf = p;
        let u = self.f64();
        while u > cdf && k < 200 {
            k += 1;
            p *= mean / f64::from(k);
            cdf += p;
        }
        k
    }

    /// An index drawn in proportion to `weights` (the last index if they sum to 0).
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.f64() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len().saturating_sub(1)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }
}

/// Cumulative weights for repeated draws from one distribution in O(log n).
pub struct Cumulative(Vec<f64>);

impl Cumulative {
    pub fn new(weights: impl IntoIterator<Item = f64>) -> Cumulative {
        let mut acc = 0.0;
        Cumulative(
            weights
                .into_iter()
                .map(|w| {
                    acc += w.max(0.0);
                    acc
                })
                .collect(),
        )
    }

    pub fn total(&self) -> f64 {
        self.0.last().copied().unwrap_or(0.0)
    }

    pub fn draw(&self, rng: &mut Stream) -> usize {
        let x = rng.f64() * self.total();
        self.0
            .partition_point(|&c| c <= x)
            .min(self.0.len().saturating_sub(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_independent() {
        let a: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(Stream::new(7, Purpose::Life, 3), |s, _| Some(s.u64()))
            .collect();
        let b: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(Stream::new(7, Purpose::Life, 3), |s, _| Some(s.u64()))
            .collect();
        let c: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(Stream::new(7, Purpose::Life, 4), |s, _| Some(s.u64()))
            .collect();
        let d: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(Stream::new(8, Purpose::Life, 3), |s, _| Some(s.u64()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn poisson_mean_is_close() {
        let mut s = Stream::new(1, Purpose::World, 0);
        let n = 20_000;
        let sum: u64 = (0..n).map(|_| u64::from(s.poisson(2.5))).sum();
        let mean = sum as f64 / f64::from(n);
        assert!((mean - 2.5).abs() < 0.1, "{mean}");
    }
}
