//! What a run command runs on: the async runtime (`--threads`, and its default) and the
//! progress display (`-q`, `--progress-interval`), each read from the command line with a
//! clear error.

use std::time::Duration;

use crate::cli::RunArgs;
use crate::engine::progress::Progress;
use crate::scenario::plan::Scenario;
use crate::tier::config::TierKindConfig;
use crate::units::parse_duration;

/// The most workers a workload may have for the default to leave the server a core: with
/// thousands of workers, one runtime thread does less than two (2,000 workers: 569k against
/// 815k ops/s on 2 cores, docs/performance.md).
const ONE_THREAD_MAX_WORKERS: usize = 500;

/// The runtime's threads: `--threads`, else the default below with the note that says why.
pub(super) fn threads(given: Option<u16>, scenario: &Scenario) -> (Option<u16>, Option<String>) {
    match given {
        Some(t) => (Some(t), None),
        None => {
            let cores = std::thread::available_parallelism().map_or(1, usize::from);
            default_threads(scenario, cores)
        }
    }
}

/// The runtime's threads when `--threads` is not given, and why (for the report): one per
/// core, but one fewer when the scenario's servers are caches (Redis, memcached) all on this
/// machine (a loopback address, `localhost` or a unix socket), pipelined (`pipeline` above
/// 1), with at most `ONE_THREAD_MAX_WORKERS` workers. Such a server competes with the client
/// for the same cores: left one, it answers sooner, and the pipelined client's CPU per
/// operation drops (no reply waking a task another thread holds): at depth 10 on 2 cores one
/// thread gave more throughput at less CPU, at depth 1 two threads as much or more
/// (docs/performance.md). memtier_benchmark users set `-t` the same way. Everything else keeps
/// one thread per core: depth 1, SQL servers (measured with one per core), remote servers, and
/// scenarios with no server (in-process and SQLite tiers).
pub(super) fn default_threads(scenario: &Scenario, cores: usize) -> (Option<u16>, Option<String>) {
    let pipelined = scenario.tiers.iter().any(|t| match &t.kind {
        TierKindConfig::Redis(r) => r.pipeline > 1,
        TierKindConfig::Memcached(m) => m.pipeline > 1,
        _ => false,
    });
    let servers: Vec<&str> = scenario
        .tiers
        .iter()
        .flat_map(|t| match &t.kind {
            TierKindConfig::Memory { .. } => Vec::new(),
            TierKindConfig::Redis(r) => std::iter::once(r.url.as_str())
                .chain(r.seeds.iter().map(String::as_str))
                .collect(),
            TierKindConfig::Memcached(m) => vec![m.url.as_str()],
            TierKindConfig::Sql(s) if s.url.starts_with("sqlite:") => Vec::new(),
            // Not a cache server: keeps every core (the check below fails on it).
            TierKindConfig::Sql(_) => vec![""],
        })
        .collect();
    let workers = scenario.workloads.iter().map(|w| w.concurrency).max();
    if cores < 2
        || !pipelined
        || servers.is_empty()
        || !servers.iter().all(|u| on_this_machine(u))
        || workers.is_some_and(|w| w > ONE_THREAD_MAX_WORKERS)
    {
        return (None, None);
    }
    let threads = u16::try_from(cores - 1).unwrap_or(u16::MAX);
    let note = format!(
        "runtime threads: {threads} of {cores} cores, leaving a core to the pipelined cache \
         servers under test on this machine (--threads N to choose)"
    );
    (Some(threads), Some(note))
}

/// Whether `url` names this machine: a unix socket, `localhost`, or a loopback address.
fn on_this_machine(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    let socket_param = parsed
        .query_pairs()
        .any(|(k, v)| k == "socket" || (k == "host" && v.starts_with('/')));
    if parsed.scheme().contains("unix") || socket_param {
        return true;
    }
    match parsed.host() {
        // Schemes the URL standard does not know (redis, memcache) keep their host opaque: an
        // address comes as a domain.
        Some(url::Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost")
                || d.trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        // `postgres:///db`: the default, a local socket.
        None => parsed.scheme().starts_with("postgres"),
    }
}

/// The async runtime for `--threads`. One thread: a current-thread runtime (everything on the
/// main thread, no parking and waking of a second one); more: the multi-thread runtime with
/// that many workers. `None` after printing why it cannot start.
pub(super) fn runtime(threads: Option<u16>) -> Option<tokio::runtime::Runtime> {
    let mut builder = match threads {
        Some(1) => tokio::runtime::Builder::new_current_thread(),
        _ => tokio::runtime::Builder::new_multi_thread(),
    };
    if let Some(threads) = threads.filter(|&t| t > 1) {
        builder.worker_threads(usize::from(threads));
    }
    builder
        .enable_all()
        .build()
        .inspect_err(|e| eprintln!("error: cannot start the async runtime: {e}"))
        .ok()
}

/// The progress display: bars on a terminal, a line every `--progress-interval` otherwise,
/// nothing with `-q`. `None` after printing why the interval is wrong.
pub(super) fn progress(args: &RunArgs) -> Option<Progress> {
    let interval = match args.progress_interval.as_deref().map(parse_duration) {
        None => Duration::from_secs(5),
        Some(Ok(d)) if !d.is_zero() => d,
        Some(Ok(_)) => {
            eprintln!("error: --progress-interval must be longer than 0 s");
            return None;
        }
        Some(Err(e)) => {
            eprintln!("error: --progress-interval: {e}");
            return None;
        }
    };
    Some(if args.quiet {
        Progress::hidden()
    } else {
        Progress::auto(interval)
    })
}

#[cfg(test)]
mod tests {
    use super::on_this_machine;

    #[test]
    fn loopback_localhost_and_sockets_are_this_machine() {
        for local in [
            "redis://127.0.0.1:6379",
            "rediss://localhost:6380",
            "redis://[::1]:6379",
            "redis+unix:///run/redis.sock",
            "unix:///tmp/memcached.sock",
            "memcache://127.0.0.1:11211",
            "postgres://postgres@127.0.0.1:5432/test",
            "postgres:///test?host=/var/run/postgresql",
            "mysql://root@localhost/test?socket=/run/mysqld/mysqld.sock",
        ] {
            assert!(on_this_machine(local), "{local}");
        }
        for remote in [
            "redis://10.0.0.5:6379",
            "redis://cache.internal:6379",
            "memcache://192.168.1.2:11211",
            "mysql://root@db.example.com/test",
            "not a url",
        ] {
            assert!(!on_this_machine(remote), "{remote}");
        }
    }
}
