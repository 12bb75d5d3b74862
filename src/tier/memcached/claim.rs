//! A memcached server's side of the claim (`ownership/claim.rs`): the marker is the key
//! `{prefix}__tierbench__`, its value the run's record as text (`MarkerRecord::to_text`,
//! written with `ms` and no expiry); a name is looked up with `me` (meta debug: it counts no
//! get and leaves the LRU alone, so `stats` still counts exactly the workload's) and removed
//! with `md`, each batch in one round trip.
//!
//! Before the first write, the server's room is checked: memcached evicts the least recently
//! used items when it is full, the user's as readily as tierbench's, so a key space that may
//! not fit in what the server has free is refused.

use super::MemcachedTier;
use super::meta;
use super::stats;
use crate::tier::error::TierError;
use crate::tier::ownership::claim::{NameStore, Refusal};
use crate::tier::ownership::key_names::{KeyNames, MarkerRecord};
use crate::tier::wire::bounded;
use crate::tier::wire::lane::Answer;
use crate::workload::op::Op;

/// Bytes memcached's item header takes beside the key and value (with CAS), and the slab
/// rounding on top of it (classes 1.25 apart): the estimate the room check uses.
pub(super) const ITEM_HEADER: u64 = 56;
const SLAB_ROUNDING: f64 = 1.25;

impl MemcachedTier {
    /// One command per name, in one round trip; the answers in order.
    async fn per_name(
        &self,
        names: &[String],
        encode: impl Fn(&mut Vec<u8>, &str),
    ) -> Result<Vec<Answer>, TierError> {
        let mut answers = Vec::with_capacity(names.len());
        let call = self.lanes[0].many(
            names.len(),
            false,
            |out| names.iter().for_each(|n| encode(out, n)),
            &mut answers,
        );
        bounded(self.timeout, call, TierError::Operation).await?;
        if let Some(said) = answers.iter().find_map(|a| match a {
            Answer::Failed(said) => Some(said.clone()),
            _ => None,
        }) {
            return Err(TierError::Operation(said));
        }
        Ok(answers)
    }
}

impl NameStore for MemcachedTier {
    fn nouns(&self) -> (String, String) {
        ("key".into(), "keys".into())
    }

    async fn read_marker(&self) -> Result<Option<MarkerRecord>, TierError> {
        let marker = &self.marker;
        let call = self.lanes[0].one(true, |out| meta::encode(out, Op::Get, marker, &[], None));
        match bounded(self.timeout, call, TierError::Operation).await? {
            Answer::Value(v) => Ok(MarkerRecord::from_text(&String::from_utf8_lossy(&v))),
            Answer::Failed(said) => Err(TierError::Operation(said)),
            _ => Ok(None),
        }
    }

    async fn write_marker(&self, record: &MarkerRecord) -> Result<(), TierError> {
        let text = record.to_text();
        let marker = &self.marker;
        let call = self.lanes[0].one(false, |out| {
            meta::encode(out, Op::Set, marker, text.as_bytes(), None)
        });
        match bounded(self.timeout, call, TierError::Operation).await? {
            Answer::Failed(said) => Err(TierError::Operation(said)),
            _ => Ok(()),
        }
    }

    async fn remove_marker(&self) -> Result<(), TierError> {
        self.per_name(std::slice::from_ref(&self.marker), |out, n| {
            meta::encode(out, Op::Delete, n, &[], None)
        })
        .await
        .map(drop)
    }

    async fn existing(&self, names: &[String]) -> Result<Vec<String>, TierError> {
        let answers = self.per_name(names, meta::encode_exists).await?;
        Ok(names
            .iter()
            .zip(answers)
            .filter(|(_, a)| !matches!(a, Answer::Nil))
            .map(|(n, _)| n.clone())
            .collect())
    }

    async fn remove(&self, names: &[String]) -> Result<u64, TierError> {
        if names.is_empty() {
            return Ok(0);
        }
        let answers = self
            .per_name(names, |out, n| meta::encode(out, Op::Delete, n, &[], None))
            .await?;
        Ok(answers.iter().filter(|a| !matches!(a, Answer::Nil)).count() as u64)
    }

    async fn before_first_write(&self, names: u64, key_names: &KeyNames) -> Result<(), Refusal> {
        let now = self.stats("stats").await?;
        let settings = self.stats("stats settings").await?;
        if settings.get("evictions").map(String::as_str) == Some("off") {
            return Ok(()); // a full server refuses writes (`-M`) rather than evicting
        }
        let limit = stats::number(&now, "limit_maxbytes");
        let used = stats::slab_bytes(&self.stats("stats slabs").await?);
        let per_item = ITEM_HEADER + key_names.mean_name_bytes() + key_names.mean_value_bytes();
        let needed = (names as f64 * per_item as f64 * SLAB_ROUNDING) as u64;
        let free = limit.saturating_sub(used);
        if needed > free {
            return Err(Refusal::Refused(format!(
                "the run writes {names} keys, about {} MiB in memcached's slabs, and the \
                 server has about {} MiB free of its {} MiB (-m): it would evict other \
                 clients' items to make room; use fewer keys (data.keys.count), smaller values, \
                 or a server of its own",
                needed >> 20,
                free >> 20,
                limit >> 20
            )));
        }
        Ok(())
    }
}
