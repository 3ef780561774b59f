//! A progress bar on standard error for long runs on a terminal.
//!
//! It appears only after [`DELAY`] (short runs stay quiet), never when stderr is not a terminal,
//! and never on stdout, which carries only the report.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Runs shorter than this show no progress.
pub const DELAY: Duration = Duration::from_millis(700);

pub struct Progress {
    bar: Option<ProgressBar>,
    shown: AtomicBool,
    started: Instant,
}

impl Progress {
    /// A bar counting `total` items; hidden unless `wanted` and stderr is a terminal.
    pub fn new(wanted: bool, total: usize, message: &'static str) -> Progress {
        let bar = (wanted && std::io::IsTerminal::is_terminal(&std::io::stderr())).then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::hidden());
            if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} files") {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(message);
            bar
        });
        Progress {
            bar,
            shown: AtomicBool::new(false),
            started: Instant::now(),
        }
    }

    /// One more item done.
    pub fn tick(&self) {
        let Some(bar) = &self.bar else {
            return;
        };
        bar.inc(1);
        if !self.shown.load(Ordering::Relaxed)
            && self.started.elapsed() >= DELAY
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
