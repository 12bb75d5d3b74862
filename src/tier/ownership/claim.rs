//! The one guard every shared tier passes before its first write: claim exactly the run's names
//! (`key_names`), refuse when one of them is already there and is not tierbench's, and remove
//! an interrupted run's names exactly. Redis, Redis Cluster and a SQL table the user owns each
//! implement [`NameStore`] (read, write and remove the marker; which names exist; remove names)
//! and share this sequence, so no backend can skip a step:
//!
//! 1. read the marker under the prefix; the marker of this very run (another tier of the run,
//!    or another shard, on the same server) means the names are this run's: done;
//! 2. an earlier run's marker (killed, or `keep: true`): remove the names it records, then it;
//! 3. look every name up; the first that exists stops the run before anything is written,
//!    unless the marker now is this run's (another shard claimed the prefix meanwhile);
//! 4. the backend's own check before writing (Redis: will the key space fit without evicting
//!    the user's data?);
//! 5. write this run's marker, recording its key space.

use crate::tier::error::TierError;
use crate::tier::ownership::key_names::{KeyNames, MarkerRecord};
use crate::tier::ownership::marker::{count, run_token, say};

/// Where a run's names live on a shared server: what the claim needs of a backend.
pub(in crate::tier) trait NameStore {
    /// What a name is called in messages, one and many (`key`, "row of table `cache`").
    fn nouns(&self) -> (String, String);
    /// The marker's record, if there is a marker.
    async fn read_marker(&self) -> Result<Option<MarkerRecord>, TierError>;
    /// Writes (replaces) the marker.
    async fn write_marker(&self, record: &MarkerRecord) -> Result<(), TierError>;
    /// Removes the marker.
    async fn remove_marker(&self) -> Result<(), TierError>;
    /// Which of `names` exist now.
    async fn existing(&self, names: &[String]) -> Result<Vec<String>, TierError>;
    /// How many of `names` exist now.
    async fn count(&self, names: &[String]) -> Result<u64, TierError> {
        Ok(self.existing(names).await?.len() as u64)
    }
    /// Removes `names` (those that exist); returns how many were removed.
    async fn remove(&self, names: &[String]) -> Result<u64, TierError>;
    /// The check before the first write, given how many names the run writes; `Err` is the
    /// refusal's text.
    async fn before_first_write(&self, _names: u64, _key_names: &KeyNames) -> Result<(), Refusal> {
        Ok(())
    }
}

/// Why a claim did not go through.
#[derive(Debug)]
pub(in crate::tier) enum Refusal {
    /// The user's data is in the way: the run must not write (the text says what and why).
    Refused(String),
    /// The server failed while checking.
    Failed(TierError),
}

impl From<TierError> for Refusal {
    fn from(e: TierError) -> Refusal {
        Refusal::Failed(e)
    }
}

impl Refusal {
    /// The setup error of tier `tier` at `url` (redacted).
    pub(in crate::tier) fn into_setup(self, tier: &str, url: String) -> TierError {
        let message = match self {
            Refusal::Refused(text) => text,
            Refusal::Failed(e) => format!("cannot check the names this run writes: {e}"),
        };
        TierError::Setup {
            tier: tier.to_string(),
            url,
            message,
        }
    }
}

/// Claims `names` on `store` for this run (steps 1–5 above); returns the note said about an
/// earlier run's names that were removed, if any.
pub(in crate::tier) async fn claim<S: NameStore>(
    store: &S,
    tier: &str,
    names: &KeyNames,
) -> Result<Option<String>, Refusal> {
    let token = run_token();
    let mut note = None;
    match store.read_marker().await? {
        Some(found) if found.run == token => return Ok(None),
        Some(found) => note = remove_earlier(store, tier, names, &found).await?,
        None => {}
    }
    let total = match refuse_existing(store, names).await {
        // Another shard of this very run may have claimed the prefix while these names were
        // looked up (its marker written, its preload begun): what was found is then this run's.
        Err(Refusal::Refused(text)) => match store.read_marker().await? {
            Some(found) if found.run == token => return Ok(note),
            _ => return Err(Refusal::Refused(text)),
        },
        other => other?,
    };
    store.before_first_write(total, names).await?;
    store.write_marker(&names.record(token)).await?;
    Ok(note)
}

/// Removes what the earlier run behind `found` wrote, then its marker; the note to say.
async fn remove_earlier<S: NameStore>(
    store: &S,
    tier: &str,
    names: &KeyNames,
    found: &MarkerRecord,
) -> Result<Option<String>, TierError> {
    let (earlier, complete) = names.recorded_by(found);
    let removed = remove_all(store, &earlier).await?;
    store.remove_marker().await?;
    let (how, who) = if found.kept {
        ("kept", "an earlier tierbench run (keep: true)")
    } else {
        ("left", "an interrupted tierbench run")
    };
    let prefix = names.prefix();
    let mut text = (removed > 0).then(|| {
        let (one, many) = store.nouns();
        let what = count(removed, &one, &many);
        format!("tier `{tier}`: removed {what} {how} under `{prefix}` by {who}")
    });
    if !complete {
        let more = format!(
            "tier `{tier}`: an earlier run under `{prefix}` replayed other traces; their keys \
             cannot be listed and were left as they are"
        );
        text = Some(match text {
            Some(t) => format!("{t}; {more}"),
            None => more,
        });
    }
    Ok(text.map(say))
}

/// Looks every name up; the first that exists is refused. Returns how many names there are.
async fn refuse_existing<S: NameStore>(store: &S, names: &KeyNames) -> Result<u64, Refusal> {
    let mut batches = names.batches();
    let mut batch = Vec::new();
    let mut total = 0u64;
    while next(&mut batches, &mut batch)? {
        total += batch.len() as u64;
        if let Some(found) = store.existing(&batch).await?.first() {
            return Err(Refusal::Refused(format!(
                "the {} {found:?} exists and tierbench did not write it: choose a prefix of \
                 your own (data.keys.prefix, e.g. \"tierbench:<scenario name>:\"); nothing \
                 was written",
                store.nouns().0
            )));
        }
    }
    Ok(total)
}

/// Removes every one of `names` that exists; returns how many were removed.
pub(in crate::tier) async fn remove_all<S: NameStore>(
    store: &S,
    names: &KeyNames,
) -> Result<u64, TierError> {
    let mut batches = names.batches();
    let mut batch = Vec::new();
    let mut removed = 0;
    while next(&mut batches, &mut batch)? {
        removed += store.remove(&batch).await?;
    }
    Ok(removed)
}

/// How many of `names` exist.
pub(in crate::tier) async fn count_existing<S: NameStore>(
    store: &S,
    names: &KeyNames,
) -> Result<u64, TierError> {
    let mut batches = names.batches();
    let mut batch = Vec::new();
    let mut found = 0;
    while next(&mut batches, &mut batch)? {
        found += store.count(&batch).await?;
    }
    Ok(found)
}

/// The end of a run: removes its names (unless `keep`) and its marker; with `keep`, the marker
/// stays, marked kept, so the next run knows the names as tierbench's. Returns how many names
/// were removed.
pub(in crate::tier) async fn release<S: NameStore>(
    store: &S,
    names: &KeyNames,
    keep: bool,
) -> Result<u64, TierError> {
    if keep {
        let mut record = names.record(run_token());
        record.kept = true;
        store.write_marker(&record).await?;
        return Ok(0);
    }
    let removed = remove_all(store, names).await?;
    store.remove_marker().await?;
    Ok(removed)
}

fn next(
    batches: &mut crate::tier::ownership::key_names::NameBatches<'_>,
    batch: &mut Vec<String>,
) -> Result<bool, TierError> {
    batches
        .next_batch(batch)
        .map_err(|e| TierError::Operation(format!("cannot read a trace's keys: {e}")))
}
