//! The in-band messages a raw host terminal sends inside the stdin stream, since WASI gives the
//! runtime no other channel from the page: an APC string (ECMA-48 "application program
//! command") with a private prefix,
//!
//! ```text
//! ESC _ ctr2wasm;winsize;COLS;ROWS ESC \
//! ```
//!
//! sent when the terminal's size changes. The runtime consumes it; the guest never sees it.
//!
//! A keystroke can start the same way (Alt+_ sends `ESC _`), so bytes are held only while they
//! match the prefix `ESC _ ctr2wasm;`, and given back as input as soon as they stop matching or
//! the host has no more bytes ready ([`InBand::end_of_burst`]): the page writes each message in
//! one piece, so a message never straddles a pause in the input. Unknown or malformed messages
//! are dropped.

use crate::abi::termios::Winsize;

const PREFIX: &[u8] = b"\x1b_ctr2wasm;";

/// Longest message body kept; a longer one is dropped, so a stray prefix cannot make the
/// runtime hold input without bound.
const MAX_BODY: usize = 64;

/// One item of the terminal's input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    Byte(u8),
    Resize(Winsize),
}

#[derive(Default)]
pub struct InBand {
    /// Bytes matching a prefix of [`PREFIX`], not yet known to be a message.
    held: Vec<u8>,
    /// Inside a message, after its prefix.
    msg: Option<Message>,
}

#[derive(Default)]
struct Message {
    body: Vec<u8>,
    /// The last byte was the `ESC` that starts the terminator (`ST`, `ESC \`).
    esc: bool,
    /// The body passed [`MAX_BODY`]: the rest is skipped and the message dropped.
    too_long: bool,
}

impl InBand {
    /// Splits host input into keystrokes and messages.
    pub fn feed(&mut self, data: &[u8], out: &mut Vec<Input>) {
        for &b in data {
            self.byte(b, out);
        }
    }

    fn byte(&mut self, b: u8, out: &mut Vec<Input>) {
        if let Some(m) = &mut self.msg {
            if m.esc {
                let msg = self.msg.take().expect("inside a message");
                if b == b'\\' {
                    if !msg.too_long {
                        out.extend(parse(&msg.body));
                    }
                } else {
                    // An `ESC` that does not terminate cancels the message, as in a terminal.
                    self.byte(b, out);
                }
            } else if b == 0x1b {
                m.esc = true;
            } else if m.body.len() < MAX_BODY {
                m.body.push(b);
            } else {
                m.too_long = true;
            }
            return;
        }
        if self.held.is_empty() && b != PREFIX[0] {
            out.push(Input::Byte(b));
            return;
        }
        self.held.push(b);
        if PREFIX.starts_with(&self.held) {
            if self.held.len() == PREFIX.len() {
                self.held.clear();
                self.msg = Some(Message::default());
            }
            return;
        }
        // Not a message after all: the held bytes were input. The last one may start one.
        let held = std::mem::take(&mut self.held);
        let (last, before) = held.split_last().expect("held has the byte just pushed");
        out.extend(before.iter().map(|&b| Input::Byte(b)));
        self.byte(*last, out);
    }

    /// The host has no more input ready: a partial prefix was typed, not sent by the page.
    pub fn end_of_burst(&mut self, out: &mut Vec<Input>) {
        out.extend(self.held.drain(..).map(Input::Byte));
    }
}

/// `winsize;COLS;ROWS` with both in 1..=65535.
fn parse(body: &[u8]) -> Option<Input> {
    let s = std::str::from_utf8(body).ok()?;
    let mut parts = s.split(';');
    if parts.next()? != "winsize" {
        return None;
    }
    let cols: u16 = parts.next()?.parse().ok().filter(|&c| c > 0)?;
    let rows: u16 = parts.next()?.parse().ok().filter(|&r| r > 0)?;
    if parts.next().is_some() {
        return None;
    }
    Some(Input::Resize(Winsize { rows, cols }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<Input> {
        let mut p = InBand::default();
        let mut out = Vec::new();
        for c in chunks {
            p.feed(c, &mut out);
            p.end_of_burst(&mut out);
        }
        out
    }

    fn bytes(s: &[u8]) -> Vec<Input> {
        s.iter().map(|&b| Input::Byte(b)).collect()
    }

    #[test]
    fn a_resize_message_is_consumed_between_keystrokes() {
        let out = split(&[b"a\x1b_ctr2wasm;winsize;120;40\x1b\\b"]);
        let mut want = bytes(b"a");
        want.push(Input::Resize(Winsize {
            rows: 40,
            cols: 120,
        }));
        want.extend(bytes(b"b"));
        assert_eq!(out, want);
    }

    #[test]
    fn a_message_may_be_split_after_its_prefix() {
        let out = split(&[b"\x1b_ctr2wasm;wins", b"ize;80;24\x1b", b"\\"]);
        assert_eq!(out, vec![Input::Resize(Winsize { rows: 24, cols: 80 })]);
    }

    #[test]
    fn escape_sequences_that_are_not_messages_pass_through() {
        // Alt+_ , an arrow key, a lone ESC at the end of a burst, ESC ESC.
        let input: &[u8] = b"\x1b_x\x1b[A\x1b\x1b_ctr\x1b";
        assert_eq!(split(&[input]), bytes(input));
        assert_eq!(split(&[b"\x1b_ctr", b"2wasm"]), bytes(b"\x1b_ctr2wasm"));
    }

    #[test]
    fn malformed_or_unknown_messages_are_dropped() {
        for m in [
            &b"\x1b_ctr2wasm;winsize;0;24\x1b\\"[..],
            b"\x1b_ctr2wasm;winsize;80\x1b\\",
            b"\x1b_ctr2wasm;winsize;80;24;1\x1b\\",
            b"\x1b_ctr2wasm;colour;red\x1b\\",
            b"\x1b_ctr2wasm;winsize;99999;24\x1b\\",
        ] {
            assert_eq!(split(&[m, b"k"]), bytes(b"k"), "{m:?}");
        }
        let long = [&b"\x1b_ctr2wasm;"[..], &[b'9'; 100], b"\x1b\\k"].concat();
        assert_eq!(split(&[&long]), bytes(b"k"));
    }
}
