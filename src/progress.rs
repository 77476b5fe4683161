//! Progress bars for long work, drawn on stderr only when it is a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// One bar per file, in bytes.
pub struct Bar {
    bar: ProgressBar,
    abort_after: Option<u64>,
}

impl Bar {
    pub fn new() -> Self {
        // indicatif's stderr target draws nothing when stderr is not a terminal, which keeps
        // logs and pipes clean.
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        // A fault-injection point for the kill-and-rerun tests: abort, as a kill would, right
        // after the given number of batches is committed.
        let abort_after = std::env::var("FANZHA_ABORT_AFTER_BATCHES")
            .ok()
            .and_then(|v| v.parse().ok());
        Bar { bar, abort_after }
    }
}

impl fanzha_ingest::Progress for Bar {
    fn start(&self, file: &str, total: u64) {
        self.bar.reset();
        self.bar.set_length(total);
        let name = std::path::Path::new(file)
            .file_name()
            .map_or(file.into(), |n| n.to_string_lossy());
        self.bar.set_message(name.into_owned());
    }

    fn advance(&self, done: u64) {
        self.bar.set_position(done);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn committed(&self, batches: u64) {
        if self.abort_after == Some(batches) {
            std::process::abort();
        }
    }
}

/// A counter of items done, for work whose total is not known up front.
pub fn counter(msg: &'static str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{msg} {pos} {per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(msg);
    bar
}
