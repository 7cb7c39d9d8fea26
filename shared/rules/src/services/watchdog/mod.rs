//! The watchdog: changes that would blind snapback, or the account's other detectors. The quiet
//! way past a guard is to switch it off first: stop the trail (no events), disable its
//! EventBridge rule, throttle its function to zero, unsubscribe its alerts, turn a rule off in its
//! configuration. snapback's own resources are known by their names (`snapback-…`, the Terraform
//! module's `name_prefix` must start with it; the configuration parameter is `/snapback…/config`);
//! trails and detectors are judged whoever owns them. Changes by `trusted_principals` (the
//! deployer's role) are never judged, so an apply is not fought.

pub mod actions;
pub mod change;
pub mod deployed;
pub mod rules;
pub mod state;

pub use actions::WatchdogAction;
pub use change::{
    advanced_selector_logs_management_writes, basic_selector_logs_management_writes, is_config_parameter, is_own_name,
    topic_name, topic_of_subscription, DetectorCall, FunctionCall, RuleCall, TopicCall, TrailCall, WatchdogChange,
    CLOUDTRAIL_SOURCE, CONFIG_SOURCE, EVENTS_SOURCE, GUARDDUTY_SOURCE, LAMBDA_SOURCE, OWN_NAME_PREFIX, SNS_SOURCE,
    SSM_SOURCE,
};
pub use state::{
    AlertTopicState, GuardFunctionState, GuardRuleState, ParameterState, TrailCoverage, TrailState, WatchdogState,
};

use super::{Example, ServiceRules};
use crate::finding::{Action, Finding, Plan, ResourceKind};
use crate::registry::{EventKey, RuleMeta};

/// The slice's name, shared with its adapter in `shared/aws`.
pub const SERVICE: &str = "watchdog";

const fn kind(name: &'static str, asff_type: &'static str, arn: &'static str) -> ResourceKind {
    ResourceKind { service: SERVICE, name, scoped_by_cluster: false, confirmed_by_look_up: false, asff_type, arn }
}

pub static TRAIL: ResourceKind =
    kind("cloudtrail-trail", "AwsCloudTrailTrail", "arn:{partition}:cloudtrail:{region}:{account}:trail/{id}");
/// A region's trails as a whole: `{id}` is the region, which no trail's logging covers.
pub static REGION_TRAILS: ResourceKind =
    kind("cloudtrail-region", "Other", "arn:{partition}:cloudtrail:{id}:{account}:trail/*");
pub static EVENT_RULE: ResourceKind =
    kind("eventbridge-rule", "Other", "arn:{partition}:events:{region}:{account}:rule/{id}");
pub static FUNCTION: ResourceKind =
    kind("lambda-function", "AwsLambdaFunction", "arn:{partition}:lambda:{region}:{account}:function:{id}");
/// `{id}` is the topic's ARN.
pub static TOPIC: ResourceKind = kind("sns-topic", "AwsSnsTopic", "{id}");
/// `{id}` is the parameter's name (with its leading `/`). CloudTrail never records a SecureString's
/// value: a PutParameter's finding is confirmed by the parameter's history, as the look-up reads it.
pub static PARAMETER: ResourceKind = ResourceKind {
    confirmed_by_look_up: true,
    ..kind("ssm-parameter", "Other", "arn:{partition}:ssm:{region}:{account}:parameter{id}")
};
pub static RECORDER: ResourceKind =
    kind("config-recorder", "Other", "arn:{partition}:config:{region}:{account}:recorder/{id}");
pub static DETECTOR: ResourceKind =
    kind("guardduty-detector", "AwsGuardDutyDetector", "arn:{partition}:guardduty:{region}:{account}:detector/{id}");

pub static SLICE: ServiceRules<WatchdogChange, WatchdogState> = ServiceRules {
    name: SERVICE,
    parse: WatchdogChange::from_event,
    rules: &[
        &rules::trail_logging_stopped::RULE,
        &rules::trail_deleted::RULE,
        &rules::trail_events_narrowed::RULE,
        &rules::guard_rule_disabled::RULE,
        &rules::guard_function_tampered::RULE,
        &rules::guard_alerts_silenced::RULE,
        &rules::guard_config_weakened::RULE,
        &rules::detector_disabled::RULE,
    ],
    example,
    // The region's trails with their status and selectors; snapback's own rules with their
    // targets, functions with their reservations, topics with their subscriptions.
    sweep_actions: &[
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetTrailStatus",
        "cloudtrail:GetEventSelectors",
        "events:ListEventBuses",
        "events:ListRules",
        "events:ListTargetsByRule",
        "lambda:ListFunctions",
        "lambda:GetFunctionConcurrency",
        "sns:ListTopics",
        "sns:ListSubscriptionsByTopic",
    ],
};

fn example(meta: &RuleMeta) -> Example {
    let (resource, event_name, changed, restored) = match meta.id {
        "trail-logging-stopped" => {
            ("org-trail", "StopLogging", "logging stopped on trail org-trail", Some("start logging on trail org-trail"))
        }
        "trail-deleted" => ("org-trail", "DeleteTrail", "trail org-trail deleted", None),
        "trail-events-narrowed" => ("org-trail", "PutEventSelectors", "management write events no longer logged", None),
        "guard-rule-disabled" => (
            "snapback-sg-guard-ec2",
            "DisableRule",
            "snapback's EventBridge rule snapback-sg-guard-ec2 disabled",
            Some("enable EventBridge rule snapback-sg-guard-ec2"),
        ),
        "guard-function-tampered" => (
            "snapback-sg-guard",
            "PutFunctionConcurrency20171031",
            "snapback's function snapback-sg-guard reserved 0 concurrent executions: every event is throttled",
            Some("remove the zero concurrency reservation of function snapback-sg-guard"),
        ),
        "guard-alerts-silenced" => (
            "arn:aws:sns:eu-west-1:111122223333:snapback-alerts",
            "Unsubscribe",
            "subscription 5f1a… of snapback's alert topic snapback-alerts removed",
            None,
        ),
        "guard-config-weakened" => {
            ("/snapback/config", "PutParameter", "rule sg-open-remote-admin: remediate → off", None)
        }
        _ => (
            "default",
            "StopConfigurationRecorder",
            "AWS Config recorder default stopped",
            Some("start AWS Config recorder default"),
        ),
    };
    Example {
        resource: resource.to_owned(),
        event_name,
        changed: changed.to_owned(),
        restored: restored.map(str::to_owned),
        failure: "cloudtrail call failed: AccessDeniedException".to_owned(),
    }
}

pub(crate) const fn on(source: &'static str, name: &'static str) -> EventKey {
    EventKey { source, name }
}

/// A finding on `resource` of `kind`: one change, and the restore or why there is none.
pub(crate) fn finding(
    meta: &'static RuleMeta,
    kind: &'static ResourceKind,
    resource: &str,
    changed: Vec<String>,
    action: Option<WatchdogAction>,
    manual: Option<String>,
) -> Finding {
    Finding {
        rule: meta,
        kind,
        resource: resource.to_owned(),
        changed,
        plan: Plan { actions: action.into_iter().map(Action::from).collect(), manual },
    }
}

/// How to put snapback's own resources back as deployed.
pub(crate) const REAPPLY: &str =
    "run `terraform apply` on the snapback module (it re-creates what was deleted and resets what was changed)";
