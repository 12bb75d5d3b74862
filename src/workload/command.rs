//! Custom Redis command templates (`commands: { hset_session: ["HSET", "{key}", "f", "{value}"] }`):
//! checked once and pre-split into literal bytes and placeholders, so a worker writes one command
//! per operation with no parsing, formatting or allocation beyond the command bytes.
//!
//! The safety rule lives here, next to the parsing, because it is what keeps cleanup honest: the
//! only key a command may touch is the operation's own key (under the run's prefix), so the
//! command's first argument must be exactly `{key}`, and commands that reach other keys, the whole
//! keyspace or the server itself are refused whatever their arguments.

use std::fmt;

/// One piece of an argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Bytes written as they are.
    Literal(Box<[u8]>),
    /// `{key}`: the operation's key, under the run's prefix.
    Key,
    /// `{value}`: the operation's value bytes.
    Value,
    /// `{field}`: a field index, `0..fields`, written in decimal.
    Field,
}

/// One argument: its pieces, concatenated (`field:{field}` is a literal then a field index).
pub type TemplateArg = Box<[Segment]>;

/// A checked command template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandTemplate {
    /// The name used in `mix`, results and thresholds.
    pub name: String,
    /// The arguments, the command name first.
    pub args: Box<[TemplateArg]>,
}

/// A declared custom command, ready to run: its checked template and how many field indices
/// `{field}` ranges over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomCommand {
    /// The checked template (its `name` is the command's name in `mix`, results and thresholds).
    pub template: CommandTemplate,
    /// `{field}` takes the values `0..fields` (1 when the template has no `{field}`).
    pub fields: u32,
}

impl CustomCommand {
    /// The field index of an operation whose value pool slot is `pool`: uniform over
    /// `0..fields`, from the slot's bits mixed (so it is not the value's own index), with no
    /// further random draw (the operation sequence of a seed stays what it was).
    #[inline]
    pub fn field(&self, pool: u32) -> u64 {
        let mixed = pool.wrapping_mul(0x9e37_79b9).rotate_left(16);
        (u64::from(mixed) * u64::from(self.fields.max(1))) >> 32
    }
}

/// Why a template was refused: which argument, what was expected, and a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandError {
    /// The argument's index (`None`: the command as a whole or its name).
    pub index: Option<usize>,
    /// What was expected.
    pub expected: String,
    /// How to fix it.
    pub hint: String,
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {} (hint: {})", self.expected, self.hint)
    }
}

/// Names a custom command may not take: the built-in operations.
pub const BUILT_IN_NAMES: [&str; 7] = ["get", "set", "delete", "touch", "mget", "mset", "mdelete"];

/// Commands refused whatever their arguments: they reach keys other than `{key}`, the whole
/// keyspace, the connection's state or the server itself.
pub const REFUSED_COMMANDS: &[&str] = &[
    "FLUSHALL",
    "FLUSHDB",
    "KEYS",
    "SCAN",
    "RANDOMKEY",
    "RENAME",
    "RENAMENX",
    "MOVE",
    "COPY",
    "MIGRATE",
    "SELECT",
    "SWAPDB",
    "CONFIG",
    "SHUTDOWN",
    "EVAL",
    "EVALSHA",
    "EVAL_RO",
    "EVALSHA_RO",
    "FCALL",
    "FCALL_RO",
    "FUNCTION",
    "MULTI",
    "EXEC",
    "DISCARD",
    "WATCH",
    "SUBSCRIBE",
    "PSUBSCRIBE",
    "SSUBSCRIBE",
    "UNSUBSCRIBE",
    "PUNSUBSCRIBE",
    "SUNSUBSCRIBE",
    "MONITOR",
    "DEBUG",
    "SCRIPT",
    "CLUSTER",
    "ACL",
    "CLIENT",
    "AUTH",
    "HELLO",
    "RESET",
    "QUIT",
    "SAVE",
    "BGSAVE",
    "BGREWRITEAOF",
    "REPLICAOF",
    "SLAVEOF",
    "SYNC",
    "PSYNC",
    "FAILOVER",
    "MODULE",
    "MGET",
    "MSET",
    "MSETNX",
    "SMOVE",
    "LMOVE",
    "BLMOVE",
    "RPOPLPUSH",
    "BRPOPLPUSH",
    "SINTERSTORE",
    "SUNIONSTORE",
    "SDIFFSTORE",
    "ZUNIONSTORE",
    "ZINTERSTORE",
    "ZDIFFSTORE",
    "ZRANGESTORE",
    "GEORADIUS",
    "GEOSEARCHSTORE",
    "PFMERGE",
    "BITOP",
    "SORT",
    "OBJECT",
    "WAIT",
    "BLPOP",
    "BRPOP",
    "BZPOPMIN",
    "BZPOPMAX",
    "BLMPOP",
    "BZMPOP",
    "LMPOP",
    "ZMPOP",
    "SINTER",
    "SUNION",
    "SDIFF",
    "ZUNION",
    "ZINTER",
    "ZDIFF",
    "SINTERCARD",
    "ZINTERCARD",
    "XREAD",
    "XREADGROUP",
];

/// Commands that take any number of keys: allowed with `{key}` alone.
const SINGLE_KEY_ONLY: &[&str] = &["DEL", "UNLINK", "EXISTS", "TOUCH", "WATCH", "PFCOUNT"];

impl CommandTemplate {
    /// Checks and pre-splits `args` (the command name first) for the command called `name`.
    pub fn parse(name: &str, args: &[String]) -> Result<CommandTemplate, CommandError> {
        check_name(name)?;
        let Some(command) = args.first() else {
            return Err(CommandError {
                index: None,
                expected: "a command and its arguments, e.g. [\"HSET\", \"{key}\", \"field\", \"{value}\"]".into(),
                hint: "list the command name first, then `{key}`".into(),
            });
        };
        let upper = command.to_ascii_uppercase();
        if command.is_empty() || command.contains('{') || command.contains(char::is_whitespace) {
            return Err(CommandError {
                index: Some(0),
                expected: format!("a Redis command name, found {command:?}"),
                hint: "the first item is the command itself, e.g. \"HSET\"".into(),
            });
        }
        if REFUSED_COMMANDS.contains(&upper.as_str()) {
            return Err(CommandError {
                index: Some(0),
                expected: format!("a command on the operation's key alone, found {upper}"),
                hint: format!(
                    "{upper} reaches other keys, the whole keyspace or the server; custom commands \
                     may only touch `{{key}}`"
                ),
            });
        }
        if args.get(1).map(String::as_str) != Some("{key}") {
            return Err(CommandError {
                index: Some(1),
                expected: format!(
                    "\"{{key}}\" as the first argument, found {}",
                    args.get(1)
                        .map_or("nothing".to_string(), |a| format!("{a:?}"))
                ),
                hint: "a custom command works on the operation's key only, so cleanup and the \
                       run's prefix still hold: write [\"CMD\", \"{key}\", ...]"
                    .into(),
            });
        }
        let parsed = args
            .iter()
            .enumerate()
            .map(|(i, a)| split(a).map_err(|expected| error_at(i, expected)))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(i) = (2..parsed.len()).find(|&i| parsed[i].contains(&Segment::Key)) {
            return Err(error_at(
                i,
                "`{key}` only as the first argument (a second key would be a multi-key command)"
                    .into(),
            ));
        }
        if SINGLE_KEY_ONLY.contains(&upper.as_str()) && args.len() > 2 {
            return Err(CommandError {
                index: Some(2),
                expected: format!("{upper} with `{{key}}` alone"),
                hint: format!("every further argument of {upper} is another key"),
            });
        }
        Ok(CommandTemplate {
            name: name.to_string(),
            args: parsed.into_iter().collect(),
        })
    }

    /// True when an argument uses `{field}` (the workload then needs `fields`).
    pub fn uses_field(&self) -> bool {
        self.args.iter().flatten().any(|s| *s == Segment::Field)
    }

    /// True when an argument uses `{value}`.
    pub fn uses_value(&self) -> bool {
        self.args.iter().flatten().any(|s| *s == Segment::Value)
    }

    /// The Redis command name, upper-case (what `INFO commandstats` calls it, lower-cased).
    pub fn command_name(&self) -> String {
        match self.args[0].first() {
            Some(Segment::Literal(b)) => String::from_utf8_lossy(b).to_ascii_uppercase(),
            _ => String::new(),
        }
    }
}

fn error_at(index: usize, expected: String) -> CommandError {
    CommandError {
        index: Some(index),
        expected,
        hint: "placeholders are `{key}` (first argument only), `{value}` and `{field}`; write a \
               literal brace as `{{` or `}}`"
            .into(),
    }
}

fn check_name(name: &str) -> Result<(), CommandError> {
    if BUILT_IN_NAMES.contains(&name) {
        return Err(CommandError {
            index: None,
            expected: format!("a name other than the built-in operation {name:?}"),
            hint: "name the command after what it does, e.g. `hset_session`".into(),
        });
    }
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        return Err(CommandError {
            index: None,
            expected: format!("a name of lower-case letters, digits and `_`, found {name:?}"),
            hint: "the name is used in `mix` and thresholds (`NAME.p99 < 5ms`)".into(),
        });
    }
    Ok(())
}

/// Splits one argument into literal bytes and placeholders; `{{`/`}}` are literal braces.
fn split(arg: &str) -> Result<TemplateArg, String> {
    let mut out = Vec::new();
    let mut literal = Vec::new();
    let mut rest = arg;
    while let Some(c) = rest.chars().next() {
        if let Some(r) = rest.strip_prefix("{{") {
            literal.push(b'{');
            rest = r;
        } else if let Some(r) = rest.strip_prefix("}}") {
            literal.push(b'}');
            rest = r;
        } else if c == '{' {
            let end = rest
                .find('}')
                .ok_or_else(|| format!("a closing `}}` in {arg:?}"))?;
            let segment = match &rest[1..end] {
                "key" => Segment::Key,
                "value" => Segment::Value,
                "field" => Segment::Field,
                other => {
                    return Err(format!(
                        "a known placeholder, found `{{{other}}}` in {arg:?}"
                    ));
                }
            };
            if !literal.is_empty() {
                out.push(Segment::Literal(std::mem::take(&mut literal).into()));
            }
            out.push(segment);
            rest = &rest[end + 1..];
        } else if c == '}' {
            return Err(format!(
                "`}}` to close a placeholder or be doubled in {arg:?}"
            ));
        } else {
            literal.extend_from_slice(&rest.as_bytes()[..c.len_utf8()]);
            rest = &rest[c.len_utf8()..];
        }
    }
    if !literal.is_empty() || out.is_empty() {
        out.push(Segment::Literal(literal.into()));
    }
    Ok(out.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn splits_literals_and_placeholders() {
        let t = CommandTemplate::parse("hs", &args(&["hset", "{key}", "f:{field}", "{value}"]))
            .unwrap();
        assert_eq!(t.command_name(), "HSET");
        assert_eq!(t.args[1][..], [Segment::Key]);
        assert_eq!(
            t.args[2][..],
            [Segment::Literal(b"f:".to_vec().into()), Segment::Field]
        );
        assert_eq!(t.args[3][..], [Segment::Value]);
        assert!(t.uses_field() && t.uses_value());
        let braces = CommandTemplate::parse("x", &args(&["HSET", "{key}", "{{a}}", ""])).unwrap();
        assert_eq!(
            braces.args[2][..],
            [Segment::Literal(b"{a}".to_vec().into())]
        );
        assert_eq!(braces.args[3][..], [Segment::Literal(Box::new([]))]);
    }

    #[test]
    fn fields_spread_over_their_range() {
        let t = CommandTemplate::parse("hs", &args(&["HSET", "{key}", "{field}", "v"])).unwrap();
        let c = CustomCommand {
            template: t,
            fields: 16,
        };
        let mut seen = [0u32; 16];
        for pool in 0..16_000u32 {
            seen[c.field(pool) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| (800..1200).contains(&n)), "{seen:?}");
        let one = CustomCommand { fields: 1, ..c };
        assert!((0..1000).all(|p| one.field(p) == 0));
    }

    #[test]
    fn refuses_other_keys_and_dangerous_commands() {
        let not_key = CommandTemplate::parse("s", &args(&["SET", "otherkey", "{value}"]));
        assert_eq!(not_key.unwrap_err().index, Some(1));
        let flush = CommandTemplate::parse("f", &args(&["flushall"])).unwrap_err();
        assert_eq!(flush.index, Some(0));
        assert!(flush.expected.contains("FLUSHALL"), "{flush}");
        let del = CommandTemplate::parse("d", &args(&["DEL", "{key}", "k2"])).unwrap_err();
        assert_eq!(del.index, Some(2));
        let second = CommandTemplate::parse("c", &args(&["LPUSH", "{key}", "{key}"]));
        assert_eq!(second.unwrap_err().index, Some(2));
        let unknown = CommandTemplate::parse("u", &args(&["HGET", "{key}", "{nope}"]));
        assert!(unknown.unwrap_err().expected.contains("{nope}"));
        assert!(CommandTemplate::parse("get", &args(&["GET", "{key}"])).is_err());
        assert!(CommandTemplate::parse("Bad-Name", &args(&["GET", "{key}"])).is_err());
        assert!(CommandTemplate::parse("e", &[]).is_err());
        assert!(CommandTemplate::parse("d", &args(&["DEL", "{key}"])).is_ok());
    }
}
