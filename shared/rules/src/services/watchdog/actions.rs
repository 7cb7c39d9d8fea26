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
            WatchdogAction::EnableRule { rule, .. } => rule,
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
            WatchdogAction::DeleteFunctionConcurrency { function } => {
                format!("remove the zero concurrency reservation of function {function}")
            }
            WatchdogAction::StartConfigurationRecorder { recorder } => {
                format!("start AWS Config recorder {recorder}")
            }
        }
    }
}
