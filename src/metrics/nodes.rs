//! Server-side counts of a tier: what each Redis Cluster primary says it executed during a
//! workload (its `INFO commandstats` calls, after minus before), or what a memcached server's
//! `stats` counted (gets, hits, misses, sets, deletes, touches).
//!
//! Why: a cluster spreads keys over nodes by hash slot; a user sizing or checking a cluster
//! wants to see how the load fell on each node, and the figures come from the servers
//! themselves (so they are honest about redirections and retries), not from the client's guess
//! of where each key went. Plain data, like the rest of the result document.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The Redis commands tierbench's measured operations send (GET; SET; DEL; PEXPIRE or EXISTS
/// for a touch; MGET and MSET for batches, one per slot of a batch's keys), whose counts are
/// reported per node.
pub const MEASURED_COMMANDS: [&str; 7] = ["get", "set", "del", "pexpire", "exists", "mget", "mset"];

/// One cluster primary's counts over a workload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NodeCounts {
    /// The node, `host:port` as the cluster announces it (or the memcached server's address).
    pub node: String,
    /// Where the counts come from: `INFO commandstats` (a Redis Cluster primary) or `stats`
    /// (memcached: `cmd_get`, `get_hits`, `get_misses`, `cmd_set`, `delete_hits`,
    /// `delete_misses`, `cmd_touch`, `touch_hits`, `touch_misses`).
    #[serde(default)]
    pub source: String,
    /// Counts per command at the workload's end minus at its start (preload and warmup included,
    /// and any other client's traffic to the node meanwhile): a Redis Cluster primary's `calls`
    /// per command (`get`, `set`, `del`, `pexpire`, `exists`, `mget`, `mset`), memcached's
    /// counters as `stats` names them.
    pub calls: BTreeMap<String, u64>,
    /// Commands in all: the sum of `calls` (memcached: `cmd_get + cmd_set + cmd_touch +
    /// delete_hits + delete_misses`, hits and misses being parts of those).
    pub total: u64,
}

/// Each node's calls in `after` minus those in `before` (a node absent before counts from 0).
pub fn node_deltas(before: &[NodeCounts], after: &[NodeCounts]) -> Vec<NodeCounts> {
    after
        .iter()
        .map(|a| {
            let b = before.iter().find(|b| b.node == a.node);
            let calls: BTreeMap<String, u64> = a
                .calls
                .iter()
                .map(|(cmd, n)| {
                    let was = b.and_then(|b| b.calls.get(cmd)).copied().unwrap_or(0);
                    (cmd.clone(), n.saturating_sub(was))
                })
                .collect();
            let was_total = b.map_or(0, |b| b.total);
            NodeCounts {
                node: a.node.clone(),
                source: a.source.clone(),
                total: a.total.saturating_sub(was_total),
                calls,
            }
        })
        .collect()
}

/// The measured commands' `calls` in the text of `INFO commandstats`.
pub fn parse_commandstats(node: &str, info: &str) -> NodeCounts {
    let mut calls: BTreeMap<String, u64> = MEASURED_COMMANDS
        .iter()
        .map(|c| ((*c).to_string(), 0))
        .collect();
    for line in info.lines() {
        let Some((name, rest)) = line
            .strip_prefix("cmdstat_")
            .and_then(|l| l.split_once(':'))
        else {
            continue;
        };
        if let Some(slot) = calls.get_mut(name)
            && let Some(n) = rest
                .split(',')
                .find_map(|kv| kv.strip_prefix("calls="))
                .and_then(|v| v.trim().parse().ok())
        {
            *slot = n;
        }
    }
    NodeCounts {
        node: node.to_string(),
        source: "INFO commandstats".to_string(),
        total: calls.values().sum(),
        calls,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commandstats_are_read_and_subtracted() {
        let before = parse_commandstats(
            "a:1",
            "# Commandstats\r\ncmdstat_get:calls=10,usec=5,usec_per_call=0.5,rejected_calls=0\r\n\
             cmdstat_info:calls=3,usec=1\r\n",
        );
        assert_eq!(before.calls["get"], 10);
        assert_eq!(before.calls["set"], 0);
        assert_eq!(before.total, 10);
        let after = parse_commandstats(
            "a:1",
            "cmdstat_get:calls=15,usec=9\r\ncmdstat_set:calls=4,usec=2\r\n",
        );
        let d = node_deltas(&[before], &[after]);
        assert_eq!(d[0].calls["get"], 5);
        assert_eq!(d[0].calls["set"], 4);
        assert_eq!(d[0].total, 9);
    }
}
