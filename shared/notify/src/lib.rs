//! Alerts: what happened, who did it, what snapback did about it. Rendered three ways from one
//! model, with severity and outcome worded the same in each: the JSON message for machines (the
//! custom-notification schema of Amazon Q Developer in chat applications, with snapback's own
//! fields beside it), plain text for email, and Slack Block Kit. Pure: no I/O.

mod slack;

pub use slack::{slack_payload, SLACK_TEXT_LIMIT};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use snapback_rules::{Finding, Origin, Severity};

/// What became of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Remediated,
    WouldRemediate,
    Exempt,
    Failed,
    /// A finding an earlier alert reported is gone (a sweep no longer finds it).
    Resolved,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Remediated => "remediated",
            Outcome::WouldRemediate => "would-remediate",
            Outcome::Exempt => "exempt",
            Outcome::Failed => "failed",
            Outcome::Resolved => "resolved",
        }
    }

    pub const ALL: [Outcome; 5] =
        [Outcome::Remediated, Outcome::WouldRemediate, Outcome::Exempt, Outcome::Failed, Outcome::Resolved];

    pub fn parse(text: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|outcome| outcome.as_str() == text)
    }

    /// How every alert form words it.
    pub fn headline(self) -> &'static str {
        match self {
            Outcome::Remediated => "Reverted",
            Outcome::WouldRemediate => "Detected (notify mode)",
            Outcome::Exempt => "Allowed by exemption",
            Outcome::Failed => "Revert FAILED",
            Outcome::Resolved => "Resolved",
        }
    }
}

/// The id in the alert of a sweep that failed for good ([`RuleVerdict::sweep_failed`]).
pub const SWEEP_FAILED: &str = "sweep-failed";

/// The next step of a resolved alert.
pub(crate) const NOTHING_TO_DO: &str = "Nothing to do: the finding is gone.";

/// One rule's part in an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleVerdict {
    pub rule: String,
    pub title: String,
    pub severity: Severity,
    pub outcome: Outcome,
    /// What the change did that this rule judges dangerous.
    pub changed: Vec<String>,
    /// What snapback restored (remediated), tried to (failed), or would restore (notify mode).
    pub restored: Vec<String>,
    pub rationale: String,
    pub manual_fix: String,
}

impl RuleVerdict {
    pub fn new(finding: &Finding, outcome: Outcome) -> RuleVerdict {
        RuleVerdict {
            rule: finding.rule.id.to_owned(),
            title: finding.rule.title.to_owned(),
            severity: finding.rule.severity,
            outcome,
            changed: finding.changed.clone(),
            restored: finding.plan.actions.iter().map(|action| action.describe()).collect(),
            rationale: finding.rule.rationale.to_owned(),
            manual_fix: finding.rule.manual_fix.to_owned(),
        }
    }

    /// A finding an earlier alert reported, no longer found by a sweep.
    pub fn resolved(rule: &snapback_rules::RuleMeta, first_seen: &str) -> RuleVerdict {
        RuleVerdict {
            rule: rule.id.to_owned(),
            title: rule.title.to_owned(),
            severity: rule.severity,
            outcome: Outcome::Resolved,
            changed: vec![format!("no longer found (first seen at {first_seen})")],
            restored: Vec::new(),
            rationale: rule.rationale.to_owned(),
            manual_fix: rule.manual_fix.to_owned(),
        }
    }

    /// A sweep of an account and region that failed for good (a member role that cannot be
    /// assumed, or that lacks an action): nothing there is checked until someone fixes it. Not a
    /// rule's verdict; its id, [`SWEEP_FAILED`], is in no registry.
    pub fn sweep_failed(account: &str, region: &str, error: &str) -> RuleVerdict {
        RuleVerdict {
            rule: SWEEP_FAILED.to_owned(),
            title: "snapback cannot sweep this account and region".to_owned(),
            severity: Severity::High,
            outcome: Outcome::Failed,
            changed: vec![format!("the sweep of account {account} in {region} failed: {error}")],
            restored: Vec::new(),
            rationale: "Until the sweep runs, what already exists in this account and region is not checked; \
                        changes there are still judged as they happen, through the same role."
                .to_owned(),
            manual_fix: "Fix what the error names (the snapback-member module creates the member role with every \
                         action the rules use), then wait for the next sweep or run `snapback scan --accounts`."
                .to_owned(),
        }
    }

    /// The verb for `restored`, by outcome.
    pub fn restored_label(&self) -> &'static str {
        restored_label(self.outcome)
    }
}

fn restored_label(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Remediated => "Restored",
        Outcome::Failed => "Tried to restore",
        _ => "Would restore",
    }
}

/// How pressing an outcome is for the reader: a failure first, then a change left in place.
fn urgency(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::Failed => 3,
        Outcome::WouldRemediate => 2,
        Outcome::Remediated => 1,
        Outcome::Exempt | Outcome::Resolved => 0,
    }
}

/// A value for an SNS message attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribute {
    /// `String`
    Text(String),
    /// `String.Array`: filter policies match it element by element.
    List(Vec<String>),
}

/// One alert per change and resource: every rule the change tripped on the resource, each with its
/// outcome, under the highest severity among them. It reads back from its own JSON message, which
/// is how the Slack relay receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// The highest among the rules.
    pub severity: Severity,
    /// The most pressing among the rules: failed, then would-remediate, remediated, exempt.
    pub outcome: Outcome,
    pub resource: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Account, region, actor, source IP, user agent, event id, name and time, at the top level.
    #[serde(flatten)]
    pub origin: Origin,
    /// The most pressing outcome first, then the most severe; never empty.
    #[serde(deserialize_with = "at_least_one_rule")]
    pub rules: Vec<RuleVerdict>,
    /// Things the reader should know: an expired exemption, a config fallback, an error.
    #[serde(default)]
    pub notes: Vec<String>,
    /// The tag key that exempts a resource (`snapback:exempt`).
    pub exemption_tag: String,
}

impl Alert {
    /// An alert about `resource` with no rules yet; [`Alert::add`] adds them.
    pub fn new(origin: &Origin, resource: &str, exemption_tag: &str) -> Alert {
        Alert {
            severity: Severity::Low,
            outcome: Outcome::Exempt,
            resource: resource.to_owned(),
            cluster: None,
            origin: origin.clone(),
            rules: Vec::new(),
            notes: Vec::new(),
            exemption_tag: exemption_tag.to_owned(),
        }
    }

    /// Adds a rule's verdict, keeping the headline rule (most pressing outcome, then most severe)
    /// first; the alert's severity is the highest among the rules, its outcome the headline's.
    pub fn add(&mut self, verdict: RuleVerdict) {
        let rank = |rule: &RuleVerdict| (urgency(rule.outcome), rule.severity);
        let at = self.rules.iter().position(|rule| rank(rule) < rank(&verdict)).unwrap_or(self.rules.len());
        self.rules.insert(at, verdict);
        self.severity = self.rules.iter().map(|rule| rule.severity).max().unwrap_or(self.severity);
        self.outcome = self.rules[0].outcome;
    }

    /// Adds notes not already there.
    pub fn note(&mut self, notes: impl IntoIterator<Item = String>) {
        for note in notes {
            if !self.notes.contains(&note) {
                self.notes.push(note);
            }
        }
    }

    /// The rule that names the alert: the most pressing outcome, then the most severe.
    pub fn headline(&self) -> &RuleVerdict {
        self.rules.first().expect("an alert has at least one rule: `add` one before rendering")
    }

    pub fn rule_ids(&self) -> Vec<String> {
        self.rules.iter().map(|rule| rule.rule.clone()).collect()
    }

    /// Every rule's changes, each once.
    pub fn changed(&self) -> Vec<String> {
        union(self.rules.iter().map(|rule| &rule.changed))
    }

    /// Every rule's restores, each once.
    pub fn restored(&self) -> Vec<String> {
        union(self.rules.iter().map(|rule| &rule.restored))
    }

    /// The tag that exempts this resource from these rules: `snapback:exempt=<rule>[,<rule>…]`.
    pub fn exemption(&self) -> String {
        format!("{}={}", self.exemption_tag, self.rule_ids().join(","))
    }

    /// Whether a tag can exempt the resource: only rules' findings can be (not a failed sweep).
    pub fn can_be_exempted(&self) -> bool {
        self.rules.iter().any(|rule| snapback_rules::rule(&rule.rule).is_some())
    }

    /// The SNS subject: under SNS's 100-character limit, ASCII only.
    pub fn subject(&self) -> String {
        let subject =
            format!("[snapback] {}: {} on {}", self.outcome.headline(), self.rule_ids().join(", "), self.resource);
        let ascii: String =
            subject.chars().map(|c| if c.is_ascii() && !c.is_ascii_control() { c } else { '?' }).collect();
        truncate(&ascii, 99)
    }

    /// `[HIGH] Reverted: <rule title>`, the same in every form; `(+N more)` when several rules.
    pub fn title(&self) -> String {
        let more = match self.rules.len() {
            0 | 1 => String::new(),
            n => format!(" (+{} more)", n - 1),
        };
        format!("[{}] {}: {}{more}", self.severity.label(), self.outcome.headline(), self.headline().title)
    }

    /// The verb for the restores of a one-rule alert, by outcome.
    pub fn restored_label(&self) -> &'static str {
        restored_label(self.outcome)
    }

    /// The event in the CloudTrail console of its region (none for what a sweep found).
    pub fn cloudtrail_url(&self) -> Option<String> {
        if self.origin.found_by_sweep {
            return None;
        }
        let region = self.origin.region.as_deref()?;
        Some(format!(
            "https://{region}.console.aws.amazon.com/cloudtrailv2/home?region={region}#/events/{}",
            self.origin.event_id
        ))
    }

    /// The email (and SNS `default`) form: readable text, no JSON.
    pub fn email_text(&self) -> String {
        let single = self.rules.len() == 1;
        let mut text = format!("{}\n\n", self.title());
        let mut field = |name: &str, value: String| text.push_str(&format!("{name:<11}{value}\n"));
        field("Severity:", self.severity.label().to_owned());
        field("Outcome:", format!("{} ({})", self.outcome.headline(), self.outcome.as_str()));
        if single {
            field("Rule:", self.headline().rule.clone());
        } else {
            let rules: Vec<String> =
                self.rules.iter().map(|rule| format!("{} ({})", rule.rule, rule.outcome.as_str())).collect();
            field("Rules:", rules.join(", "));
        }
        let cluster = self.cluster.as_ref().map(|c| format!(" (cluster {c})")).unwrap_or_default();
        field("Resource:", format!("{}{cluster}", self.resource));
        field(
            "Account:",
            format!(
                "{}, {}",
                self.origin.account.as_deref().unwrap_or("unknown"),
                self.origin.region.as_deref().unwrap_or("unknown region")
            ),
        );
        field("Actor:", self.origin.actor.clone());
        let agent = self.origin.user_agent.as_ref().map(|ua| format!(" ({ua})")).unwrap_or_default();
        field("Source IP:", format!("{}{agent}", self.origin.source_ip.as_deref().unwrap_or("unknown")));
        field(
            "When:",
            format!(
                "{} ({} {})",
                self.origin.event_time.as_deref().unwrap_or("unknown"),
                self.origin.event_name,
                self.origin.event_id
            ),
        );
        text.push_str("\nWhat changed:\n");
        text.extend(self.changed().iter().map(|line| format!("  - {line}\n")));
        for (label, lines) in self.restores_by_label() {
            text.push_str(&format!("{label}:\n"));
            text.extend(lines.iter().map(|line| format!("  - {line}\n")));
        }
        if !self.notes.is_empty() {
            text.push_str("Notes:\n");
            text.extend(self.notes.iter().map(|line| format!("  - {line}\n")));
        }
        text.push_str("\nWhy it matters:\n");
        if single {
            text.push_str(&format!("  {}\n", self.headline().rationale));
        } else {
            text.extend(self.rules.iter().map(|rule| format!("  - {}: {}\n", rule.rule, rule.rationale)));
        }
        text.push_str("\nNext steps:\n");
        if self.outcome == Outcome::Resolved {
            text.push_str(&format!("  - {NOTHING_TO_DO}\n"));
            return text;
        }
        for rule in &self.rules {
            match single {
                true => text.push_str(&format!("  - Fix by hand: {}\n", rule.manual_fix)),
                false => text.push_str(&format!("  - Fix {} by hand: {}\n", rule.rule, rule.manual_fix)),
            }
        }
        if self.can_be_exempted() {
            text.push_str(&format!(
                "  - If the change was intended, tag the resource {} (optionally {}-until=<RFC 3339 time>).\n",
                self.exemption(),
                self.exemption_tag
            ));
        }
        if let Some(url) = self.cloudtrail_url() {
            text.push_str(&format!("  - The event in CloudTrail: {url}\n"));
        }
        text
    }

    /// The restores grouped under their verb (Restored, Would restore, Tried to restore), in
    /// the order the rules come.
    pub fn restores_by_label(&self) -> Vec<(&'static str, Vec<String>)> {
        let mut groups: Vec<(&'static str, Vec<String>)> = Vec::new();
        for rule in &self.rules {
            let label = rule.restored_label();
            let at = match groups.iter().position(|(existing, _)| *existing == label) {
                Some(at) => at,
                None => {
                    groups.push((label, Vec::new()));
                    groups.len() - 1
                }
            };
            for line in &rule.restored {
                if !groups[at].1.contains(line) {
                    groups[at].1.push(line.clone());
                }
            }
        }
        groups.retain(|(_, lines)| !lines.is_empty());
        groups
    }

    /// What to publish: SNS `MessageStructure=json`, text for email (and `default`), the JSON
    /// message for machines (`sqs`, `lambda`, `https`).
    pub fn sns_message(&self) -> String {
        let json = self.to_json().to_string();
        let text = self.email_text();
        serde_json::json!({"default": text, "email": text, "sqs": json, "lambda": json, "https": json}).to_string()
    }

    fn description(&self) -> String {
        let mut lines = vec![format!("Severity {}, outcome {}.", self.severity.label(), self.outcome.as_str())];
        lines.push(format!(
            "*{}* by `{}` on `{}`{} in {} / {}.",
            self.origin.event_name,
            self.origin.actor,
            self.resource,
            self.cluster.as_ref().map(|c| format!(" (cluster `{c}`)")).unwrap_or_default(),
            self.origin.account.as_deref().unwrap_or("unknown account"),
            self.origin.region.as_deref().unwrap_or("unknown region"),
        ));
        if self.rules.len() > 1 {
            let rules: Vec<String> =
                self.rules.iter().map(|rule| format!("`{}` ({})", rule.rule, rule.outcome.as_str())).collect();
            lines.push(format!("Rules: {}", rules.join(", ")));
        }
        lines.push(format!("Changed: {}", self.changed().join("; ")));
        for (label, restored) in self.restores_by_label() {
            lines.push(format!("{label}: {}", restored.join("; ")));
        }
        lines.extend(self.notes.iter().map(|note| format!("Note: {note}")));
        for rule in &self.rules {
            lines.push(format!("Why it matters: {}", rule.rationale));
        }
        lines.join("\n")
    }

    /// The JSON message: Chatbot custom-notification fields, snapback's own, and for readers of
    /// one-rule alerts the headline rule's fields at the top (`rule`, `changed`, `restored`, …).
    pub fn to_json(&self) -> Value {
        let headline = self.headline();
        let mut next_steps: Vec<String> =
            self.rules.iter().map(|rule| format!("Fix {} by hand: {}", rule.rule, rule.manual_fix)).collect();
        if self.rules.len() == 1 {
            next_steps = vec![format!("Fix by hand: {}", headline.manual_fix)];
        }
        next_steps.push(format!(
            "If the change was intended, tag the resource `{}` (optionally with `{}-until` set to an RFC 3339 time).",
            self.exemption(),
            self.exemption_tag
        ));
        if self.outcome == Outcome::Resolved {
            next_steps = vec![NOTHING_TO_DO.to_owned()];
        }
        let mut keywords = self.rule_ids();
        keywords.push(self.severity.label().to_owned());
        keywords.push(self.outcome.as_str().to_owned());
        let mut message = json!({
            "version": "1.0",
            "source": "custom",
            "id": self.origin.event_id,
            "content": {
                "textType": "client-markdown",
                "title": self.title(),
                "description": self.description(),
                "nextSteps": next_steps,
                "keywords": keywords,
            },
            "metadata": {
                "threadId": format!("snapback/{}", self.resource),
                "summary": self.subject(),
                "eventType": headline.rule,
                "relatedResources": [self.resource],
            },
            "rule": headline.rule,
            "rule_title": headline.title,
            "changed": self.changed(),
            "restored": self.restored(),
            "rationale": headline.rationale,
            "manual_fix": headline.manual_fix,
            "exemption": self.exemption(),
        });
        let fields = serde_json::to_value(self).expect("alerts serialize");
        let message_fields = message.as_object_mut().expect("message is an object");
        for (key, value) in fields.as_object().expect("alert is an object") {
            message_fields.insert(key.clone(), value.clone());
        }
        message
    }

    /// Message attributes for SNS subscription filter policies: the rule ids and outcomes as
    /// string arrays (filters match any element), the highest severity as a string.
    pub fn attributes(&self) -> Vec<(&'static str, Attribute)> {
        let mut outcomes: Vec<String> = Vec::new();
        for rule in &self.rules {
            if !outcomes.iter().any(|seen| seen == rule.outcome.as_str()) {
                outcomes.push(rule.outcome.as_str().to_owned());
            }
        }
        vec![
            ("rule", Attribute::List(self.rule_ids())),
            ("severity", Attribute::Text(self.severity.as_str().to_owned())),
            ("outcome", Attribute::List(outcomes)),
        ]
    }
}

/// An alert read back from a message names at least one rule, or it is not an alert.
fn at_least_one_rule<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<RuleVerdict>, D::Error> {
    let rules = Vec::<RuleVerdict>::deserialize(deserializer)?;
    if rules.is_empty() {
        return Err(serde::de::Error::custom("an alert names at least one rule"));
    }
    Ok(rules)
}

fn union<'a>(lists: impl Iterator<Item = &'a Vec<String>>) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    for line in lists.flatten() {
        if !all.contains(line) {
            all.push(line.clone());
        }
    }
    all
}

pub(crate) fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A sample alert for `snapback alert preview` and the golden tests: the rule's own texts, a
/// real-shaped event and resource for its kind.
pub fn sample_alert(rule: &snapback_rules::RuleMeta, outcome: Outcome) -> Alert {
    let example = snapback_rules::registry::example(rule).expect("every registered rule has a slice");
    let mut notes = Vec::new();
    if outcome == Outcome::Failed {
        notes.push(format!("the restore failed: {}", example.failure));
    }
    if outcome == Outcome::Exempt {
        notes.push("exempt by tag snapback:exempt until 2026-12-31T23:59:59Z".to_owned());
    }
    let origin = match outcome {
        // Only a sweep finds that something is gone.
        Outcome::Resolved => {
            Origin::sweep(Some("111122223333"), Some("eu-west-1"), &example.resource, "2026-11-27T10:00:00Z")
        }
        _ => Origin {
            account: Some("111122223333".to_owned()),
            region: Some("eu-west-1".to_owned()),
            actor: "arn:aws:sts::111122223333:assumed-role/Admin/alice".to_owned(),
            source_ip: Some("198.51.100.7".to_owned()),
            user_agent: Some("aws-cli/2.15.0".to_owned()),
            event_id: "8f2c1e4a-5b6d-4e7f-9a0b-1c2d3e4f5a6b".to_owned(),
            event_name: example.event_name.to_owned(),
            event_time: Some("2026-11-27T10:00:00Z".to_owned()),
            found_by_sweep: false,
        },
    };
    let mut alert = Alert::new(&origin, &example.resource, "snapback:exempt");
    alert.cluster = Some("prod".to_owned());
    alert.add(match outcome {
        Outcome::Resolved => RuleVerdict::resolved(rule, "2026-11-20T10:00:00Z"),
        _ => RuleVerdict {
            rule: rule.id.to_owned(),
            title: rule.title.to_owned(),
            severity: rule.severity,
            outcome,
            changed: vec![example.changed],
            restored: example.restored.into_iter().collect(),
            rationale: rule.rationale.to_owned(),
            manual_fix: rule.manual_fix.to_owned(),
        },
    });
    alert.note(notes);
    alert
}

#[cfg(test)]
mod tests {
    use super::*;
    use snapback_rules::{evaluate, Config, Event};
    use snapback_testkit::cloudtrail::{self, ACCOUNT};

    fn alert(outcome: Outcome) -> Alert {
        let created = cloudtrail::created_rule(ACCOUNT, "sg-0abc", "sgr-1", "tcp", 22, 22, "0.0.0.0/0");
        let mut record =
            cloudtrail::authorize_ingress(ACCOUNT, "sg-0abc", vec![cloudtrail::tcp(22, &["0.0.0.0/0"])], vec![created]);
        record["eventID"] = json!("evt-1");
        record["awsRegion"] = json!("eu-west-1");
        record["userAgent"] = json!("aws-cli/2.15.0");
        let event = Event::from_value(&record).unwrap();
        let finding = evaluate(&event, &Config::default()).remove(0);
        let mut alert = Alert::new(&Origin::of(&event), &finding.resource, "snapback:exempt");
        alert.add(RuleVerdict::new(&finding, outcome));
        alert
    }

    #[test]
    fn the_message_follows_the_chatbot_schema_and_carries_snapbacks_fields() {
        let message = alert(Outcome::Remediated).to_json();
        let back: Alert = serde_json::from_value(message.clone()).unwrap();
        assert_eq!(back, alert(Outcome::Remediated), "the JSON message reads back into the alert");
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
            [
                ("rule", Attribute::List(vec!["sg-open-remote-admin".into()])),
                ("severity", Attribute::Text("high".into())),
                ("outcome", Attribute::List(vec!["would-remediate".into()]))
            ]
        );
        alert.resource = "sg-".to_owned() + &"x".repeat(200);
        assert!(alert.subject().chars().count() < 100);
    }

    #[test]
    fn sns_gets_text_for_email_and_json_for_machines() {
        let alert = alert(Outcome::Remediated);
        let structure: Value = serde_json::from_str(&alert.sns_message()).unwrap();
        assert_eq!(structure["default"], structure["email"]);
        assert!(structure["email"].as_str().unwrap().starts_with("[HIGH] Reverted: Remote administration"));
        for protocol in ["sqs", "lambda", "https"] {
            let message: Value = serde_json::from_str(structure[protocol].as_str().unwrap()).unwrap();
            assert_eq!(message, alert.to_json(), "{protocol}");
        }
    }

    /// Golden files: the email text and the Slack payload of a sample alert for every outcome.
    #[test]
    fn golden_email_and_slack_forms_for_every_outcome() {
        let rule = snapback_rules::rule("sg-open-remote-admin").unwrap();
        for outcome in Outcome::ALL {
            let alert = sample_alert(rule, outcome);
            insta::assert_snapshot!(format!("email-{}", outcome.as_str()), alert.email_text());
            // Sorted keys: serde_json's map order depends on features other crates of the build enable.
            insta::with_settings!({sort_maps => true}, {
                insta::assert_json_snapshot!(
                    format!("slack-{}", outcome.as_str()),
                    slack_payload(&alert, Some("https://github.com/example/snapback/blob/main/RULES.md"))
                );
            });
        }
    }

    #[test]
    fn severity_and_outcome_read_the_same_in_all_three_forms() {
        for outcome in Outcome::ALL {
            let alert = sample_alert(snapback_rules::rule("eks-public-endpoint").unwrap(), outcome);
            let title = alert.title();
            assert!(alert.email_text().starts_with(&title));
            assert_eq!(alert.to_json()["content"]["title"], title);
            assert_eq!(slack_payload(&alert, None)["text"], title);
            for form in [alert.email_text(), alert.to_json().to_string(), slack_payload(&alert, None).to_string()] {
                assert!(form.contains("HIGH") && form.contains(outcome.as_str()), "{form}");
            }
        }
    }

    #[test]
    fn what_a_sweep_found_names_the_sweep_and_links_no_cloudtrail_event() {
        let mut alert = alert(Outcome::Remediated);
        let found = snapback_rules::DescribedState::new(
            Some(ACCOUNT.into()),
            Some("eu-west-1".into()),
            "2026-11-29T06:00:00Z",
            "sg-0abc",
            Box::new(()),
        );
        alert.origin = snapback_rules::Observation::State(found).origin();
        assert_eq!(alert.cloudtrail_url(), None);
        let email = alert.email_text();
        assert!(email.contains("Actor:     snapback sweep"), "{email}");
        assert!(
            email.contains("When:      2026-11-29T06:00:00Z (Sweep sweep:111122223333:eu-west-1:sg-0abc:"),
            "{email}"
        );
        assert!(!email.contains("cloudtrailv2"), "{email}");
    }

    #[test]
    fn a_failed_sweep_says_the_fix_and_offers_no_exemption_or_rule_link() {
        let origin = Origin::sweep(Some(ACCOUNT), Some("eu-west-1"), ACCOUNT, "2026-11-29T06:00:00Z");
        let mut alert = Alert::new(&origin, ACCOUNT, "snapback:exempt");
        alert.add(RuleVerdict::sweep_failed(ACCOUNT, "eu-west-1", "sts:AssumeRole: AccessDenied"));
        assert_eq!(alert.outcome, Outcome::Failed);
        assert!(!alert.can_be_exempted());
        let email = alert.email_text();
        assert!(email.contains("the sweep of account 111122223333 in eu-west-1 failed: sts:AssumeRole"), "{email}");
        assert!(email.contains("snapback-member module"), "{email}");
        let slack = slack_payload(&alert, Some("https://example.com/RULES.md")).to_string();
        for form in [email, slack] {
            assert!(!form.contains("snapback:exempt"), "{form}");
            assert!(!form.contains("RULES.md#"), "{form}");
        }
    }

    /// GIVEN one change that trips three EKS rules on one cluster, with different outcomes,
    /// WHEN they are added to one alert, THEN it lists each rule with its outcome, carries the
    /// highest severity and the most pressing outcome, and its attributes hold every rule id.
    #[test]
    fn one_alert_lists_every_rule_a_change_tripped_on_a_resource() {
        let rule = |id: &str, outcome: Outcome| {
            let mut verdict = sample_alert(snapback_rules::rule(id).unwrap(), outcome).rules.remove(0);
            verdict.restored = vec![format!("restore of {id}")];
            verdict
        };
        let mut alert =
            sample_alert(snapback_rules::rule("eks-private-endpoint-disabled").unwrap(), Outcome::Remediated);
        alert.add(rule("eks-public-endpoint-open-cidr", Outcome::WouldRemediate));
        alert.add(rule("eks-public-endpoint", Outcome::Remediated));

        let severities: Vec<Severity> = alert.rules.iter().map(|rule| rule.severity).collect();
        assert_eq!(alert.severity, *severities.iter().max().unwrap(), "the highest severity among the rules");
        assert_eq!(alert.outcome, Outcome::WouldRemediate, "a change left in place outranks a restore");
        assert_eq!(alert.headline().rule, "eks-public-endpoint-open-cidr", "the headline rule carries that outcome");
        assert_eq!(alert.rules[0].outcome, alert.outcome);
        assert!(alert.title().ends_with("(+2 more)"), "{}", alert.title());
        let ids = alert.rule_ids();
        assert_eq!(ids.len(), 3);
        assert_eq!(alert.attributes()[0], ("rule", Attribute::List(ids.clone())));
        let ("outcome", Attribute::List(mut outcomes)) = alert.attributes().remove(2) else { panic!("outcome list") };
        outcomes.sort();
        assert_eq!(outcomes, ["remediated", "would-remediate"]);
        let email = alert.email_text();
        for id in &ids {
            assert!(email.contains(id.as_str()), "{id} in {email}");
        }
        assert!(email.contains("Would restore:\n  - restore of eks-public-endpoint-open-cidr"), "{email}");
        assert_eq!(alert.exemption(), format!("snapback:exempt={}", ids.join(",")));
        let back: Alert = serde_json::from_value(alert.to_json()).unwrap();
        assert_eq!(back, alert, "the grouped alert reads back from its JSON message");
        let mut empty = alert.to_json();
        empty["rules"] = json!([]);
        assert!(serde_json::from_value::<Alert>(empty).is_err(), "a message naming no rule is not an alert");
        insta::assert_snapshot!("email-grouped", email);
        insta::with_settings!({sort_maps => true}, {
            insta::assert_json_snapshot!("slack-grouped", slack_payload(&alert, None));
        });
    }
}
