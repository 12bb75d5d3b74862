//! Where each threshold of a run is written in its scenario file, for CI annotations.
//!
//! The validated plan keeps parsed thresholds, not their places; the result document should say
//! where each one is (`ThresholdResult::source`) so `--report github` can point an annotation
//! at the threshold's own line, also when the document is re-rendered later by `tierbench
//! report`. The file is parsed again with its locations (the same `scenario::format` reader the
//! diagnostics use) and each threshold is matched by workload name and text; one the file does
//! not state (the default error threshold, one a profile or `--set` added) gets its workload's
//! place. Best effort: a file that no longer parses leaves the sources empty.

use serde_json::Value;

use crate::metrics::result::{ResultDocument, ThresholdSource};
use crate::scenario::format::read_document;
use crate::scenario::locate::{Location, Locations};
use crate::scenario::plan::Scenario;

/// Fills `source` on every threshold of the document from the scenario's file.
pub fn fill(scenario: &Scenario, document: &mut ResultDocument) {
    let path = &scenario.source.path;
    let Ok(parsed) = read_document(path, &|name| std::env::var(name).ok()) else {
        return;
    };
    let file = path.display().to_string();
    let locations = &parsed.diagnostics.locations;
    let workloads = parsed.value.get("workloads").and_then(Value::as_array);
    for result in &mut document.workloads {
        let Some((index, workload)) = workloads.and_then(|list| {
            list.iter()
                .enumerate()
                .find(|(_, w)| w.get("name").and_then(Value::as_str) == Some(&result.name))
        }) else {
            continue;
        };
        let written: Vec<&str> = workload
            .get("thresholds")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .map(|t| t.as_str().unwrap_or("").trim())
                    .collect()
            })
            .unwrap_or_default();
        let mut used = vec![false; written.len()];
        for threshold in &mut result.thresholds {
            let text = threshold.text.trim();
            let found = (0..written.len()).find(|&j| !used[j] && written[j] == text);
            let pointer = match found {
                Some(j) => {
                    used[j] = true;
                    format!("/workloads/{index}/thresholds/{j}")
                }
                None => format!("/workloads/{index}"),
            };
            threshold.source = place(locations, &pointer).map(|l| ThresholdSource {
                file: file.clone(),
                line: l.line,
                column: l.column,
            });
        }
    }
}

fn place(locations: &Locations, pointer: &str) -> Option<Location> {
    locations
        .get(pointer)
        .or_else(|| locations.nearest(pointer))
}
