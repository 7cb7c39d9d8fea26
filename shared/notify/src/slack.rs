//! Slack Block Kit for an alert, within Slack's limits: at most 50 blocks, 3000 characters per
//! text object (longer values are cut with a marker), 150 characters of header.

use serde_json::{json, Value};
use snapback_rules::Severity;

use crate::{truncate, Alert, Outcome};

/// Characters Slack accepts in one text object.
pub const SLACK_TEXT_LIMIT: usize = 3000;
const HEADER_LIMIT: usize = 150;
const FIELD_LIMIT: usize = 2000;
const MAX_BLOCKS: usize = 50;
const CUT_MARKER: &str = " …(cut)";

fn cut(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let kept: String = text.chars().take(limit - CUT_MARKER.chars().count()).collect();
    format!("{kept}{CUT_MARKER}")
}

fn section(markdown: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": cut(markdown, SLACK_TEXT_LIMIT)}})
}

fn field(name: &str, value: &str) -> Value {
    json!({"type": "mrkdwn", "text": cut(&format!("*{name}*\n{value}"), FIELD_LIMIT)})
}

/// Colour of the message's side bar: by outcome first (a failure is always red), then severity.
fn colour(alert: &Alert) -> &'static str {
    match (alert.outcome, alert.severity) {
        (Outcome::Failed, _) => "#d00000",
        (Outcome::Exempt, _) => "#8a8a8a",
        (Outcome::Resolved, _) => "#2eb67d",
        (_, Severity::Critical) => "#a4000f",
        (_, Severity::High) => "#e8590c",
        (_, Severity::Medium) => "#f2c744",
        (_, Severity::Low) => "#2eb67d",
    }
}

fn emoji(alert: &Alert) -> &'static str {
    match alert.outcome {
        Outcome::Remediated => ":white_check_mark:",
        Outcome::WouldRemediate => ":warning:",
        Outcome::Exempt => ":no_entry_sign:",
        Outcome::Failed => ":rotating_light:",
        Outcome::Resolved => ":heavy_check_mark:",
    }
}

fn bullets(lines: &[String]) -> String {
    lines.iter().map(|line| format!("• {line}")).collect::<Vec<_>>().join("\n")
}

/// The webhook payload: a fallback `text` and one attachment (for the colour bar) of blocks.
pub fn slack_payload(alert: &Alert, docs_url: Option<&str>) -> Value {
    let cluster = alert.cluster.as_ref().map(|c| format!("{c} / ")).unwrap_or_default();
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "emoji": true,
            "text": truncate(&format!("{} {}", emoji(alert), alert.title()), HEADER_LIMIT)}}),
        json!({"type": "section", "fields": [
            field("Cluster / resource", &format!("{cluster}`{}`", alert.resource)),
            field("Account / region", &format!("{} / {}", alert.origin.account.as_deref().unwrap_or("unknown"), alert.origin.region.as_deref().unwrap_or("unknown"))),
            field("Actor", &format!("`{}`", alert.origin.actor)),
            field("Source IP", alert.origin.source_ip.as_deref().unwrap_or("unknown")),
            field("Time", alert.origin.event_time.as_deref().unwrap_or("unknown")),
            field("Severity / outcome", &format!("{} / {}", alert.severity.label(), alert.outcome.as_str())),
        ]}),
    ];
    if alert.rules.len() > 1 {
        let rules: Vec<String> = alert
            .rules
            .iter()
            .map(|rule| format!("`{}` {} ({})", rule.rule, rule.title, rule.outcome.as_str()))
            .collect();
        blocks.push(section(&format!("*Rules*\n{}", bullets(&rules))));
    }
    blocks.push(section(&format!("*What changed* ({})\n{}", alert.origin.event_name, bullets(&alert.changed()))));
    for (label, restored) in alert.restores_by_label() {
        blocks.push(section(&format!("*{label}*\n{}", bullets(&restored))));
    }
    if !alert.notes.is_empty() {
        blocks.push(section(&format!("*Notes*\n{}", bullets(&alert.notes))));
    }
    let single = alert.rules.len() == 1;
    let why: Vec<String> = alert.rules.iter().map(|rule| rule.rationale.clone()).collect();
    blocks.push(section(&format!("*Why it matters*\n{}", if single { why.join("") } else { bullets(&why) })));
    let mut next: Vec<String> = alert
        .rules
        .iter()
        .map(|rule| match single {
            true => format!("Fix by hand: {}", rule.manual_fix),
            false => format!("Fix `{}` by hand: {}", rule.rule, rule.manual_fix),
        })
        .collect();
    if alert.can_be_exempted() {
        next.push(format!(
            "Intended? Tag the resource `{}` (optionally `{}-until=<RFC 3339 time>`)",
            alert.exemption(),
            alert.exemption_tag
        ));
    }
    if alert.outcome == Outcome::Resolved {
        next = vec![crate::NOTHING_TO_DO.to_owned()];
    }
    if let Some(url) = alert.cloudtrail_url() {
        next.push(format!("<{url}|The event in CloudTrail>"));
    }
    if let Some(docs) = docs_url {
        // Only rules have a section there (a failed sweep has none).
        for rule in alert.rules.iter().filter(|rule| snapback_rules::rule(&rule.rule).is_some()) {
            next.push(format!("<{}#{}|Rule documentation: {}>", docs.trim_end_matches('/'), rule.rule, rule.rule));
        }
    }
    blocks.push(section(&format!("*Next steps*\n{}", bullets(&next))));
    blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn",
        "text": cut(&format!("snapback · rule `{}` · event `{}`", alert.rule_ids().join("`, `"), alert.origin.event_id), SLACK_TEXT_LIMIT)}]}));
    blocks.truncate(MAX_BLOCKS);
    json!({
        "text": alert.title(),
        "attachments": [{"color": colour(alert), "blocks": blocks}],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_with_a_marker_within_the_limit() {
        let long = "x".repeat(5000);
        let text = cut(&long, SLACK_TEXT_LIMIT);
        assert_eq!(text.chars().count(), SLACK_TEXT_LIMIT);
        assert!(text.ends_with(CUT_MARKER));
        assert_eq!(cut("short", SLACK_TEXT_LIMIT), "short");
    }
}
