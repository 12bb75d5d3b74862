//! The simulated origin behind a stack: how long one load takes, and waiting that long precisely.
//!
//! A load's latency is a constant (`5ms`), log-normal fitted to two quantiles
//! (`{ p50: 5ms, p99: 40ms }`) or uniform (`{ uniform: 2ms..8ms }`). Each miss draws its own
//! latency from a small xorshift seeded by the key and the worker's miss count: deterministic,
//! no lock and no shared state. The wait sleeps coarsely while far from the end, then yields on
//! the clock, so the configured latency is reproduced within microseconds (tokio's timer alone
//! rounds every sleep up to its 1 ms tick: a `1ms` origin measured 2.05 ms).

use std::borrow::Cow;
use std::time::Duration;

use quanta::Clock;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::units::{format_duration, parse_duration};

/// The standard normal's 99th percentile.
const Z99: f64 = 2.326_347_874_040_840_8;

/// How long one origin load takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OriginLatency {
    /// Always this long.
    Constant(Duration),
    /// Log-normal with this median and 99th percentile.
    LogNormal {
        /// Median.
        p50: Duration,
        /// 99th percentile.
        p99: Duration,
    },
    /// Uniform between the two, inclusive.
    Uniform {
        /// Shortest.
        min: Duration,
        /// Longest.
        max: Duration,
    },
}

impl Default for OriginLatency {
    fn default() -> Self {
        OriginLatency::Constant(Duration::ZERO)
    }
}

impl OriginLatency {
    /// True when a load takes no time at all.
    pub fn is_zero(&self) -> bool {
        match *self {
            OriginLatency::Constant(d) => d.is_zero(),
            OriginLatency::LogNormal { p99, .. } => p99.is_zero(),
            OriginLatency::Uniform { max, .. } => max.is_zero(),
        }
    }

    /// The log-normal's parameters (μ, σ of the underlying normal, in ln-nanoseconds) fitted so
    /// that its median is `p50` and its 99th percentile `p99`.
    pub fn log_normal_fit(p50: Duration, p99: Duration) -> (f64, f64) {
        let median = (p50.as_nanos() as f64).max(1.0);
        let high = (p99.as_nanos() as f64).max(median);
        (median.ln(), (high / median).ln() / Z99)
    }

    /// One load's latency, drawn with `seed` (the same seed gives the same latency).
    pub fn sample(&self, seed: u64) -> Duration {
        let mut rng = XorShift::new(seed);
        match *self {
            OriginLatency::Constant(d) => d,
            OriginLatency::LogNormal { p50, p99 } => {
                let (mu, sigma) = Self::log_normal_fit(p50, p99);
                // Box-Muller: one standard normal from two uniforms in (0, 1].
                let (u1, u2) = (rng.unit(), rng.unit());
                let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                // Capped at 1,000 × p99: a draw that far out is a pause, not a latency.
                let cap = p99.as_nanos() as f64 * 1000.0;
                Duration::from_nanos((mu + sigma * z).exp().min(cap) as u64)
            }
            OriginLatency::Uniform { min, max } => {
                let (lo, hi) = (min.as_nanos() as u64, max.as_nanos() as u64);
                Duration::from_nanos(lo + rng.next() % (hi - lo + 1))
            }
        }
    }

    /// The planned median and 99th percentile of a load's latency: what a run's measured waits
    /// are compared with in its report.
    pub fn planned_p50_p99(&self) -> (Duration, Duration) {
        match *self {
            OriginLatency::Constant(d) => (d, d),
            OriginLatency::LogNormal { p50, p99 } => (p50, p99),
            OriginLatency::Uniform { min, max } => {
                let at = |q: f64| min + (max - min).mul_f64(q);
                (at(0.5), at(0.99))
            }
        }
    }

    /// The distribution as a scenario writes it: `5ms`, `log-normal p50 5ms p99 40ms`,
    /// `uniform 2ms..8ms`.
    pub fn describe(&self) -> String {
        match *self {
            OriginLatency::Constant(d) => format_duration(d),
            OriginLatency::LogNormal { p50, p99 } => format!(
                "log-normal p50 {} p99 {}",
                format_duration(p50),
                format_duration(p99)
            ),
            OriginLatency::Uniform { min, max } => {
                format!("uniform {}..{}", format_duration(min), format_duration(max))
            }
        }
    }

    /// The seed of one miss: the key mixed with how many origin loads the worker did before.
    pub fn seed(key: &str, loads: u64) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in key.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        h ^ loads.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }
}

/// Marsaglia's xorshift64*, seeded through SplitMix64 (so nearby seeds are unrelated).
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> XorShift {
        let mut x = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        XorShift((x ^ (x >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A uniform in (0, 1].
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }
}

/// How far before the end a tokio sleep stops (its timer rounds up to the next 1 ms tick).
const TOKIO_MARGIN_NS: u64 = 1_500_000;

/// Waits `latency` from `start_raw`: a tokio sleep while far from the end, then yielding to the
/// runtime on the clock. Never a thread sleep: a stack with an origin runs its workers as tasks
/// (`Stack::is_in_process` is false), and a blocked runtime thread would hold every other
/// worker's load back, so `concurrency: N` would no longer mean N loads in flight. Returns how
/// long it waited, from the clock reading that ended the wait (the origin's report).
pub async fn wait(clock: &Clock, start_raw: u64, latency: Duration) -> u64 {
    let target = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
    loop {
        let now = clock.delta_as_nanos(start_raw, clock.raw());
        if now >= target {
            return now;
        }
        let left = target - now;
        if left > TOKIO_MARGIN_NS {
            tokio::time::sleep(Duration::from_nanos(left - TOKIO_MARGIN_NS)).await
        } else {
            tokio::task::yield_now().await
        }
    }
}

/// Parses `MIN..MAX` durations.
fn parse_range(text: &str) -> Result<(Duration, Duration), String> {
    let (a, b) = text
        .split_once("..")
        .ok_or_else(|| format!("`{text}` is not a range: write `MIN..MAX`, e.g. `2ms..8ms`"))?;
    let (min, max) = (parse_duration(a.trim())?, parse_duration(b.trim())?);
    if min > max {
        return Err(format!("`{text}`: the minimum is above the maximum"));
    }
    Ok((min, max))
}

const FORMS: &str = "a duration (`5ms`), `{ p50: 5ms, p99: 40ms }` or `{ uniform: 2ms..8ms }`";

impl OriginLatency {
    fn from_value(value: serde_json::Value) -> Result<OriginLatency, String> {
        use serde_json::Value;
        let text = |field: &str, v: &Value| -> Result<String, String> {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("`{field}` must be a duration such as `5ms`"))
        };
        match value {
            Value::String(s) => parse_duration(&s).map(OriginLatency::Constant),
            Value::Object(map) => {
                if let Some(other) = map
                    .keys()
                    .find(|k| !["p50", "p99", "uniform"].contains(&k.as_str()))
                {
                    return Err(format!("`{other}` is not a latency field: write {FORMS}"));
                }
                match (map.get("p50"), map.get("p99"), map.get("uniform")) {
                    (Some(a), Some(b), None) => {
                        let p50 = parse_duration(&text("p50", a)?)?;
                        let p99 = parse_duration(&text("p99", b)?)?;
                        if p50.is_zero() || p99 < p50 {
                            return Err(format!(
                                "`p50` must be above zero and `p99` at least `p50`, got p50 {} and p99 {}",
                                format_duration(p50),
                                format_duration(p99)
                            ));
                        }
                        Ok(OriginLatency::LogNormal { p50, p99 })
                    }
                    (None, None, Some(u)) => {
                        let (min, max) = parse_range(&text("uniform", u)?)?;
                        Ok(OriginLatency::Uniform { min, max })
                    }
                    _ => Err(format!(
                        "give both `p50` and `p99`, or `uniform` alone: write {FORMS}"
                    )),
                }
            }
            Value::Number(n) => Err(format!("`{n}` has no unit; write e.g. `{n}ms`")),
            _ => Err(format!("expected {FORMS}")),
        }
    }
}

impl<'de> Deserialize<'de> for OriginLatency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        OriginLatency::from_value(value).map_err(serde::de::Error::custom)
    }
}

impl Serialize for OriginLatency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match *self {
            OriginLatency::Constant(d) => s.serialize_str(&format_duration(d)),
            OriginLatency::LogNormal { p50, p99 } => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("p50", &format_duration(p50))?;
                m.serialize_entry("p99", &format_duration(p99))?;
                m.end()
            }
            OriginLatency::Uniform { min, max } => {
                let mut m = s.serialize_map(Some(1))?;
                let range = format!("{}..{}", format_duration(min), format_duration(max));
                m.serialize_entry("uniform", &range)?;
                m.end()
            }
        }
    }
}

impl JsonSchema for OriginLatency {
    fn schema_name() -> Cow<'static, str> {
        "OriginLatency".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let duration = generator.subschema_for::<crate::units::DurationValue>();
        let unit = r"[0-9][0-9_]*(\.[0-9]+)?\s*(ns|us|µs|ms|s|m|min|h)\s*";
        json_schema!({
            "description": "Time one origin load takes: a constant (`5ms`), log-normal fitted to its median and 99th percentile (`{ p50: 5ms, p99: 40ms }`), or uniform over an inclusive range (`{ uniform: 2ms..8ms }`). Each miss draws its own.",
            "anyOf": [
                duration,
                {
                    "type": "object",
                    "properties": { "p50": duration, "p99": duration },
                    "required": ["p50", "p99"],
                    "additionalProperties": false
                },
                {
                    "type": "object",
                    "properties": {
                        "uniform": {
                            "type": "string",
                            "pattern": format!(r"^\s*{unit}\.\.\s*{unit}$")
                        }
                    },
                    "required": ["uniform"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: f64) -> Duration {
        Duration::from_secs_f64(n / 1e3)
    }

    fn quantile(mut xs: Vec<f64>, q: f64) -> f64 {
        xs.sort_by(f64::total_cmp);
        xs[((xs.len() as f64 * q) as usize).min(xs.len() - 1)]
    }

    #[test]
    fn the_log_normal_fit_has_the_given_quantiles() {
        let spec = OriginLatency::LogNormal {
            p50: ms(5.0),
            p99: ms(40.0),
        };
        let xs: Vec<f64> = (0..200_000u64)
            .map(|i| spec.sample(OriginLatency::seed("k", i)).as_secs_f64() * 1e3)
            .collect();
        let (p50, p99) = (quantile(xs.clone(), 0.5), quantile(xs, 0.99));
        assert!((p50 - 5.0).abs() < 0.1, "p50 {p50} ms");
        assert!((p99 - 40.0).abs() < 1.5, "p99 {p99} ms");
    }

    #[test]
    fn uniform_and_constant_stay_in_their_range() {
        let spec = OriginLatency::Uniform {
            min: ms(2.0),
            max: ms(8.0),
        };
        let xs: Vec<f64> = (0..100_000u64)
            .map(|i| spec.sample(OriginLatency::seed("key:7", i)).as_secs_f64() * 1e3)
            .collect();
        assert!(xs.iter().all(|&x| (2.0..=8.0).contains(&x)));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((mean - 5.0).abs() < 0.05, "mean {mean} ms");
        assert_eq!(OriginLatency::Constant(ms(5.0)).sample(3), ms(5.0));
    }

    #[test]
    fn the_three_forms_parse_and_print_back() {
        for text in ["5ms", "{p50: 5ms, p99: 40ms}", "{uniform: 2ms..8ms}"] {
            let spec: OriginLatency = serde_yaml::from_str(text).unwrap();
            let again = serde_json::to_value(spec).unwrap();
            assert_eq!(
                serde_json::from_value::<OriginLatency>(again).unwrap(),
                spec
            );
        }
        for (text, message) in [
            ("{p50: 5ms}", "give both"),
            ("{p50: 5ms, p99: 1ms}", "at least"),
            ("{uniform: 8ms..2ms}", "above the maximum"),
            ("{p90: 5ms}", "`p90` is not a latency field"),
            ("5", "no unit"),
        ] {
            let err = serde_yaml::from_str::<OriginLatency>(text).unwrap_err();
            assert!(err.to_string().contains(message), "{text}: {err}");
        }
    }

    #[test]
    fn the_wait_lasts_the_latency() {
        let clock = Clock::new();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let start = clock.raw();
        runtime.block_on(wait(&clock, start, ms(3.0)));
        let took = clock.delta_as_nanos(start, clock.raw());
        // Never shorter; the upper bound is generous for a loaded machine.
        assert!((3_000_000..30_000_000).contains(&took), "{took} ns");
    }
}
