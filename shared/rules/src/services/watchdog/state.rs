//! snapback's own resources as the watchdog's adapter describes them: what a sweep checks so that
//! a change the watchdog never heard of (its own rule disabled, say) is still found; and a
//! configuration parameter as its history tells it, which confirms a PutParameter's finding
//! (CloudTrail never records a SecureString's value).

/// One described resource of the watchdog's slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchdogState {
    Rule(GuardRuleState),
    Function(GuardFunctionState),
    Topic(AlertTopicState),
    Parameter(ParameterState),
    /// The trails that log this region (its own and other regions' multi-region trails).
    Trails(TrailCoverage),
}

/// One of snapback's EventBridge rules (ListRules, ListTargetsByRule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardRuleState {
    pub name: String,
    /// None on the default bus.
    pub bus: Option<String>,
    pub enabled: bool,
    pub targets: usize,
}

/// One of snapback's functions (ListFunctions, GetFunctionConcurrency).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardFunctionState {
    pub name: String,
    /// The reserved concurrency; None when there is no reservation.
    pub reserved: Option<i32>,
}

/// One of snapback's SNS topics (ListTopics, ListSubscriptionsByTopic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertTopicState {
    pub arn: String,
    /// Subscriptions other than those still pending confirmation.
    pub subscriptions: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterState {
    pub name: String,
    /// The document now; None when the parameter no longer exists.
    pub current: Option<String>,
    /// The version before; None when the current one is the first (the built-in defaults held).
    pub previous: Option<String>,
    /// Who wrote the current version (`LastModifiedUser`).
    pub modified_by: Option<String>,
}

/// What records this region's API calls: every trail DescribeTrails lists here (shadow trails
/// of multi-region trails included), with its status and selectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailCoverage {
    pub region: String,
    pub trails: Vec<TrailState>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailState {
    pub name: String,
    /// How StartLogging names it: its ARN.
    pub arn: String,
    /// Where it must be started from (a multi-region trail is listed in every region).
    pub home_region: String,
    /// An organization's trail: a member account cannot start it.
    pub organization: bool,
    /// False when its status or selectors could not be read (another account's trail, say): it
    /// may well cover the region, and is not held against it.
    pub readable: bool,
    pub logging: bool,
    /// Its event selectors log management write events (what every guard listens to).
    pub management_writes: bool,
}
