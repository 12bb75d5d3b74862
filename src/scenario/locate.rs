//! Where each node of a scenario is in its source text: JSON pointer → `line:column`.
//!
//! The schema validator and the semantic checks speak JSON pointers (`/workloads/1/mix/get`);
//! people want `file:line:col`. The YAML side walks yaml-rust2's parser events (which carry
//! positions); the TOML side walks the `toml` crate's spanned tables. A mapping entry is located
//! at its key (so "unknown field `foo`" points at `foo`), a sequence item at the item.
//!
//! The pointer and offset helpers live here too (`push_pointer`, `offset_to_location`), so this
//! file needs nothing else of the scenario: `format` → `diagnostic` → `locate` runs one way.

use std::collections::HashMap;

use toml::de::{DeTable, DeValue};
use yaml_rust2::parser::{Event, Parser};

/// A position in a source text, both 1-based; columns count characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

/// Positions of the nodes of one document, by JSON pointer.
#[derive(Debug, Default, Clone)]
pub struct Locations {
    map: HashMap<String, Location>,
}

impl Locations {
    /// Locates every node of a YAML text (its first document). Best effort: never panics; what
    /// could be located before a syntax error is kept.
    pub fn from_yaml(text: &str) -> Locations {
        let mut walker = YamlWalker {
            parser: Parser::new_from_str(text),
            index: TextIndex::new(text),
            out: Locations::default(),
            stopped: false,
        };
        walker.document();
        walker.out
    }

    /// Locates every node of a TOML text. Empty if the text does not parse.
    pub fn from_toml(text: &str) -> Locations {
        let mut out = Locations::default();
        if let Ok(root) = DeTable::parse(text) {
            out.insert("", Location { line: 1, column: 1 });
            toml_table(&TextIndex::new(text), root.get_ref(), "", &mut out);
        }
        out
    }

    /// Records a location (the first one recorded for a pointer wins).
    pub fn insert(&mut self, pointer: &str, location: Location) {
        self.map.entry(pointer.to_string()).or_insert(location);
    }

    /// The location of exactly this pointer.
    pub fn get(&self, pointer: &str) -> Option<Location> {
        self.map.get(pointer).copied()
    }

    /// The location of the pointer or of its nearest located ancestor.
    pub fn nearest(&self, pointer: &str) -> Option<Location> {
        let mut p = pointer;
        loop {
            if let Some(l) = self.get(p) {
                return Some(l);
            }
            let cut = p.rfind('/')?;
            p = &p[..cut];
        }
    }
}

/// Appends an escaped segment to a JSON pointer.
pub fn push_pointer(pointer: &str, segment: &str) -> String {
    format!(
        "{pointer}/{}",
        segment.replace('~', "~0").replace('/', "~1")
    )
}

/// 1-based line and column (in characters) of a byte offset. Linear in the offset: to locate
/// many offsets of one text, use a `TextIndex`.
pub fn offset_to_location(source: &str, offset: usize) -> Location {
    let offset = offset.min(source.len());
    let before = &source[..source.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Location {
        line,
        column: before[line_start..].chars().count() + 1,
    }
}

/// Bytes between two saved character counts in a `TextIndex`.
const STRIDE: usize = 64;

/// Line starts and character counts of one text, so that each offset is located in
/// O(log n + STRIDE) rather than by rescanning the text: a big file is located in linear time
/// (rescanning made a 600 KB file take minutes).
struct TextIndex<'a> {
    text: &'a str,
    /// Byte offset of the start of every line.
    line_starts: Vec<usize>,
    /// `chars[k]`: the number of characters that start before byte `k * STRIDE`.
    chars: Vec<usize>,
}

impl<'a> TextIndex<'a> {
    fn new(text: &'a str) -> TextIndex<'a> {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let mut chars = Vec::with_capacity(text.len() / STRIDE + 2);
        let mut count = 0;
        chars.push(0);
        for chunk in text.as_bytes().chunks(STRIDE) {
            count += starts_of_chars(chunk);
            chars.push(count);
        }
        TextIndex {
            text,
            line_starts,
            chars,
        }
    }

    /// Characters that start before byte `offset` (at most the text's length).
    fn chars_before(&self, offset: usize) -> usize {
        let k = offset / STRIDE;
        self.chars[k] + starts_of_chars(&self.text.as_bytes()[k * STRIDE..offset])
    }

    /// The same as `offset_to_location(text, offset)`.
    fn location(&self, offset: usize) -> Location {
        let offset = self.text.floor_char_boundary(offset.min(self.text.len()));
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line.max(1) - 1];
        Location {
            line,
            column: self.chars_before(offset) - self.chars_before(start) + 1,
        }
    }

    /// The byte offset of character `index` (the text's length past the end).
    fn byte_of_char(&self, index: usize) -> usize {
        let k = self.chars.partition_point(|&c| c <= index).max(1) - 1;
        let mut count = self.chars[k];
        for (offset, &b) in self.text.as_bytes().iter().enumerate().skip(k * STRIDE) {
            if is_char_start(b) {
                if count == index {
                    return offset;
                }
                count += 1;
            }
        }
        self.text.len()
    }
}

fn is_char_start(b: u8) -> bool {
    b & 0xC0 != 0x80
}

fn starts_of_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| is_char_start(b)).count()
}

/// Deeper YAML than this is not located (the YAML parser refuses it anyway); it keeps the
/// recursive walk off the end of the stack.
const MAX_DEPTH: usize = 256;

struct YamlWalker<'a> {
    parser: Parser<std::str::Chars<'a>>,
    index: TextIndex<'a>,
    out: Locations,
    /// Set when the walk gave up (too deep); no event is read after.
    stopped: bool,
}

impl YamlWalker<'_> {
    /// The next event and its location, or `None` at the end or on an error.
    fn next(&mut self) -> Option<(Event, Location)> {
        if self.stopped {
            return None;
        }
        // yaml-rust2 reports character indices; turn one into a byte offset.
        let (event, mark) = self.parser.next_token().ok()?;
        let offset = self.index.byte_of_char(mark.index());
        Some((event, self.index.location(offset)))
    }

    fn document(&mut self) {
        while let Some((event, location)) = self.next() {
            match event {
                Event::StreamStart | Event::DocumentStart | Event::Nothing => {}
                Event::StreamEnd | Event::DocumentEnd => return,
                other => {
                    self.out.insert("", location);
                    self.node(other, "", 0);
                    return;
                }
            }
        }
    }

    /// Walks the node that started with `event`, whose own location is already recorded.
    fn node(&mut self, event: Event, pointer: &str, depth: usize) {
        if depth > MAX_DEPTH {
            self.stopped = true;
            return;
        }
        match event {
            Event::MappingStart(..) => loop {
                let Some((key, location)) = self.next() else {
                    return;
                };
                // A block mapping's start mark can lie past its first key: a node starts no later
                // than its first key.
                if let Some(own) = self.out.map.get_mut(pointer)
                    && (location.line, location.column) < (own.line, own.column)
                {
                    *own = location;
                }
                let name = match key {
                    Event::MappingEnd => return,
                    Event::Scalar(s, ..) => s,
                    // A complex key: walk and skip it, then its value.
                    other => {
                        self.node(other, "\u{0}complex", depth + 1);
                        String::from("\u{0}complex")
                    }
                };
                let child = push_pointer(pointer, &name);
                self.out.insert(&child, location);
                let Some((value, _)) = self.next() else {
                    return;
                };
                self.node(value, &child, depth + 1);
            },
            Event::SequenceStart(..) => {
                let mut index = 0usize;
                loop {
                    let Some((item, location)) = self.next() else {
                        return;
                    };
                    if matches!(item, Event::SequenceEnd) {
                        return;
                    }
                    let child = format!("{pointer}/{index}");
                    self.out.insert(&child, location);
                    self.node(item, &child, depth + 1);
                    index += 1;
                }
            }
            _ => {}
        }
    }
}

fn toml_table(text: &TextIndex<'_>, table: &DeTable<'_>, pointer: &str, out: &mut Locations) {
    for (key, value) in table {
        let child = push_pointer(pointer, key.get_ref());
        out.insert(&child, text.location(key.span().start));
        toml_value(text, value.get_ref(), &child, out);
    }
}

fn toml_value(text: &TextIndex<'_>, value: &DeValue<'_>, pointer: &str, out: &mut Locations) {
    match value {
        DeValue::Table(t) => toml_table(text, t, pointer, out),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let child = format!("{pointer}/{i}");
                out.insert(&child, text.location(item.span().start));
                toml_value(text, item.get_ref(), &child, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: usize, column: usize) -> Option<Location> {
        Some(Location { line, column })
    }

    #[test]
    fn offsets_become_lines_and_columns() {
        let text = "a\nbé c\n";
        assert_eq!(offset_to_location(text, 0), Location { line: 1, column: 1 });
        assert_eq!(offset_to_location(text, 5), Location { line: 2, column: 3 });
    }

    #[test]
    fn the_index_agrees_with_the_plain_conversion() {
        let text = "a\nbé c\n\u{1F600}x\r\n".repeat(40) + "ü";
        let index = TextIndex::new(&text);
        for offset in 0..=text.len() + 3 {
            assert_eq!(
                index.location(offset),
                offset_to_location(&text, offset),
                "{offset}"
            );
        }
        for (i, (byte, _)) in text.char_indices().enumerate() {
            assert_eq!(index.byte_of_char(i), byte);
        }
        assert_eq!(index.byte_of_char(text.chars().count()), text.len());
        assert_eq!(index.byte_of_char(usize::MAX), text.len());
        assert_eq!(
            TextIndex::new("").location(5),
            at(1, 1).unwrap_or(Location { line: 0, column: 0 })
        );
    }

    #[test]
    fn pointer_segments_are_escaped() {
        assert_eq!(push_pointer("/tiers", "a/b"), "/tiers/a~1b");
    }

    #[test]
    fn yaml_block_and_flow_nodes_are_located() {
        let text = "name: x\ntiers:\n  - name: l1\n    kind: memory\ndata:\n  keys: { count: 10, prefix: \"é:\" }\n  list: [1, 2]\n";
        let l = Locations::from_yaml(text);
        assert_eq!(l.get("/name"), at(1, 1));
        assert_eq!(l.get("/tiers/0"), at(3, 5));
        assert_eq!(l.get("/tiers/0/kind"), at(4, 5));
        assert_eq!(l.get("/data/keys/count"), at(6, 11));
        assert_eq!(l.get("/data/keys/prefix"), at(6, 22));
        assert_eq!(l.get("/data/list/1"), at(7, 13));
        assert_eq!(l.nearest("/data/keys/count/deeper"), at(6, 11));
        assert_eq!(l.nearest("/nothing/here"), l.get(""));
    }

    #[test]
    fn yaml_columns_count_characters_and_keys_escape() {
        let text = "é: 1\n\"a/b\": { ü: 2 }\n";
        let l = Locations::from_yaml(text);
        assert_eq!(l.get("/a~1b/ü"), at(2, 10));
    }

    #[test]
    fn toml_tables_arrays_and_dotted_keys_are_located() {
        let text = "name = \"x\"\n\n[[tiers]]\nname = \"l1\"\n\n[[tiers]]\nname = \"l2\"\n\n[data.keys]\ncount = 5\n\n[defaults]\nmix = { get = 1 }\na.b = 2\n";
        let l = Locations::from_toml(text);
        assert_eq!(l.get("/name"), at(1, 1));
        assert_eq!(l.get("/tiers/1/name"), at(7, 1));
        assert_eq!(l.get("/data/keys/count"), at(10, 1));
        assert_eq!(l.get("/defaults/mix/get"), at(13, 9));
        assert_eq!(l.get("/defaults/a/b"), at(14, 3));
    }

    #[test]
    fn garbage_does_not_panic() {
        for text in [
            "",
            ":",
            "{[}",
            "a: [1, 2\n",
            "[[x]\n",
            "a = ",
            "- - - -",
            "&a [*a, *a]",
            "? [a]\n: 1\n",
        ] {
            let _ = Locations::from_yaml(text);
            let _ = Locations::from_toml(text);
        }
    }
}
