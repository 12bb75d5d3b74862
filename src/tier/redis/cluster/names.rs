//! A Redis Cluster's side of the claim (`claim.rs`): each name is looked up (`TYPE`) and removed
//! (`UNLINK`) on the primary serving its slot, pipelined per primary; the marker goes through
//! the cluster client like any key. Before the first write the primaries' memory is checked as
//! a single server's is (`redis_claim.rs`), summed over the primaries.

use super::{Primary, RedisClusterTier};
use crate::tier::error::{TierError, redis_message};
use crate::tier::ownership::claim::{NameStore, Refusal};
use crate::tier::ownership::key_names::{KeyNames, MarkerRecord};
use crate::tier::redis::claim::{MemoryRoom, read_marker_cmd, write_marker_cmd};
use crate::tier::redis::cluster::pipe::key_slot;
use crate::tier::wire::bounded;

/// The cluster's primaries as they are now, for one claim, count or cleanup.
pub(super) struct ClusterNames<'a> {
    tier: &'a RedisClusterTier,
    primaries: Vec<Primary>,
    /// `(first slot, last slot, primary)`.
    slots: Vec<(u16, u16, usize)>,
}

impl<'a> ClusterNames<'a> {
    /// Reads the slot map and connects to every primary.
    pub(super) async fn open(tier: &'a RedisClusterTier) -> Result<ClusterNames<'a>, TierError> {
        let (primaries, slots) = tier.primaries_and_slots().await?;
        Ok(ClusterNames {
            tier,
            primaries,
            slots,
        })
    }

    /// The primary serving `name`'s slot.
    fn primary_of(&self, name: &str) -> Result<usize, TierError> {
        let slot = key_slot(name.as_bytes());
        self.slots
            .iter()
            .find(|(first, last, _)| (*first..=*last).contains(&slot))
            .map(|&(_, _, at)| at)
            .ok_or_else(|| TierError::Operation(format!("no primary serves slot {slot}")))
    }

    /// Sends `command name` for each name on the primary serving it; the replies, in the
    /// order of `names`.
    async fn per_name<T: redis::FromRedisValue + Clone>(
        &self,
        command: &str,
        names: &[String],
    ) -> Result<Vec<T>, TierError> {
        let mut groups: Vec<Vec<usize>> = vec![Vec::new(); self.primaries.len()];
        for (i, name) in names.iter().enumerate() {
            groups[self.primary_of(name)?].push(i);
        }
        let mut replies: Vec<Option<T>> = vec![None; names.len()];
        for (primary, group) in self.primaries.iter().zip(&groups) {
            if group.is_empty() {
                continue;
            }
            let mut pipe = redis::pipe();
            for &i in group {
                pipe.cmd(command).arg(&names[i]);
            }
            let mut conn = primary.conn.clone();
            let name = &primary.name;
            let got: Vec<T> = bounded(self.tier.timeout, pipe.query_async(&mut conn), |e| {
                TierError::Operation(format!("primary {name}: {}", redis_message(&e)))
            })
            .await?;
            for (&i, reply) in group.iter().zip(got) {
                replies[i] = Some(reply);
            }
        }
        replies
            .into_iter()
            .map(|r| {
                r.ok_or_else(|| TierError::Operation(format!("{command}: a reply is missing")))
            })
            .collect()
    }
}

impl NameStore for ClusterNames<'_> {
    fn nouns(&self) -> (String, String) {
        ("key".into(), "keys".into())
    }

    async fn read_marker(&self) -> Result<Option<MarkerRecord>, TierError> {
        let values: Vec<Option<String>> = self
            .tier
            .routed(&read_marker_cmd(&self.tier.marker))
            .await?;
        Ok(MarkerRecord::from_values(&values))
    }

    async fn write_marker(&self, record: &MarkerRecord) -> Result<(), TierError> {
        self.tier
            .routed::<()>(&write_marker_cmd(&self.tier.marker, record))
            .await
    }

    async fn remove_marker(&self) -> Result<(), TierError> {
        self.tier
            .routed::<()>(redis::cmd("UNLINK").arg(&self.tier.marker))
            .await
    }

    async fn existing(&self, names: &[String]) -> Result<Vec<String>, TierError> {
        let types: Vec<String> = self.per_name("TYPE", names).await?;
        Ok(names
            .iter()
            .zip(types)
            .filter(|(_, t)| t != "none")
            .map(|(n, _)| n.clone())
            .collect())
    }

    async fn remove(&self, names: &[String]) -> Result<u64, TierError> {
        let removed: Vec<u64> = self.per_name("UNLINK", names).await?;
        Ok(removed.iter().sum())
    }

    async fn before_first_write(&self, names: u64, key_names: &KeyNames) -> Result<(), Refusal> {
        let mut room = MemoryRoom::default();
        for primary in &self.primaries {
            let mut conn = primary.conn.clone();
            let name = &primary.name;
            let error = |e: redis::RedisError| {
                TierError::Operation(format!("primary {name}: {}", redis_message(&e)))
            };
            let memory: String = bounded(
                self.tier.timeout,
                redis::cmd("INFO").arg("memory").query_async(&mut conn),
                error,
            )
            .await?;
            let keyspace: String = bounded(
                self.tier.timeout,
                redis::cmd("INFO").arg("keyspace").query_async(&mut conn),
                error,
            )
            .await?;
            room.add(MemoryRoom::read(&memory, &keyspace));
        }
        room.refuse_eviction(names, key_names)
            .map_err(Refusal::Refused)
    }
}
