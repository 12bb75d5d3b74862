//! Server-side counts of a clustered tier: what each Redis Cluster primary says it executed
//! during a workload (its `INFO commandstats` calls, after minus before).
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
    /// The node, `host:port` as the cluster announces it.
    pub node: String,
    /// Calls per Redis command (`get`, `set`, `del`, `pexpire`, `exists`, `mget`, `mset`): the node's
    /// `INFO commandstats` `calls` at the workload's end minus at its start (preload and warmup
    /// included, and any other client's traffic to the node meanwhile).
    pub calls: BTreeMap<String, u64>,
    /// The sum of `calls`.
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
            NodeCounts {
                node: a.node.clone(),
                total: calls.values().sum(),
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
