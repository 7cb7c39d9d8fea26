//! `snapback replay`: evaluate recorded CloudTrail offline, with no AWS call. Every resource is
//! treated as in scope and not exempt, so the output shows what each rule would do.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use snapback_rules::{listens_to, screen, Config, Event, Finding, Mode};

/// One record, with where it came from.
pub struct Record {
    pub origin: String,
    pub value: Value,
}

/// A finding as replay reports it.
#[derive(Debug, Clone)]
pub struct ReplayFinding {
    pub origin: String,
    pub event: Event,
    pub finding: Finding,
    pub mode: Mode,
}

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
            "changed": self.finding.changed,
            "plan": self.finding.plan,
            "origin": self.origin,
        })
    }
}

/// Everything a replay saw.
#[derive(Debug, Default)]
pub struct Summary {
    pub files: usize,
    pub records: usize,
    pub findings: Vec<ReplayFinding>,
    /// Records left alone, counted by reason.
    pub skipped: BTreeMap<String, usize>,
    /// Records that could not be parsed, with their file and position.
    pub unreadable_records: Vec<String>,
    /// Inputs that could not be read at all.
    pub unreadable_inputs: Vec<String>,
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

/// Replays every path (files, directories of them) under `config`.
pub fn replay(paths: &[PathBuf], config: &Config) -> Summary {
    let mut summary = Summary::default();
    for path in paths {
        let files = match collect_files(path) {
            Ok(files) => files,
            Err(error) => {
                summary.unreadable_inputs.push(format!("{}: {error}", path.display()));
                continue;
            }
        };
        for file in files {
            summary.files += 1;
            let records = match read_records(&file, &mut summary.unreadable_records) {
                Ok(records) => records,
                Err(error) => {
                    summary.unreadable_inputs.push(format!("{}: {error}", file.display()));
                    continue;
                }
            };
            for record in records {
                summary.records += 1;
                judge(record, config, &mut summary);
            }
        }
    }
    summary
}

fn judge(record: Record, config: &Config, summary: &mut Summary) {
    let event = match Event::from_value(&record.value) {
        Ok(event) => event,
        Err(error) => {
            *summary.skipped.entry(format!("not a CloudTrail API call ({})", error_kind(&error))).or_default() += 1;
            return;
        }
    };
    if let Some(ignored) = screen(&event, config, &[], listens_to) {
        *summary.skipped.entry(ignored.label().to_owned()).or_default() += 1;
        return;
    }
    let findings = match snapback_rules::services::judge_change(snapback_rules::registry::services(), &event, config) {
        Ok(findings) => findings,
        Err(unreadable) => {
            summary.unreadable_records.push(format!("{}: {unreadable}", record.origin));
            return;
        }
    };
    for finding in findings {
        let mut mode = config.mode(finding.rule.id);
        if mode == Mode::Remediate && finding.plan.actions.is_empty() {
            mode = Mode::Notify;
        }
        summary.findings.push(ReplayFinding { origin: record.origin.clone(), event: event.clone(), finding, mode });
    }
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
            } else if is_record_file(&entry) {
                files.push(entry);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn is_record_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    [".json", ".json.gz", ".jsonl", ".jsonl.gz", ".ndjson"].iter().any(|ext| name.ends_with(ext))
}

/// Reads one file: gzip or not; a trail's `{"Records": [...]}`, an array, one record or
/// envelope, or JSON Lines. Bad lines are reported with their position and skipped.
pub fn read_records(path: &Path, unreadable: &mut Vec<String>) -> std::io::Result<Vec<Record>> {
    let raw = std::fs::read(path)?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut text = Vec::new();
        flate2::read::MultiGzDecoder::new(raw.as_slice()).read_to_end(&mut text)?;
        text
    } else {
        raw
    };
    let name = path.display().to_string();
    Ok(records_from_bytes(&name, &bytes, unreadable))
}

pub fn records_from_bytes(name: &str, bytes: &[u8], unreadable: &mut Vec<String>) -> Vec<Record> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(mut object)) if object.get("Records").is_some_and(Value::is_array) => {
            let Some(Value::Array(records)) = object.remove("Records") else { unreachable!("checked above") };
            records
                .into_iter()
                .enumerate()
                .map(|(index, value)| Record { origin: format!("{name}#Records[{index}]"), value })
                .collect()
        }
        Ok(Value::Array(records)) => records
            .into_iter()
            .enumerate()
            .map(|(index, value)| Record { origin: format!("{name}#[{index}]"), value })
            .collect(),
        Ok(value) => vec![Record { origin: name.to_owned(), value }],
        Err(_) => {
            let text = String::from_utf8_lossy(bytes);
            let mut records = Vec::new();
            for (index, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<Value>(line) {
                    Ok(value) => records.push(Record { origin: format!("{name}:{}", index + 1), value }),
                    Err(error) => unreadable.push(format!("{name}:{}: {error}", index + 1)),
                }
            }
            records
        }
    }
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
mod tests {
    use super::*;

    const SSH_OPEN: &str = r#"{"eventID": "e1", "eventSource": "ec2.amazonaws.com", "eventName": "AuthorizeSecurityGroupIngress",
        "requestParameters": {"groupId": "sg-1", "cidrIp": "0.0.0.0/0", "ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipPermissions": {}}}"#;

    #[test]
    fn reads_trail_files_arrays_single_records_and_json_lines() {
        let mut bad = Vec::new();
        let trail = format!(r#"{{"Records": [{SSH_OPEN}, {SSH_OPEN}]}}"#);
        assert_eq!(records_from_bytes("t.json", trail.as_bytes(), &mut bad).len(), 2);
        assert_eq!(records_from_bytes("a.json", format!("[{SSH_OPEN}]").as_bytes(), &mut bad)[0].origin, "a.json#[0]");
        assert_eq!(records_from_bytes("r.json", SSH_OPEN.as_bytes(), &mut bad).len(), 1);
        let lines = format!("{}\n\nnot json\n{}\n", SSH_OPEN.replace('\n', " "), SSH_OPEN.replace('\n', " "));
        let records = records_from_bytes("l.jsonl", lines.as_bytes(), &mut bad);
        assert_eq!(records.iter().map(|r| r.origin.as_str()).collect::<Vec<_>>(), ["l.jsonl:1", "l.jsonl:4"]);
        assert_eq!(bad.len(), 1);
        assert!(bad[0].starts_with("l.jsonl:3: "), "{bad:?}");
    }
}
