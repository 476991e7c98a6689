//! The line discipline (`drivers/tty/n_tty.c`) for a host terminal that hands over raw
//! keystrokes: input processing (`ICRNL`, `INLCR`, `IGNCR`, `ISTRIP`), echo (`ECHO`, `ECHOE`,
//! `ECHOK`, `ECHOKE`, `ECHONL`, `ECHOCTL`), canonical line editing (erase, word erase, kill,
//! literal next, reprint, end of file, end of line), signal characters (`ISIG`), the
//! `VMIN`/`VTIME` rules of non-canonical reads, and output processing (`OPOST`, `ONLCR`,
//! `OCRNL`, `ONOCR`, `ONLRET`, `XTABS`).
//!
//! It is pure state: bytes go in through [`Ldisc::receive`], the guest takes them with
//! [`Ldisc::read`], and what the terminal must show (echo, processed output) and the signals
//! to raise are left in [`Ldisc::take_echo`] and [`Ldisc::take_signals`] for the caller. Time
//! comes in as an argument, so `VTIME` is testable without sleeping.
//!
//! Not implemented: `IXON` flow control (`^S`/`^Q` are ordinary input), `ECHOPRT`, `IUCLC`,
//! `OLCUC` and the fill and delay bits of `c_oflag`.

use crate::abi::signal::{SIGINT, SIGQUIT, SIGTSTP};
use crate::abi::termios::{
    ECHO, ECHOCTL, ECHOE, ECHOK, ECHOKE, ECHONL, ICANON, ICRNL, IEXTEN, IGNCR, INLCR, ISIG, ISTRIP,
    IUTF8, NOFLSH, OCRNL, ONLCR, ONLRET, ONOCR, OPOST, TABDLY, Termios, VEOF, VEOL, VEOL2, VERASE,
    VINTR, VKILL, VLNEXT, VMIN, VQUIT, VREPRINT, VSUSP, VTIME, VWERASE, XTABS,
};
use std::collections::VecDeque;

/// Bytes the input queue holds (`N_TTY_BUF_SIZE`). Past it input is dropped, as Linux does,
/// so a guest that never reads cannot make the runtime buffer keystrokes without bound.
pub const INPUT_CAP: usize = 4096;

/// What a read may do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// The read returns this many bytes (0: end of file, or a `VMIN`/`VTIME` timeout).
    Done(usize),
    /// Nothing to return yet: wait for input or, when given, until this deadline (ns on the
    /// caller's clock) and then try again.
    Wait { deadline_ns: Option<u64> },
}

pub struct Ldisc {
    pub termios: Termios,
    /// Input the guest may read: everything in non-canonical mode, up to the first entry of
    /// `line_ends` in canonical mode.
    queue: VecDeque<u8>,
    /// Input count at the front of `queue`, so `line_ends` can hold absolute positions.
    head: u64,
    /// Absolute positions where committed lines end (after `\n`, `VEOL`, or at a `VEOF`).
    line_ends: VecDeque<u64>,
    /// The canonical line being edited, not readable until committed.
    line: Vec<u8>,
    /// The next character is taken literally (`VLNEXT`).
    lnext: bool,
    /// The terminal's cursor column, as the output processing has moved it.
    column: u32,
    /// The column where the canonical line being edited started (for erasing tabs).
    canon_column: u32,
    /// Bytes to send to the terminal.
    echo: Vec<u8>,
    signals: Vec<u32>,
    /// When the last input byte arrived (the `VTIME` inter-byte timer).
    last_byte_ns: u64,
    /// When a non-canonical read with `VMIN` 0 and `VTIME` > 0 started waiting.
    read_started_ns: Option<u64>,
    /// The host side hung up: reads return what is queued, then end of file.
    hung_up: bool,
}

impl Ldisc {
    pub fn new(termios: Termios) -> Ldisc {
        Ldisc {
            termios,
            queue: VecDeque::new(),
            head: 0,
            line_ends: VecDeque::new(),
            line: Vec::new(),
            lnext: false,
            column: 0,
            canon_column: 0,
            echo: Vec::new(),
            signals: Vec::new(),
            last_byte_ns: 0,
            read_started_ns: None,
            hung_up: false,
        }
    }

    fn lflag(&self, bit: u32) -> bool {
        self.termios.lflag & bit != 0
    }

    fn iflag(&self, bit: u32) -> bool {
        self.termios.iflag & bit != 0
    }

    /// Whether `c` is the control character at `index` (0 disables one: `_POSIX_VDISABLE`).
    fn is_cc(&self, c: u8, index: usize) -> bool {
        c != 0 && self.termios.cc[index] == c
    }

    /// New line settings (`TCSETS*`). Leaving canonical mode makes the line being edited
    /// readable; entering it makes what is queued one readable line (`n_tty_set_termios`).
    pub fn set_termios(&mut self, t: Termios) {
        let was_canon = self.lflag(ICANON);
        self.termios = t;
        let canon = self.lflag(ICANON);
        if was_canon && !canon {
            let line = std::mem::take(&mut self.line);
            self.queue.extend(line);
            self.line_ends.clear();
        } else if !was_canon && canon && !self.queue.is_empty() {
            self.line_ends.clear();
            self.line_ends
                .push_back(self.head + self.queue.len() as u64);
        }
        self.read_started_ns = None;
    }

    /// Discards queued and half-edited input (`TCIFLUSH`, a signal character without
    /// `NOFLSH`).
    pub fn flush_input(&mut self) {
        self.head += self.queue.len() as u64;
        self.queue.clear();
        self.line_ends.clear();
        self.line.clear();
        self.lnext = false;
    }

    /// The host closed its side: reads drain the queue, then see end of file.
    pub fn hang_up(&mut self) {
        self.hung_up = true;
    }

    /// What to write to the terminal: echoed input and processed output, in order.
    pub fn take_echo(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.echo)
    }

    /// Signals the input raised for the foreground process group, in order.
    pub fn take_signals(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.signals)
    }

    /// Bytes a read could return now (`FIONREAD`).
    pub fn readable_len(&self) -> usize {
        if self.lflag(ICANON) {
            self.line_ends
                .front()
                .map_or(0, |&end| (end - self.head) as usize)
        } else {
            self.queue.len()
        }
    }

    /// Whether `poll` reports the terminal readable (`input_available_p(tty, 1)`): a whole line
    /// in canonical mode; otherwise `VMIN` bytes when there is no timer, else one.
    pub fn poll_readable(&self) -> bool {
        if self.hung_up {
            return true;
        }
        if self.lflag(ICANON) {
            return !self.line_ends.is_empty();
        }
        let (min, time) = (self.termios.cc[VMIN], self.termios.cc[VTIME]);
        let want = if time == 0 && min > 0 {
            usize::from(min)
        } else {
            1
        };
        self.queue.len() >= want
    }

    /// `read(2)` of the terminal at time `now_ns`.
    pub fn read(&mut self, buf: &mut [u8], now_ns: u64) -> Read {
        if buf.is_empty() {
            return Read::Done(0);
        }
        if self.lflag(ICANON) {
            let Some(&end) = self.line_ends.front() else {
                return if self.hung_up {
                    Read::Done(0)
                } else {
                    Read::Wait { deadline_ns: None }
                };
            };
            let n = ((end - self.head) as usize).min(buf.len());
            self.take(&mut buf[..n]);
            if self.head == end {
                self.line_ends.pop_front();
            }
            return Read::Done(n);
        }
        let min = usize::from(self.termios.cc[VMIN]);
        let time_ns = u64::from(self.termios.cc[VTIME]) * 100_000_000;
        let have = self.queue.len();
        let done = |s: &mut Ldisc, buf: &mut [u8]| {
            s.read_started_ns = None;
            let n = have.min(buf.len());
            s.take(&mut buf[..n]);
            Read::Done(n)
        };
        if self.hung_up || have >= min.clamp(1, buf.len()) {
            return done(self, buf);
        }
        match (min, time_ns) {
            // A poll: whatever is there, maybe nothing.
            (0, 0) => done(self, buf),
            // A read timer: one byte or the timeout.
            (0, t) => {
                let started = *self.read_started_ns.get_or_insert(now_ns);
                let deadline = started.saturating_add(t);
                if now_ns >= deadline {
                    done(self, buf)
                } else {
                    Read::Wait {
                        deadline_ns: Some(deadline),
                    }
                }
            }
            (_, 0) => Read::Wait { deadline_ns: None },
            // An inter-byte timer: it runs from the last byte once one has come.
            (_, t) if have > 0 => {
                let deadline = self.last_byte_ns.saturating_add(t);
                if now_ns >= deadline {
                    done(self, buf)
                } else {
                    Read::Wait {
                        deadline_ns: Some(deadline),
                    }
                }
            }
            _ => Read::Wait { deadline_ns: None },
        }
    }

    fn take(&mut self, buf: &mut [u8]) {
        for b in buf.iter_mut() {
            *b = self
                .queue
                .pop_front()
                .expect("callers take at most what is queued");
        }
        self.head += buf.len() as u64;
    }

    /// One byte of input from the host terminal, arriving at `now_ns`
    /// (`n_tty_receive_char_special`).
    pub fn receive(&mut self, c: u8, now_ns: u64) {
        self.last_byte_ns = now_ns;
        let mut c = if self.iflag(ISTRIP) { c & 0x7f } else { c };
        if self.lnext {
            // The `^` shown for the literal next is overwritten by this character's echo.
            self.lnext = false;
            self.put(c);
            return;
        }
        if c == b'\r' {
            if self.iflag(IGNCR) {
                return;
            }
            if self.iflag(ICRNL) {
                c = b'\n';
            }
        } else if c == b'\n' && self.iflag(INLCR) {
            c = b'\r';
        }
        if self.lflag(ISIG) {
            let sig = if self.is_cc(c, VINTR) {
                Some(SIGINT)
            } else if self.is_cc(c, VQUIT) {
                Some(SIGQUIT)
            } else if self.is_cc(c, VSUSP) {
                Some(SIGTSTP)
            } else {
                None
            };
            if let Some(sig) = sig {
                if !self.lflag(NOFLSH) {
                    self.flush_input();
                }
                if self.lflag(ECHO) {
                    self.echo_char(c);
                }
                self.signals.push(sig);
                return;
            }
        }
        if self.lflag(ICANON) {
            let iexten = self.lflag(IEXTEN);
            if self.is_cc(c, VERASE) || self.is_cc(c, VKILL) || (iexten && self.is_cc(c, VWERASE)) {
                self.erase(c);
                return;
            }
            if iexten && self.is_cc(c, VLNEXT) {
                self.lnext = true;
                if self.lflag(ECHO) && self.lflag(ECHOCTL) {
                    self.start_line_echo();
                    self.output(b"^\x08");
                }
                return;
            }
            if iexten && self.is_cc(c, VREPRINT) {
                if self.lflag(ECHO) {
                    self.echo_char(c);
                    self.output(b"\n");
                    self.canon_column = self.column;
                    let line = self.line.clone();
                    for &b in &line {
                        self.echo_char(b);
                    }
                }
                return;
            }
            if c == b'\n' {
                if self.lflag(ECHO) || self.lflag(ECHONL) {
                    self.output(b"\n");
                }
                self.commit(Some(c));
                return;
            }
            if self.is_cc(c, VEOF) {
                self.commit(None);
                return;
            }
            if self.is_cc(c, VEOL) || (iexten && self.is_cc(c, VEOL2)) {
                if self.lflag(ECHO) {
                    self.echo_char(c);
                }
                self.commit(Some(c));
                return;
            }
        }
        self.put(c);
    }

    /// An ordinary character: echoed, then added to the line or the queue.
    fn put(&mut self, c: u8) {
        let canon = self.lflag(ICANON);
        // A canonical line keeps room for its terminator; beyond, characters are dropped.
        let full = if canon {
            self.queue.len() + self.line.len() >= INPUT_CAP - 1
        } else {
            self.queue.len() >= INPUT_CAP
        };
        if full {
            return;
        }
        if self.lflag(ECHO) {
            if canon {
                self.start_line_echo();
            }
            self.echo_char(c);
        }
        if canon {
            self.line.push(c);
        } else {
            self.queue.push_back(c);
        }
    }

    /// Remembers where the line's echo starts, before its first character is shown.
    fn start_line_echo(&mut self) {
        if self.line.is_empty() {
            self.canon_column = self.column;
        }
    }

    /// Ends the line being edited (with its terminator, none for `VEOF`): it becomes
    /// readable, and an empty one read at `VEOF` is end of file.
    fn commit(&mut self, terminator: Option<u8>) {
        let line = std::mem::take(&mut self.line);
        self.queue.extend(line);
        self.queue.extend(terminator);
        self.line_ends
            .push_back(self.head + self.queue.len() as u64);
    }

    /// `VERASE`, `VWERASE` or `VKILL` on the line being edited (`eraser`).
    fn erase(&mut self, c: u8) {
        if self.line.is_empty() {
            return;
        }
        let kill = self.is_cc(c, VKILL);
        let werase = !kill && self.is_cc(c, VWERASE);
        let echo = self.lflag(ECHO);
        if kill && (!echo || !self.lflag(ECHOK) || !self.lflag(ECHOKE) || !self.lflag(ECHOE)) {
            // Kill without visual erase: the kill character, then a fresh line with `ECHOK`.
            self.line.clear();
            if echo {
                self.echo_char(c);
                if self.lflag(ECHOK) {
                    self.output(b"\n");
                }
            }
            return;
        }
        let mut seen_word = false;
        while let Some(&last) = self.line.last() {
            // Like Linux (BSD's "altwerase"): anything up to the last word, then the word.
            if werase {
                if last.is_ascii_alphanumeric() || last == b'_' {
                    seen_word = true;
                } else if seen_word {
                    break;
                }
            }
            let width_before = self.echo_column(self.line.len() - 1);
            let width_after = self.echo_column(self.line.len());
            self.line.pop();
            // A UTF-8 character is erased whole.
            if self.iflag(IUTF8) && is_continuation(last) {
                continue;
            }
            if echo {
                if !self.lflag(ECHOE) && !kill {
                    self.echo_char(c);
                } else if last == b'\t' {
                    let n = width_after.saturating_sub(width_before);
                    self.output(&vec![b'\x08'; n as usize]);
                } else {
                    let n = width_after.saturating_sub(width_before);
                    for _ in 0..n {
                        self.output(b"\x08 \x08");
                    }
                }
            }
            if !kill && !werase {
                break;
            }
        }
    }

    /// The column the echo of `self.line[..len]` ends at, from where the line started.
    fn echo_column(&self, len: usize) -> u32 {
        let mut col = self.canon_column;
        for &b in &self.line[..len] {
            col += match b {
                b'\t' => 8 - (col & 7),
                _ if is_control(b) && self.lflag(ECHOCTL) => 2,
                _ if is_control(b) => 0,
                _ if self.iflag(IUTF8) && is_continuation(b) => 0,
                _ => 1,
            };
        }
        col
    }

    /// Shows an input character: control characters as `^X` under `ECHOCTL`.
    fn echo_char(&mut self, c: u8) {
        if self.lflag(ECHOCTL) && is_control(c) && c != b'\t' && c != b'\n' {
            self.output(&[b'^', c ^ 0x40]);
        } else {
            self.output(&[c]);
        }
    }

    /// Output to the terminal through `c_oflag` processing (`do_output_char`), tracking the
    /// cursor column.
    pub fn output(&mut self, data: &[u8]) {
        let oflag = self.termios.oflag;
        if oflag & OPOST == 0 {
            self.echo.extend_from_slice(data);
            return;
        }
        for &c in data {
            match c {
                b'\n' => {
                    if oflag & ONLRET != 0 {
                        self.column = 0;
                    }
                    if oflag & ONLCR != 0 {
                        self.column = 0;
                        self.echo.extend_from_slice(b"\r\n");
                    } else {
                        self.echo.push(b'\n');
                    }
                    self.canon_column = self.column;
                }
                b'\r' => {
                    if oflag & ONOCR != 0 && self.column == 0 {
                        continue;
                    }
                    if oflag & OCRNL != 0 {
                        if oflag & ONLRET != 0 {
                            self.column = 0;
                            self.canon_column = 0;
                        }
                        self.echo.push(b'\n');
                    } else {
                        self.column = 0;
                        self.canon_column = 0;
                        self.echo.push(b'\r');
                    }
                }
                b'\t' => {
                    let spaces = 8 - (self.column & 7);
                    self.column += spaces;
                    if oflag & TABDLY == XTABS {
                        self.echo.extend(std::iter::repeat_n(b' ', spaces as usize));
                    } else {
                        self.echo.push(b'\t');
                    }
                }
                0x08 => {
                    self.column = self.column.saturating_sub(1);
                    self.echo.push(c);
                }
                _ => {
                    let zero_width = is_control(c) || (self.iflag(IUTF8) && is_continuation(c));
                    if !zero_width {
                        self.column += 1;
                    }
                    self.echo.push(c);
                }
            }
        }
    }
}

fn is_control(c: u8) -> bool {
    c < 0x20 || c == 0x7f
}

fn is_continuation(c: u8) -> bool {
    c & 0xc0 == 0x80
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line discipline with the settings of a fresh Linux terminal.
    fn sane() -> Ldisc {
        Ldisc::new(Termios::SANE)
    }

    fn feed(l: &mut Ldisc, input: &[u8]) {
        for &c in input {
            l.receive(c, 0);
        }
    }

    /// Reads once at time 0, returning the bytes (or `None` when the read would wait).
    fn read(l: &mut Ldisc, max: usize) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; max];
        match l.read(&mut buf, 0) {
            Read::Done(n) => Some(buf[..n].to_vec()),
            Read::Wait { .. } => None,
        }
    }

    fn echo(l: &mut Ldisc) -> String {
        String::from_utf8_lossy(&l.take_echo()).into_owned()
    }

    fn raw(min: u8, time: u8) -> Ldisc {
        let mut t = Termios::SANE;
        t.lflag &= !(ICANON | ECHO);
        t.cc[VMIN] = min;
        t.cc[VTIME] = time;
        Ldisc::new(t)
    }

    #[test]
    fn canonical_lines_are_readable_once_complete_and_echoed_with_crlf() {
        let mut l = sane();
        feed(&mut l, b"echo hi");
        assert_eq!(read(&mut l, 100), None, "no line yet");
        assert!(!l.poll_readable());
        feed(&mut l, b"\r");
        assert!(l.poll_readable());
        assert_eq!(echo(&mut l), "echo hi\r\n");
        assert_eq!(read(&mut l, 100).unwrap(), b"echo hi\n", "ICRNL");
        assert_eq!(read(&mut l, 100), None);
    }

    #[test]
    fn a_read_returns_at_most_one_line_and_the_rest_later() {
        let mut l = sane();
        feed(&mut l, b"one\rtwo\r");
        assert_eq!(read(&mut l, 2).unwrap(), b"on");
        assert_eq!(read(&mut l, 100).unwrap(), b"e\n");
        assert_eq!(l.readable_len(), 4);
        assert_eq!(read(&mut l, 100).unwrap(), b"two\n");
    }

    #[test]
    fn erase_word_erase_and_kill_edit_the_line() {
        let mut l = sane();
        feed(&mut l, b"abc\x7f");
        assert_eq!(echo(&mut l), "abc\x08 \x08");
        feed(&mut l, b"\x08d e-f gh  \x17\x17x\r");
        // ^H is not VERASE on Linux's default settings: it is an ordinary (echoed) character.
        assert_eq!(read(&mut l, 100).unwrap(), b"ab\x08d e-x\n");
        let mut l = sane();
        feed(&mut l, b"foo bar");
        echo(&mut l);
        feed(&mut l, b"\x15");
        assert_eq!(
            echo(&mut l),
            "\x08 \x08".repeat(7),
            "ECHOKE erases the line visually"
        );
        feed(&mut l, b"ok\r");
        assert_eq!(read(&mut l, 100).unwrap(), b"ok\n");
    }

    #[test]
    fn werase_erases_up_to_and_including_the_last_word() {
        let mut l = sane();
        feed(&mut l, b"ls /usr/bin\x17\r");
        assert_eq!(read(&mut l, 100).unwrap(), b"ls /usr/\n");
        feed(&mut l, b"a //\x17b\r");
        assert_eq!(read(&mut l, 100).unwrap(), b"b\n");
    }

    #[test]
    fn erase_takes_control_characters_tabs_and_utf8_whole() {
        let mut l = sane();
        l.termios.iflag |= IUTF8;
        feed(&mut l, "é".as_bytes());
        echo(&mut l);
        feed(&mut l, b"\x7f");
        assert_eq!(
            echo(&mut l),
            "\x08 \x08",
            "one column for a two-byte character"
        );
        feed(&mut l, b"\x01");
        assert_eq!(echo(&mut l), "^A", "ECHOCTL");
        feed(&mut l, b"\x7f");
        assert_eq!(echo(&mut l), "\x08 \x08\x08 \x08");
        feed(&mut l, b"ab\t");
        echo(&mut l);
        feed(&mut l, b"\x7f");
        assert_eq!(
            echo(&mut l),
            "\x08".repeat(6),
            "a tab after two columns took six"
        );
        feed(&mut l, b"\r");
        assert_eq!(read(&mut l, 100).unwrap(), b"ab\n");
    }

    #[test]
    fn without_echoe_erase_echoes_the_erase_character() {
        let mut l = sane();
        l.termios.lflag &= !ECHOE;
        feed(&mut l, b"ab\x7f");
        assert_eq!(echo(&mut l), "ab^?");
        feed(&mut l, b"\r");
        assert_eq!(read(&mut l, 100).unwrap(), b"a\n");
    }

    #[test]
    fn veof_ends_a_partial_line_and_is_end_of_file_at_line_start() {
        let mut l = sane();
        feed(&mut l, b"abc\x04");
        assert_eq!(read(&mut l, 100).unwrap(), b"abc");
        feed(&mut l, b"\x04");
        assert_eq!(read(&mut l, 100).unwrap(), b"", "end of file");
        assert_eq!(read(&mut l, 100), None, "and then waits again");
        assert_eq!(echo(&mut l), "abc", "VEOF is not echoed");
    }

    #[test]
    fn signal_characters_flush_input_and_echo() {
        let mut l = sane();
        feed(&mut l, b"partial\x03");
        assert_eq!(l.take_signals(), vec![SIGINT]);
        assert_eq!(echo(&mut l), "partial^C");
        feed(&mut l, b"\x1c\x1a");
        assert_eq!(l.take_signals(), vec![SIGQUIT, SIGTSTP]);
        feed(&mut l, b"x\r");
        assert_eq!(
            read(&mut l, 100).unwrap(),
            b"x\n",
            "the partial line was discarded"
        );
        l.termios.lflag &= !ISIG;
        feed(&mut l, b"\x03\r");
        assert!(l.take_signals().is_empty());
        assert_eq!(read(&mut l, 100).unwrap(), b"\x03\n");
    }

    #[test]
    fn noflsh_keeps_input_on_a_signal() {
        let mut l = sane();
        l.termios.lflag |= NOFLSH;
        feed(&mut l, b"keep\x03\r");
        assert_eq!(read(&mut l, 100).unwrap(), b"keep\n");
    }

    #[test]
    fn literal_next_and_reprint() {
        let mut l = sane();
        feed(&mut l, b"a\x16\x03");
        assert!(l.take_signals().is_empty());
        assert_eq!(echo(&mut l), "a^\x08^C");
        feed(&mut l, b"\x12");
        assert_eq!(echo(&mut l), "^R\r\na^C");
        feed(&mut l, b"\r");
        assert_eq!(read(&mut l, 100).unwrap(), b"a\x03\n");
    }

    #[test]
    fn echo_off_shows_nothing_but_echonl_shows_newlines() {
        let mut l = sane();
        l.termios.lflag &= !ECHO;
        feed(&mut l, b"secret\r");
        assert_eq!(echo(&mut l), "");
        l.termios.lflag |= ECHONL;
        feed(&mut l, b"x\r");
        assert_eq!(echo(&mut l), "\r\n");
        assert_eq!(read(&mut l, 100).unwrap(), b"secret\n");
    }

    #[test]
    fn input_flags_map_carriage_returns_and_newlines() {
        let mut l = sane();
        l.termios.iflag = IGNCR;
        feed(&mut l, b"a\r\n");
        assert_eq!(read(&mut l, 100).unwrap(), b"a\n");
        l.termios.iflag = INLCR;
        l.termios.lflag &= !ICANON;
        feed(&mut l, b"\n");
        assert_eq!(read(&mut l, 100).unwrap(), b"\r");
        l.termios.iflag = ISTRIP;
        feed(&mut l, &[0xc1]);
        assert_eq!(read(&mut l, 100).unwrap(), b"A");
    }

    #[test]
    fn raw_mode_passes_every_byte_including_control_characters() {
        let mut l = sane();
        let mut t = l.termios;
        t.lflag &= !(ICANON | ECHO | ISIG);
        t.iflag &= !ICRNL;
        l.set_termios(t);
        feed(&mut l, b"\x1b[A\x03\r\x7f");
        assert_eq!(read(&mut l, 100).unwrap(), b"\x1b[A\x03\r\x7f");
        assert!(l.take_signals().is_empty());
        assert_eq!(echo(&mut l), "");
    }

    #[test]
    fn vmin_and_vtime() {
        // VMIN 0, VTIME 0: a poll.
        let mut l = raw(0, 0);
        assert_eq!(read(&mut l, 10).unwrap(), b"");
        // VMIN 2: waits for two bytes (or fewer when the buffer is smaller).
        let mut l = raw(2, 0);
        feed(&mut l, b"a");
        assert!(!l.poll_readable());
        assert_eq!(read(&mut l, 10), None);
        assert_eq!(read(&mut l, 1).unwrap(), b"a");
        feed(&mut l, b"bc");
        assert!(l.poll_readable());
        assert_eq!(read(&mut l, 10).unwrap(), b"bc");
        // VMIN 0, VTIME 5: 0.5 s from the start of the read.
        let mut l = raw(0, 5);
        let mut buf = [0u8; 4];
        assert_eq!(
            l.read(&mut buf, 1_000),
            Read::Wait {
                deadline_ns: Some(500_001_000)
            }
        );
        assert_eq!(l.read(&mut buf, 500_001_000), Read::Done(0));
        l.receive(b'z', 600_000_000);
        assert_eq!(l.read(&mut buf, 600_000_000), Read::Done(1));
        // VMIN 3, VTIME 1: 0.1 s after the last byte, whatever has come.
        let mut l = raw(3, 1);
        assert_eq!(l.read(&mut buf, 0), Read::Wait { deadline_ns: None });
        l.receive(b'q', 50);
        assert_eq!(
            l.read(&mut buf, 60),
            Read::Wait {
                deadline_ns: Some(100_000_050)
            }
        );
        assert_eq!(l.read(&mut buf, 100_000_050), Read::Done(1));
    }

    #[test]
    fn switching_modes_hands_over_pending_input() {
        let mut l = sane();
        feed(&mut l, b"half");
        let mut t = l.termios;
        t.lflag &= !ICANON;
        l.set_termios(t);
        assert_eq!(read(&mut l, 100).unwrap(), b"half");
        feed(&mut l, b"rest");
        t.lflag |= ICANON;
        l.set_termios(t);
        assert_eq!(read(&mut l, 100).unwrap(), b"rest");
    }

    #[test]
    fn output_processing() {
        let mut l = sane();
        l.output(b"a\nb\r\n");
        assert_eq!(echo(&mut l), "a\r\nb\r\r\n");
        l.termios.oflag = OPOST | ONLCR | XTABS;
        l.output(b"ab\tc");
        assert_eq!(echo(&mut l), "ab      c");
        let mut l = sane();
        l.termios.oflag = OPOST | OCRNL | ONOCR;
        l.output(b"\rx\r");
        assert_eq!(
            echo(&mut l),
            "x\n",
            "ONOCR drops a CR at column 0, OCRNL maps the other"
        );
        l.termios.oflag = 0;
        l.output(b"\n");
        assert_eq!(echo(&mut l), "\n", "no OPOST: bytes pass as they are");
    }

    #[test]
    fn input_is_capped_and_a_hang_up_is_end_of_file() {
        let mut l = sane();
        feed(&mut l, &vec![b'x'; INPUT_CAP + 10]);
        feed(&mut l, b"\r");
        assert_eq!(l.readable_len(), INPUT_CAP);
        let mut l = sane();
        feed(&mut l, b"ab");
        l.hang_up();
        assert!(l.poll_readable());
        assert_eq!(read(&mut l, 100).unwrap(), b"");
    }
}
