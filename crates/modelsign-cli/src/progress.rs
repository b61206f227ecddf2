//! A progress bar on stderr while a model is hashed (bytes, rate, files, time left). Only
//! shown on a terminal, and never with --quiet or --json.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use modelsign::hashing::ProgressSink;
use modelsign::Progress;

use crate::args::OutputArgs;

struct Bar {
    bar: ProgressBar,
    done: AtomicUsize,
    /// Total items and their unit, for the "12/40 files" message.
    total: Mutex<(usize, &'static str)>,
}

impl Bar {
    fn show_count(&self) {
        let (total, unit) = *self.total.lock().unwrap_or_else(|e| e.into_inner());
        let done = self.done.load(Ordering::Relaxed);
        let plural = if total == 1 { "" } else { "s" };
        self.bar
            .set_message(format!("{done}/{total} {unit}{plural}"));
    }
}

impl ProgressSink for Bar {
    fn start(&self, total_bytes: u64, total_items: usize, unit: &'static str) {
        *self.total.lock().unwrap_or_else(|e| e.into_inner()) = (total_items, unit);
        self.done.store(0, Ordering::Relaxed);
        self.bar.set_length(total_bytes);
        self.bar.set_position(0);
        self.show_count();
    }

    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    fn item_done(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
        self.show_count();
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Progress reporting for a command with these output options.
pub fn for_output(output: &OutputArgs) -> Progress {
    if output.quiet || output.json || !std::io::stderr().is_terminal() {
        return Progress::none();
    }
    let style = ProgressStyle::with_template(
        "{spinner} hashing {msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(style);
    Progress::to(Arc::new(Bar {
        bar,
        done: AtomicUsize::new(0),
        total: Mutex::new((0, "file")),
    }))
}
