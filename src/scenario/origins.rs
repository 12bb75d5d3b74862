//! Where the nodes of the effective document came from when the file did not write them.
//!
//! Profiles, `TIERBENCH_*` variables and `--set` change the document before validation, so a
//! mistake they bring in is found at a pointer of the document. Pointing it at the file's line
//! there would blame text the user did not write: `Origins` remembers, per pointer, the override
//! (or the scenario profile's own node) that wrote it, and the rendering names that instead.

use std::collections::BTreeMap;

/// What wrote a node of the effective document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A command-line or environment override, as written (`--set workloads.reads.ops=abc`,
    /// `TIERBENCH_OPS=abc`), passwords redacted.
    Override(String),
    /// A scenario profile's patch: the profile's name and the pointer of the patch's node in the
    /// file (`/profiles/strict/workloads/reads/thresholds`), where its text is.
    Profile {
        /// The profile.
        name: String,
        /// Pointer of the node in the file that was copied.
        pointer: String,
    },
}

/// Origins by JSON pointer of the effective document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origins {
    map: BTreeMap<String, Origin>,
}

impl Origins {
    /// Records that `origin` wrote the node at `pointer` (and everything under it): what was
    /// recorded under it before is gone, replaced.
    pub fn record(&mut self, pointer: &str, origin: Origin) {
        let below = format!("{pointer}/");
        self.map
            .retain(|p, _| p != pointer && !(pointer.is_empty() || p.starts_with(&below)));
        self.map.insert(pointer.to_string(), origin);
    }

    /// The origin of the node at `pointer`: recorded at it or at its nearest ancestor. For a
    /// profile, the pointer into the file where the node's text is.
    pub fn of(&self, pointer: &str) -> Option<(Origin, Option<String>)> {
        let mut p = pointer;
        loop {
            if let Some(origin) = self.map.get(p) {
                let in_file = match origin {
                    Origin::Profile { pointer: at, .. } => {
                        Some(format!("{at}{}", &pointer[p.len()..]))
                    }
                    Origin::Override(_) => None,
                };
                return Some((origin.clone(), in_file));
            }
            let cut = p.rfind('/')?;
            p = &p[..cut];
        }
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_record_over_a_node_wins_and_descendants_inherit() {
        let mut o = Origins::default();
        o.record(
            "/workloads/0/thresholds",
            Origin::Profile {
                name: "strict".into(),
                pointer: "/profiles/strict/workloads/reads/thresholds".into(),
            },
        );
        o.record("/defaults/ops", Origin::Override("TIERBENCH_OPS=x".into()));
        assert_eq!(
            o.of("/workloads/0/thresholds/1").map(|(_, at)| at),
            Some(Some(
                "/profiles/strict/workloads/reads/thresholds/1".to_string()
            ))
        );
        assert!(o.of("/workloads/0/mix").is_none());
        o.record(
            "/workloads/0",
            Origin::Override("--set workloads.0={}".into()),
        );
        assert_eq!(
            o.of("/workloads/0/thresholds/1").map(|(o, _)| o),
            Some(Origin::Override("--set workloads.0={}".into()))
        );
        assert_eq!(
            o.of("/defaults/ops").map(|(o, _)| o),
            Some(Origin::Override("TIERBENCH_OPS=x".into()))
        );
    }
}
