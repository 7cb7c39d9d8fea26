//! What the handler decided, as data: the invocation's result and one log line per decision.

use serde::Serialize;
use snapback_notify::Outcome;

/// What became of one finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DecisionOutcome {
    /// Restored (alerted).
    Remediated,
    /// Notify mode, or a restore that was refused (alerted).
    WouldRemediate,
    /// Tagged exempt (alerted).
    Exempt,
    /// The restore failed for good (alerted).
    Failed,
    /// Already in the safe state: a duplicate delivery, or someone was quicker (logged only).
    AlreadySafe,
    /// Not snapback's business under the configured scope (logged only).
    OutOfScope,
    /// The resource no longer exists (logged only).
    ResourceGone,
    /// Nothing to do, for a logged reason (logged only).
    NotApplicable,
    /// A failure a retry can fix: the event goes back to Lambda (logged only).
    Retrying,
}

impl DecisionOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionOutcome::Remediated => "remediated",
            DecisionOutcome::WouldRemediate => "would-remediate",
            DecisionOutcome::Exempt => "exempt",
            DecisionOutcome::Failed => "failed",
            DecisionOutcome::AlreadySafe => "already-safe",
            DecisionOutcome::OutOfScope => "out-of-scope",
            DecisionOutcome::ResourceGone => "resource-gone",
            DecisionOutcome::NotApplicable => "not-applicable",
            DecisionOutcome::Retrying => "retrying",
        }
    }

    /// The alert this outcome raises, if any.
    pub fn alert(self) -> Option<Outcome> {
        match self {
            DecisionOutcome::Remediated => Some(Outcome::Remediated),
            DecisionOutcome::WouldRemediate => Some(Outcome::WouldRemediate),
            DecisionOutcome::Exempt => Some(Outcome::Exempt),
            DecisionOutcome::Failed => Some(Outcome::Failed),
            _ => None,
        }
    }
}

impl std::fmt::Display for DecisionOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads naturally in tests and logs: `outcome == "remediated"`.
impl PartialEq<&str> for DecisionOutcome {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// What the handler decided, returned as the invocation's result and logged line by line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub event_id: Option<String>,
    /// Why the whole event was left alone, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<String>,
    /// The rule and bus a heartbeat came through (`<function>-<route> on <bus>`), when it was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heartbeat: Option<String>,
    pub decisions: Vec<DecisionRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionRecord {
    pub rule: String,
    pub resource: String,
    pub outcome: DecisionOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}
