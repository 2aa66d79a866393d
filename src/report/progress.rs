//! Progress bars on stderr for long work, shown only when stderr is a terminal.

use std::io::Read;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A byte-count progress bar over a set of inputs (hidden when not wanted).
#[derive(Clone)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar labelled `what` over `total` bytes (unknown when `None`); hidden
    /// unless `enabled` and stderr is a terminal.
    pub fn new(enabled: bool, what: &str, total: Option<u64>) -> Progress {
        if !enabled {
            return Progress::hidden();
        }
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
        let template = if total.is_some() {
            "{msg:>9} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
        } else {
            "{msg:>9} {spinner} {bytes} {bytes_per_sec}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress { bar }
    }

    /// A bar that never draws.
    pub fn hidden() -> Progress {
        Progress {
            bar: ProgressBar::hidden(),
        }
    }

    /// Count the bytes read through `reader` on this bar.
    pub fn wrap(&self, reader: Box<dyn Read + Send>) -> Box<dyn Read + Send> {
        Box::new(self.bar.wrap_read(reader))
    }

    /// Change the label.
    pub fn set_message(&self, what: &str) {
        self.bar.set_message(what.to_owned());
    }

    /// Remove the bar from the screen.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
