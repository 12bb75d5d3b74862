//! Outages as the client saw them: stretches in which no worker completed an operation and
//! operations failed.
//!
//! Why not whole seconds: a server away for one second usually straddles two seconds of the
//! time series, and workers blocked in a time-out fail only a few operations meanwhile, so no
//! second has mostly failures and the outage went unreported. Instead each worker notes its
//! failure spells (from just after its last success to its next one, in tenths of a second,
//! what the measuring loop already computes per operation), and an outage is where every
//! worker was in a spell at once. Per operation this is a comparison and a store; a spell
//! allocates only when it ends.

/// One worker's stretch without success: tenths `[from, to)` and the operations that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Spell {
    from: usize,
    to: usize,
    errors: u64,
}

/// A worker's failure spells, and after merging every worker's.
#[derive(Debug, Clone, Default)]
pub struct FailureSpells {
    /// Whether this recorder's worker completed or failed any operation.
    active: bool,
    /// Tenth of the latest success, if any.
    last_ok: Option<usize>,
    /// The spell in progress: its first tenth and failures so far.
    open: Option<(usize, u64)>,
    /// This worker's finished spells.
    own: Vec<Spell>,
    /// Other workers' spells, one list per worker (merged in).
    others: Vec<Vec<Spell>>,
}

impl FailureSpells {
    /// An operation completed in tenth `tenth`.
    #[inline]
    pub fn succeeded(&mut self, tenth: usize) {
        if let Some((from, errors)) = self.open.take() {
            self.close(from, tenth, errors);
        }
        self.active = true;
        self.last_ok = Some(tenth);
    }

    /// An operation failed in tenth `tenth`.
    #[inline]
    pub fn failed(&mut self, tenth: usize) {
        self.active = true;
        match &mut self.open {
            Some((_, errors)) => *errors += 1,
            None => {
                let from = self.last_ok.map_or(tenth, |ok| (ok + 1).min(tenth));
                self.open = Some((from, 1));
            }
        }
    }

    #[cold]
    fn close(&mut self, from: usize, to: usize, errors: u64) {
        self.own.push(Spell { from, to, errors });
    }

    /// Adds another worker's spells (and those it had merged).
    pub fn merge(&mut self, other: &FailureSpells) {
        if other.active {
            let mut own = other.own.clone();
            if let Some((from, errors)) = other.open {
                own.push(Spell {
                    from,
                    to: usize::MAX,
                    errors,
                });
            }
            self.others.push(own);
        }
        self.others.extend(other.others.iter().cloned());
    }

    /// The outages up to tenth `end` (the end of the time series): maximal stretches of at
    /// least one tenth in which every worker was in a spell (stretches at most `BRIDGED`
    /// tenths apart joined), as (from, to, failures) with tenths `[from, to)`; failures are
    /// those of the spells that overlap it.
    pub fn outages(&self, end: usize) -> Vec<(usize, usize, u64)> {
        let mut workers: Vec<Vec<Spell>> = self.others.clone();
        if self.active {
            let mut own = self.own.clone();
            if let Some((from, errors)) = self.open {
                own.push(Spell {
                    from,
                    to: end,
                    errors,
                });
            }
            workers.push(own);
        }
        let all: Vec<Spell> = workers
            .iter()
            .flatten()
            .map(|s| Spell {
                to: s.to.min(end),
                ..*s
            })
            .filter(|s| s.from < s.to)
            .collect();
        let mut events: Vec<(usize, i64)> =
            all.iter().flat_map(|s| [(s.from, 1), (s.to, -1)]).collect();
        events.sort_unstable();
        let everyone = workers.len() as i64;
        let (mut inside, mut start, mut out) = (0, None, Vec::new());
        for (tenth, step) in events {
            inside += step;
            match start {
                None if everyone > 0 && inside == everyone => start = Some(tenth),
                Some(from) if inside < everyone => {
                    if tenth > from {
                        out.push((from, tenth));
                    }
                    start = None;
                }
                _ => {}
            }
        }
        // A lone success between two stretches (a key on a node that is still up) does not
        // end an outage: stretches at most `BRIDGED` tenths apart are one.
        let mut joined: Vec<(usize, usize)> = Vec::new();
        for (from, to) in out {
            match joined.last_mut() {
                Some(last) if from <= last.1 + BRIDGED => last.1 = to,
                _ => joined.push((from, to)),
            }
        }
        joined
            .into_iter()
            .map(|(from, to)| {
                let errors = all
                    .iter()
                    .filter(|s| s.from < to && from < s.to)
                    .map(|s| s.errors)
                    .sum();
                (from, to, errors)
            })
            .collect()
    }
}

/// Tenths of a second with some success that still count as inside an outage.
const BRIDGED: usize = 2;

#[cfg(test)]
mod tests {
    use super::*;

    fn worker(events: &[(usize, bool)]) -> FailureSpells {
        let mut w = FailureSpells::default();
        for &(tenth, ok) in events {
            if ok {
                w.succeeded(tenth)
            } else {
                w.failed(tenth)
            }
        }
        w
    }

    #[test]
    fn an_outage_is_where_every_worker_failed_at_once() {
        // Both workers succeed until tenth 20, time out at 25 and 30, and are back at 33 / 34.
        let a = worker(&[(19, true), (20, true), (25, false), (30, false), (33, true)]);
        let b = worker(&[(20, true), (26, false), (31, false), (34, true), (35, true)]);
        let mut all = FailureSpells::default();
        all.merge(&a);
        all.merge(&b);
        assert_eq!(all.outages(100), vec![(21, 33, 4)]);
    }

    #[test]
    fn one_workers_failure_while_another_succeeds_is_no_outage() {
        let a = worker(&[(10, true), (11, false), (12, true)]);
        let b = worker(&[(10, true), (11, true), (12, true)]);
        let mut all = FailureSpells::default();
        all.merge(&a);
        all.merge(&b);
        assert!(all.outages(100).is_empty());
    }

    #[test]
    fn lone_successes_during_an_outage_do_not_split_it() {
        // A cluster node is down: the worker's keys on other nodes succeed now and then.
        let a = worker(&[
            (10, true),
            (12, false),
            (15, true),
            (16, false),
            (19, true),
            (21, false),
            (40, true),
        ]);
        let mut all = FailureSpells::default();
        all.merge(&a);
        assert_eq!(all.outages(50), vec![(11, 40, 3)]);
        // Successes a second apart are two outages.
        let b = worker(&[
            (10, true),
            (12, false),
            (15, true),
            (25, true),
            (30, false),
            (35, true),
        ]);
        assert_eq!(b.outages(50), vec![(11, 15, 1), (26, 35, 1)]);
    }

    #[test]
    fn a_server_gone_for_good_is_an_outage_to_the_end() {
        let a = worker(&[(5, true), (7, false), (9, false)]);
        let mut all = FailureSpells::default();
        all.merge(&a);
        assert_eq!(all.outages(12), vec![(6, 12, 2)]);
        // A retry in the same tenth as the last success starts there.
        assert_eq!(worker(&[(5, true), (5, false)]).outages(8), vec![(5, 8, 1)]);
    }
}
