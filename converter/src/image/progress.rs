//! Download progress on stderr: a bar per layer (bytes and rate) when stderr is a terminal,
//! one plain line as a layer starts and one as it ends otherwise (logs, CI), nothing when
//! quiet.

use super::digest::Digest;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A layer's bar: its short digest, bytes so far and the rate.
const BAR_TEMPLATE: &str = "{prefix} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec}";

pub struct Progress {
    mode: Mode,
}

enum Mode {
    Quiet,
    Plain,
    Bars(MultiProgress),
}

/// One layer's download.
pub struct LayerProgress {
    bar: Option<ProgressBar>,
    /// The plain-mode label, printed again when the layer is done.
    plain: Option<String>,
}

impl Progress {
    pub fn new(quiet: bool) -> Progress {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bars(MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
        } else {
            Mode::Plain
        };
        Progress { mode }
    }

    /// A layer found in the cache.
    pub fn cached(&self, digest: &Digest, size: u64) {
        let line = format!("cached {} {}", digest.short(), size_text(size));
        match &self.mode {
            Mode::Quiet => {}
            Mode::Plain => eprintln!("{line}"),
            // Printed above the bars, which keep redrawing below.
            Mode::Bars(m) => {
                let _ = m.println(line);
            }
        }
    }

    /// A layer download starting.
    pub fn start(&self, digest: &Digest, size: u64) -> LayerProgress {
        match &self.mode {
            Mode::Quiet => LayerProgress {
                bar: None,
                plain: None,
            },
            Mode::Plain => {
                eprintln!("pulling {} {}", digest.short(), size_text(size));
                LayerProgress {
                    bar: None,
                    plain: Some(digest.short()),
                }
            }
            Mode::Bars(m) => {
                let style = ProgressStyle::with_template(BAR_TEMPLATE)
                    .expect("the template is valid, as a test checks")
                    .progress_chars("=> ");
                let bar = m.add(ProgressBar::new(size).with_style(style));
                bar.set_prefix(digest.short());
                LayerProgress {
                    bar: Some(bar),
                    plain: None,
                }
            }
        }
    }
}

impl LayerProgress {
    pub fn inc(&self, len_bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(len_bytes);
        }
    }

    pub fn finish(self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
        if let Some(label) = &self.plain {
            eprintln!("done {label}");
        }
    }
}

/// `12.3 MB`: decimal units, as registries and `docker pull` report sizes.
pub fn size_text(len_bytes: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if len_bytes < 1000 {
        return format!("{len_bytes} B");
    }
    let mut value = len_bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.95 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_template_is_valid() {
        assert!(ProgressStyle::with_template(BAR_TEMPLATE).is_ok());
    }

    #[test]
    fn sizes() {
        assert_eq!(size_text(0), "0 B");
        assert_eq!(size_text(999), "999 B");
        assert_eq!(size_text(1000), "1.0 kB");
        assert_eq!(size_text(12_345_678), "12.3 MB");
        assert_eq!(size_text(999_960), "1.0 MB");
        assert_eq!(size_text(3_000_000_000), "3.0 GB");
    }
}
