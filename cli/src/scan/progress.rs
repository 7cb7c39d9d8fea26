//! The scan's progress on stderr: per region, each service swept, then the resources judged.
//! Drawn only when stderr is a terminal; otherwise (CI logs, tests) only the plain lines of
//! [`Progress::note`] reach stderr.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: ProgressBar,
}

/// Before anything is swept: what is happening, no bar (an empty count would draw it full).
const WAITING: &str = "{spinner:.cyan} {prefix:.bold} {msg}";
const COUNTING: &str = "{spinner:.cyan} {prefix:.bold} {msg:<26} [{bar:24.cyan/blue}] {pos}/{len} resources judged";

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).expect("the template parses").progress_chars("=> ")
}

impl Progress {
    /// A bar on stderr, hidden when stderr is not a terminal.
    pub fn on_stderr() -> Progress {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        bar.set_style(style(WAITING));
        if !bar.is_hidden() {
            bar.enable_steady_tick(Duration::from_millis(120));
        }
        Progress { bar }
    }

    /// No bar at all (tests, the sample report).
    pub fn hidden() -> Progress {
        Progress { bar: ProgressBar::hidden() }
    }

    /// Starts a region: `name` prefixes the bar, the count starts over.
    pub fn region(&self, name: &str) {
        self.bar.reset();
        self.bar.set_style(style(WAITING));
        self.bar.set_length(0);
        self.bar.set_prefix(name.to_owned());
        self.bar.set_message("signing in");
    }

    pub fn sweeping(&self, service: &str) {
        self.bar.set_message(format!("sweeping {service}"));
    }

    /// `service` described `resources` resources, to be judged next.
    pub fn judging(&self, service: &str, resources: usize) {
        if resources > 0 && self.bar.length() == Some(0) {
            self.bar.set_style(style(COUNTING));
        }
        self.bar.inc_length(resources as u64);
        self.bar.set_message(format!("judging {service}"));
    }

    /// One resource judged.
    pub fn judged(&self) {
        self.bar.inc(1);
    }

    /// A line on stderr, above the bar when there is one.
    pub fn note(&self, line: &str) {
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    /// Removes the bar, before the report and the summary.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
