//! Every YAML text a card command parses (a card, `--eval` results, a README's front
//! matter, `.eval_results/`) is hostile until proven otherwise, and the YAML parser does
//! super-linear work on deeply nested input: a 195 KB README took a minute to be refused.
//! So before the text reaches the parser, a linear pre-scan bounds its size and nesting
//! depth; and because aliases can make a small document expand enormously ("billion
//! laughs"), a counting pass bounds the number of nodes the document expands to before it
//! is turned into values.
//!
//! The pre-scan follows the token rules of libyaml's scanner (the parser behind
//! `serde_norway`): where a quoted scalar, a comment, a plain scalar or a block scalar
//! starts and ends, which `[`/`{` open a flow collection, and which indicators and keys
//! open a block collection at which indentation. Where the two could disagree, the
//! pre-scan errs towards counting more depth, never less; and it stops where libyaml would
//! stop with an error.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Visitor};

use crate::error::CardError;

/// The most YAML text parsed at once, in bytes (1 MiB). A card is a few KB; the largest
/// Hugging Face front matter (a full MTEB `model-index`) is a few hundred KB.
pub const MAX_YAML_BYTES: usize = 1 << 20;

/// The deepest nesting of collections accepted, counted conservatively (each block
/// collection, each indentless sequence, each flow collection). A card is 4 levels deep, a
/// Hugging Face `model-index` 6; the parser's cost grows faster than linearly with depth.
pub const MAX_YAML_DEPTH: usize = 64;

/// The most nodes a YAML document may expand to, aliases expanded. Without aliases,
/// [`MAX_YAML_BYTES`] of YAML holds at most about half a million nodes (each takes two
/// bytes), so only alias expansion ("billion laughs") reaches this.
pub const MAX_YAML_NODES: usize = 1 << 20;

/// Parses YAML text into `T` after bounding its size, depth and expansion. `origin` names
/// the text in errors.
pub(crate) fn from_str<T: DeserializeOwned>(text: &str, origin: &str) -> Result<T, CardError> {
    let syntax = |reason: String| CardError::Syntax {
        origin: crate::text::printable(origin).into_owned(),
        reason: crate::text::printable(&reason).into_owned(),
    };
    check_shape(text).map_err(|e| syntax(e.to_string()))?;
    let budget = Cell::new(MAX_YAML_NODES);
    NodeCounter { budget: &budget }
        .deserialize(serde_norway::Deserializer::from_str(text))
        .map_err(|e| syntax(e.to_string()))?;
    serde_norway::from_str(text).map_err(|e| syntax(e.to_string()))
}

/// Why YAML text was refused before parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShapeError {
    /// The text is longer than [`MAX_YAML_BYTES`].
    TooLarge {
        /// The text's length.
        bytes: usize,
    },
    /// Collections nest deeper than [`MAX_YAML_DEPTH`].
    TooDeep {
        /// The line where the limit is crossed.
        line: usize,
    },
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShapeError::TooLarge { bytes } => write!(
                f,
                "the YAML is {bytes} bytes, more than the {MAX_YAML_BYTES} bytes (1 MiB) a model card's YAML may have (MAX_YAML_BYTES)"
            ),
            ShapeError::TooDeep { line } => write!(
                f,
                "the YAML nests collections more than {MAX_YAML_DEPTH} levels deep (MAX_YAML_DEPTH) at line {line}; model card YAML is a few levels deep"
            ),
        }
    }
}

/// Refuses YAML text larger than [`MAX_YAML_BYTES`] or nested deeper than
/// [`MAX_YAML_DEPTH`], in one linear pass.
pub fn check_shape(text: &str) -> Result<(), ShapeError> {
    if text.len() > MAX_YAML_BYTES {
        return Err(ShapeError::TooLarge { bytes: text.len() });
    }
    Scanner::new(text.as_bytes()).run()
}

/// A possible simple key (`key:`) in block context: where its token started, and the
/// deepest flow nesting inside it (a flow collection can be a key: `[a, [b]]: value`).
#[derive(Clone, Copy)]
struct KeyStart {
    line: usize,
    column: usize,
    flow_peak: usize,
}

/// A block collection open at an indentation, and whether an indentless sequence (`key:`
/// followed by `- item` at the key's own column) is open at it too.
struct Level {
    indent: usize,
    indentless: bool,
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    line: usize,
    /// In characters, as libyaml counts.
    column: usize,
    flow: usize,
    levels: Vec<Level>,
    /// libyaml's `simple_key_allowed`.
    key_allowed: bool,
    /// The possible simple key at flow level 0 (only there does a key open a block mapping).
    key: Option<KeyStart>,
    /// The depth refused beyond: [`MAX_YAML_DEPTH`], lower in tests that measure depth.
    limit: usize,
}

/// libyaml stops where it finds an error; so does the scan (nothing after it is parsed).
struct Stop;

enum Outcome {
    Deep(ShapeError),
    Stop,
}

impl From<Stop> for Outcome {
    fn from(_: Stop) -> Self {
        Outcome::Stop
    }
}

impl<'a> Scanner<'a> {
    fn new(b: &'a [u8]) -> Self {
        Scanner {
            b,
            i: 0,
            line: 1,
            column: 0,
            flow: 0,
            levels: Vec::new(),
            key_allowed: true,
            key: None,
            limit: MAX_YAML_DEPTH,
        }
    }

    fn run(mut self) -> Result<(), ShapeError> {
        if self.b.starts_with("\u{feff}".as_bytes()) {
            self.i = 3;
        }
        match self.tokens() {
            Err(Outcome::Deep(e)) => Err(e),
            Ok(()) | Err(Outcome::Stop) => Ok(()),
        }
    }

    fn at(&self, offset: usize) -> u8 {
        self.b.get(self.i + offset).copied().unwrap_or(0)
    }

    /// The length of the line break at `i + offset` (CR LF, CR, LF, NEL, LS, PS), or 0.
    fn break_len(&self, offset: usize) -> usize {
        let rest = self.b.get(self.i + offset..).unwrap_or_default();
        match rest {
            [b'\r', b'\n', ..] => 2,
            [b'\r' | b'\n', ..] => 1,
            [0xc2, 0x85, ..] => 2,
            [0xe2, 0x80, 0xa8 | 0xa9, ..] => 3,
            _ => 0,
        }
    }

    fn is_end(&self, offset: usize) -> bool {
        self.i + offset >= self.b.len()
    }

    fn is_blank(&self, offset: usize) -> bool {
        matches!(self.at(offset), b' ' | b'\t') && !self.is_end(offset)
    }

    fn is_blankz(&self, offset: usize) -> bool {
        self.is_end(offset) || self.is_blank(offset) || self.break_len(offset) > 0
    }

    /// Moves past one character (not a line break).
    fn advance(&mut self) {
        if self.is_end(0) {
            return;
        }
        self.i += 1;
        while self.i < self.b.len() && self.b[self.i] & 0xc0 == 0x80 {
            self.i += 1;
        }
        self.column += 1;
    }

    /// Moves past a line break, if one is here.
    fn skip_break(&mut self) -> bool {
        let len = self.break_len(0);
        if len == 0 {
            return false;
        }
        self.i += len;
        self.line += 1;
        self.column = 0;
        true
    }

    fn indent(&self) -> Option<usize> {
        self.levels.last().map(|l| l.indent)
    }

    fn depth(&self) -> usize {
        self.levels.len() + self.levels.iter().filter(|l| l.indentless).count() + self.flow
    }

    fn check_depth(&self) -> Result<(), Outcome> {
        if self.depth() > self.limit {
            Err(Outcome::Deep(ShapeError::TooDeep { line: self.line }))
        } else {
            Ok(())
        }
    }

    /// A block collection starts at `column` if that is deeper than the current one.
    fn roll(&mut self, column: usize) -> Result<(), Outcome> {
        if self.flow == 0 && self.indent().is_none_or(|indent| indent < column) {
            self.levels.push(Level {
                indent: column,
                indentless: false,
            });
            self.check_depth()?;
        }
        Ok(())
    }

    fn unroll(&mut self, column: usize) {
        if self.flow == 0 {
            while self.indent().is_some_and(|indent| indent > column) {
                self.levels.pop();
            }
        }
    }

    fn save_key(&mut self) {
        if self.flow == 0 && self.key_allowed {
            self.key = Some(KeyStart {
                line: self.line,
                column: self.column,
                flow_peak: 0,
            });
        }
    }

    fn document_marker(&self) -> bool {
        let rest = self.b.get(self.i..).unwrap_or_default();
        self.column == 0
            && (rest.starts_with(b"---") || rest.starts_with(b"..."))
            && self.is_blankz(3)
    }

    fn skip_to_next_token(&mut self) {
        loop {
            while self.at(0) == b' '
                || ((self.flow > 0 || !self.key_allowed) && self.at(0) == b'\t')
            {
                self.advance();
            }
            if self.at(0) == b'#' {
                while !self.is_end(0) && self.break_len(0) == 0 {
                    self.advance();
                }
            }
            if !self.skip_break() {
                return;
            }
            if self.flow == 0 {
                self.key_allowed = true;
            }
        }
    }

    fn tokens(&mut self) -> Result<(), Outcome> {
        loop {
            self.skip_to_next_token();
            self.unroll(self.column);
            if self.is_end(0) {
                return Ok(());
            }
            let c = self.at(0);
            if self.column == 0 && c == b'%' {
                while !self.is_end(0) && self.break_len(0) == 0 {
                    self.advance();
                }
                continue;
            }
            if self.document_marker() {
                self.levels.clear();
                self.key = None;
                self.key_allowed = true;
                for _ in 0..3 {
                    self.advance();
                }
                continue;
            }
            match c {
                b'[' | b'{' => {
                    self.save_key();
                    self.flow += 1;
                    if let Some(key) = &mut self.key {
                        key.flow_peak = key.flow_peak.max(self.flow);
                    }
                    self.check_depth()?;
                    self.key_allowed = true;
                    self.advance();
                }
                b']' | b'}' => {
                    self.flow = self.flow.saturating_sub(1);
                    self.key_allowed = false;
                    self.advance();
                }
                b',' => {
                    self.key_allowed = true;
                    self.advance();
                }
                b'-' if self.is_blankz(1) => {
                    if self.flow == 0 {
                        let column = self.column;
                        if self.indent() == Some(column) {
                            if let Some(level) = self.levels.last_mut() {
                                level.indentless = true;
                            }
                            self.check_depth()?;
                        } else {
                            self.roll(column)?;
                        }
                    }
                    self.key = None;
                    self.key_allowed = true;
                    self.advance();
                }
                b'?' if self.flow > 0 || self.is_blankz(1) => {
                    self.roll(self.column)?;
                    self.key = None;
                    self.key_allowed = self.flow == 0;
                    self.advance();
                }
                b':' if self.flow > 0 || self.is_blankz(1) => {
                    if self.flow == 0 {
                        // libyaml also drops a key more than 1024 characters back; keeping
                        // it opens the level at a smaller column, which only over-counts.
                        // Without a key on this line libyaml refuses a value in most
                        // places; opening a level anyway only over-counts too.
                        let key = self.key.take().filter(|k| k.line == self.line);
                        self.roll(key.map_or(self.column, |k| k.column))?;
                        // The mapping opens around its key: count the key's own nesting
                        // inside it.
                        let inside = key.map_or(0, |k| k.flow_peak);
                        if self.depth() + inside > self.limit {
                            return Err(Outcome::Deep(ShapeError::TooDeep { line: self.line }));
                        }
                    }
                    self.key_allowed = self.flow == 0;
                    self.advance();
                }
                b'*' | b'&' => {
                    self.save_key();
                    self.key_allowed = false;
                    self.advance();
                    while self.at(0).is_ascii_alphanumeric() || matches!(self.at(0), b'-' | b'_') {
                        self.advance();
                    }
                }
                b'!' => {
                    self.save_key();
                    self.key_allowed = false;
                    self.tag();
                }
                b'|' | b'>' if self.flow == 0 => {
                    self.key = None;
                    self.key_allowed = true;
                    self.block_scalar()?;
                }
                b'\'' | b'"' => {
                    self.save_key();
                    self.key_allowed = false;
                    self.quoted(c)?;
                }
                b'-' | b'?' | b':' => {
                    // Followed by a non-blank: a plain scalar starts here (`-1`, `:x`),
                    // except `?`/`:` in flow context, handled above.
                    self.save_key();
                    self.plain()?;
                }
                b'#' | b'@' | b'`' | b'%' | b'|' | b'>' => return Err(Stop.into()),
                _ if self.is_blankz(0) => return Err(Stop.into()),
                _ => {
                    self.save_key();
                    self.plain()?;
                }
            }
        }
    }

    fn tag(&mut self) {
        self.advance(); // '!'
        if self.at(0) == b'<' {
            // A verbatim tag may hold flow indicators: skip to its end.
            while !self.is_end(0) && self.at(0) != b'>' && !self.is_blankz(0) {
                self.advance();
            }
            if self.at(0) == b'>' {
                self.advance();
            }
            return;
        }
        while self.at(0).is_ascii_alphanumeric()
            || matches!(
                self.at(0),
                b'-' | b'_'
                    | b';'
                    | b'/'
                    | b'?'
                    | b':'
                    | b'@'
                    | b'&'
                    | b'='
                    | b'+'
                    | b'$'
                    | b'.'
                    | b'%'
                    | b'!'
                    | b'~'
                    | b'*'
                    | b'\''
                    | b'('
                    | b')'
            )
        {
            self.advance();
        }
    }

    /// A single- or double-quoted scalar, possibly over several lines.
    fn quoted(&mut self, quote: u8) -> Result<(), Stop> {
        self.advance();
        loop {
            if self.is_end(0) || self.document_marker() {
                return Err(Stop);
            }
            let c = self.at(0);
            if quote == b'\'' && c == b'\'' {
                if self.at(1) == b'\'' {
                    self.advance();
                    self.advance();
                    continue;
                }
                self.advance();
                return Ok(());
            }
            if quote == b'"' && c == b'"' {
                self.advance();
                return Ok(());
            }
            if quote == b'"' && c == b'\\' {
                self.advance();
                if !self.skip_break() && !self.is_end(0) {
                    self.advance();
                }
                continue;
            }
            if !self.skip_break() {
                self.advance();
            }
        }
    }

    /// A plain scalar: it ends before `: `, ` #`, a flow indicator in flow context, or a
    /// line that is not indented more than the enclosing block collection.
    fn plain(&mut self) -> Result<(), Stop> {
        let continuation = self.indent().map_or(0, |indent| indent + 1);
        let mut leading_blanks = false;
        loop {
            if self.document_marker() || self.at(0) == b'#' {
                break;
            }
            while !self.is_blankz(0) {
                let c = self.at(0);
                if self.flow > 0
                    && c == b':'
                    && matches!(self.at(1), b',' | b'?' | b'[' | b']' | b'{' | b'}')
                {
                    return Err(Stop);
                }
                if (c == b':' && self.is_blankz(1))
                    || (self.flow > 0 && matches!(c, b',' | b'[' | b']' | b'{' | b'}'))
                {
                    break;
                }
                self.advance();
            }
            if !(self.is_blank(0) || self.break_len(0) > 0) {
                break;
            }
            while self.is_blank(0) || self.break_len(0) > 0 {
                if self.is_blank(0) {
                    if leading_blanks && self.column < continuation && self.at(0) == b'\t' {
                        return Err(Stop);
                    }
                    self.advance();
                } else {
                    self.skip_break();
                    leading_blanks = true;
                }
            }
            if self.flow == 0 && self.column < continuation {
                break;
            }
        }
        self.key_allowed = leading_blanks;
        Ok(())
    }

    /// A literal (`|`) or folded (`>`) block scalar: its header, then every line indented
    /// at least as much as its content (the first non-empty line sets it).
    fn block_scalar(&mut self) -> Result<(), Stop> {
        self.advance();
        let mut increment = 0;
        for _ in 0..2 {
            match self.at(0) {
                b'+' | b'-' => self.advance(),
                d @ b'1'..=b'9' => {
                    increment = usize::from(d - b'0');
                    self.advance();
                }
                b'0' => return Err(Stop),
                _ => {}
            }
        }
        while self.is_blank(0) {
            self.advance();
        }
        if self.at(0) == b'#' {
            while !self.is_end(0) && self.break_len(0) == 0 {
                self.advance();
            }
        }
        if !self.skip_break() {
            return if self.is_end(0) { Ok(()) } else { Err(Stop) };
        }
        let base = self.indent();
        let mut content = if increment > 0 {
            Some(base.map_or(increment, |b| b + increment))
        } else {
            None
        };
        let minimum = base.map_or(1, |b| b + 1).max(1);
        let mut widest_blank = 0;
        loop {
            // Leading spaces of this line, up to the content indentation once known.
            let line_start = (self.i, self.line, self.column);
            while self.at(0) == b' ' && content.is_none_or(|c| self.column < c) {
                self.advance();
            }
            if self.is_end(0) {
                return Ok(());
            }
            if self.break_len(0) > 0 {
                widest_blank = widest_blank.max(self.column);
                self.skip_break();
                continue;
            }
            let indent = *content.get_or_insert(widest_blank.max(self.column).max(minimum));
            if self.column < indent {
                // Not content: the scalar ends before this line.
                (self.i, self.line, self.column) = line_start;
                return Ok(());
            }
            while !self.is_end(0) && self.break_len(0) == 0 {
                self.advance();
            }
            self.skip_break();
        }
    }
}

/// Counts the nodes a YAML document expands to, aliases expanded, and fails once it has
/// seen more than its budget: nothing is kept, so an alias bomb costs at most the budget.
#[derive(Clone, Copy)]
struct NodeCounter<'b> {
    budget: &'b Cell<usize>,
}

impl NodeCounter<'_> {
    fn tick<E: de::Error>(&self) -> Result<(), E> {
        match self.budget.get().checked_sub(1) {
            Some(left) => {
                self.budget.set(left);
                Ok(())
            }
            None => Err(E::custom(format_args!(
                "the YAML expands to more than {MAX_YAML_NODES} nodes (MAX_YAML_NODES), through aliases; a model card has a few hundred"
            ))),
        }
    }
}

impl<'de> DeserializeSeed<'de> for NodeCounter<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NodeCounter<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.tick()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.tick()
    }
    fn visit_i128<E: de::Error>(self, _: i128) -> Result<(), E> {
        self.tick()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.tick()
    }
    fn visit_u128<E: de::Error>(self, _: u128) -> Result<(), E> {
        self.tick()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.tick()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.tick()
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<(), E> {
        self.tick()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.tick()
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.tick()
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.tick()?;
        self.deserialize(d)
    }
    fn visit_newtype_struct<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.tick()?;
        self.deserialize(d)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.tick()?;
        while seq.next_element_seed(self)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.tick()?;
        while map.next_key_seed(self)?.is_some() {
            map.next_value_seed(self)?;
        }
        Ok(())
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        // A tagged node (`!tag value`): the tag, then its value.
        use de::VariantAccess;
        self.tick()?;
        let ((), variant) = data.variant_seed(self)?;
        variant.newtype_variant_seed(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_refused(text: &str) -> bool {
        matches!(check_shape(text), Err(ShapeError::TooDeep { .. }))
    }

    /// Nesting depth as serde_norway itself sees it, for texts it parses.
    fn real_depth(value: &serde_norway::Value) -> usize {
        use serde_norway::Value;
        match value {
            Value::Sequence(items) => 1 + items.iter().map(real_depth).max().unwrap_or(0),
            Value::Mapping(map) => {
                1 + map
                    .iter()
                    .map(|(k, v)| real_depth(k).max(real_depth(v)))
                    .max()
                    .unwrap_or(0)
            }
            Value::Tagged(tagged) => real_depth(&tagged.value),
            _ => 0,
        }
    }

    #[test]
    fn deep_flow_sequences_and_mappings_are_refused() {
        let n = 100_000;
        assert!(depth_refused(&"[".repeat(n)));
        assert!(depth_refused(&format!(
            "{}{}",
            "[".repeat(n),
            "]".repeat(n)
        )));
        assert!(depth_refused(&"{a: ".repeat(n)));
        assert!(depth_refused(&format!("key: {}", "[{".repeat(n))));
        let at_limit = format!(
            "{}{}",
            "[".repeat(MAX_YAML_DEPTH),
            "]".repeat(MAX_YAML_DEPTH)
        );
        assert_eq!(check_shape(&at_limit), Ok(()));
        let over = format!(
            "{}{}",
            "[".repeat(MAX_YAML_DEPTH + 1),
            "]".repeat(MAX_YAML_DEPTH + 1)
        );
        assert_eq!(check_shape(&over), Err(ShapeError::TooDeep { line: 1 }));
    }

    #[test]
    fn deep_block_mappings_and_sequences_are_refused() {
        // Indented one more space per level, so that it stays under MAX_YAML_BYTES.
        let n = 1_000;
        let mappings: String = (0..n).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        assert!(depth_refused(&mappings));
        let sequences: String = (0..n).map(|i| format!("{}-\n", " ".repeat(i))).collect();
        assert!(depth_refused(&sequences));
        let mixed: String = (0..n).map(|i| format!("{}- k:\n", " ".repeat(i))).collect();
        assert!(depth_refused(&mixed));
    }

    #[test]
    fn compact_sequences_on_one_line_are_refused() {
        assert!(depth_refused(&format!("{}x", "- ".repeat(100_000))));
        assert!(depth_refused(&format!("k: {}", "- ".repeat(1_000))));
        assert!(depth_refused(&"? ".repeat(1_000)));
    }

    #[test]
    fn quoted_text_comments_and_block_scalars_do_not_count_as_nesting() {
        let brackets = "[{".repeat(1_000);
        for text in [
            format!("a: \"{brackets}\"\n"),
            format!("a: '{brackets} it''s'\n"),
            format!("a: b # {brackets}\n"),
            format!("a: |\n  {brackets}\n  {brackets}\nb: 1\n"),
            format!("- >-\n  {brackets}\n- x\n"),
            format!("a: plain text {brackets}\n"),
        ] {
            assert_eq!(check_shape(&text), Ok(()), "{}", &text[..40]);
        }
    }

    #[test]
    fn a_quote_inside_plain_text_does_not_hide_what_follows() {
        // libyaml reads `x"` as plain text, so the brackets on the next line are nesting.
        let deep = "[".repeat(1_000);
        assert!(depth_refused(&format!("a: x\"\nb: {deep}\nc: \"\n")));
        assert!(depth_refused(&format!("a: it's\nb: {deep}\nc: '\n")));
        // A continuation line of a plain scalar is plain text, even starting with a quote.
        assert!(depth_refused(&format!("a: x\n  \"\nb: {deep}\nc: \"\n")));
        // `#` not after a blank is no comment.
        assert!(depth_refused(&format!("a: x#{deep}\nb: {deep}\n")));
        // A block scalar ends at the first line indented less than its content.
        assert!(depth_refused(&format!("a: |\n    text\n  b: {deep}\n")));
    }

    #[test]
    fn too_much_yaml_is_refused_by_size() {
        let text = "a: b\n".repeat(MAX_YAML_BYTES / 5 + 1);
        assert!(matches!(
            check_shape(&text),
            Err(ShapeError::TooLarge { .. })
        ));
    }

    /// Aliases that expand `base` nodes `fan_out` times per level: a few KB of YAML that
    /// is a hundred million nodes as values.
    pub(crate) fn alias_bomb() -> String {
        let list = |item: &str, n: usize| format!("[{}]", vec![item; n].join(", "));
        format!(
            "a0: &a0 {}\na1: &a1 {}\na2: {}\n",
            list("x", 1_000),
            list("*a0", 1_000),
            list("*a1", 100)
        )
    }

    #[test]
    fn an_alias_bomb_is_refused_by_the_node_budget() {
        let error = from_str::<serde_norway::Value>(&alias_bomb(), "bomb.yaml")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("more than 1048576 nodes (MAX_YAML_NODES)"),
            "{error}"
        );
        // A few aliases are fine.
        let ok: serde_norway::Value = from_str("a: &x [1, 2]\nb: *x\nc: *x\n", "ok.yaml").unwrap();
        assert_eq!(ok["c"][1], serde_norway::Value::from(2));
    }

    #[test]
    fn the_prescan_never_counts_less_depth_than_the_parser_finds() {
        // Random texts over YAML's significant characters: whenever serde_norway parses
        // one, the pre-scan must have counted at least the depth it finds.
        let alphabet: &[&str] = &[
            "[", "]", "{", "}", ",", ":", ": ", "- ", "? ", "\n", "\n  ", "\n    ", " ", "a", "b",
            "'", "\"", "#", " #", "|", ">", "&x ", "*x", "!t ", "\\", "'' ", "\t",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut parsed = 0;
        for _ in 0..20_000 {
            let len = (next() % 40) as usize;
            let text: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let Ok(value) = serde_norway::from_str::<serde_norway::Value>(&text) else {
                continue;
            };
            parsed += 1;
            let depth = real_depth(&value);
            let scanned = max_depth(&text);
            assert!(
                scanned >= depth,
                "scan {scanned} < parser {depth} for {text:?}"
            );
        }
        assert!(parsed > 1_000, "only {parsed} random texts parsed");
    }

    /// The deepest point the scan reaches (for tests).
    fn max_depth(text: &str) -> usize {
        (0..=MAX_YAML_DEPTH)
            .find(|&limit| within(text, limit))
            .unwrap_or(usize::MAX)
    }

    fn within(text: &str, limit: usize) -> bool {
        let mut scanner = Scanner::new(text.as_bytes());
        scanner.limit = limit;
        scanner.run().is_ok()
    }
}
