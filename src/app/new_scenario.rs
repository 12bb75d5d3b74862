//! `tierbench new FILE [--tiers memory,redis,memcached,sql]`: a commented starter scenario, like `k6 new`.
//!
//! The file starts with the editor schema line, so an editor with the YAML language server
//! completes and checks fields as the user types; the schema is written beside it when absent.
//! Every line is valid as written: `tierbench run FILE` works at once on the embedded tiers
//! (and on the local Redis or memcached with `redis` or `memcached`), and the comments say what
//! to change.

use std::fmt::Write as _;
use std::path::Path;

use super::output::write_atomic;
use crate::exit;
use crate::scenario::schema;

/// The tier kinds `--tiers` takes, in stack order.
pub const KINDS: [&str; 4] = ["memory", "redis", "memcached", "sql"];

/// Writes the starter scenario; returns the exit code.
pub fn command(file: &Path, tiers: &[String], force: bool) -> u8 {
    match write(file, tiers, force) {
        Ok(schema_written) => {
            eprintln!("wrote {}", file.display());
            if let Some(schema) = schema_written {
                eprintln!("wrote {} (for editors)", schema.display());
            }
            eprintln!("next: tierbench run {}", file.display());
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::INVALID_INPUT
        }
    }
}

fn write(file: &Path, tiers: &[String], force: bool) -> Result<Option<std::path::PathBuf>, String> {
    let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("");
    if !matches!(ext, "yaml" | "yml") {
        return Err(format!(
            "{}: `new` writes YAML: name the file .yaml or .yml (TOML scenarios run too, \
             but the starter's comments are YAML)",
            file.display()
        ));
    }
    if file.exists() && !force {
        return Err(format!(
            "{} exists: not overwritten (--force replaces it)",
            file.display()
        ));
    }
    let kinds = kinds(tiers)?;
    let schema_name = "scenario.schema.json";
    let text = starter(&kinds, schema_name);
    write_atomic(file, text.as_bytes()).map_err(|e| e.to_string())?;
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty());
    let schema_path = dir.map_or_else(
        || Path::new(schema_name).to_path_buf(),
        |d| d.join(schema_name),
    );
    if schema_path.exists() {
        return Ok(None);
    }
    let json = serde_json::to_string_pretty(&schema::scenario_schema())
        .map_err(|e| format!("cannot write the schema: {e}"))?
        + "\n";
    write_atomic(&schema_path, json.as_bytes()).map_err(|e| e.to_string())?;
    Ok(Some(schema_path))
}

/// The kinds asked for, checked and in stack order (memory above Redis above SQL).
fn kinds(tiers: &[String]) -> Result<Vec<&'static str>, String> {
    let asked: Vec<&str> = tiers
        .iter()
        .flat_map(|t| t.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    if asked.is_empty() {
        return Ok(vec!["memory", "sql"]);
    }
    for a in &asked {
        if !KINDS.contains(a) {
            return Err(format!(
                "--tiers: unknown tier kind `{a}` (choose from: {})",
                KINDS.join(", ")
            ));
        }
    }
    Ok(KINDS.into_iter().filter(|k| asked.contains(k)).collect())
}

/// The scenario text for tiers of `kinds`.
fn starter(kinds: &[&str], schema_name: &str) -> String {
    let mut out = String::new();
    let names: Vec<&str> = kinds
        .iter()
        .map(|k| match *k {
            "memory" => "l1",
            "redis" => "l2",
            "memcached" => "mc",
            _ => "l3",
        })
        .collect();
    let _ = writeln!(out, "# yaml-language-server: $schema={schema_name}");
    let _ = writeln!(out, "name: starter");
    let _ = writeln!(
        out,
        "description: A starter scenario written by `tierbench new`; change it to your cache."
    );
    let _ = writeln!(
        out,
        "seed: 42                    # same seed, same keys and operations"
    );
    let _ = writeln!(out, "tiers:                      # top (fastest) first");
    for (kind, name) in kinds.iter().zip(&names) {
        match *kind {
            "memory" => {
                let _ = writeln!(out, "  - name: {name}");
                let _ = writeln!(out, "    kind: memory");
                let _ = writeln!(
                    out,
                    "    engine: moka            # moka | quick_cache | lru"
                );
                let _ = writeln!(
                    out,
                    "    max_entries: 5000       # smaller than the key space: some reads miss"
                );
            }
            "redis" => {
                let _ = writeln!(out, "  - name: {name}");
                let _ = writeln!(out, "    kind: redis");
                let _ = writeln!(out, "    url: \"${{REDIS_URL:-redis://127.0.0.1:6379}}\"");
                let _ = writeln!(
                    out,
                    "    timeout: 2s             # per operation; a stalled server counts as an error"
                );
            }
            "memcached" => {
                let _ = writeln!(out, "  - name: {name}");
                let _ = writeln!(out, "    kind: memcached");
                let _ = writeln!(
                    out,
                    "    url: \"${{MEMCACHED_URL:-memcache://127.0.0.1:11211}}\""
                );
                let _ = writeln!(
                    out,
                    "    timeout: 2s             # per operation; a stalled server counts as an error"
                );
            }
            _ => {
                let _ = writeln!(out, "  - name: {name}");
                let _ = writeln!(out, "    kind: sql");
                let _ = writeln!(
                    out,
                    "    # sqlite://FILE, postgres://USER@HOST/DB, mysql://USER@HOST/DB"
                );
                let _ = writeln!(out, "    url: \"${{DATABASE_URL:-sqlite::memory:}}\"");
                let _ = writeln!(
                    out,
                    "    table: tierbench_cache  # created (and dropped) by tierbench"
                );
            }
        }
    }
    let _ = writeln!(out, "data:");
    let _ = writeln!(
        out,
        "  keys: {{ count: 20000, prefix: \"starter:\", distribution: zipf, zipf_exponent: 0.99 }}"
    );
    let _ = writeln!(
        out,
        "  values: {{ shape: json, size: 200..400 }}   # text | json | binary"
    );
    let _ = writeln!(out, "defaults:");
    let _ = writeln!(
        out,
        "  warmup: 1000               # operations before measuring, not recorded"
    );
    let _ = writeln!(out, "  concurrency: 2");
    write_workloads(&mut out, &names);
    out
}

/// The starter's workloads. A stack fills only its bottom tier first (as a database holds
/// every key before the caches do), so that every tier above has misses to serve from below: a
/// preload of the whole stack would leave the lower tiers no reads.
fn write_workloads(out: &mut String, names: &[&str]) {
    let _ = writeln!(out, "workloads:");
    let stacked = names.len() > 1;
    if let (true, Some(bottom)) = (stacked, names.last()) {
        let _ = writeln!(out, "  - name: fill");
        let _ = writeln!(
            out,
            "    target: {bottom}                # the bottom tier alone, like the database of record"
        );
        let _ = writeln!(
            out,
            "    preload: true           # write every key once before warmup"
        );
        let _ = writeln!(out, "    ops: 2000");
        let _ = writeln!(out, "    mix: {{ get: 1 }}");
    }
    let _ = writeln!(out, "  - name: reads");
    if stacked {
        let _ = writeln!(
            out,
            "    target: stack           # read-through: a miss falls to the next tier, then the origin"
        );
    } else {
        let _ = writeln!(out, "    target: {}", names[0]);
        let _ = writeln!(
            out,
            "    preload: true           # write every key once before warmup"
        );
    }
    let _ = writeln!(out, "    duration: 5s            # or `ops: 100000`");
    let _ = writeln!(out, "    mix: {{ get: 90, set: 10 }}");
    let _ = writeln!(
        out,
        "    thresholds:             # the run fails (exit 1) when one does not hold"
    );
    let _ = writeln!(out, "      - get.p99 < 5ms");
    let _ = writeln!(out, "      - {}.hit_rate >= 50%", names[0]);
    let _ = writeln!(out, "      - error_rate < 0.1%");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_checked_and_ordered() {
        assert_eq!(
            kinds(&["sql,memory".into()]).unwrap(),
            vec!["memory", "sql"]
        );
        assert_eq!(kinds(&[]).unwrap(), vec!["memory", "sql"]);
        let err = kinds(&["hazelcast".into()]).unwrap_err();
        assert!(
            err.contains("choose from: memory, redis, memcached, sql"),
            "{err}"
        );
    }
}
