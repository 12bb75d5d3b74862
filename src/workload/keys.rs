//! Key distributions: which key index the next operation touches.
//!
//! Samplers are per worker, cloned from one template, and never allocate. Zipf is exact for any
//! exponent > 0 and any key count with O(1) setup: rejection-inversion sampling (Hörmann and
//! Derflinger, 1996, as in Apache Commons RNG), so a billion keys cost nothing to set up and no
//! sample falls outside the key space.

use rand::{Rng, RngExt};

/// How operations choose keys.
#[derive(Clone, Debug, PartialEq)]
pub enum KeyDistribution {
    /// Every key equally likely.
    Uniform,
    /// Exact Zipf over ranks: index 0 is the hottest, P(rank k) ∝ 1/k^exponent.
    Zipf {
        /// Skew, > 0.
        exponent: f64,
    },
    /// YCSB's "zipfian": Zipf ranks scattered over the key space by a hash, so hot keys are not
    /// neighbours. Its head is much flatter than exact zipf's, because distinct ranks can hash to
    /// the same key and the hot set is spread out.
    ScrambledZipf {
        /// Skew, > 0.
        exponent: f64,
    },
    /// `hot_fraction` of the keys receive `hot_probability` of the operations.
    Hotspot {
        /// Share of keys that are hot, in (0, 1).
        hot_fraction: f64,
        /// Share of operations that go to them, in (0, 1).
        hot_probability: f64,
    },
    /// Each worker walks its own stride of keys in order, wrapping around.
    Sequential,
    /// Recently written keys are hottest (YCSB's "latest"): a Zipf distance back from the
    /// worker's last written key.
    Latest,
    /// Normal around `mean` with `stddev`, both fractions of the key space.
    Gaussian {
        /// Centre, as a fraction of the key space.
        mean: f64,
        /// Spread, as a fraction of the key space.
        stddev: f64,
    },
}

fn fraction(name: &str, v: f64) -> Result<(), String> {
    if v > 0.0 && v < 1.0 {
        Ok(())
    } else {
        Err(format!(
            "`{name}` must be between 0 and 1 (exclusive), got {v}"
        ))
    }
}

impl KeyDistribution {
    /// Checks parameters against the key count.
    pub fn validate(&self, count: u64) -> Result<(), String> {
        if count == 0 {
            return Err("`count` must be at least 1".into());
        }
        match *self {
            KeyDistribution::Zipf { exponent } | KeyDistribution::ScrambledZipf { exponent }
                if !(exponent > 0.0 && exponent.is_finite()) =>
            {
                Err(format!("`zipf_exponent` must be > 0, got {exponent}"))
            }
            KeyDistribution::Hotspot {
                hot_fraction,
                hot_probability,
            } => fraction("hot_fraction", hot_fraction)
                .and(fraction("hot_probability", hot_probability)),
            KeyDistribution::Gaussian { mean, stddev } => {
                if !(0.0..=1.0).contains(&mean) {
                    Err(format!("`mean` must be between 0 and 1, got {mean}"))
                } else if !(stddev > 0.0 && stddev.is_finite()) {
                    Err(format!("`stddev` must be > 0, got {stddev}"))
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }
}

/// Exact Zipf over ranks 1..=n by rejection-inversion.
#[derive(Clone, Debug)]
struct Zipf {
    n: f64,
    s: f64,
    h_x1: f64,
    h_n: f64,
    threshold: f64,
}

impl Zipf {
    fn new(n: u64, s: f64) -> Zipf {
        let mut z = Zipf {
            n: n as f64,
            s,
            h_x1: 0.0,
            h_n: 0.0,
            threshold: 0.0,
        };
        z.h_x1 = z.h_integral(1.5) - 1.0;
        z.h_n = z.h_integral(z.n + 0.5);
        z.threshold = 2.0 - z.h_integral_inverse(z.h_integral(2.5) - z.h(2.0));
        z
    }

    /// A rank in 1..=n.
    #[inline]
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        loop {
            let u = self.h_n + rng.random::<f64>() * (self.h_x1 - self.h_n);
            let x = self.h_integral_inverse(u);
            let k = (x + 0.5).floor().clamp(1.0, self.n);
            if k - x <= self.threshold || u >= self.h_integral(k + 0.5) - self.h(k) {
                return k as u64;
            }
        }
    }

    fn h(&self, x: f64) -> f64 {
        (-self.s * x.ln()).exp()
    }

    fn h_integral(&self, x: f64) -> f64 {
        let log_x = x.ln();
        helper2((1.0 - self.s) * log_x) * log_x
    }

    fn h_integral_inverse(&self, x: f64) -> f64 {
        let t = (x * (1.0 - self.s)).max(-1.0);
        (helper1(t) * x).exp()
    }
}

/// ln(1 + x) / x, accurate near 0.
fn helper1(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        x.ln_1p() / x
    } else {
        1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x))
    }
}

/// (e^x − 1) / x, accurate near 0.
fn helper2(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        x.exp_m1() / x
    } else {
        1.0 + x * 0.5 * (1.0 + x / 3.0 * (1.0 + 0.25 * x))
    }
}

/// FNV-1a over the 8 bytes of a rank (YCSB scrambles with FNV-64).
fn fnv64(mut v: u64) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for _ in 0..8 {
        hash ^= v & 0xff;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        v >>= 8;
    }
    hash
}

#[derive(Clone, Debug)]
enum Kind {
    Uniform,
    Zipf(Zipf),
    ScrambledZipf(Zipf),
    Hotspot { hot_keys: u64, probability: f64 },
    Sequential { next: u64, stride: u64 },
    Latest { zipf: Zipf, last: u64 },
    Gaussian { mean: f64, stddev: f64 },
}

/// A per-worker key sampler.
#[derive(Clone, Debug)]
pub struct KeySampler {
    count: u64,
    kind: Kind,
}

impl KeySampler {
    /// A sampler for `worker` of `workers` over `count` keys.
    pub fn new(
        dist: &KeyDistribution,
        count: u64,
        worker: usize,
        workers: usize,
    ) -> Result<KeySampler, String> {
        dist.validate(count)?;
        let kind = match *dist {
            KeyDistribution::Uniform => Kind::Uniform,
            KeyDistribution::Zipf { exponent } => Kind::Zipf(Zipf::new(count, exponent)),
            KeyDistribution::ScrambledZipf { exponent } => {
                Kind::ScrambledZipf(Zipf::new(count, exponent))
            }
            KeyDistribution::Hotspot {
                hot_fraction,
                hot_probability,
            } => Kind::Hotspot {
                hot_keys: ((count as f64 * hot_fraction).round() as u64).clamp(1, count),
                probability: hot_probability,
            },
            KeyDistribution::Sequential => Kind::Sequential {
                next: worker as u64 % count,
                stride: workers.max(1) as u64,
            },
            KeyDistribution::Latest => Kind::Latest {
                zipf: Zipf::new(count, 0.99),
                last: count - 1,
            },
            KeyDistribution::Gaussian { mean, stddev } => Kind::Gaussian {
                mean: mean * count as f64,
                stddev: stddev * count as f64,
            },
        };
        Ok(KeySampler { count, kind })
    }

    /// This sampler for `worker` of `workers`: `sequential` starts at the worker's index and
    /// steps by `workers`, so the workers together cover every key; the other distributions are
    /// the same for every worker (their randomness comes from the worker's own rng).
    pub fn for_worker(&self, worker: usize, workers: usize) -> KeySampler {
        let mut out = self.clone();
        if let Kind::Sequential { next, stride } = &mut out.kind {
            *next = worker as u64 % self.count;
            *stride = workers.max(1) as u64;
        }
        out
    }

    /// A key index in `0..count`.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&mut self, rng: &mut R) -> u64 {
        let count = self.count;
        match &mut self.kind {
            Kind::Uniform => rng.random_range(0..count),
            Kind::Zipf(z) => z.sample(rng) - 1,
            Kind::ScrambledZipf(z) => fnv64(z.sample(rng) - 1) % count,
            Kind::Hotspot {
                hot_keys,
                probability,
            } => {
                if rng.random::<f64>() < *probability || *hot_keys == count {
                    rng.random_range(0..*hot_keys)
                } else {
                    rng.random_range(*hot_keys..count)
                }
            }
            Kind::Sequential { next, stride } => {
                let k = *next;
                *next = (k + *stride) % count;
                k
            }
            Kind::Latest { zipf, last } => {
                let back = zipf.sample(rng) - 1;
                (*last + count - back % count) % count
            }
            Kind::Gaussian { mean, stddev } => loop {
                // Box-Muller; out-of-range draws are rejected so the shape is kept.
                let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
                let u2: f64 = rng.random();
                let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                let x = (*mean + z * *stddev).floor();
                if x >= 0.0 && x < count as f64 {
                    return x as u64;
                }
            },
        }
    }

    /// True when the next key depends on the worker's own writes (`Latest`): such a sampler
    /// cannot be drawn ahead of the writes it follows.
    pub fn follows_writes(&self) -> bool {
        matches!(self.kind, Kind::Latest { .. })
    }

    /// Notes a write of `index` (drives `Latest`).
    #[inline]
    pub fn note_write(&mut self, index: u64) {
        if let Kind::Latest { last, .. } = &mut self.kind {
            *last = index;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    fn counts(dist: KeyDistribution, n: u64, samples: usize) -> Vec<u64> {
        let mut s = KeySampler::new(&dist, n, 0, 1).unwrap();
        let mut rng = SmallRng::seed_from_u64(1);
        let mut c = vec![0u64; n as usize];
        for _ in 0..samples {
            c[s.sample(&mut rng) as usize] += 1;
        }
        c
    }

    /// Least-squares slope of log(frequency) over log(rank) for the top ranks.
    fn loglog_slope(c: &[u64], ranks: usize) -> f64 {
        let pts: Vec<(f64, f64)> = (0..ranks)
            .filter(|&i| c[i] > 0)
            .map(|i| (((i + 1) as f64).ln(), (c[i] as f64).ln()))
            .collect();
        let n = pts.len() as f64;
        let (sx, sy) = pts.iter().fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
        let (mx, my) = (sx / n, sy / n);
        let num: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let den: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
        num / den
    }

    #[test]
    fn zipf_rank_frequency_slope_matches_the_exponent() {
        for s in [0.6, 0.99, 1.2] {
            let c = counts(KeyDistribution::Zipf { exponent: s }, 1000, 300_000);
            let slope = loglog_slope(&c, 50);
            assert!((slope + s).abs() < 0.1, "exponent {s}: slope {slope}");
        }
    }

    #[test]
    fn zipf_stays_in_range_for_tiny_and_huge_key_spaces() {
        let mut rng = SmallRng::seed_from_u64(3);
        for n in [1u64, 2, 1_000_000_000_000] {
            let mut s = KeySampler::new(&KeyDistribution::Zipf { exponent: 1.0 }, n, 0, 1).unwrap();
            for _ in 0..10_000 {
                assert!(s.sample(&mut rng) < n);
            }
        }
    }

    #[test]
    fn scrambled_zipf_has_a_flatter_head() {
        let exact = counts(KeyDistribution::Zipf { exponent: 0.99 }, 10_000, 200_000);
        let scrambled = counts(
            KeyDistribution::ScrambledZipf { exponent: 0.99 },
            10_000,
            200_000,
        );
        let top = |c: &[u64]| *c.iter().max().unwrap();
        assert_eq!(exact.iter().position(|&x| x == top(&exact)), Some(0));
        assert!(
            top(&scrambled) <= top(&exact),
            "scrambling cannot make the head hotter"
        );
        assert_ne!(
            scrambled.iter().position(|&x| x == top(&scrambled)),
            Some(0)
        );
    }

    #[test]
    fn hotspot_sends_the_hot_share_to_the_hot_keys() {
        let c = counts(
            KeyDistribution::Hotspot {
                hot_fraction: 0.2,
                hot_probability: 0.8,
            },
            1000,
            100_000,
        );
        let hot: u64 = c[..200].iter().sum();
        assert!((78_500..81_500).contains(&hot), "{hot}");
    }

    #[test]
    fn sequential_covers_every_key_once_per_lap_across_workers() {
        let mut seen = vec![0; 10];
        let mut rng = SmallRng::seed_from_u64(0);
        for w in 0..3 {
            let mut s = KeySampler::new(&KeyDistribution::Sequential, 10, w, 3).unwrap();
            let share = 10 / 3 + usize::from(w < 10 % 3);
            for _ in 0..share {
                seen[s.sample(&mut rng) as usize] += 1;
            }
        }
        assert_eq!(seen, vec![1; 10]);
    }

    #[test]
    fn for_worker_gives_each_worker_its_own_stride() {
        let template = KeySampler::new(&KeyDistribution::Sequential, 12, 0, 1).unwrap();
        let mut rng = SmallRng::seed_from_u64(0);
        let mut seen = vec![0; 12];
        for w in 0..4 {
            let mut s = template.for_worker(w, 4);
            for _ in 0..3 {
                seen[s.sample(&mut rng) as usize] += 1;
            }
        }
        assert_eq!(seen, vec![1; 12]);
    }

    #[test]
    fn latest_concentrates_near_the_last_write() {
        let mut s = KeySampler::new(&KeyDistribution::Latest, 10_000, 0, 1).unwrap();
        s.note_write(5000);
        let mut rng = SmallRng::seed_from_u64(9);
        let near = (0..10_000)
            .filter(|_| (4900..=5000).contains(&s.sample(&mut rng)))
            .count();
        assert!(near > 4_000, "{near}");
    }

    #[test]
    fn gaussian_has_its_mean_and_spread() {
        let mut s = KeySampler::new(
            &KeyDistribution::Gaussian {
                mean: 0.5,
                stddev: 0.1,
            },
            10_000,
            0,
            1,
        )
        .unwrap();
        let mut rng = SmallRng::seed_from_u64(5);
        let xs: Vec<f64> = (0..50_000).map(|_| s.sample(&mut rng) as f64).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64).sqrt();
        assert!((mean - 5000.0).abs() < 30.0, "{mean}");
        assert!((sd - 1000.0).abs() < 30.0, "{sd}");
    }

    #[test]
    fn uniform_is_flat() {
        let c = counts(KeyDistribution::Uniform, 10, 100_000);
        assert!(c.iter().all(|&x| (9_500..10_500).contains(&x)), "{c:?}");
    }

    #[test]
    fn bad_parameters_are_rejected() {
        assert!(
            KeyDistribution::Zipf { exponent: 0.0 }
                .validate(10)
                .is_err()
        );
        assert!(KeyDistribution::Uniform.validate(0).is_err());
        assert!(
            KeyDistribution::Hotspot {
                hot_fraction: 1.0,
                hot_probability: 0.5
            }
            .validate(10)
            .is_err()
        );
        assert!(
            KeyDistribution::Gaussian {
                mean: 0.5,
                stddev: 0.0
            }
            .validate(10)
            .is_err()
        );
    }
}
