//! Semantic checks of custom Redis commands: the `commands` map (each template parsed by
//! `workload::command`, its problems placed at the offending argument), the names a `mix` or
//! `sequence` may use (built-ins and declared commands, with a did-you-mean), and where a
//! workload issuing custom commands may run (a lone, non-cluster Redis tier).
//!
//! Its own file because these checks span the scenario (the declarations) and each workload
//! (their use), and `workload_checks` is about the rest of a workload.

use std::sync::Arc;

use super::diagnostic::Problem;
use super::locate::push_pointer;
use super::model::{MixFile, ScenarioFile, StepName, TierFile, WorkloadFile};
use crate::suggest::did_you_mean;
use crate::workload::command::{BUILT_IN_NAMES, CommandTemplate, CustomCommand};
use crate::workload::op::Op;
use crate::workload::ops::OpMix;

/// The declared commands, in name order (the order of `Op::Command` indices).
pub(super) struct Commands {
    /// Every declared name, valid or not (a mix naming an invalid one is not a second problem).
    pub names: Vec<String>,
    /// The checked commands, one per name; `None` when any was refused.
    pub checked: Option<Arc<[CustomCommand]>>,
}

/// Checks every declared command.
pub(super) fn check_commands(file: &ScenarioFile, problems: &mut Vec<Problem>) -> Commands {
    let mut checked = Vec::new();
    let mut valid = true;
    for (name, command) in &file.commands {
        let at = push_pointer("/commands", name);
        match CommandTemplate::parse(name, command.args()) {
            Ok(template) => {
                let fields = match (template.uses_field(), command.fields()) {
                    (true, Some(n)) if n > 0 => n,
                    (true, Some(_)) => {
                        problems.push(
                            Problem::new(format!("{at}/fields"), "`fields` must be at least 1")
                                .hint("`{field}` takes the values 0..fields"),
                        );
                        valid = false;
                        1
                    }
                    (true, None) => {
                        problems.push(
                            Problem::new(&at, format!("command `{name}` uses `{{field}}` but says not how many fields there are"))
                                .expected("`fields`: how many field indices `{field}` ranges over")
                                .hint(format!(
                                    "write `{name}: {{ command: [...], fields: 16 }}`: `{{field}}` is then 0..15"
                                )),
                        );
                        valid = false;
                        1
                    }
                    (false, Some(_)) => {
                        problems.push(
                            Problem::new(format!("{at}/fields"), format!("command `{name}` has `fields` but no argument uses `{{field}}`"))
                                .hint("put `{field}` in an argument (`\"field:{field}\"`), or remove `fields`"),
                        );
                        valid = false;
                        1
                    }
                    (false, None) => 1,
                };
                checked.push(CustomCommand { template, fields });
            }
            Err(e) => {
                valid = false;
                let pointer = match e.index {
                    Some(i) if i < command.args().len() => {
                        format!("{at}{}", command.arg_pointer(i))
                    }
                    Some(_) if !command.args().is_empty() => {
                        // Past the last argument (a missing `{key}`): the list itself.
                        match command {
                            super::model::CommandFile::Args(_) => at.clone(),
                            super::model::CommandFile::Full(_) => format!("{at}/command"),
                        }
                    }
                    _ => at.clone(),
                };
                problems.push(
                    Problem::new(pointer, format!("custom command `{name}` is refused"))
                        .expected(e.expected)
                        .hint(e.hint),
                );
            }
        }
    }
    if checked.len() > usize::from(u16::MAX) {
        problems.push(Problem::new("/commands", "too many custom commands"));
        valid = false;
    }
    Commands {
        names: file.commands.keys().cloned().collect(),
        checked: valid.then(|| checked.into()),
    }
}

/// The operation a mix or sequence names: a built-in, or a declared command.
fn resolve_name(
    name: &str,
    commands: &Commands,
    pointer: &str,
    problems: &mut Vec<Problem>,
) -> Option<Op> {
    if let Some(op) = Op::from_name(name) {
        return Some(op);
    }
    if let Some(i) = commands.names.iter().position(|n| n == name) {
        return Some(Op::Command(i as u16));
    }
    // A declared command named like a built-in is refused at its declaration: not listed.
    let custom: Vec<String> = commands
        .names
        .iter()
        .filter(|n| Op::from_name(n).is_none())
        .cloned()
        .collect();
    let known: Vec<String> = BUILT_IN_NAMES
        .iter()
        .map(|s| s.to_string())
        .chain(custom.iter().cloned())
        .collect();
    let declared = if custom.is_empty() {
        "none declared".to_string()
    } else {
        custom.join(", ")
    };
    problems.push(
        Problem::new(
            pointer,
            format!("unknown operation `{name}`{}", did_you_mean(name, &known)),
        )
        .expected("a built-in operation or a command declared under `commands`")
        .hint(format!(
            "built-in: {}; custom commands: {declared}",
            BUILT_IN_NAMES.join(", ")
        )),
    );
    None
}

/// A mix's weights by operation; `None` after a problem.
pub(super) fn resolve_mix(
    mix: &MixFile,
    commands: &Commands,
    base: &str,
    problems: &mut Vec<Problem>,
) -> Option<OpMix> {
    let mut weights = vec![0u32; Op::COUNT + commands.names.len()];
    let mut known = true;
    for (name, &weight) in &mix.0 {
        let at = push_pointer(&format!("{base}/mix"), name);
        match resolve_name(name, commands, &at, problems) {
            Some(op) => weights[op.index()] = weight,
            None => known = false,
        }
    }
    let m = OpMix::new(&weights);
    if m.is_none() && known {
        problems.push(
            Problem::new(format!("{base}/mix"), "every weight is zero").hint(
                "give at least one operation a positive weight, e.g. `mix: { get: 90, set: 10 }`",
            ),
        );
    }
    m.filter(|_| known)
}

/// A sequence's operations; `None` after a problem.
pub(super) fn resolve_sequence(
    seq: &[StepName],
    commands: &Commands,
    base: &str,
    problems: &mut Vec<Problem>,
) -> Option<Vec<Op>> {
    let ops: Vec<Option<Op>> = seq
        .iter()
        .enumerate()
        .map(|(i, step)| resolve_name(&step.0, commands, &format!("{base}/sequence/{i}"), problems))
        .collect();
    ops.into_iter().collect()
}

/// A workload issuing custom commands runs on one non-cluster Redis tier, unpipelined, with
/// no verify or simulate mode.
pub(super) fn check_command_workload(
    file: &ScenarioFile,
    w: &WorkloadFile,
    target: &[usize],
    stacked: bool,
    ops: &[Op],
    base: &str,
    problems: &mut Vec<Problem>,
) {
    let Some(first) = ops.iter().find_map(|op| match op {
        Op::Command(i) => file.commands.keys().nth(usize::from(*i)),
        _ => None,
    }) else {
        return;
    };
    let redis = match (stacked, target) {
        (false, [t]) => match &file.tiers[*t] {
            TierFile::Redis(r) => Some(r),
            _ => None,
        },
        _ => None,
    };
    let Some(redis) = redis else {
        let what = if stacked {
            "a stack".to_string()
        } else {
            target
                .first()
                .map_or("no tier".into(), |t| match &file.tiers[*t] {
                    TierFile::Memory(m) => format!("memory tier `{}`", m.name),
                    TierFile::Sql(s) => format!("SQL tier `{}`", s.name),
                    TierFile::Redis(r) => format!("Redis tier `{}`", r.name),
                    TierFile::Memcached(m) => format!("memcached tier `{}`", m.name),
                })
        };
        problems.push(
            Problem::new(
                format!("{base}/target"),
                format!("custom command `{first}` needs a lone Redis tier, but the target is {what}"),
            )
            .expected("`target:` the name of one (non-cluster) Redis tier")
            .hint("custom commands are Redis commands: run them in a workload of their own that targets the Redis tier"),
        );
        return;
    };
    let refuse = |what: &str, hint: &str, problems: &mut Vec<Problem>| {
        problems.push(
            Problem::new(base, format!("custom command `{first}` cannot run {what}"))
                .hint(hint.to_string()),
        );
    };
    if redis.cluster == Some(true) {
        refuse(
            &format!("on Redis Cluster tier `{}` yet", redis.name),
            "target a single Redis (not `cluster: true`)",
            problems,
        );
    }
    if redis.pipeline.unwrap_or(1) > 1 {
        refuse(
            &format!("with tier `{}`'s explicit `pipeline` yet", redis.name),
            "remove the tier's `pipeline`, or move the custom commands to a workload on another Redis tier",
            problems,
        );
    }
    if w.verify {
        refuse(
            "in verify mode (it writes keys without a version)",
            "remove `verify`",
            problems,
        );
    }
    if w.simulate {
        refuse(
            "simulated (simulation replays in-process caches)",
            "remove `simulate`",
            problems,
        );
    }
}
