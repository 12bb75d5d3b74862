//! The cache operation itself (`Op`): get, set, delete, touch, their batch forms (mget,
//! mset, mdelete: one call for many keys), and the scenario's custom Redis commands.
//!
//! Its own file because the mix (`ops`), traces (`trace`), recorders and thresholds all name
//! operations: each of them imports this leaf, none needs the others for it.

use serde::Serialize;

/// One cache operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Read a key.
    Get,
    /// Write a key.
    Set,
    /// Remove a key.
    Delete,
    /// Refresh a key's time to live.
    Touch,
    /// Read a batch of keys in one call per tier.
    MGet,
    /// Write a batch of keys in one call per tier.
    MSet,
    /// Remove a batch of keys in one call per tier.
    MDelete,
    /// The scenario's custom Redis command at this index of its `commands` (in name order):
    /// named by [`Op::label`], not [`Op::name`].
    Command(u16),
}

impl Op {
    /// How many operations there are (array sizes in recorders).
    pub const COUNT: usize = 7;
    /// Every operation, in index order.
    pub const ALL: [Op; Op::COUNT] = [
        Op::Get,
        Op::Set,
        Op::Delete,
        Op::Touch,
        Op::MGet,
        Op::MSet,
        Op::MDelete,
    ];

    /// Dense index for per-operation arrays: the built-ins `0..COUNT`, then custom command `i`
    /// at `COUNT + i`.
    pub const fn index(self) -> usize {
        match self {
            Op::Get => 0,
            Op::Set => 1,
            Op::Delete => 2,
            Op::Touch => 3,
            Op::MGet => 4,
            Op::MSet => 5,
            Op::MDelete => 6,
            Op::Command(i) => Op::COUNT + i as usize,
        }
    }

    /// The operation at a dense index (the inverse of [`Op::index`]).
    pub const fn from_index(i: usize) -> Op {
        if i < Op::COUNT {
            Op::ALL[i]
        } else {
            Op::Command((i - Op::COUNT) as u16)
        }
    }

    /// The name used in scenarios, thresholds and results: a built-in's own, a custom
    /// command's from `commands` (the scenario's, indexed like `Op::Command`).
    pub fn label(self, commands: &[super::command::CustomCommand]) -> &str {
        match self {
            Op::Command(i) => commands
                .get(usize::from(i))
                .map_or("command", |c| c.template.name.as_str()),
            op => op.name(),
        }
    }

    /// The name of a built-in operation (`command` for every custom one: see [`Op::label`]).
    pub const fn name(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::Set => "set",
            Op::Delete => "delete",
            Op::Touch => "touch",
            Op::MGet => "mget",
            Op::MSet => "mset",
            Op::MDelete => "mdelete",
            Op::Command(_) => "command",
        }
    }

    /// True for the batch operations (mget, mset, mdelete).
    pub const fn is_batch(self) -> bool {
        matches!(self, Op::MGet | Op::MSet | Op::MDelete)
    }

    /// The single-key operation a batch operation does per key (itself for the others).
    pub const fn per_key(self) -> Op {
        match self {
            Op::MGet => Op::Get,
            Op::MSet => Op::Set,
            Op::MDelete => Op::Delete,
            other => other,
        }
    }

    /// True for a custom Redis command.
    pub const fn is_command(self) -> bool {
        matches!(self, Op::Command(_))
    }

    /// The built-in operation named `name`.
    pub fn from_name(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.name() == name)
    }
}
