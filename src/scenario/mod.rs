//! Scenario files: parse (YAML/TOML), validate against the generated schema, check, plan.
//!
//! `load` is the whole first stage of the pipeline: a path in, a runnable `plan::Scenario` or
//! every problem with its place out.

mod batch_checks;
mod coherence_checks;
mod command_checks;
mod data_checks;
pub mod diagnostic;
mod effective;
pub mod format;
mod hash_checks;
mod lenient;
pub mod locate;
mod memcached_checks;
pub mod model;
mod model_batch;
mod model_tiers;
pub mod model_verdict;
pub mod origins;
pub mod overrides;
pub mod plan;
mod profiles;
pub mod reference;
pub mod schema;
pub mod shard;
pub mod sharding;
pub mod sweep;
mod tls_checks;
mod trace_checks;
pub mod validate;
mod workload_checks;
mod yaml_budget;

use std::path::Path;

use diagnostic::{Diagnostics, Problem};
use plan::Scenario;

/// Reads, validates and plans the scenario at `path`, expanding `${VAR}` from the process environment.
pub fn load(path: &Path) -> Result<Scenario, Box<Diagnostics>> {
    load_with_env(path, &|name| std::env::var(name).ok())
}

/// Like `load`, with variables looked up in `env`.
pub fn load_with_env(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Scenario, Box<Diagnostics>> {
    load_with(path, &overrides::Overrides::default(), env)
}

/// Reads the scenario, applies the profile, the environment's knobs and `--set`s (in that order
/// of precedence), then validates and plans it.
pub fn load_with(
    path: &Path,
    overrides: &overrides::Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Scenario, Box<Diagnostics>> {
    let document = format::read_document(path, env)?;
    plan_document(document, overrides, env).map(|(scenario, _)| scenario)
}

/// Like `load_with`, with the scenario's `sweep:` planned: every point validated (`None` when
/// the scenario has no sweep).
pub fn load_sweep(
    path: &Path,
    overrides: &overrides::Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Scenario, Option<sweep::SweepPlan>), Box<Diagnostics>> {
    let document = format::read_document(path, env)?;
    plan_document(document, overrides, env)
}

/// Like `load_with`, for scenario text already in memory: `path` names the file in messages,
/// selects the syntax by its extension and anchors relative paths (traces); it is not read.
pub fn load_source(
    path: &Path,
    source: String,
    overrides: &overrides::Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Scenario, Box<Diagnostics>> {
    let document = format::parse_document(path, source, env)?;
    plan_document(document, overrides, env).map(|(scenario, _)| scenario)
}

/// Applies the overrides to a parsed document, then validates and plans it, and its sweep's
/// points when it has one (the base first: its problems are not repeated for every point).
fn plan_document(
    mut document: format::Document,
    overrides: &overrides::Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Scenario, Option<sweep::SweepPlan>), Box<Diagnostics>> {
    let bytes = document.diagnostics.source.clone().into_bytes();
    let mut problems = Vec::new();
    let applied = overrides::apply(&mut document.value, overrides, env, &mut problems);
    document.diagnostics.origins = applied.origins.clone();
    let axes = sweep::take(&mut document.value, &mut problems);
    let base = (!axes.is_empty()).then(|| document.clone());
    let checks_frame = document.diagnostics.clone();
    // The overrides that could not be applied and what validation finds in the rest: one round.
    let frame = (!problems.is_empty()).then(|| document.diagnostics.clone());
    match (validate::validate(document, &bytes), frame) {
        (Ok(mut scenario), None) => {
            let checks = sweep::simulation_problems(&scenario);
            if !checks.is_empty() {
                let mut d = checks_frame;
                d.problems = checks;
                return Err(Box::new(d));
            }
            let plan = match base {
                Some(base) => Some(sweep::plan(&base, &bytes, axes, &applied)?),
                None => None,
            };
            scenario.applied = applied;
            Ok((scenario, plan))
        }
        (Ok(_), Some(mut d)) => {
            d.problems = problems;
            Err(Box::new(d))
        }
        (Err(mut d), _) => {
            problems.append(&mut d.problems);
            if problems.is_empty() {
                problems.push(Problem::new("", "the scenario is invalid"));
            }
            d.problems = problems;
            Err(d)
        }
    }
}
