//! Alerts: what happened, who did it, what snapback did about it, rendered for SNS as the
//! custom-notification JSON of Amazon Q Developer in chat applications (AWS Chatbot) with
//! snapback's own fields beside it. Pure: no I/O.

use serde::Serialize;
use serde_json::{json, Value};
use snapback_rules::{Event, Finding, Severity};

/// What became of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Remediated,
    WouldRemediate,
    Exempt,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Remediated => "remediated",
            Outcome::WouldRemediate => "would-remediate",
            Outcome::Exempt => "exempt",
            Outcome::Failed => "failed",
        }
    }

    fn headline(self) -> &'static str {
        match self {
            Outcome::Remediated => "Reverted",
            Outcome::WouldRemediate => "Detected (notify mode)",
            Outcome::Exempt => "Allowed by exemption",
            Outcome::Failed => "Revert FAILED",
        }
    }
}

/// One alert per finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub rule: &'static str,
    pub rule_title: &'static str,
    pub severity: Severity,
    pub outcome: Outcome,
    pub resource: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    pub actor: String,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub event_id: String,
    pub event_name: String,
    pub event_time: Option<String>,
    /// What the event changed.
    pub changed: Vec<String>,
    /// What snapback restored (remediated), or would restore (notify mode).
    pub restored: Vec<String>,
    /// Things the reader should know: an expired exemption, a config fallback, an error.
    pub notes: Vec<String>,
    pub rationale: &'static str,
    pub manual_fix: &'static str,
    /// The tag that exempts this resource from this rule.
    pub exemption: String,
}

impl Alert {
    pub fn new(event: &Event, finding: &Finding, outcome: Outcome, exemption_tag: &str) -> Alert {
        Alert {
            rule: finding.rule.id,
            rule_title: finding.rule.title,
            severity: finding.rule.severity,
            outcome,
            resource: finding.resource.clone(),
            cluster: None,
            account: event.account.clone(),
            region: event.region.clone(),
            actor: event.actor.display().to_owned(),
            source_ip: event.source_ip.clone(),
            user_agent: event.user_agent.clone(),
            event_id: event.event_id.clone(),
            event_name: event.event_name.clone(),
            event_time: event.event_time.clone(),
            changed: finding.changed.clone(),
            restored: finding.plan.actions.iter().map(|action| action.describe()).collect(),
            notes: Vec::new(),
            rationale: finding.rule.rationale,
            manual_fix: finding.rule.manual_fix,
            exemption: format!("{exemption_tag}={}", finding.rule.id),
        }
    }

    /// The SNS subject: under SNS's 100-character limit, ASCII only.
    pub fn subject(&self) -> String {
        let subject = format!("[snapback] {}: {} on {}", self.outcome.headline(), self.rule, self.resource);
        let ascii: String =
            subject.chars().map(|c| if c.is_ascii() && !c.is_ascii_control() { c } else { '?' }).collect();
        truncate(&ascii, 99)
    }

    fn title(&self) -> String {
        format!("{} {}: {}", severity_marker(self.severity), self.outcome.headline(), self.rule_title)
    }

    fn description(&self) -> String {
        let mut lines = vec![format!(
            "*{}* by `{}` on `{}`{} in {} / {}.",
            self.event_name,
            self.actor,
            self.resource,
            self.cluster.as_ref().map(|c| format!(" (cluster `{c}`)")).unwrap_or_default(),
            self.account.as_deref().unwrap_or("unknown account"),
            self.region.as_deref().unwrap_or("unknown region"),
        )];
        lines.push(format!("Changed: {}", self.changed.join("; ")));
        if !self.restored.is_empty() {
            let verb = match self.outcome {
                Outcome::Remediated => "Restored",
                Outcome::Failed => "Tried to restore",
                _ => "Would restore",
            };
            lines.push(format!("{verb}: {}", self.restored.join("; ")));
        }
        lines.extend(self.notes.iter().map(|note| format!("Note: {note}")));
        lines.push(format!("Why it matters: {}", self.rationale));
        lines.join("\n")
    }

    /// The JSON message: Chatbot custom-notification fields plus snapback's own.
    pub fn to_json(&self) -> Value {
        let mut message = json!({
            "version": "1.0",
            "source": "custom",
            "id": self.event_id,
            "content": {
                "textType": "client-markdown",
                "title": self.title(),
                "description": self.description(),
                "nextSteps": [
                    format!("Fix by hand: {}", self.manual_fix),
                    format!("If the change was intended, tag the resource `{}` (optionally with `{}-until` set to an RFC 3339 time).",
                        self.exemption, self.exemption.split('=').next().unwrap_or_default()),
                ],
                "keywords": [self.rule, self.severity.as_str(), self.outcome.as_str()],
            },
            "metadata": {
                "threadId": format!("snapback/{}", self.resource),
                "summary": self.subject(),
                "eventType": self.rule,
                "relatedResources": [self.resource],
            },
        });
        let fields = serde_json::to_value(self).expect("alerts serialize");
        let message_fields = message.as_object_mut().expect("message is an object");
        for (key, value) in fields.as_object().expect("alert is an object") {
            message_fields.insert(key.clone(), value.clone());
        }
        message
    }

    /// Message attributes for SNS subscription filter policies.
    pub fn attributes(&self) -> [(&'static str, &'static str); 3] {
        [("rule", self.rule), ("severity", self.severity.as_str()), ("outcome", self.outcome.as_str())]
    }
}

fn severity_marker(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "[CRITICAL]",
        Severity::High => "[HIGH]",
        Severity::Medium => "[MEDIUM]",
        Severity::Low => "[LOW]",
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use snapback_rules::{evaluate, Config};

    fn alert(outcome: Outcome) -> Alert {
        let record = json!({
            "eventID": "evt-1", "eventTime": "2026-11-27T10:00:00Z", "eventSource": "ec2.amazonaws.com",
            "eventName": "AuthorizeSecurityGroupIngress", "awsRegion": "eu-west-1", "recipientAccountId": "111122223333",
            "sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2.15.0",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"},
            "requestParameters": {"groupId": "sg-0abc", "ipPermissions": {"items": [
                {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}},
            "responseElements": {"_return": true, "securityGroupRuleSet": {"items": [
                {"securityGroupRuleId": "sgr-1", "ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "0.0.0.0/0"}]}}
        });
        let event = Event::from_value(&record).unwrap();
        let finding = evaluate(&event, &Config::default()).remove(0);
        Alert::new(&event, &finding, outcome, "snapback:exempt")
    }

    #[test]
    fn the_message_follows_the_chatbot_schema_and_carries_snapbacks_fields() {
        let message = alert(Outcome::Remediated).to_json();
        assert_eq!(message["version"], "1.0");
        assert_eq!(message["source"], "custom");
        assert_eq!(
            message["content"]["title"],
            "[HIGH] Reverted: Remote administration (SSH/RDP) open to the internet"
        );
        let description = message["content"]["description"].as_str().unwrap();
        assert!(description.contains("`arn:aws:iam::111122223333:user/alice`"), "{description}");
        assert!(description.contains("Changed: tcp 22 from 0.0.0.0/0 (sgr-1)"), "{description}");
        assert!(description.contains("Restored: revoke ingress rule sgr-1 on sg-0abc"), "{description}");
        for (key, expected) in [
            ("rule", "sg-open-remote-admin"),
            ("severity", "high"),
            ("outcome", "remediated"),
            ("resource", "sg-0abc"),
            ("account", "111122223333"),
            ("region", "eu-west-1"),
            ("actor", "arn:aws:iam::111122223333:user/alice"),
            ("source_ip", "198.51.100.7"),
            ("user_agent", "aws-cli/2.15.0"),
            ("event_id", "evt-1"),
            ("event_time", "2026-11-27T10:00:00Z"),
            ("exemption", "snapback:exempt=sg-open-remote-admin"),
        ] {
            assert_eq!(message[key], expected, "{key}");
        }
        assert_eq!(message["changed"][0], "tcp 22 from 0.0.0.0/0 (sgr-1)");
        assert_eq!(message["restored"][0], "revoke ingress rule sgr-1 on sg-0abc");
    }

    #[test]
    fn notify_mode_says_would_and_subjects_stay_under_the_sns_limit() {
        let mut alert = alert(Outcome::WouldRemediate);
        assert!(alert.to_json()["content"]["description"].as_str().unwrap().contains("Would restore: revoke"));
        assert_eq!(
            alert.attributes(),
            [("rule", "sg-open-remote-admin"), ("severity", "high"), ("outcome", "would-remediate")]
        );
        alert.resource = "sg-".to_owned() + &"x".repeat(200);
        assert!(alert.subject().chars().count() < 100);
    }
}
