//! The distinct error messages a worker saw, deduplicated, with counts and the seconds they were
//! seen in: kept apart from the histograms because a workload's errors are reported by message,
//! and a failing server must not grow memory by one string per failed call.

/// Distinct error messages seen in a workload, deduplicated, with counts.
#[derive(Clone, Debug, Default)]
pub struct ErrorLog {
    /// Each distinct (tier, message), in order of first appearance.
    pub entries: Vec<ErrorEntry>,
    /// Errors whose message was not kept because `MAX_DISTINCT` messages were already kept.
    pub other: u64,
}

/// One distinct error message.
#[derive(Clone, Debug)]
pub struct ErrorEntry {
    /// Index of the tier in the workload's stack.
    pub tier: usize,
    /// The message.
    pub message: String,
    /// How many times it was seen.
    pub count: u64,
    /// First and last second of the time series it was seen in.
    pub first_second: usize,
    /// Last second it was seen in.
    pub last_second: usize,
}

impl ErrorLog {
    /// Distinct messages kept per workload; the rest are counted in `other`.
    pub const MAX_DISTINCT: usize = 32;

    /// Notes one error.
    pub fn note(&mut self, tier: usize, message: &dyn std::fmt::Display, second: usize) {
        use std::fmt::Write;
        let mut text = String::new();
        let _ = write!(text, "{message}");
        if let Some(e) = self
            .entries
            .iter_mut()
            .find(|e| e.tier == tier && e.message == text)
        {
            e.count += 1;
            e.first_second = e.first_second.min(second);
            e.last_second = e.last_second.max(second);
        } else if self.entries.len() < Self::MAX_DISTINCT {
            self.entries.push(ErrorEntry {
                tier,
                message: text,
                count: 1,
                first_second: second,
                last_second: second,
            });
        } else {
            self.other += 1;
        }
    }

    /// Adds another worker's log.
    pub fn merge(&mut self, other: &ErrorLog) {
        for e in &other.entries {
            if let Some(mine) = self
                .entries
                .iter_mut()
                .find(|m| m.tier == e.tier && m.message == e.message)
            {
                mine.count += e.count;
                mine.first_second = mine.first_second.min(e.first_second);
                mine.last_second = mine.last_second.max(e.last_second);
            } else if self.entries.len() < Self::MAX_DISTINCT {
                self.entries.push(e.clone());
            } else {
                self.other += e.count;
            }
        }
        self.other += other.other;
    }
}
