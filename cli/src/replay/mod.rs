//! `snapback replay`: evaluate recorded CloudTrail offline, with no AWS call. Every resource is
//! treated as in scope and not exempt, so the output shows what each rule would do.
//!
//! Inputs are streamed, never loaded: [`split`] cuts each one into records chunk by chunk,
//! [`head`] leaves the reads and unwatched calls after a borrowed look at their top-level
//! members, and only the rest is parsed and judged. Inputs, and the chunks of each, are judged on
//! every core; the findings are then put in order (event time, input, position), so the output
//! does not depend on the scheduling.

pub mod head;
pub mod progress;
pub mod report;
pub mod s3;
pub mod split;

use std::collections::BTreeMap;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::iter::{ParallelBridge, ParallelIterator};
use serde_json::{json, Value};
use snapback_rules::{listens_to, screen, Config, Event, Finding, Mode};

use progress::Counters;
use split::{Position, Splitter};

/// A finding as replay reports it.
#[derive(Debug, Clone)]
pub struct ReplayFinding {
    pub origin: String,
    pub event: Event,
    pub finding: Finding,
    pub mode: Mode,
    /// The tie-break after the event time, so the order is the same on every run.
    pub order: Order,
}

/// Where a record was read: its input's name (inputs are read, and S3 objects listed, in any
/// order; their names do not change), its position there, and its place within a line that held
/// several records.
pub type Order = (Arc<str>, Position, usize);

impl ReplayFinding {
    pub fn to_json(&self) -> Value {
        json!({
            "event_id": self.event.event_id,
            "event_name": self.event.event_name,
            "event_time": self.event.event_time,
            "rule": self.finding.rule.id,
            "severity": self.finding.rule.severity,
            "resource": self.finding.resource,
            "mode": self.mode,
            "actor": self.event.actor.display(),
            "account": self.event.account,
            "region": self.event.region,
            "changed": self.finding.changed,
            "plan": self.finding.plan,
            "origin": self.origin,
        })
    }
}

/// Which records count: a window of days and a set of accounts and regions. Records outside
/// are left alone, and an S3 listing skips the objects that can only hold such records.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// First day (UTC), inclusive.
    pub since: Option<time::Date>,
    /// Last day (UTC), inclusive.
    pub until: Option<time::Date>,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
}

impl Filters {
    /// Why this event is outside the filters, as a skip label; None when it is inside.
    fn excludes(&self, event: &Event) -> Option<&'static str> {
        if self.since.is_some() || self.until.is_some() {
            let Some(day) = event.event_time.as_deref().and_then(day_of) else {
                return Some("no eventTime (--since/--until)");
            };
            if self.since.is_some_and(|since| day < since) || self.until.is_some_and(|until| day > until) {
                return Some("outside --since/--until");
            }
        }
        if !self.accounts.is_empty() && !event.account.as_ref().is_some_and(|a| self.accounts.contains(a)) {
            return Some("another account (--account)");
        }
        if !self.regions.is_empty() && !event.region.as_ref().is_some_and(|r| self.regions.contains(r)) {
            return Some("another region (--region)");
        }
        None
    }
}

/// `2026-11-27` of an eventTime such as `2026-11-27T10:00:00Z`.
fn day_of(event_time: &str) -> Option<time::Date> {
    parse_day(event_time.get(..10)?).ok()
}

/// A `YYYY-MM-DD` day, as `--since` and `--until` take it.
pub fn parse_day(text: &str) -> Result<time::Date, String> {
    static DAY: std::sync::LazyLock<Vec<time::format_description::BorrowedFormatItem<'static>>> =
        std::sync::LazyLock::new(|| {
            time::format_description::parse_borrowed::<2>("[year]-[month]-[day]").expect("a valid format")
        });
    time::Date::parse(text, &DAY).map_err(|_| format!("{text:?} is not a day as YYYY-MM-DD"))
}

/// Everything a replay saw.
#[derive(Debug, Default)]
pub struct Summary {
    pub files: usize,
    pub records: usize,
    pub findings: Vec<ReplayFinding>,
    /// Records left alone, counted by reason.
    pub skipped: BTreeMap<String, usize>,
    /// Records that could not be parsed, with their input and position.
    pub unreadable_records: Vec<String>,
    /// Inputs that could not be read at all, or not to their end.
    pub unreadable_inputs: Vec<String>,
    /// JSON read, after decompression.
    pub bytes: u64,
    /// Bytes read from disk or S3 (smaller than `bytes` for gzip).
    pub raw_bytes: u64,
    pub elapsed: Duration,
}

impl Summary {
    pub fn render(&self) -> String {
        let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
        for found in &self.findings {
            *by_rule.entry(found.finding.rule.id).or_default() += 1;
        }
        let mut out = format!(
            "read {} record(s) from {} file(s); {} finding(s)\n",
            self.records,
            self.files,
            self.findings.len()
        );
        let seconds = self.elapsed.as_secs_f64().max(1e-6);
        let mb = |bytes: u64| bytes as f64 / 1e6;
        out += &format!("  {:.1} MB of JSON in {seconds:.2} s: {:.0} MB/s", mb(self.bytes), mb(self.bytes) / seconds);
        if self.raw_bytes != self.bytes {
            out += &format!(" ({:.1} MB read, {:.0} MB/s)", mb(self.raw_bytes), mb(self.raw_bytes) / seconds);
        }
        out.push('\n');
        for (rule, count) in by_rule {
            out += &format!("  {rule}: {count}\n");
        }
        if !self.skipped.is_empty() {
            out += "skipped:\n";
            for (reason, count) in &self.skipped {
                out += &format!("  {reason}: {count}\n");
            }
        }
        for bad in &self.unreadable_records {
            out += &format!("unreadable record: {bad}\n");
        }
        for bad in &self.unreadable_inputs {
            out += &format!("unreadable input: {bad}\n");
        }
        out
    }
}

/// One input to replay: a file, an S3 object, or one that could not be opened (and why).
pub struct Input {
    pub name: String,
    pub reader: Result<Box<dyn Read + Send>, String>,
}

impl Input {
    pub fn file(path: &Path) -> Input {
        let reader = std::fs::File::open(path)
            .map(|file| Box::new(file) as Box<dyn Read + Send>)
            .map_err(|error| error.to_string());
        Input { name: path.display().to_string(), reader }
    }
}

/// What judging some records found; merged into the [`Summary`].
#[derive(Default)]
struct Part {
    records: usize,
    findings: Vec<ReplayFinding>,
    skipped: BTreeMap<String, usize>,
    unreadable_records: Vec<((Arc<str>, Position), String)>,
    /// Unreadable records past [`UNREADABLE_SHOWN`], counted only: a file of garbage costs no memory.
    unreadable_beyond: usize,
    unreadable_inputs: Vec<String>,
}

/// Unreadable records named one by one, per replay; the rest are counted.
const UNREADABLE_SHOWN: usize = 1000;

impl Part {
    fn merge(mut self, other: Part) -> Part {
        self.records += other.records;
        self.findings.extend(other.findings);
        for (reason, count) in other.skipped {
            *self.skipped.entry(reason).or_default() += count;
        }
        self.unreadable_records.extend(other.unreadable_records);
        self.unreadable_beyond += other.unreadable_beyond;
        if self.unreadable_records.len() > UNREADABLE_SHOWN {
            // Keep the first ones in input order, so the names shown do not depend on scheduling.
            self.unreadable_records.sort_by(|(a, _), (b, _)| a.cmp(b));
            self.unreadable_beyond += self.unreadable_records.len() - UNREADABLE_SHOWN;
            self.unreadable_records.truncate(UNREADABLE_SHOWN);
        }
        self.unreadable_inputs.extend(other.unreadable_inputs);
        self
    }

    fn skip(&mut self, reason: &str) {
        match self.skipped.get_mut(reason) {
            Some(count) => *count += 1,
            None => {
                self.skipped.insert(reason.to_owned(), 1);
            }
        }
    }
}

/// A replay: the configuration and filters it judges under, and its counters.
pub struct Replay<'a> {
    pub config: &'a Config,
    pub filters: &'a Filters,
    pub counters: Arc<Counters>,
}

impl<'a> Replay<'a> {
    pub fn new(config: &'a Config, filters: &'a Filters) -> Replay<'a> {
        Replay { config, filters, counters: Arc::default() }
    }

    /// Replays the inputs on every core.
    pub fn run(&self, inputs: impl Iterator<Item = Input> + Send) -> Summary {
        let started = Instant::now();
        let mut part = inputs.par_bridge().map(|input| self.replay_input(input)).reduce(Part::default, Part::merge);
        part.findings.sort_by(|a, b| (&a.event.event_time, &a.order).cmp(&(&b.event.event_time, &b.order)));
        part.unreadable_records.sort_by(|(a, _), (b, _)| a.cmp(b));
        part.unreadable_inputs.sort();
        let mut unreadable_records: Vec<String> = part.unreadable_records.into_iter().map(|(_, text)| text).collect();
        if part.unreadable_beyond > 0 {
            unreadable_records.push(format!("... and {} more", part.unreadable_beyond));
        }
        Summary {
            files: self.counters.inputs.load(Ordering::Relaxed) as usize,
            records: part.records,
            findings: part.findings,
            skipped: part.skipped,
            unreadable_records,
            unreadable_inputs: part.unreadable_inputs,
            bytes: self.counters.bytes.load(Ordering::Relaxed),
            raw_bytes: self.counters.raw_bytes.load(Ordering::Relaxed),
            elapsed: started.elapsed(),
        }
    }

    fn replay_input(&self, input: Input) -> Part {
        self.counters.inputs.fetch_add(1, Ordering::Relaxed);
        let mut part = Part::default();
        let reader = match input.reader {
            Ok(reader) => reader,
            Err(error) => {
                part.unreadable_inputs.push(format!("{}: {error}", input.name));
                return part;
            }
        };
        let mut counted = Counted { inner: reader, counters: &self.counters };
        // gzip's magic number, however the first reads come (an S3 body may start with a byte).
        let mut magic = Vec::with_capacity(2);
        if let Err(error) = (&mut counted).take(2).read_to_end(&mut magic) {
            part.unreadable_inputs.push(format!("{}: {error}", input.name));
            return part;
        }
        let gzipped = magic == [0x1f, 0x8b];
        let buffered = BufReader::with_capacity(64 * 1024, io::Cursor::new(magic).chain(counted));
        let reader: Box<dyn Read + Send + '_> =
            if gzipped { Box::new(flate2::bufread::MultiGzDecoder::new(buffered)) } else { Box::new(buffered) };
        let name: Arc<str> = Arc::from(input.name.as_str());
        let name = &name;
        Splitter::new(reader)
            .par_bridge()
            .map(|batch| match batch {
                Ok(batch) => self.judge_batch(name, &batch),
                Err(error) => Part {
                    unreadable_inputs: vec![format!("{name}: {error} (the records before it were judged)")],
                    ..Part::default()
                },
            })
            .reduce(Part::default, Part::merge)
    }

    fn judge_batch(&self, name: &Arc<str>, batch: &split::Batch) -> Part {
        let mut part = Part::default();
        for broken in &batch.broken {
            let text = format!("{}: {}", broken.position.origin(name), broken.reason);
            if broken.truncated {
                part.unreadable_inputs.push(text);
            } else {
                part.unreadable_records.push(((name.clone(), broken.position), text));
            }
        }
        for record in 0..batch.records.len() {
            let (bytes, position) = batch.record(record);
            if let Some(reason) = head::skip_reason(bytes, listens_to) {
                part.records += 1;
                part.skip(reason);
                continue;
            }
            let origin = position.origin(name);
            let value = match serde_json::from_slice::<Value>(bytes) {
                Ok(value) => value,
                Err(error) => {
                    part.records += 1;
                    part.unreadable_records.push(((name.clone(), position), format!("{origin}: {error}")));
                    continue;
                }
            };
            // A line may hold a whole trail log or an array of records.
            match value {
                Value::Object(mut object)
                    if position.is_top_level() && object.get("Records").is_some_and(Value::is_array) =>
                {
                    let Some(Value::Array(records)) = object.remove("Records") else { unreachable!("checked above") };
                    for (at, value) in records.into_iter().enumerate() {
                        self.judge(&value, format!("{origin}#Records[{at}]"), (name.clone(), position, at), &mut part);
                    }
                }
                Value::Array(records) if position.is_top_level() => {
                    for (at, value) in records.into_iter().enumerate() {
                        self.judge(&value, format!("{origin}#[{at}]"), (name.clone(), position, at), &mut part);
                    }
                }
                value => self.judge(&value, origin, (name.clone(), position, 0), &mut part),
            }
        }
        self.counters.batch_done(batch.bytes.len() as u64, part.records as u64, part.findings.len() as u64);
        part
    }

    fn judge(&self, value: &Value, origin: String, order: Order, part: &mut Part) {
        part.records += 1;
        let event = match Event::from_value(value) {
            Ok(event) => event,
            Err(error) => {
                part.skip(&format!("not a CloudTrail API call ({})", error_kind(&error)));
                return;
            }
        };
        if let Some(ignored) = screen(&event, self.config, &[], listens_to) {
            part.skip(ignored.label());
            return;
        }
        if let Some(reason) = self.filters.excludes(&event) {
            part.skip(reason);
            return;
        }
        let services = snapback_rules::registry::services();
        let findings = match snapback_rules::services::judge_change(services, &event, self.config) {
            Ok(findings) => findings,
            Err(unreadable) => {
                part.unreadable_records.push(((order.0, order.1), format!("{origin}: {unreadable}")));
                return;
            }
        };
        // What the output shows of the call: its request and response stay behind (findings are
        // kept until the end, for their order).
        let event = Event { request: Value::Null, response: Value::Null, ..event };
        for finding in findings {
            let mut mode = self.config.mode(finding.rule.id);
            if mode == Mode::Remediate && finding.plan.actions.is_empty() {
                mode = Mode::Notify;
            }
            part.findings.push(ReplayFinding {
                origin: origin.clone(),
                event: event.clone(),
                finding,
                mode,
                order: order.clone(),
            });
        }
    }
}

/// Counts the bytes read from the source, before decompression.
struct Counted<'c, R> {
    inner: R,
    counters: &'c Counters,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.counters.raw_bytes.fetch_add(read as u64, Ordering::Relaxed);
        Ok(read)
    }
}

/// Replays every path (files, directories of them) under `config`, with no filter.
pub fn replay(paths: &[PathBuf], config: &Config) -> Summary {
    let filters = Filters::default();
    let replay = Replay::new(config, &filters);
    let (inputs, unreadable) = local_inputs(paths);
    let mut summary = replay.run(inputs.iter().map(|path| Input::file(path)));
    summary.unreadable_inputs.extend(unreadable);
    summary
}

/// The record files under `paths`, in order (each directory's sorted), and the paths that could
/// not be listed, with why.
pub fn local_inputs(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<String>) {
    let mut files = Vec::new();
    let mut unreadable = Vec::new();
    for path in paths {
        match collect_files(path) {
            Ok(found) => files.extend(found),
            Err(error) => unreadable.push(format!("{}: {error}", path.display())),
        }
    }
    (files, unreadable)
}

fn error_kind(error: &snapback_rules::EventError) -> String {
    match error {
        snapback_rules::EventError::NotCloudTrail(detail_type) => detail_type.clone(),
        other => other.to_string(),
    }
}

/// The files under `path`, sorted; a file is returned as itself.
fn collect_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        std::fs::metadata(path)?;
        return Ok(vec![path.to_owned()]);
    }
    let mut files = Vec::new();
    let mut pending = vec![path.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?.path();
            if entry.is_dir() {
                pending.push(entry);
            } else if is_record_file(&entry.to_string_lossy()) {
                files.push(entry);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// A name that holds records: trail logs and JSON Lines, gzipped or not.
pub fn is_record_file(name: &str) -> bool {
    [".json", ".json.gz", ".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz"].iter().any(|ext| name.ends_with(ext))
}

/// The readable table of findings.
pub fn render_findings(findings: &[ReplayFinding]) -> String {
    let mut rows = vec![["TIME", "EVENT", "RULE", "MODE", "RESOURCE", "ACTOR"].map(str::to_owned)];
    for found in findings {
        rows.push([
            found.event.event_time.clone().unwrap_or_else(|| "-".into()),
            found.event.event_name.clone(),
            found.finding.rule.id.to_owned(),
            found.mode.as_str().to_owned(),
            found.finding.resource.clone(),
            found.event.actor.display().to_owned(),
        ]);
    }
    format_table(&rows)
}

/// Left-aligned columns, two spaces apart.
pub fn format_table<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row.iter().zip(widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        out += cells.join("  ").trim_end();
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests;
