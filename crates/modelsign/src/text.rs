//! Text that came from an input (a file name, a signed card field) made safe to show on a
//! terminal: a name holding a newline could forge a line of output ("Verification
//! succeeded"), and one holding an escape sequence could recolour or clear the screen.

use std::borrow::Cow;
use std::fmt::Write;
use std::path::Path;

/// `text` with every character that could change how a terminal shows it written out as a
/// visible escape: C0 controls (`\n`, `\t`, `\x1b`, ...), DEL, C1 controls and the Unicode
/// bidirectional overrides and isolates (which can make `evil.exe` look like `exe.live`).
/// Everything else is kept as it is.
pub fn printable(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// As [`printable`], but keeping line breaks: for whole messages whose lines are meant,
/// after the input-derived parts of them went through [`printable`].
pub fn printable_lines(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

/// A path, as [`printable`] shows it (bytes that are not UTF-8 become U+FFFD).
pub fn printable_path(path: &Path) -> String {
    printable(&path.to_string_lossy()).into_owned()
}

fn escape(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let needs = |c: char| is_unsafe(c) && !(keep_newlines && c == '\n');
    if !text.chars().any(needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !needs(c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    Cow::Owned(out)
}

fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        assert!(matches!(
            printable("weights/model-00001.safetensors"),
            Cow::Borrowed(_)
        ));
        assert_eq!(printable("naïve 模型 ✓"), "naïve 模型 ✓");
    }

    #[test]
    fn controls_become_visible_escapes() {
        assert_eq!(
            printable("x\nVerification succeeded\r\t\u{1b}[31m\u{7f}\u{85}"),
            "x\\nVerification succeeded\\r\\t\\x1b[31m\\x7f\\x85"
        );
    }

    #[test]
    fn bidirectional_overrides_become_visible_escapes() {
        assert_eq!(printable("evil\u{202e}exe.bin"), "evil\\u{202e}exe.bin");
        assert_eq!(printable("a\u{2066}b"), "a\\u{2066}b");
    }

    #[test]
    fn whole_messages_keep_their_line_breaks_but_lose_escape_sequences() {
        assert_eq!(
            printable_lines("line one\nline \u{1b}]0;title\u{7}two"),
            "line one\nline \\x1b]0;title\\x07two"
        );
    }
}
