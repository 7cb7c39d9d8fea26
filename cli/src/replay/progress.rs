//! The replay's counters, and its progress line on stderr (drawn only when stderr is a terminal):
//! inputs read, bytes, throughput, findings.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// Shared by every thread of a replay.
#[derive(Debug, Default)]
pub struct Counters {
    /// Inputs started.
    pub inputs: AtomicU64,
    /// Inputs known so far (an S3 listing grows it as it pages).
    pub listed: AtomicU64,
    /// JSON cut into records, after decompression.
    pub bytes: AtomicU64,
    /// Bytes read from the source.
    pub raw_bytes: AtomicU64,
    pub records: AtomicU64,
    pub findings: AtomicU64,
}

impl Counters {
    pub fn batch_done(&self, bytes: u64, records: u64, findings: u64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.records.fetch_add(records, Ordering::Relaxed);
        self.findings.fetch_add(findings, Ordering::Relaxed);
    }
}

/// A spinner line redrawn from the counters a few times a second, until dropped.
pub struct ProgressLine {
    bar: ProgressBar,
}

impl ProgressLine {
    /// On stderr when it is a terminal; otherwise nothing is drawn.
    pub fn on_stderr(counters: Arc<Counters>) -> ProgressLine {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if !bar.is_hidden() {
            let counts = move |state: &ProgressState, out: &mut dyn std::fmt::Write| {
                let _ = out.write_str(&line(&counters, state.elapsed()));
            };
            let style = ProgressStyle::with_template("{spinner:.cyan} {counts}").expect("the template parses");
            bar.set_style(style.with_key("counts", counts));
            bar.enable_steady_tick(Duration::from_millis(150));
        }
        ProgressLine { bar }
    }
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// `12/2,000 objects · 1.2 GB JSON (340 MB read) at 530 MB/s · 1,234,567 records · 17 findings`
pub fn line(counters: &Counters, elapsed: Duration) -> String {
    let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    let (inputs, listed) = (load(&counters.inputs), load(&counters.listed));
    let (bytes, raw) = (load(&counters.bytes), load(&counters.raw_bytes));
    let rate = bytes as f64 / elapsed.as_secs_f64().max(1e-3);
    let mut text = if listed > inputs { format!("{inputs}/{listed} inputs") } else { format!("{inputs} inputs") };
    text += &format!(" · {} JSON", size(bytes as f64));
    if raw != bytes {
        text += &format!(" ({} read)", size(raw as f64));
    }
    text +=
        &format!(" at {}/s · {} records · {} findings", size(rate), load(&counters.records), load(&counters.findings));
    text
}

fn size(bytes: f64) -> String {
    match bytes {
        b if b >= 1e9 => format!("{:.2} GB", b / 1e9),
        b if b >= 1e6 => format!("{:.1} MB", b / 1e6),
        b => format!("{:.0} kB", b / 1e3),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_inputs_listed_sizes_and_counts() {
        let counters = Counters::default();
        counters.listed.store(2000, Ordering::Relaxed);
        counters.inputs.store(12, Ordering::Relaxed);
        counters.raw_bytes.store(3_400_000, Ordering::Relaxed);
        counters.batch_done(12_000_000, 5_000, 3);
        assert_eq!(
            line(&counters, Duration::from_secs(2)),
            "12/2000 inputs · 12.0 MB JSON (3.4 MB read) at 6.0 MB/s · 5000 records · 3 findings"
        );
    }
}
