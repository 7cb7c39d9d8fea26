//! The watchdog's restore actions: only what can be put back exactly as it was.

use serde::Serialize;

use crate::finding::ServiceAction;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum WatchdogAction {
    /// cloudtrail StartLogging, by the name or ARN the stopping call used.
    StartLogging { trail: String, identifier: String },
    /// events EnableRule.
    EnableRule { rule: String, bus: Option<String> },
    /// events PutRule (when `recreate`) and PutTargets: one of snapback's rules, or its target,
    /// put back as the module deploys it ([`super::deployed::DeployedRule`], which also knows its
    /// bus).
    RestoreRule { rule: String, recreate: bool },
    /// lambda DeleteFunctionConcurrency: a zero reservation throttles every invocation.
    DeleteFunctionConcurrency { function: String },
    /// config StartConfigurationRecorder.
    StartConfigurationRecorder { recorder: String },
}

impl ServiceAction for WatchdogAction {
    const SERVICE: &'static str = super::SERVICE;

    fn resource(&self) -> &str {
        match self {
            WatchdogAction::StartLogging { trail, .. } => trail,
            WatchdogAction::EnableRule { rule, .. } | WatchdogAction::RestoreRule { rule, .. } => rule,
            WatchdogAction::DeleteFunctionConcurrency { function } => function,
            WatchdogAction::StartConfigurationRecorder { recorder } => recorder,
        }
    }

    fn describe(&self) -> String {
        match self {
            WatchdogAction::StartLogging { trail, .. } => format!("start logging on trail {trail}"),
            WatchdogAction::EnableRule { rule, bus: None } => format!("enable EventBridge rule {rule}"),
            WatchdogAction::EnableRule { rule, bus: Some(bus) } => {
                format!("enable EventBridge rule {rule} on bus {bus}")
            }
            WatchdogAction::RestoreRule { rule, recreate: true } => {
                format!("re-create EventBridge rule {rule} and its target as deployed")
            }
            WatchdogAction::RestoreRule { rule, recreate: false } => {
                format!("put back the target of EventBridge rule {rule} as deployed")
            }
            WatchdogAction::DeleteFunctionConcurrency { function } => {
                format!("remove the zero concurrency reservation of function {function}")
            }
            WatchdogAction::StartConfigurationRecorder { recorder } => {
                format!("start AWS Config recorder {recorder}")
            }
        }
    }
}
