//! Outages as the client saw them: stretches in which no running worker completed an operation
//! and operations failed.
//!
//! Why not whole seconds: a server away for one second usually straddles two seconds of the
//! time series, and workers blocked in a time-out fail only a few operations meanwhile, so no
//! second has mostly failures and the outage went unreported. Instead each worker notes its
//! failure spells (from just after its last success to its next one, in tenths of a second,
//! what the measuring loop already computes per operation) and the tenths it ran in, and an
//! outage is where every worker running at the time was in a spell. Per operation this is a
//! comparison and two stores; a spell allocates only when it ends.

/// One worker's stretch without success: tenths `[from, to)` and the operations that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Spell {
    from: usize,
    to: usize,
    errors: u64,
}

/// One worker's record, once merged: the tenths it ran in and its spells.
#[derive(Debug, Clone)]
struct Worker {
    /// Tenths `[from, to)` from its first operation to its last (to the end of a spell still
    /// open when it stopped).
    ran: (usize, usize),
    spells: Vec<Spell>,
}

/// A worker's failure spells, and after merging every worker's.
#[derive(Debug, Clone, Default)]
pub struct FailureSpells {
    /// Tenth of this worker's first operation (none: it ran no operation).
    first: Option<usize>,
    /// Tenth of its latest operation.
    last: usize,
    /// Tenth of its latest success, if any.
    last_ok: Option<usize>,
    /// The spell in progress: its first tenth and failures so far.
    open: Option<(usize, u64)>,
    /// This worker's finished spells.
    own: Vec<Spell>,
    /// Other workers' records (merged in).
    others: Vec<Worker>,
}

impl FailureSpells {
    /// An operation completed in tenth `tenth`.
    #[inline]
    pub fn succeeded(&mut self, tenth: usize) {
        if let Some((from, errors)) = self.open.take() {
            self.close(from, tenth, errors);
        }
        self.ran(tenth);
        self.last_ok = Some(tenth);
    }

    /// An operation failed in tenth `tenth`.
    #[inline]
    pub fn failed(&mut self, tenth: usize) {
        self.ran(tenth);
        match &mut self.open {
            Some((_, errors)) => *errors += 1,
            None => {
                let from = self.last_ok.map_or(tenth, |ok| (ok + 1).min(tenth));
                self.open = Some((from, 1));
            }
        }
    }

    #[inline]
    fn ran(&mut self, tenth: usize) {
        self.first.get_or_insert(tenth);
        self.last = tenth;
    }

    #[cold]
    fn close(&mut self, from: usize, to: usize, errors: u64) {
        self.own.push(Spell { from, to, errors });
    }

    /// This worker's record, with a spell still open running to `end` (`None`: it ran nothing).
    fn own_record(&self, end: usize) -> Option<Worker> {
        let first = self.first?;
        let mut spells = self.own.clone();
        if let Some((from, errors)) = self.open {
            spells.push(Spell {
                from,
                to: end,
                errors,
            });
        }
        let to = spells.iter().map(|s| s.to).fold(self.last + 1, usize::max);
        Some(Worker {
            ran: (first, to),
            spells,
        })
    }

    /// Adds another worker's record (and those it had merged).
    pub fn merge(&mut self, other: &FailureSpells) {
        self.others.extend(other.own_record(usize::MAX));
        self.others.extend(other.others.iter().cloned());
    }

    /// The outages up to tenth `end` (the end of the time series): maximal stretches of at
    /// least one tenth in which every worker running at the time was in a spell (stretches at
    /// most `BRIDGED` tenths apart joined), as (from, to, failures) with tenths `[from, to)`;
    /// failures are those of the spells that overlap it. Workers of another phase, or that
    /// finished their share early, do not hide an outage.
    pub fn outages(&self, end: usize) -> Vec<(usize, usize, u64)> {
        let workers: Vec<Worker> = self
            .others
            .iter()
            .cloned()
            .chain(self.own_record(end))
            .collect();
        // Per tenth: how many workers ran, and how many of them were in a spell (difference
        // arrays, then running sums).
        let mut running = vec![0i64; end + 1];
        let mut failing = vec![0i64; end + 1];
        let add = |counts: &mut [i64], from: usize, to: usize| {
            let (from, to) = (from.min(end), to.min(end));
            if from < to {
                counts[from] += 1;
                counts[to] -= 1;
            }
        };
        for w in &workers {
            add(&mut running, w.ran.0, w.ran.1);
            for s in &w.spells {
                add(&mut failing, s.from, s.to);
            }
        }
        let (mut ran, mut failed, mut stretches) = (0, 0, Vec::new());
        let mut start = None;
        for t in 0..=end {
            ran += running[t];
            failed += failing[t];
            let down = t < end && ran > 0 && failed >= ran;
            match (start, down) {
                (None, true) => start = Some(t),
                (Some(from), false) => {
                    stretches.push((from, t));
                    start = None;
                }
                _ => {}
            }
        }
        // A lone success between two stretches (a key on a node that is still up) does not
        // end an outage: stretches at most `BRIDGED` tenths apart are one.
        let mut joined: Vec<(usize, usize)> = Vec::new();
        for (from, to) in stretches {
            match joined.last_mut() {
                Some(last) if from <= last.1 + BRIDGED => last.1 = to,
                _ => joined.push((from, to)),
            }
        }
        joined
            .into_iter()
            .map(|(from, to)| {
                let errors = workers
                    .iter()
                    .flat_map(|w| &w.spells)
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

    fn merged(workers: &[FailureSpells]) -> FailureSpells {
        let mut all = FailureSpells::default();
        for w in workers {
            all.merge(w);
        }
        all
    }

    #[test]
    fn an_outage_is_where_every_worker_failed_at_once() {
        // Both workers succeed until tenth 20, time out at 25 and 30, and are back at 33 / 34.
        let a = worker(&[(19, true), (20, true), (25, false), (30, false), (33, true)]);
        let b = worker(&[(20, true), (26, false), (31, false), (34, true), (35, true)]);
        assert_eq!(merged(&[a, b]).outages(100), vec![(21, 33, 4)]);
    }

    #[test]
    fn one_workers_failure_while_another_succeeds_is_no_outage() {
        let a = worker(&[(10, true), (11, false), (12, true)]);
        let b = worker(&[(10, true), (11, true), (12, true)]);
        assert!(merged(&[a, b]).outages(100).is_empty());
    }

    #[test]
    fn workers_that_are_not_running_do_not_hide_an_outage() {
        // Phase 1's worker ran tenths 0..10; phase 2's worker fails from 30 to 40.
        let phase1 = worker(&[(0, true), (9, true)]);
        let phase2 = worker(&[(20, true), (31, false), (35, false), (40, true)]);
        assert_eq!(merged(&[phase1, phase2]).outages(100), vec![(21, 40, 2)]);
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
        assert_eq!(merged(&[a]).outages(50), vec![(11, 40, 3)]);
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
        assert_eq!(merged(&[a]).outages(12), vec![(6, 12, 2)]);
        // A retry in the same tenth as the last success starts there.
        assert_eq!(worker(&[(5, true), (5, false)]).outages(8), vec![(5, 8, 1)]);
    }
}
