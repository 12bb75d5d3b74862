//! The trace reader's tests: shared reading, phases, cut lines, formats, recordings.

use super::*;

#[test]
fn csv_lines_parse_and_headers_are_skipped() {
    assert_eq!(parse_csv_line("key,op,size\n"), None);
    assert_eq!(
        parse_csv_line(" user:1 ,set,128,0,w\r\n"),
        Some(TraceRecord {
            key: "user:1",
            op: Op::Set,
            size: Some(128),
            at_ns: None,
            ttl_s: None
        })
    );
    assert_eq!(parse_csv_line("k,get").map(|r| r.op), Some(Op::Get));
    assert_eq!(parse_csv_line(""), None);
    assert_eq!(parse_csv_line("k,fetch"), None);
}

/// Every record of `feed`'s phase, taken by `workers` cursors in turn with these shares.
fn drain(feed: &TraceFeed, phase: usize, shares: &[u64]) -> Vec<Vec<(String, Op)>> {
    let mut cursors: Vec<_> = shares.iter().map(|&s| feed.cursor(phase, s)).collect();
    let mut out = vec![Vec::new(); shares.len()];
    let mut live = true;
    while live {
        live = false;
        for (c, got) in cursors.iter_mut().zip(&mut out) {
            if let Some(r) = c.next_record() {
                got.push((r.key.to_string(), r.op));
                live = true;
            }
        }
    }
    out
}

#[test]
fn workers_share_one_reading_of_a_csv_trace_and_together_issue_all_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    let mut text = String::from("key,op\n");
    for i in 0..5000 {
        text.push_str(&format!(
            "k{i},{}\n",
            if i % 3 == 0 { "set,9" } else { "get" }
        ));
        if i % 1000 == 0 {
            text.push_str("garbage\n\n");
        }
    }
    text.push_str("last,delete"); // no final newline
    std::fs::write(&path, &text).unwrap();
    let feed = TraceFeed::new(path.clone(), TraceFormat::Csv, None);
    let parts = drain(&feed, 1, &[u64::MAX, u64::MAX, u64::MAX]);
    assert!(
        parts.iter().all(|p| !p.is_empty()),
        "every worker got chunks"
    );
    let mut all: Vec<_> = parts.concat();
    assert_eq!(all.len(), 5001);
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 5001, "each record once");
    assert!(all.contains(&("last".into(), Op::Delete)));
    assert!(feed.ended_early(1));
    // The next phase goes on where the last stopped: here, at the end.
    assert_eq!(drain(&feed, 2, &[10, 10]).concat().len(), 0);
    assert!(feed.ended_early(2));
    // Shares cap what each worker takes, and a phase takes up where the one before stopped.
    let feed = TraceFeed::new(path.clone(), TraceFormat::Csv, None);
    let first = drain(&feed, 0, &[1000, 1000]).concat();
    let rest = drain(&feed, 1, &[1500, 1501]).concat();
    assert_eq!((first.len(), rest.len()), (2000, 3001));
    assert!(!feed.ended_early(1), "the shares took exactly the trace");
    let mut both: Vec<_> = first.into_iter().chain(rest).collect();
    both.sort();
    both.dedup();
    assert_eq!(both.len(), 5001, "no record twice, none left out");
    assert_eq!(
        validate_trace(&path, TraceFormat::Csv).map(|c| c.total),
        Ok(5001)
    );
}

#[test]
fn an_overlong_line_is_cut_and_the_next_one_still_parses() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    let long = "x".repeat(3 * MAX_LINE);
    std::fs::write(&path, format!("a,get\n{long},get\nb,set,{long}\nc,touch\n")).unwrap();
    let feed = TraceFeed::new(path, TraceFormat::Csv, None);
    let got = drain(&feed, 0, &[u64::MAX]).concat();
    let keys: Vec<_> = got.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["a", "b", "c"]);
}

#[test]
fn shares_split_an_open_loop_phase() {
    assert_eq!(interleaved_share(10, 0, 3), 4);
    assert_eq!(interleaved_share(10, 1, 3), 3);
    assert_eq!(interleaved_share(10, 2, 3), 3);
    assert_eq!(interleaved_share(2, 2, 3), 0);
    assert_eq!(interleaved_share(u64::MAX, 1, 2), u64::MAX / 2);
}

#[test]
fn oracle_general_records_are_reads_of_their_object_ids() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.oracleGeneral.bin");
    let mut bytes = Vec::new();
    for (ts, id, size) in [(1u32, 42u64, 100u32), (2, 7, 200)] {
        bytes.extend_from_slice(&ts.to_le_bytes());
        bytes.extend_from_slice(&id.to_le_bytes());
        bytes.extend_from_slice(&size.to_le_bytes());
        bytes.extend_from_slice(&(-1i64).to_le_bytes());
    }
    bytes.extend_from_slice(&[1, 2, 3]); // a truncated record is dropped
    std::fs::write(&path, bytes).unwrap();
    let feed = TraceFeed::new(path.clone(), TraceFormat::OracleGeneral, None);
    let mut r = feed.cursor(0, u64::MAX);
    assert_eq!(
        r.next_record().map(|x| (x.key.to_string(), x.op, x.size)),
        Some(("42".into(), Op::Get, Some(100)))
    );
    assert_eq!(r.next_record().map(|x| x.key.to_string()), Some("7".into()));
    assert_eq!(r.next_record(), None);
    assert_eq!(
        validate_trace(&path, TraceFormat::OracleGeneral).map(|c| c.total),
        Ok(2)
    );
    assert!(validate_trace(&dir.path().join("missing"), TraceFormat::Csv).is_err());
}

#[test]
fn a_recording_replays_one_workload_s_records_and_counts_each() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec.csv");
    std::fs::write(
        &path,
        "key,op,size,worker,workload\na,get,1,0,reads\nb,set,9,1,writes\nc,get,1,0,reads\n",
    )
    .unwrap();
    let counts = validate_trace(&path, TraceFormat::Csv).unwrap();
    assert_eq!(counts.total, 3);
    assert_eq!(counts.workloads.get("reads"), Some(&2));
    assert_eq!(counts.workloads.get("writes"), Some(&1));
    let feed = TraceFeed::new(path, TraceFormat::Csv, Some("reads".into()));
    let keys: Vec<String> = drain(&feed, 0, &[u64::MAX])
        .concat()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, ["a", "c"]);
}

/// A multi-key MONITOR command is one record per key, and a worker's share that ends inside
/// it leaves the rest to the next worker: shares of 2, 2 and 3 over `MGET a b c`, `DEL d e`,
/// `MSET f 1 g 2` replay each key once, in order.
#[test]
fn multi_key_commands_replay_every_key_once_across_shares() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("capture.txt");
    std::fs::write(
        &path,
        "OK\n1.0 [0 127.0.0.1:1] \"MGET\" \"a\" \"b\" \"c\"\n\
         1.1 [0 127.0.0.1:1] \"DEL\" \"d\" \"e\"\n\
         1.2 [0 127.0.0.1:1] \"MSET\" \"f\" \"1\" \"g\" \"22\"\n",
    )
    .unwrap();
    assert_eq!(
        validate_trace(&path, TraceFormat::RedisMonitor).map(|c| c.total),
        Ok(7)
    );
    let feed = TraceFeed::new(path, TraceFormat::RedisMonitor, None);
    let taken = drain(&feed, 0, &[2, 2, 3]);
    assert_eq!(taken.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 3]);
    let all: Vec<(String, Op)> = taken.concat();
    let mut keys: Vec<&str> = all.iter().map(|(k, _)| k.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["a", "b", "c", "d", "e", "f", "g"]);
    let ops = |op: Op| all.iter().filter(|(_, o)| *o == op).count();
    assert_eq!((ops(Op::Get), ops(Op::Delete), ops(Op::Set)), (3, 2, 2));
}
