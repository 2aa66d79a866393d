//! Progress bars on stderr for long work, shown only when stderr is a terminal:
//! the binary's [`Meter`] for the library's [`Progress`].

use std::sync::Arc;
use std::time::Duration;

use honk::progress::{Meter, Progress};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A byte-count bar labelled `what` over `total` bytes (a spinner when the
/// total is unknown); hidden unless `enabled` and stderr is a terminal.
pub fn bar(enabled: bool, what: &str, total: Option<u64>) -> Progress {
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
    Progress::to(Arc::new(Bar(bar)))
}

struct Bar(ProgressBar);

impl Meter for Bar {
    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }

    fn relabel(&self, what: &str) {
        self.0.set_message(what.to_owned());
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}
