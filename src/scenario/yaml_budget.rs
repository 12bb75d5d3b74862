//! YAML with a node budget: aliases expanded, a document may hold at most so many nodes.
//!
//! Part of reading a file (`format`): the YAML library expands every alias (`*name`) into a copy
//! of its anchored node while deserializing, and its own guard (at most 100 alias jumps per event)
//! still lets 15 KiB expand to 9 million nodes, seconds of work and gigabytes. Counting first,
//! keeping nothing, makes such a file a quick error.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Visitor};

/// The most nodes a YAML document may have once its aliases (`*name`) are expanded. Each alias
/// copies its anchored node, so a few KiB of aliases can stand for billions of nodes ("billion
/// laughs"); the YAML library's own repetition limit still lets 15 KiB expand to 9 million.
/// A hand-written scenario has a few hundred nodes.
pub(super) const MAX_YAML_NODES: usize = 100_000;

/// The message of a budget overrun, recognised to give its own hint.
pub(super) const TOO_MANY_NODES: &str = "the document has too many nodes";

/// Parses YAML into a value of at most `budget` nodes, aliases expanded. A first pass counts
/// the nodes without keeping them and stops at the budget, so an alias bomb costs neither
/// time nor memory; only then is the value built.
pub(super) fn bounded_yaml(
    text: &str,
    budget: usize,
) -> Result<serde_yaml::Value, serde_yaml::Error> {
    let left = Cell::new(budget);
    NodeBudget {
        left: &left,
        budget,
    }
    .deserialize(serde_yaml::Deserializer::from_str(text))?;
    serde_yaml::from_str(text)
}

/// Visits every node of a document (as the value's own deserializer would, aliases expanded),
/// keeps nothing and fails when more than its budget of nodes were seen.
#[derive(Clone, Copy)]
struct NodeBudget<'a> {
    left: &'a Cell<usize>,
    budget: usize,
}

impl NodeBudget<'_> {
    fn take<E: de::Error>(self) -> Result<(), E> {
        match self.left.get().checked_sub(1) {
            Some(left) => {
                self.left.set(left);
                Ok(())
            }
            None => Err(E::custom(format_args!(
                "{TOO_MANY_NODES} (more than {} once aliases are expanded)",
                self.budget
            ))),
        }
    }
}

impl<'de> DeserializeSeed<'de> for NodeBudget<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NodeBudget<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.take()
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.take()
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.take()
    }

    fn visit_i128<E: de::Error>(self, _: i128) -> Result<(), E> {
        self.take()
    }

    fn visit_u128<E: de::Error>(self, _: u128) -> Result<(), E> {
        self.take()
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.take()
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.take()
    }

    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<(), E> {
        self.take()
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.take()
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.take()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.take()?;
        d.deserialize_any(self)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.take()?;
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.take()?;
        while seq.next_element_seed(self)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.take()?;
        while map.next_key_seed(self)?.is_some() {
            map.next_value_seed(self)?;
        }
        Ok(())
    }

    /// A tagged node (`!tag value`): the tag, then the value.
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        use serde::de::VariantAccess;
        self.take()?;
        let ((), value) = data.variant_seed(self)?;
        value.newtype_variant_seed(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_bombs_are_refused_before_they_expand() {
        let mut text = String::from("a: &a [");
        text.push_str(&"1,".repeat(2000));
        text.push_str("]\nb: [");
        text.push_str(&"*a,".repeat(2000));
        text.push_str("]\n");
        let Err(e) = bounded_yaml(&text, MAX_YAML_NODES) else {
            panic!("4 million nodes were accepted");
        };
        assert!(e.to_string().contains(TOO_MANY_NODES), "{e}");
        let small = bounded_yaml("a: &a [1, 2]\nb: *a\n", 9).ok();
        let expected: Option<serde_yaml::Value> =
            serde_yaml::from_str("{a: [1, 2], b: [1, 2]}").ok();
        assert_eq!(small, expected);
        assert!(bounded_yaml("a: &a [1, 2]\nb: *a\n", 8).is_err());
    }
}
