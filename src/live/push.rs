//! `--metrics-push URL`: the final figures sent to a Prometheus Pushgateway, for a CI job that
//! ends before any scrape. The grouping key is the scenario and the shard
//! (`/metrics/job/tierbench/scenario@base64/…/shard/…`, base64 so any scenario name is a
//! valid path segment); a second push of the same run replaces the first (PUT).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;

use super::prometheus_text;
use crate::metrics::live::LiveBoard;
use crate::redact::redact_url;

/// How long a push may take before it is given up.
const PUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// The Pushgateway URL for `board`'s run under `base`.
pub fn push_url(base: &str, board: &LiveBoard) -> String {
    let scenario = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&board.info.scenario);
    let shard = if board.info.shard.is_empty() {
        "0".to_string()
    } else {
        board.info.shard.replace('/', "-of-")
    };
    format!(
        "{}/metrics/job/tierbench/scenario@base64/{scenario}/shard/{shard}",
        base.trim_end_matches('/')
    )
}

/// Pushes the board's figures; Err: why not (the server's answer, or the connection's).
pub fn push(base: &str, board: &Arc<LiveBoard>) -> Result<(), String> {
    let url = push_url(base, board);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(PUSH_TIMEOUT))
        .build()
        .into();
    agent
        .put(&url)
        .header("Content-Type", "text/plain; version=0.0.4")
        .send(prometheus_text(board))
        .map(drop)
        .map_err(|e| format!("cannot push the metrics to {}: {e}", redact_url(base)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::live::RunInfo;

    #[test]
    fn the_grouping_key_is_the_scenario_and_the_shard() {
        let board = LiveBoard::new(RunInfo {
            scenario: "a b/c".into(),
            shard: "2/4".into(),
            ..RunInfo::default()
        });
        assert_eq!(
            push_url("http://pg:9091/", &board),
            "http://pg:9091/metrics/job/tierbench/scenario@base64/YSBiL2M/shard/2-of-4"
        );
    }
}
