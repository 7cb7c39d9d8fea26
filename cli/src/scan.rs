//! `snapback scan`: audit what already exists, with the user's own credentials. Each service's
//! adapter sweeps its account and region, the rules judge every resource as it is, and the policy
//! applies scope, exemptions and modes exactly as for events. Read-only unless `--remediate`
//! ([`remediate`]) restores what the report found in remediate mode.

pub mod html;
pub mod progress;
pub mod remediate;
pub mod sample;
pub mod security_hub;

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Serialize;
use snapback_aws::{ServiceAdapter, SweepContext};
use snapback_rules::{decide, Action, Config, Decision, Finding, ResourceFacts, ResourceKind, Scope, Severity};
use time::{Date, Duration, OffsetDateTime};

use progress::Progress;

/// What a rule would do about a finding, after scope and exemptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScanMode {
    /// The rule restores it (`--remediate` runs the restore).
    Remediate,
    /// The rule alerts only (its mode, or no restore exists).
    Notify,
    /// Tagged exempt: an accepted risk.
    Exempt,
}

impl ScanMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ScanMode::Remediate => "remediate",
            ScanMode::Notify => "notify",
            ScanMode::Exempt => "exempt",
        }
    }
}

impl fmt::Display for ScanMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding as scan reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanFinding {
    pub rule: String,
    pub title: String,
    pub severity: Severity,
    /// What the rule would do: remediate, notify, or exempt (tagged).
    pub mode: ScanMode,
    pub resource: String,
    /// The resource's kind (`security-group`, `eks-cluster`, `eks-nodegroup`).
    pub kind: &'static ResourceKind,
    pub cluster: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    /// What is wrong, one line per dangerous part.
    pub found: Vec<String>,
    /// The restore the rule would run, or what a person has to do.
    pub restore: Vec<String>,
    pub why: String,
    pub fix: String,
    /// The CloudTrail call a replay found this in; None for a scan, which judges resources as they are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurrence: Option<Occurrence>,
    /// The restore's actions, which `--remediate` runs through the adapter of each action's
    /// service (`restore` describes them for people).
    #[serde(skip)]
    pub actions: Vec<Action>,
}

/// The CloudTrail call behind a replayed finding: who did what, when, and where it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Occurrence {
    pub event_name: String,
    pub event_id: String,
    /// eventTime as recorded (RFC 3339, UTC), when the record had one.
    pub time: Option<String>,
    /// The caller: userIdentity ARN, or its session issuer, or the invoking service.
    pub actor: String,
    /// Where the record was read: `file#Records[3]`, `file:12`, `s3://bucket/key#Records[0]`.
    pub origin: String,
}

impl ScanFinding {
    /// The report's line for a rule's finding on a resource with these facts, or None when the
    /// resource is out of scope.
    pub fn judged(
        finding: &Finding,
        facts: &ResourceFacts,
        config: &Config,
        now: OffsetDateTime,
        account: Option<&str>,
        region: Option<&str>,
    ) -> Option<ScanFinding> {
        let mode = match decide(finding, facts, config, now) {
            Decision::OutOfScope(_) => return None,
            Decision::Exempt { .. } => ScanMode::Exempt,
            Decision::Notify { .. } => ScanMode::Notify,
            Decision::Remediate { .. } => ScanMode::Remediate,
        };
        Some(ScanFinding::new(finding, mode, facts.cluster.clone(), account, region))
    }

    /// The report's line for a rule's finding in `mode`: what is wrong, the restore (its actions
    /// described, then what a person has to do), why and the fix, from the finding and its rule.
    pub fn new(
        finding: &Finding,
        mode: ScanMode,
        cluster: Option<String>,
        account: Option<&str>,
        region: Option<&str>,
    ) -> ScanFinding {
        let plan = &finding.plan;
        ScanFinding {
            rule: finding.rule.id.to_owned(),
            title: finding.rule.title.to_owned(),
            severity: finding.rule.severity,
            mode,
            resource: finding.resource.clone(),
            kind: finding.kind,
            cluster,
            account: account.map(str::to_owned),
            region: region.map(str::to_owned),
            found: finding.changed.clone(),
            restore: plan.actions.iter().map(|action| action.describe()).chain(plan.manual.iter().cloned()).collect(),
            why: finding.rule.rationale.to_owned(),
            fix: finding.rule.manual_fix.to_owned(),
            occurrence: None,
            actions: plan.actions.clone(),
        }
    }
}

/// What a scan of one account and region found, and what it could not look at.
#[derive(Debug, Default)]
pub struct Scanned {
    pub findings: Vec<ScanFinding>,
    /// A service or resource that could not be described, with the reason; the rest was scanned.
    pub errors: Vec<String>,
}

/// What a scan covered, for a report's header.
#[derive(Debug, Clone)]
pub struct Coverage {
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub at: OffsetDateTime,
    /// What could not be scanned, each with its reason: the report is incomplete.
    pub gaps: Vec<String>,
    /// What a replay read; None for a scan.
    pub replayed: Option<Replayed>,
}

/// What a replay read, for the report's header (None for a scan).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed {
    pub files: usize,
    pub records: usize,
    /// The --since/--until window (YYYY-MM-DD, inclusive), when given.
    pub since: Option<String>,
    pub until: Option<String>,
}

/// Sweeps one account and region through `adapters` and judges everything found, telling
/// `progress` each service swept and each resource judged. A service that cannot be swept, or a
/// resource that cannot be looked up, is reported and skipped.
pub async fn scan(
    adapters: &[Box<dyn ServiceAdapter>],
    config: &Config,
    account: Option<&str>,
    region: Option<&str>,
    progress: &Progress,
) -> Scanned {
    let now = OffsetDateTime::now_utc();
    let mut scanned = Scanned::default();
    let findings = &mut scanned.findings;
    let context = SweepContext::new(config.scope).in_account(account);
    for adapter in adapters {
        progress.sweeping(adapter.service());
        let swept = match adapter.sweep(&context).await {
            Ok(swept) => swept,
            Err(error) => {
                scanned.errors.push(format!("{}: {error}", adapter.service()));
                continue;
            }
        };
        progress.judging(adapter.service(), swept.len());
        // What the sweep already knows about the resources it described needs no look-up (a
        // nodegroup's finding is about its cluster, which the same sweep described).
        let mut facts: HashMap<(&'static str, String), Option<ResourceFacts>> = swept
            .iter()
            .filter_map(|found| Some(((found.kind.name, found.resource.clone()), Some(found.facts.clone()?))))
            .collect();
        for found in swept {
            for finding in snapback_rules::services::judge_state(found.state.as_ref(), config) {
                let key = (finding.kind.name, finding.resource.clone());
                if !facts.contains_key(&key) {
                    let find_cluster = finding.kind.scoped_by_cluster && config.scope == Scope::Eks;
                    let looked = match adapter.look_up(finding.kind, &finding.resource, find_cluster).await {
                        Ok(looked) => looked,
                        Err(error) => {
                            scanned.errors.push(format!("{} {}: {error}", finding.kind.name, finding.resource));
                            None
                        }
                    };
                    facts.insert(key.clone(), looked.map(|looked| looked.facts));
                }
                // Gone between the sweep and the look-up: nothing left to report.
                let Some(facts) = &facts[&key] else { continue };
                findings.extend(ScanFinding::judged(&finding, facts, config, now, account, region));
            }
            progress.judged();
        }
    }
    sort(findings);
    scanned
}

/// Most severe first, then by rule and resource, so reports are stable.
pub fn sort(findings: &mut [ScanFinding]) {
    findings.sort_by(|a, b| {
        b.severity.cmp(&a.severity).then_with(|| a.rule.cmp(&b.rule)).then_with(|| a.resource.cmp(&b.resource))
    });
}

/// The table on stdout: by severity, one row per finding.
pub fn render_table(findings: &[ScanFinding]) -> String {
    let mut rows = vec![[
        "SEVERITY".to_owned(),
        "RULE".to_owned(),
        "RESOURCE".to_owned(),
        "CLUSTER".to_owned(),
        "REGION".to_owned(),
        "MODE".to_owned(),
        "WHAT IS WRONG".to_owned(),
    ]];
    for finding in findings {
        rows.push([
            finding.severity.label().to_owned(),
            finding.rule.clone(),
            finding.resource.clone(),
            finding.cluster.clone().unwrap_or_else(|| "-".to_owned()),
            finding.region.clone().unwrap_or_else(|| "-".to_owned()),
            finding.mode.to_string(),
            finding.found.join("; "),
        ]);
    }
    crate::replay::format_table(&rows)
}

/// The report as Markdown, for a pull request or a wiki: counts by severity, the findings as a
/// table, then each finding with why it matters, what snapback would restore and the fix.
pub fn render_markdown(findings: &[ScanFinding]) -> String {
    let mut out = String::from("# snapback scan\n\n");
    out += "| severity | findings |\n|---|---|\n";
    for severity in [Severity::Critical, Severity::High, Severity::Medium, Severity::Low] {
        let count = findings.iter().filter(|f| f.severity == severity).count();
        out += &format!("| {} | {count} |\n", severity.label());
    }
    if findings.is_empty() {
        out += "\nNothing found.\n";
        return out;
    }
    out += "\n| severity | rule | resource | cluster | account / region | mode | what is wrong |\n|---|---|---|---|---|---|---|\n";
    for f in findings {
        out += &format!(
            "| {} | `{}` | `{}` | {} | {} / {} | {} | {} |\n",
            f.severity.label(),
            f.rule,
            cell(&f.resource),
            cell(f.cluster.as_deref().unwrap_or("-")),
            f.account.as_deref().unwrap_or("-"),
            f.region.as_deref().unwrap_or("-"),
            f.mode,
            cell(&f.found.join("; "))
        );
    }
    for f in findings {
        out += &format!("\n## {} `{}` on `{}`\n\n{}\n\n", f.severity.label(), f.rule, f.resource, f.title);
        out += &format!("- **What is wrong:** {}\n", f.found.join("; "));
        out += &format!("- **Why it matters:** {}\n", f.why);
        if !f.restore.is_empty() {
            let label = if f.mode == ScanMode::Remediate {
                "snapback restores"
            } else {
                "snapback would restore (in remediate mode)"
            };
            out += &format!("- **{label}:** {}\n", f.restore.join("; "));
        }
        out += &format!("- **Fix by hand:** {}\n", f.fix);
    }
    out
}

/// The report of a replay as Markdown: what was read, counts by rule, by actor and by day, the
/// findings as a table in the order given (the caller's, by time), then each finding with who made
/// the call, when, what was wrong, what snapback would have restored and the fix. Every name from
/// a record is hostile: it goes into a code span or is stripped of markup.
pub fn render_replay_markdown(findings: &[ScanFinding], coverage: &Coverage) -> String {
    let mut out = String::from("# snapback replay\n\n");
    out += &replay_summary(findings, coverage);
    if !coverage.gaps.is_empty() {
        out += "\n**Left out: this report is incomplete.**\n\n";
        for gap in &coverage.gaps {
            out += &format!("- {}\n", plain(gap));
        }
    }
    if findings.is_empty() {
        out += "\nNothing in the records replayed would have been restored or alerted on.\n";
        return out;
    }
    out += &markdown_counts(findings);
    out +=
        "\n## Findings\n\n| time | severity | rule | resource | actor | call | mode |\n|---|---|---|---|---|---|---|\n";
    for f in findings {
        let call = f.occurrence.as_ref().map_or("", |o| o.event_name.as_str());
        out += &format!(
            "| {} | {} | `{}` | {} | {} | {} | {} |\n",
            cell(&plain(&call_time(f))),
            f.severity.label(),
            f.rule,
            cell(&code(&f.resource)),
            cell(&code(actor(f))),
            cell(&code(call)),
            f.mode
        );
    }
    for f in findings {
        out += &replay_finding_markdown(f);
    }
    out
}

/// What the replay read, over which period, what it found, and that nothing was done.
fn replay_summary(findings: &[ScanFinding], coverage: &Coverage) -> String {
    let mut out = String::new();
    if let Some(replayed) = &coverage.replayed {
        let files = counted(replayed.files, "file", "files");
        out += &format!("- **Read:** {} from {files}\n", counted(replayed.records, "record", "records"));
        out += &format!("- **Period:** {}\n", plain(&replay_period(replayed, findings)));
    }
    if !coverage.accounts.is_empty() {
        let label = if coverage.accounts.len() > 1 { "Accounts" } else { "Account" };
        out += &format!("- **{label}:** {}\n", plain(&coverage.accounts.join(", ")));
    }
    out += &format!("- **Findings:** {}\n", thousands(findings.len()));
    out += &format!("- **Generated:** {}\n", minute_utc(coverage.at));
    out + "\nA replay makes no AWS call: nothing was restored.\n"
}

/// The tables by rule, by actor (every one) and by day (days without findings included).
fn markdown_counts(findings: &[ScanFinding]) -> String {
    let mut out = String::from("\n## By rule\n\n| rule | severity | findings |\n|---|---|---|\n");
    for (rule, severity, n) in count_by_rule(findings) {
        out += &format!("| `{rule}` | {} | {n} |\n", severity.label());
    }
    out += "\n## By actor\n\n| actor | findings |\n|---|---|\n";
    for (actor, n) in count_by_actor(findings) {
        out += &format!("| {} | {n} |\n", cell(&code(actor)));
    }
    let by_day = count_by_day(findings);
    out += "\n## By day\n\n| day | findings |\n|---|---|\n";
    for column in &by_day.columns {
        out += &format!("| {} | {} |\n", column.label(), column.findings.len());
    }
    if by_day.undated > 0 {
        out += &format!("| no time recorded | {} |\n", by_day.undated);
    }
    out
}

/// One replayed finding: the call that made it, then what was wrong and what snapback would have
/// done about it.
fn replay_finding_markdown(f: &ScanFinding) -> String {
    let mut out = format!(
        "\n### {}: {} `{}` on {}\n\n{}\n\n",
        plain(&call_time(f)),
        f.severity.label(),
        f.rule,
        code(&f.resource),
        f.title
    );
    if let Some(occurrence) = &f.occurrence {
        out += &format!("- **Who:** {}\n", code(&occurrence.actor));
        out += &format!("- **When:** {}\n", plain(&call_time(f)));
        out += &format!("- **Call:** {} (event {})\n", code(&occurrence.event_name), code(&occurrence.event_id));
        out += &format!("- **Read from:** {}\n", code(&occurrence.origin));
    }
    let account = f.account.as_deref().unwrap_or("unknown account");
    let region = f.region.as_deref().unwrap_or("unknown region");
    out += &format!("- **Account / region:** {} / {}\n", plain(account), plain(region));
    out += &format!("- **What was wrong:** {}\n", plain(&f.found.join("; ")));
    out += &format!("- **Why it matters:** {}\n", plain(&f.why));
    let by_hand_only = f.actions.is_empty() && f.restore.iter().all(|step| *step == f.fix);
    if !by_hand_only {
        let label = match f.mode {
            _ if f.actions.is_empty() => "No automatic restore",
            ScanMode::Remediate => "snapback would have restored",
            ScanMode::Notify => "snapback would have alerted; in remediate mode it would have restored",
            ScanMode::Exempt => "Exempt; if not, snapback would have restored",
        };
        out += &format!("- **{label}:** {}\n", plain(&f.restore.join("; ")));
    }
    // `plain` too: a fix such as `--name <cluster>` would lose `<cluster>` as an unknown HTML tag.
    out += &format!("- **Fix by hand:** {}\n", plain(&f.fix));
    out
}

/// A Markdown table cell: a `|` would end it and a line break would end the row.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Text as a Markdown code span, where nothing is markup: fenced by more backticks than it holds
/// in a row, on one line.
fn code(text: &str) -> String {
    let text = text.replace(['\r', '\n'], " ");
    if text.is_empty() {
        return "-".to_owned();
    }
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    // A span that starts or ends with a backtick needs a space between it and the fence.
    let pad = if text.starts_with('`') || text.ends_with('`') { " " } else { "" };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// Text from a record outside a code span, on one line, with no HTML, link or image in it.
fn plain(text: &str) -> String {
    text.replace(['\r', '\n'], " ").replace('<', "&lt;").replace('>', "&gt;").replace('[', "\\[").replace(']', "\\]")
}

/// The caller of a replayed finding's call ("unknown" for a finding with none, as from a scan).
fn actor(finding: &ScanFinding) -> &str {
    finding.occurrence.as_ref().map_or("unknown", |occurrence| occurrence.actor.as_str())
}

/// When the call was made, for people: `2026-11-27 09:12:44 UTC` from CloudTrail's
/// `2026-11-27T09:12:44Z`, any other time as recorded.
fn call_time(finding: &ScanFinding) -> String {
    let Some(time) = finding.occurrence.as_ref().and_then(|occurrence| occurrence.time.as_deref()) else {
        return "no time recorded".to_owned();
    };
    match time.strip_suffix('Z').and_then(|time| time.split_once('T')) {
        Some((day, clock))
            if parse_day(day).is_some() && clock.bytes().all(|b| b.is_ascii_digit() || b":.".contains(&b)) =>
        {
            format!("{day} {clock} UTC")
        }
        _ => time.to_owned(),
    }
}

/// The day of a replayed finding's call, when its time starts with a valid `YYYY-MM-DD`.
fn call_day(finding: &ScanFinding) -> Option<Date> {
    parse_day(finding.occurrence.as_ref()?.time.as_deref()?.get(..10)?)
}

/// `YYYY-MM-DD`, strictly (a record's time is not to be trusted).
fn parse_day(text: &str) -> Option<Date> {
    let digits = |range: std::ops::Range<usize>| {
        let part = text.get(range)?;
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse::<u16>().ok()
        } else {
            None
        }
    };
    if text.len() != 10 || text.as_bytes()[4] != b'-' || text.as_bytes()[7] != b'-' {
        return None;
    }
    let month = time::Month::try_from(u8::try_from(digits(5..7)?).ok()?).ok()?;
    Date::from_calendar_date(i32::from(digits(0..4)?), month, u8::try_from(digits(8..10)?).ok()?).ok()
}

/// The stretch of time a replay covers: its --since/--until window, or else the days of its
/// first and last dated finding.
fn replay_period(replayed: &Replayed, findings: &[ScanFinding]) -> String {
    let span = |first: &str, last: &str| if first == last { first.to_owned() } else { format!("{first} to {last}") };
    match (&replayed.since, &replayed.until) {
        (Some(since), Some(until)) => span(since, until),
        (Some(since), None) => format!("from {since}"),
        (None, Some(until)) => format!("until {until}"),
        (None, None) => {
            let days = findings.iter().filter_map(call_day);
            match (days.clone().min(), days.max()) {
                (Some(first), Some(last)) => span(&first.to_string(), &last.to_string()),
                _ => "unknown".to_owned(),
            }
        }
    }
}

/// How many findings each rule has, with its severity: most first, then most severe, then by id.
fn count_by_rule(findings: &[ScanFinding]) -> Vec<(&str, Severity, usize)> {
    let mut counts: BTreeMap<&str, (Severity, usize)> = BTreeMap::new();
    for f in findings {
        counts.entry(&f.rule).or_insert((f.severity, 0)).1 += 1;
    }
    let mut counts: Vec<(&str, Severity, usize)> = counts.into_iter().map(|(rule, (s, n))| (rule, s, n)).collect();
    // Stable: rules of equal count and severity stay in id order.
    counts.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.cmp(&a.1)));
    counts
}

/// How many findings each caller made: most first, then by name.
fn count_by_actor(findings: &[ScanFinding]) -> Vec<(&str, usize)> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for f in findings {
        *counts.entry(actor(f)).or_default() += 1;
    }
    let mut counts: Vec<(&str, usize)> = counts.into_iter().collect();
    counts.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
    counts
}

/// The most columns the count by day has: a longer span puts several days in a column, so a
/// record with a far-off time cannot make the report huge.
const MAX_DAY_COLUMNS: u64 = 92;

/// The findings of one day, or of a few days in a row when the span is long.
struct DayColumn<'a> {
    first: Date,
    last: Date,
    findings: Vec<&'a ScanFinding>,
}

impl DayColumn<'_> {
    fn label(&self) -> String {
        if self.first == self.last {
            self.first.to_string()
        } else {
            format!("{} to {}", self.first, self.last)
        }
    }
}

/// Findings by the day of their call.
struct ByDay<'a> {
    /// From the first to the last day with a finding, days without any included.
    columns: Vec<DayColumn<'a>>,
    days_per_column: u64,
    /// Findings whose call has no readable time.
    undated: usize,
}

fn count_by_day(findings: &[ScanFinding]) -> ByDay<'_> {
    let dated: Vec<(Date, &ScanFinding)> = findings.iter().filter_map(|f| Some((call_day(f)?, f))).collect();
    let undated = findings.len() - dated.len();
    let days = dated.iter().map(|(day, _)| *day);
    let (Some(first), Some(last)) = (days.clone().min(), days.max()) else {
        return ByDay { columns: Vec::new(), days_per_column: 1, undated };
    };
    let offset = |day: Date| (day - first).whole_days().unsigned_abs();
    let span = offset(last) + 1;
    let days_per_column = span.div_ceil(MAX_DAY_COLUMNS);
    let mut columns: Vec<DayColumn> = (0..span.div_ceil(days_per_column))
        .map(|column| {
            let column_first = first + Duration::days((column * days_per_column) as i64);
            let column_last =
                column_first.checked_add(Duration::days(days_per_column as i64 - 1)).map_or(last, |day| day.min(last));
            DayColumn { first: column_first, last: column_last, findings: Vec::new() }
        })
        .collect();
    for (day, f) in dated {
        columns[(offset(day) / days_per_column) as usize].findings.push(f);
    }
    ByDay { columns, days_per_column, undated }
}

/// `n` with its noun, and thousands separated: `1 record`, `12,345 records`.
fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let lead = match digits.len() % 3 {
        0 => 3,
        short => short,
    };
    let (head, rest) = digits.split_at(lead.min(digits.len()));
    let mut out = head.to_owned();
    for group in rest.as_bytes().chunks(3) {
        out.push(',');
        out.push_str(std::str::from_utf8(group).expect("ASCII digits"));
    }
    out
}

/// `2026-12-01 10:25 UTC`.
fn minute_utc(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC);
    format!("{}-{:02}-{:02} {:02}:{:02} UTC", utc.year(), u8::from(utc.month()), utc.day(), utc.hour(), utc.minute())
}

/// The report as JSON: one object per finding, as `--format json` writes it.
pub fn render_json(findings: &[ScanFinding]) -> String {
    serde_json::to_string_pretty(findings).expect("findings serialize") + "\n"
}

/// The summary on stderr: counts by severity.
pub fn render_summary(findings: &[ScanFinding]) -> String {
    let count = |severity: Severity| findings.iter().filter(|f| f.severity == severity).count();
    format!(
        "{} finding(s): {} critical, {} high, {} medium, {} low\n",
        findings.len(),
        count(Severity::Critical),
        count(Severity::High),
        count(Severity::Medium),
        count(Severity::Low)
    )
}

/// Does anything not exempt reach `threshold`? (An exemption tag is how a risk is accepted.)
pub fn fails(findings: &[ScanFinding], threshold: Severity) -> bool {
    findings.iter().any(|finding| finding.severity >= threshold && finding.mode != ScanMode::Exempt)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, severity: Severity, resource: &str) -> ScanFinding {
        let meta = snapback_rules::rule(rule).expect("a registered rule");
        ScanFinding {
            rule: rule.into(),
            title: meta.title.into(),
            severity,
            mode: ScanMode::Remediate,
            resource: resource.into(),
            kind: &snapback_rules::services::security_groups::SECURITY_GROUP,
            cluster: Some("prod".into()),
            account: Some("111122223333".into()),
            region: Some("eu-west-1".into()),
            found: vec!["tcp 22 from 0.0.0.0/0 (sgr-1)".into()],
            restore: vec![],
            why: meta.rationale.into(),
            fix: meta.manual_fix.into(),
            occurrence: None,
            actions: vec![],
        }
    }

    #[test]
    fn findings_sort_most_severe_first_and_the_threshold_counts_at_or_above() {
        let mut findings = vec![
            finding("sg-open-k8s-api", Severity::Medium, "sg-2"),
            finding("sg-open-kubelet", Severity::Critical, "sg-1"),
            finding("sg-open-remote-admin", Severity::High, "sg-1"),
        ];
        sort(&mut findings);
        let order: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(order, ["sg-open-kubelet", "sg-open-remote-admin", "sg-open-k8s-api"]);
        assert!(fails(&findings, Severity::Critical));
        assert!(!fails(&findings[2..], Severity::High));
        findings[0].mode = ScanMode::Exempt;
        assert!(!fails(&findings, Severity::Critical), "an exempt finding is an accepted risk");
        assert!(fails(&findings, Severity::High));
        assert_eq!(render_summary(&findings), "3 finding(s): 1 critical, 1 high, 1 medium, 0 low\n");
        let table = render_table(&findings);
        assert!(table.lines().nth(1).unwrap().starts_with("CRITICAL  sg-open-kubelet"), "{table}");
    }

    /// Golden file: the Markdown report of a small, fixed set of findings.
    #[test]
    fn golden_markdown_report() {
        let mut findings = vec![
            finding("sg-open-remote-admin", Severity::High, "sg-0123456789abcdef0"),
            ScanFinding {
                cluster: Some("prod".into()),
                resource: "prod".into(),
                mode: ScanMode::Notify,
                found: vec!["public endpoint on, open to 0.0.0.0/0".into()],
                restore: vec!["set private endpoint on, public endpoint off for cluster prod".into()],
                ..finding("eks-public-endpoint", Severity::High, "prod")
            },
        ];
        sort(&mut findings);
        let report = render_markdown(&findings);
        assert!(report.contains("| HIGH | 2 |"), "{report}");
        assert!(
            report.contains("- **snapback would restore (in remediate mode):** set private endpoint on"),
            "{report}"
        );
        insta::assert_snapshot!("scan-markdown", report);
        assert!(render_markdown(&[]).contains("Nothing found."));
    }

    /// Golden file: the Markdown report of the sample replay (3 rules, 3 callers, 3 days and one
    /// without findings).
    #[test]
    fn golden_replay_markdown_report() {
        let report = render_replay_markdown(&sample::replay_findings(), &sample::replay_coverage());
        let by_rule = "| `sg-open-k8s-api` | MEDIUM | 3 |\n| `sg-open-kubelet` | CRITICAL | 2 |\n\
                       | `eks-public-endpoint` | HIGH | 2 |\n";
        assert!(report.contains(by_rule), "{report}");
        let by_actor = "| `arn:aws:sts::111122223333:assumed-role/platform-admin/alice@example.com` | 3 |\n\
                        | `arn:aws:iam::111122223333:user/ci-deployer` | 2 |\n\
                        | `arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_PowerUser_4f2a9c1e7b3d5a60/bob` | 2 |\n";
        assert!(report.contains(by_actor), "{report}");
        let by_day = "| 2026-11-27 | 3 |\n| 2026-11-28 | 2 |\n| 2026-11-29 | 0 |\n| 2026-11-30 | 2 |\n\n";
        assert!(report.contains(by_day), "{report}");
        assert!(report.contains("- **Read:** 12,345 records from 14 files\n- **Period:** 2026-11-26 to 2026-11-30\n"));
        assert!(report.contains("- **snapback would have restored:** revoke ingress rule sgr-0d3f9b2c7a1e5c842"));
        assert!(report.contains("- **snapback would have alerted; in remediate mode it would have restored:** revoke"));
        insta::assert_snapshot!("replay-markdown", report);
    }

    #[test]
    fn a_replay_without_findings_says_nothing_would_have_been_restored_or_alerted_on() {
        let report = render_replay_markdown(&[], &sample::replay_coverage());
        assert!(report.contains("Nothing in the records replayed would have been restored or alerted on."), "{report}");
        assert!(!report.contains("## By rule"));
    }

    #[test]
    fn replay_markdown_keeps_hostile_names_inside_their_cell_and_code_span() {
        let mut hostile = sample::replayed_call("a|b`c<script>\nx", Some("2026-11-27T<img>|"));
        hostile.found = vec!["tcp 22 <img src=x> [link](http://x)".into()];
        let report = render_replay_markdown(&[hostile], &sample::replay_coverage());
        assert!(report.contains("| ``a\\|b`c<script> x`` | 1 |\n"), "{report}");
        assert!(report.contains("| 2026-11-27T&lt;img&gt;\\| | CRITICAL |"), "{report}");
        assert!(report.contains("- **Who:** ``a|b`c<script> x``\n"), "{report}");
        assert!(report.contains("- **What was wrong:** tcp 22 &lt;img src=x&gt; \\[link\\](http://x)\n"), "{report}");
    }

    #[test]
    fn a_code_span_is_fenced_by_more_backticks_than_it_holds_in_a_row() {
        assert_eq!(code("plain"), "`plain`");
        assert_eq!(code("a``b"), "```a``b```");
        assert_eq!(code("`edge`"), "`` `edge` ``");
        assert_eq!(code(""), "-");
    }

    #[test]
    fn a_cloudtrail_time_reads_as_utc_and_any_other_as_recorded() {
        let time = |time: Option<&str>| call_time(&sample::replayed_call("me", time));
        assert_eq!(time(Some("2026-11-27T09:12:44Z")), "2026-11-27 09:12:44 UTC");
        assert_eq!(time(Some("2026-11-27T09:12:44.120Z")), "2026-11-27 09:12:44.120 UTC");
        assert_eq!(time(Some("2026-11-27T09:12:44+02:00")), "2026-11-27T09:12:44+02:00");
        assert_eq!(time(Some("2026-02-30T09:12:44Z")), "2026-02-30T09:12:44Z", "no such day");
        assert_eq!(time(None), "no time recorded");
    }

    #[test]
    fn counts_by_day_run_from_the_first_to_the_last_day_with_empty_days_and_count_the_undated() {
        let findings = [
            sample::replayed_call("a", Some("2026-11-30T10:00:00Z")),
            sample::replayed_call("a", Some("2026-11-28T10:00:00Z")),
            sample::replayed_call("a", Some("2026-11-30T23:59:59Z")),
            sample::replayed_call("a", Some("yesterday")),
            sample::replayed_call("a", None),
        ];
        let by_day = count_by_day(&findings);
        let columns: Vec<(String, usize)> =
            by_day.columns.iter().map(|column| (column.label(), column.findings.len())).collect();
        assert_eq!(columns, [("2026-11-28".into(), 1), ("2026-11-29".into(), 0), ("2026-11-30".into(), 2)]);
        assert_eq!((by_day.days_per_column, by_day.undated), (1, 2));
    }

    #[test]
    fn a_span_longer_than_92_days_is_counted_in_columns_of_several_days() {
        let findings = [
            sample::replayed_call("a", Some("0001-01-01T00:00:00Z")),
            sample::replayed_call("a", Some("9999-12-31T00:00:00Z")),
            sample::replayed_call("a", Some("2026-11-27T00:00:00Z")),
        ];
        let by_day = count_by_day(&findings);
        assert!(by_day.columns.len() as u64 <= MAX_DAY_COLUMNS, "{} columns", by_day.columns.len());
        let days_in_columns: i64 =
            by_day.columns.iter().map(|column| (column.last - column.first).whole_days() + 1).sum();
        assert_eq!(days_in_columns, (by_day.columns.last().unwrap().last - by_day.columns[0].first).whole_days() + 1);
        assert_eq!(by_day.columns[0].label(), format!("0001-01-01 to {}", by_day.columns[0].last));
        assert_eq!(by_day.columns.last().unwrap().last.to_string(), "9999-12-31");
        assert_eq!(by_day.columns.iter().map(|column| column.findings.len()).sum::<usize>(), 3);
    }

    #[test]
    fn the_period_is_the_window_given_or_else_the_days_with_findings() {
        let findings = [
            sample::replayed_call("a", Some("2026-11-30T10:00:00Z")),
            sample::replayed_call("a", Some("2026-11-28T10:00:00Z")),
        ];
        let window = |since: Option<&str>, until: Option<&str>| Replayed {
            files: 1,
            records: 2,
            since: since.map(str::to_owned),
            until: until.map(str::to_owned),
        };
        assert_eq!(
            replay_period(&window(Some("2026-11-01"), Some("2026-11-30")), &findings),
            "2026-11-01 to 2026-11-30"
        );
        assert_eq!(replay_period(&window(Some("2026-11-01"), None), &findings), "from 2026-11-01");
        assert_eq!(replay_period(&window(None, Some("2026-11-30")), &findings), "until 2026-11-30");
        assert_eq!(replay_period(&window(None, None), &findings), "2026-11-28 to 2026-11-30");
        assert_eq!(replay_period(&window(None, None), &findings[..1]), "2026-11-30");
        assert_eq!(replay_period(&window(None, None), &[]), "unknown");
    }

    #[test]
    fn counts_are_written_with_thousands_separated() {
        let written: Vec<String> = [0, 999, 1_000, 12_345, 1_234_567].map(thousands).into();
        assert_eq!(written, ["0", "999", "1,000", "12,345", "1,234,567"]);
        assert_eq!(counted(1, "record", "records"), "1 record");
        assert_eq!(counted(12_345, "record", "records"), "12,345 records");
    }

    /// Golden file: `--format json` of the sample scan (both services, every mode).
    #[test]
    fn golden_json_report() {
        let report = render_json(&sample::findings());
        let objects: Vec<serde_json::Value> = serde_json::from_str(&report).expect("a JSON array");
        for object in &objects {
            for key in ["rule", "resource", "severity", "mode", "cluster", "account", "region"] {
                assert!(object[key].is_string(), "{key} in {object}");
            }
        }
        let modes: std::collections::BTreeSet<&str> = objects.iter().map(|o| o["mode"].as_str().unwrap()).collect();
        assert_eq!(modes, ["exempt", "notify", "remediate"].into());
        insta::assert_snapshot!("scan-json", report);
        assert_eq!(render_json(&[]), "[]\n");
    }
}
