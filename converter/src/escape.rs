//! Text from an image shown on a terminal: tar member names, tags, annotations, manifest
//! fields, a registry's error text, a module's config. All of it is the image author's, so
//! before it reaches stderr or stdout every character that could drive a terminal or fake a
//! line is written as an escape, the way [`str::escape_debug`] writes it (`\n`, `\r`, `\t`,
//! `\u{1b}`), and everything else, ordinary Unicode included, stays readable.
//!
//! Escaped: the C0 controls (ESC starts every terminal sequence; CR and LF would let a name
//! print a line of its own such as a forged `ctr2wasm: …`), DEL, the C1 controls (U+009B is
//! CSI on terminals that take 8-bit controls), the line and paragraph separators, and the
//! bidirectional formatting characters, which reorder what is shown ("Trojan Source").
//!
//! Backslashes are kept as they are: some messages (serde's, a `{:?}` of ours) quote text in
//! Rust's escaped form already, and doubling their backslashes would garble them. What must
//! hold is only that no control character reaches the terminal, and that holds for every
//! message, because `main` passes each whole message through [`text`] as it prints it.

use std::borrow::Cow;
use std::fmt::Write;

/// `s` with every character that is not safe to show escaped (see the module docs).
pub fn text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut shown = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => shown.push_str("\\n"),
            '\r' => shown.push_str("\\r"),
            '\t' => shown.push_str("\\t"),
            c if needs_escape(c) => {
                let _ = write!(shown, "\\u{{{:x}}}", c as u32);
            }
            c => shown.push(c),
        }
    }
    Cow::Owned(shown)
}

fn needs_escape(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'          // C0 controls
        | '\u{7f}'..='\u{9f}'       // DEL and the C1 controls
        | '\u{61c}'                 // Arabic letter mark
        | '\u{200e}' | '\u{200f}'   // left-to-right and right-to-left marks
        | '\u{2028}' | '\u{2029}'   // line and paragraph separators
        | '\u{202a}'..='\u{202e}'   // bidirectional embeddings and overrides
        | '\u{2066}'..='\u{2069}' // bidirectional isolates
    )
}

#[cfg(test)]
mod tests {
    use super::text;

    #[test]
    fn controls_are_escaped_and_unicode_stays_readable() {
        assert_eq!(text("usr/bin/ls"), "usr/bin/ls");
        assert_eq!(text("café/日本語/ü"), "café/日本語/ü");
        assert_eq!(
            text("a\u{1b}[2Jb\rc\nctr2wasm: forged\u{9b}1m\u{7f}\t\0"),
            "a\\u{1b}[2Jb\\rc\\nctr2wasm: forged\\u{9b}1m\\u{7f}\\t\\u{0}"
        );
        assert_eq!(text("x\u{202e}y\u{2028}"), "x\\u{202e}y\\u{2028}");
        assert_eq!(text("back\\slash"), "back\\slash");
    }

    #[test]
    fn nothing_unsafe_is_left() {
        let all: String = (0..0x3000u32).filter_map(char::from_u32).collect();
        let shown = text(&all);
        assert!(
            !shown
                .chars()
                .any(|c| c < ' ' || ('\u{7f}'..='\u{9f}').contains(&c))
        );
    }
}
