//! memcached's own account of itself: `stats`, `stats settings` and `stats slabs`, read on a
//! connection of their own (their multi-line replies, `STAT name value` lines up to `END`, are
//! no meta reply the measured connections read).
//!
//! What the tier takes from them:
//! - the counts a workload is cross-checked against (`cmd_get`, `get_hits`, `get_misses`,
//!   `cmd_set`, `delete_hits`, `delete_misses`, `cmd_touch`, `touch_hits`, `touch_misses`);
//! - the memory the run's entries take: `stats slabs` `chunk_size × used_chunks` summed over
//!   the slab classes. An item is its header (about 48–56 bytes with CAS), key and value; the
//!   slab allocator stores it in the smallest chunk of its class that fits (classes grow by the
//!   factor `-f`, 1.25 by default), so an entry costs its item size rounded up to its chunk:
//!   `stats` `bytes` counts only the items, `chunk_size × used_chunks` what the server holds
//!   for them;
//! - `evictions`, `limit_maxbytes`, `item_size_max` and whether the server evicts at all
//!   (`stats settings` `evictions on`).

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::tier::wire::lane::{Target, open};

/// The counters a workload's counts are checked against, in `stats`' own names.
pub const COUNTED: [&str; 9] = [
    "cmd_get",
    "get_hits",
    "get_misses",
    "cmd_set",
    "delete_hits",
    "delete_misses",
    "cmd_touch",
    "touch_hits",
    "touch_misses",
];

/// Sends `command` (`stats`, `stats settings`, `stats slabs`) and reads its `STAT` lines into
/// name → value, within `timeout`.
pub async fn read(
    target: &Target,
    command: &str,
    timeout: Duration,
) -> Result<BTreeMap<String, String>, String> {
    let exchange = async {
        let mut stream = open(target).await?;
        stream
            .write_all(format!("{command}\r\n").as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut buf = Vec::with_capacity(4096);
        loop {
            if buf.ends_with(b"END\r\n") || buf.ends_with(b"ERROR\r\n") {
                break;
            }
            if stream.read_buf(&mut buf).await.map_err(|e| e.to_string())? == 0 {
                return Err("the server closed the connection".to_string());
            }
        }
        parse(&String::from_utf8_lossy(&buf))
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(result) => result,
        Err(_) => Err(format!("`{command}`: no answer within {timeout:?}")),
    }
}

/// The `STAT name value` lines of a reply; an error line is the server's refusal.
fn parse(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        if let Some(stat) = line.strip_prefix("STAT ") {
            if let Some((name, value)) = stat.split_once(' ') {
                out.insert(name.to_string(), value.to_string());
            }
        } else if line.ends_with("ERROR") || line.contains("ERROR ") {
            return Err(format!("memcached said: {line:?}"));
        }
    }
    Ok(out)
}

/// A counter's value (0 when the server does not report it).
pub fn number(stats: &BTreeMap<String, String>, name: &str) -> u64 {
    stats.get(name).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// `chunk_size × used_chunks` summed over the slab classes of a `stats slabs` reply (its
/// lines are `STAT <class>:<field> <value>`).
pub fn slab_bytes(slabs: &BTreeMap<String, String>) -> u64 {
    slabs
        .iter()
        .filter_map(|(name, value)| {
            let class = name.strip_suffix(":used_chunks")?;
            let used: u64 = value.parse().ok()?;
            Some(used * number(slabs, &format!("{class}:chunk_size")))
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_are_read_and_slabs_summed() {
        let text = "STAT 1:chunk_size 96\r\nSTAT 1:used_chunks 10\r\nSTAT 5:chunk_size 240\r\n\
                    STAT 5:used_chunks 2\r\nSTAT active_slabs 2\r\nEND\r\n";
        let slabs = parse(text).unwrap();
        assert_eq!(slab_bytes(&slabs), 96 * 10 + 240 * 2);
        assert_eq!(number(&slabs, "active_slabs"), 2);
        assert_eq!(number(&slabs, "absent"), 0);
        let e = parse("CLIENT_ERROR bad command line format\r\n").unwrap_err();
        assert!(e.contains("bad command line format"), "{e}");
    }
}
