//! Progress bars for long work, drawn on stderr only when it is a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// One bar per file, in bytes.
pub struct Bar(ProgressBar);

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
        Bar(bar)
    }
}

impl fanzha_ingest::Progress for Bar {
    fn start(&self, file: &str, total: u64) {
        self.0.reset();
        self.0.set_length(total);
        let name = std::path::Path::new(file)
            .file_name()
            .map_or(file.into(), |n| n.to_string_lossy());
        self.0.set_message(name.into_owned());
    }

    fn advance(&self, done: u64) {
        self.0.set_position(done);
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}
