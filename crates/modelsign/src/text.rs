//! Text from inputs (file names, signed card fields, identities) made safe to show to a
//! person.
//!
//! Whatever a signature, a card or a model folder says can be chosen by an attacker. Shown
//! raw, a control character can move the cursor, recolour or clear the terminal, an
//! embedded line break can forge a line of output ("Verification succeeded: …"), and a
//! Unicode bidirectional override can make text read differently from what it is. So
//! everything human-readable that echoes input goes through [`printable`] first.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with every character that could control the terminal, break the line or reorder
/// the text replaced by a visible escape, so one line of input stays one line of output and
/// reads as what it is:
///
/// - C0 controls (U+0000–U+001F) and DEL: `\n`, `\r`, `\t` by name, the others as `\x1b`;
/// - C1 controls (U+0080–U+009F, among them NEL, a line break) as `\u{85}`;
/// - Unicode bidirectional controls (the overrides and embeddings U+202A–U+202E, the
///   isolates U+2066–U+2069, and the marks U+200E, U+200F, U+061C) and the line and
///   paragraph separators U+2028, U+2029, as `\u{202e}`.
///
/// Everything else, including non-ASCII letters and backslashes, is kept: the point is that
/// input cannot act on the terminal, not that the escapes are reversible. Borrows when
/// there is nothing to escape, which is the usual case.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// As [`printable`], but keeping line breaks: for whole messages whose lines are meant,
/// after the input-derived parts of them went through [`printable`].
pub fn printable_lines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && needs_escape(c)) {
        return Cow::Borrowed(text);
    }
    let lines: Vec<Cow<'_, str>> = text.split('\n').map(printable).collect();
    Cow::Owned(lines.join("\n"))
}

/// A path, as [`printable`] shows it (bytes that are not UTF-8 become U+FFFD).
pub fn printable_path(path: &std::path::Path) -> String {
    printable(&path.to_string_lossy()).into_owned()
}

/// JSON text with every character [`printable`] would escape written as a JSON `\uXXXX`
/// escape: serde escapes C0 controls but leaves C1 controls (U+009B is a one-character
/// CSI) and bidirectional overrides raw. Still the same JSON value, and safe to show.
pub fn json_printable(json: &str) -> Cow<'_, str> {
    if !json.chars().any(needs_escape) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if needs_escape(c) {
            // Every such character is in the Basic Multilingual Plane: one escape each.
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() // C0, DEL and C1
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
                | '\u{2028}' | '\u{2029}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        for text in [
            "",
            "sentiment-tiny",
            "Größe 1.2 — 模型",
            r"C:\models\m",
            "tab-free",
        ] {
            assert!(
                matches!(printable(text), Cow::Borrowed(t) if t == text),
                "{text}"
            );
        }
    }

    #[test]
    fn line_breaks_and_tabs_become_visible_escapes() {
        assert_eq!(
            printable("x\nVerification succeeded: m\r\n\tdone"),
            "x\\nVerification succeeded: m\\r\\n\\tdone"
        );
    }

    #[test]
    fn terminal_escape_sequences_and_other_c0_controls_and_del_are_escaped() {
        assert_eq!(
            printable("\u{1b}[2J\u{1b}]0;title\u{7}"),
            "\\x1b[2J\\x1b]0;title\\x07"
        );
        assert_eq!(printable("a\0b\u{8}c\u{7f}"), "a\\x00b\\x08c\\x7f");
        let all_c0: String = (0u8..0x20).map(char::from).collect();
        assert!(
            !printable(&all_c0).chars().any(|c| c.is_control()),
            "{}",
            printable(&all_c0)
        );
    }

    #[test]
    fn whole_messages_keep_their_line_breaks_but_lose_escape_sequences() {
        assert_eq!(
            printable_lines("line one\nline \u{1b}]0;title\u{7}two"),
            "line one\nline \\x1b]0;title\\x07two"
        );
        assert!(matches!(printable_lines("a\nb"), Cow::Borrowed(_)));
    }

    #[test]
    fn json_keeps_its_value_but_loses_raw_c1_and_bidi_characters() {
        let json = serde_json::json!({"name": "a\u{9b}31m\u{202e}b\n"}).to_string();
        let safe = json_printable(&json);
        assert_eq!(safe, r#"{"name":"a\u009b31m\u202eb\n"}"#);
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["name"], "a\u{9b}31m\u{202e}b\n");
    }

    #[test]
    fn c1_controls_are_escaped() {
        // U+009B is the one-character CSI: as good as ESC [ to many terminals.
        assert_eq!(printable("a\u{9b}31mb\u{85}c"), "a\\u{9b}31mb\\u{85}c");
    }

    #[test]
    fn bidirectional_overrides_isolates_and_separators_are_escaped() {
        assert_eq!(printable("safe\u{202e}txt.exe"), "safe\\u{202e}txt.exe");
        for c in ('\u{202a}'..='\u{202e}')
            .chain('\u{2066}'..='\u{2069}')
            .chain(['\u{200e}', '\u{200f}', '\u{061c}', '\u{2028}', '\u{2029}'])
        {
            let shown = printable(&c.to_string()).into_owned();
            assert_eq!(shown, format!("\\u{{{:x}}}", u32::from(c)));
        }
    }
}
