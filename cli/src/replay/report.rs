//! The replay as the scan's report: the same Markdown and HTML, each finding with the call that
//! made it (who, when, read from where) and what snapback would have restored.

use std::collections::BTreeSet;

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
        let (account, region) = (found.event.account.as_deref(), found.event.region.as_deref());
        findings.push(ScanFinding {
            occurrence: Some(Occurrence {
                event_name: found.event.event_name.clone(),
                event_id: found.event.event_id.clone(),
                time: found.event.event_time.clone(),
                actor: found.event.actor.display().to_owned(),
                origin: found.origin.clone(),
            }),
            ..ScanFinding::new(&found.finding, mode, None, account, region)
        });
    }
    let mut gaps: Vec<String> =
        summary.unreadable_inputs.iter().map(|bad| format!("unreadable input: {bad}")).collect();
    gaps.extend(summary.unreadable_records.iter().map(|bad| format!("unreadable record: {bad}")));
    if off > 0 {
        gaps.push(format!("{off} finding(s) of rules turned off (mode off) are not shown"));
    }
    let distinct = |field: fn(&ScanFinding) -> Option<&String>| -> Vec<String> {
        findings.iter().filter_map(field).cloned().collect::<BTreeSet<_>>().into_iter().collect()
    };
    let coverage = Coverage {
        accounts: distinct(|f| f.account.as_ref()),
        regions: distinct(|f| f.region.as_ref()),
        at: time::OffsetDateTime::now_utc(),
        gaps,
        replayed: Some(Replayed {
            files: summary.files,
            records: summary.records,
            // A Date displays as YYYY-MM-DD.
            since: filters.since.map(|day| day.to_string()),
            until: filters.until.map(|day| day.to_string()),
        }),
    };
    (findings, coverage)
}
