//! The replay as the scan's report: the same Markdown and HTML, each finding with the call that
//! made it (who, when, read from where) and what snapback would have restored.

use snapback_rules::Mode;

use super::{Filters, Summary};
use crate::scan::{Coverage, Occurrence, Replayed, ScanFinding, ScanMode};

/// The findings as the scan reports them, in the replay's order (by event time), and the
/// report's header. Findings of rules turned off are left out and counted among the gaps: snapback
/// would have done nothing about them.
pub fn scan_findings(summary: &Summary, filters: &Filters) -> (Vec<ScanFinding>, Coverage) {
    let mut findings = Vec::new();
    let mut off = 0;
    for found in &summary.findings {
        let mode = match found.mode {
            Mode::Remediate => ScanMode::Remediate,
            Mode::Notify => ScanMode::Notify,
            Mode::Off => {
                off += 1;
                continue;
            }
        };
        let rule = found.finding.rule;
        let plan = &found.finding.plan;
        findings.push(ScanFinding {
            rule: rule.id.to_owned(),
            title: rule.title.to_owned(),
            severity: rule.severity,
            mode,
            resource: found.finding.resource.clone(),
            kind: found.finding.kind,
            cluster: None,
            account: found.event.account.clone(),
            region: found.event.region.clone(),
            found: found.finding.changed.clone(),
            restore: plan.actions.iter().map(|action| action.describe()).chain(plan.manual.iter().cloned()).collect(),
            why: rule.rationale.to_owned(),
            fix: rule.manual_fix.to_owned(),
            actions: plan.actions.clone(),
            occurrence: Some(Occurrence {
                event_name: found.event.event_name.clone(),
                event_id: found.event.event_id.clone(),
                time: found.event.event_time.clone(),
                actor: found.event.actor.display().to_owned(),
                origin: found.origin.clone(),
            }),
        });
    }
    let mut gaps: Vec<String> =
        summary.unreadable_inputs.iter().map(|bad| format!("unreadable input: {bad}")).collect();
    gaps.extend(summary.unreadable_records.iter().map(|bad| format!("unreadable record: {bad}")));
    if off > 0 {
        gaps.push(format!("{off} finding(s) of rules turned off (mode off) are not shown"));
    }
    let mut accounts: Vec<String> = findings.iter().filter_map(|f| f.account.clone()).collect();
    accounts.sort();
    accounts.dedup();
    let mut regions: Vec<String> = findings.iter().filter_map(|f| f.region.clone()).collect();
    regions.sort();
    regions.dedup();
    let day = |date: time::Date| format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day());
    let coverage = Coverage {
        accounts,
        regions,
        at: time::OffsetDateTime::now_utc(),
        gaps,
        replayed: Some(Replayed {
            files: summary.files,
            records: summary.records,
            since: filters.since.map(day),
            until: filters.until.map(day),
        }),
    };
    (findings, coverage)
}
