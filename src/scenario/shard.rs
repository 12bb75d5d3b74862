//! Shards: one scenario run by N processes at once (machines, or pods of a Kubernetes Indexed
//! Job), each doing its share, merged exactly afterwards (`tierbench merge`).
//!
//! A 2-core load generator cannot saturate a production Redis; N of them can. Shard `i` of `n`
//! runs every workload with its operation counts, arrival rates and concurrency divided by `n`
//! (the remainder to the first shards; at least one worker each), a seed derived from the shard
//! so no two shards repeat each other's keys, and preload over its own range of the key space.
//! Durations stay whole: every shard measures the same window (with a common `--start-at`).

use serde::{Deserialize, Serialize};

/// Which share of the work a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// This shard, 0-based.
    pub index: usize,
    /// How many shards run the scenario.
    pub count: usize,
}

impl Shard {
    /// Parses `I/N` (0-based `I` below `N`).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (i, n) = text.split_once('/').ok_or_else(|| {
            format!("`{text}` is not I/N (e.g. `0/4` for the first of four shards)")
        })?;
        let number = |s: &str, what: &str| {
            s.trim()
                .parse::<usize>()
                .map_err(|_| format!("`{text}`: {what} `{s}` is not a whole number"))
        };
        Shard::new(number(i, "the shard")?, number(n, "the shard count")?)
            .map_err(|e| format!("`{text}`: {e}"))
    }

    /// Shard `index` of `count`, checked.
    pub fn new(index: usize, count: usize) -> Result<Shard, String> {
        if count == 0 {
            return Err("the shard count must be at least 1".into());
        }
        if index >= count {
            return Err(format!(
                "shard {index} does not exist among {count} (shards are numbered 0 to {})",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// The shard from a Kubernetes Indexed Job's environment: `JOB_COMPLETION_INDEX` with
    /// `TIERBENCH_SHARDS`. `Ok(None)` when neither is set.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Shard>, String> {
        match (env("JOB_COMPLETION_INDEX"), env("TIERBENCH_SHARDS")) {
            (None, None) => Ok(None),
            (Some(_), None) => Err(
                "JOB_COMPLETION_INDEX is set but TIERBENCH_SHARDS is not: set it to the Job's \
                 completions (the number of shards)"
                    .into(),
            ),
            (None, Some(_)) => Err(
                "TIERBENCH_SHARDS is set but JOB_COMPLETION_INDEX is not: give --shard I/N, or \
                 run as a Kubernetes Indexed Job"
                    .into(),
            ),
            (Some(i), Some(n)) => Shard::parse(&format!("{i}/{n}"))
                .map(Some)
                .map_err(|e| format!("JOB_COMPLETION_INDEX / TIERBENCH_SHARDS: {e}")),
        }
    }

    /// This shard's part of `total` (the first `total % count` shards take one more).
    pub fn share(&self, total: u64) -> u64 {
        let n = self.count as u64;
        total / n + u64::from((self.index as u64) < total % n)
    }

    /// This shard's part of `workers` workers: at least one.
    pub fn workers(&self, workers: usize) -> usize {
        (self.share(workers as u64) as usize).max(1)
    }

    /// This shard's range of `count` keys (the preload's).
    pub fn key_range(&self, count: u64) -> std::ops::Range<u64> {
        let (i, n) = (self.index as u128, self.count as u128);
        let at = |k: u128| (u128::from(count) * k / n) as u64;
        at(i)..at(i + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_refuse_what_does_not_exist() {
        assert_eq!(Shard::parse("2/4").unwrap(), Shard { index: 2, count: 4 });
        assert!(Shard::parse("4/4").unwrap_err().contains("numbered 0 to 3"));
        assert!(Shard::parse("1/0").unwrap_err().contains("at least 1"));
        assert!(
            Shard::parse("one/2")
                .unwrap_err()
                .contains("not a whole number")
        );
        assert!(Shard::parse("3").unwrap_err().contains("I/N"));
    }

    #[test]
    fn shares_add_up_to_the_whole() {
        for count in 1..7usize {
            let shards: Vec<Shard> = (0..count).map(|i| Shard::new(i, count).unwrap()).collect();
            for total in [0u64, 1, 5, 1_000_003] {
                assert_eq!(shards.iter().map(|s| s.share(total)).sum::<u64>(), total);
            }
            let keys: Vec<_> = shards.iter().map(|s| s.key_range(10_007)).collect();
            assert_eq!(keys[0].start, 0);
            assert_eq!(keys[count - 1].end, 10_007);
            assert!(keys.windows(2).all(|w| w[0].end == w[1].start));
            assert!(shards.iter().all(|s| s.workers(1) == 1));
        }
    }

    #[test]
    fn the_environment_of_an_indexed_job_names_the_shard() {
        let env = |i: Option<&str>, n: Option<&str>| {
            let (i, n) = (i.map(str::to_string), n.map(str::to_string));
            Shard::from_env(&move |k: &str| match k {
                "JOB_COMPLETION_INDEX" => i.clone(),
                "TIERBENCH_SHARDS" => n.clone(),
                _ => None,
            })
        };
        assert_eq!(env(None, None).unwrap(), None);
        assert_eq!(
            env(Some("1"), Some("3")).unwrap(),
            Some(Shard { index: 1, count: 3 })
        );
        assert!(
            env(Some("1"), None)
                .unwrap_err()
                .contains("TIERBENCH_SHARDS")
        );
        assert!(env(Some("5"), Some("3")).is_err());
    }
}
