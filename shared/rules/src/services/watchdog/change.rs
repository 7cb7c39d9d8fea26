//! Changes that would blind snapback, as CloudTrail records them (SHAPES.md §6.7–6.11): a trail
//! named by its name or its ARN, Lambda event names with an API-version suffix
//! (`UpdateFunctionConfiguration20150331v2`), functions named by name or ARN, topics only inside
//! a subscription ARN, EventBridge targets under `rule`, not `name`.

use std::borrow::Cow;

use serde_json::Value;

use crate::event::Event;
use crate::json::{bool_field, field, int_field, text_field};
use crate::services::{Change, Unreadable};

pub const CLOUDTRAIL_SOURCE: &str = "cloudtrail.amazonaws.com";
pub const EVENTS_SOURCE: &str = "events.amazonaws.com";
pub const LAMBDA_SOURCE: &str = "lambda.amazonaws.com";
pub const SNS_SOURCE: &str = "sns.amazonaws.com";
pub const SSM_SOURCE: &str = "ssm.amazonaws.com";
pub const CONFIG_SOURCE: &str = "config.amazonaws.com";
pub const GUARDDUTY_SOURCE: &str = "guardduty.amazonaws.com";

/// Every name snapback's Terraform module gives its rules, functions and topic starts with this
/// (its `name_prefix` must).
pub const OWN_NAME_PREFIX: &str = "snapback-";

/// Whether an EventBridge rule, Lambda function or SNS topic name is snapback's own.
pub fn is_own_name(name: &str) -> bool {
    name.starts_with(OWN_NAME_PREFIX)
}

/// Whether an SSM parameter is a snapback configuration parameter: `/snapback…/config`, as the
/// module names it (`/<name_prefix without its last dash>/config`).
pub fn is_config_parameter(name: &str) -> bool {
    let mut segments = name.trim_start_matches('/').split('/');
    let first = segments.next().unwrap_or_default();
    (first == "snapback" || first.starts_with(OWN_NAME_PREFIX)) && segments.next_back() == Some("config")
}

/// What a call did to a trail's logging of what snapback needs, in words; empty when nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrailCall {
    StopLogging,
    Delete,
    /// PutEventSelectors or UpdateTrail, with what it turned off (empty: nothing snapback needs).
    Narrowed(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleCall {
    Disable,
    Delete,
    RemoveTargets(Vec<String>),
    /// PutRule: the state it set (`DISABLED` disables the rule), or None when it left it.
    Put {
        disabled: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FunctionCall {
    /// PutFunctionConcurrency with this reservation.
    Concurrency(i64),
    Delete,
    UpdateConfiguration,
    UpdateCode,
    RemovePermission(Option<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicCall {
    Unsubscribe { subscription: String },
    Delete,
    SetTopicAttribute(String),
    SetSubscriptionAttribute { subscription: String, attribute: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DetectorCall {
    StopRecorder,
    DeleteRecorder,
    DeleteDetector,
    /// UpdateDetector with `enable: false`.
    DisableDetector,
}

/// One call on one resource that can blind snapback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchdogChange {
    /// `trail`: the trail's name; `identifier`: as the call named it (name or ARN), which the
    /// restore uses so that a trail of another region is found.
    Trail {
        trail: String,
        identifier: String,
        call: TrailCall,
    },
    Rule {
        rule: String,
        bus: Option<String>,
        call: RuleCall,
    },
    Function {
        function: String,
        call: FunctionCall,
    },
    Topic {
        topic_arn: String,
        call: TopicCall,
    },
    /// PutParameter (`deleted` false) or DeleteParameter on a parameter.
    Parameter {
        name: String,
        deleted: bool,
    },
    /// DeleteParameters: judged as one DeleteParameter per name.
    ParametersDeleted(Vec<String>),
    /// An AWS Config recorder (by name) or a GuardDuty detector (by id).
    Detector {
        name: String,
        call: DetectorCall,
    },
}

/// One resource per call, but DeleteParameters: one per parameter.
impl Change for WatchdogChange {
    fn per_resource(&self) -> Vec<Cow<'_, Self>> {
        match self {
            WatchdogChange::ParametersDeleted(names) => names
                .iter()
                .map(|name| Cow::Owned(WatchdogChange::Parameter { name: name.clone(), deleted: true }))
                .collect(),
            one => vec![Cow::Borrowed(one)],
        }
    }
}

/// The Lambda calls the rules listen to, by the name without CloudTrail's API-version suffix.
fn lambda_call(event_name: &str) -> Option<&'static str> {
    [
        "PutFunctionConcurrency",
        "DeleteFunction",
        "UpdateFunctionConfiguration",
        "UpdateFunctionCode",
        "RemovePermission",
    ]
    .into_iter()
    .find(|call| event_name.strip_prefix(call).is_some_and(|rest| rest.is_empty() || rest.starts_with("20")))
}

fn required<'a>(value: &'a Value, keys: &[&str], call: &str) -> Result<&'a str, Unreadable> {
    text_field(value, keys)?
        .filter(|text| !text.is_empty())
        .ok_or_else(|| Unreadable(format!("{call} without {}", keys[0])))
}

/// The part after `marker` in an ARN (`trail/`, `function:`), or the text itself.
fn after<'a>(text: &'a str, marker: &str) -> &'a str {
    text.rsplit_once(marker).map_or(text, |(_, name)| name)
}

impl WatchdogChange {
    /// Reads a record of a call the watchdog's rules listen to; None for any other record.
    pub fn from_event(event: &Event) -> Result<Option<WatchdogChange>, Unreadable> {
        let (request, name) = (&event.request, event.event_name.as_str());
        let change = match event.event_source.as_str() {
            CLOUDTRAIL_SOURCE => {
                let call = match name {
                    "StopLogging" => TrailCall::StopLogging,
                    "DeleteTrail" => TrailCall::Delete,
                    "PutEventSelectors" => TrailCall::Narrowed(selectors_narrowed(request)?),
                    "UpdateTrail" => TrailCall::Narrowed(update_narrowed(request)?),
                    _ => return Ok(None),
                };
                let identifier = required(request, &["name", "trailName"], name)?.to_owned();
                WatchdogChange::Trail { trail: after(&identifier, "trail/").to_owned(), identifier, call }
            }
            EVENTS_SOURCE => {
                let call = match name {
                    "DisableRule" => RuleCall::Disable,
                    "DeleteRule" => RuleCall::Delete,
                    "RemoveTargets" => RuleCall::RemoveTargets(texts(request, "ids")?),
                    "PutRule" => RuleCall::Put {
                        disabled: text_field(request, &["state"])?.is_some_and(|state| state == "DISABLED"),
                    },
                    _ => return Ok(None),
                };
                let rule = required(request, &["name", "rule"], name)?;
                let bus = text_field(request, &["eventBusName"])?
                    .filter(|bus| !bus.is_empty() && *bus != "default")
                    .map(|bus| after(bus, "event-bus/").to_owned());
                WatchdogChange::Rule { rule: after(rule, "rule/").to_owned(), bus, call }
            }
            LAMBDA_SOURCE => {
                let Some(lambda) = lambda_call(name) else { return Ok(None) };
                let call = match lambda {
                    "PutFunctionConcurrency" => FunctionCall::Concurrency(
                        int_field(request, &["reservedConcurrentExecutions"])?
                            .ok_or_else(|| Unreadable(format!("{name} without reservedConcurrentExecutions")))?,
                    ),
                    "DeleteFunction" => FunctionCall::Delete,
                    "UpdateFunctionConfiguration" => FunctionCall::UpdateConfiguration,
                    "UpdateFunctionCode" => FunctionCall::UpdateCode,
                    _ => FunctionCall::RemovePermission(text_field(request, &["statementId"])?.map(str::to_owned)),
                };
                let function = after(required(request, &["functionName"], name)?, "function:");
                // A qualifier (`name:alias`) names a version of the same function.
                let function = function.split(':').next().unwrap_or(function).to_owned();
                WatchdogChange::Function { function, call }
            }
            SNS_SOURCE => {
                let (topic_arn, call) = match name {
                    "Unsubscribe" | "SetSubscriptionAttributes" => {
                        let subscription = required(request, &["subscriptionArn"], name)?.to_owned();
                        let topic = topic_of_subscription(&subscription)
                            .ok_or_else(|| Unreadable(format!("subscriptionArn {subscription} names no topic")))?;
                        let call = match name {
                            "Unsubscribe" => TopicCall::Unsubscribe { subscription },
                            _ => TopicCall::SetSubscriptionAttribute {
                                attribute: text_field(request, &["attributeName"])?.unwrap_or_default().to_owned(),
                                subscription,
                            },
                        };
                        (topic, call)
                    }
                    "DeleteTopic" => (required(request, &["topicArn"], name)?.to_owned(), TopicCall::Delete),
                    "SetTopicAttributes" => (
                        required(request, &["topicArn"], name)?.to_owned(),
                        TopicCall::SetTopicAttribute(
                            text_field(request, &["attributeName"])?.unwrap_or_default().to_owned(),
                        ),
                    ),
                    _ => return Ok(None),
                };
                WatchdogChange::Topic { topic_arn, call }
            }
            SSM_SOURCE if name == "DeleteParameters" => WatchdogChange::ParametersDeleted(texts(request, "names")?),
            SSM_SOURCE => {
                let deleted = match name {
                    "PutParameter" => false,
                    "DeleteParameter" => true,
                    _ => return Ok(None),
                };
                WatchdogChange::Parameter { name: required(request, &["name"], name)?.to_owned(), deleted }
            }
            CONFIG_SOURCE => {
                let call = match name {
                    "StopConfigurationRecorder" => DetectorCall::StopRecorder,
                    "DeleteConfigurationRecorder" => DetectorCall::DeleteRecorder,
                    _ => return Ok(None),
                };
                WatchdogChange::Detector {
                    name: required(request, &["configurationRecorderName"], name)?.to_owned(),
                    call,
                }
            }
            GUARDDUTY_SOURCE => {
                let call = match name {
                    "DeleteDetector" => DetectorCall::DeleteDetector,
                    "UpdateDetector" => match bool_field(request, &["enable"])? {
                        Some(false) => DetectorCall::DisableDetector,
                        _ => return Ok(None),
                    },
                    _ => return Ok(None),
                };
                WatchdogChange::Detector { name: required(request, &["detectorId"], name)?.to_owned(), call }
            }
            _ => return Ok(None),
        };
        Ok(Some(change))
    }

    /// The resource the change names, as its findings name it.
    pub fn resource(&self) -> &str {
        match self {
            WatchdogChange::Trail { trail, .. } => trail,
            WatchdogChange::Rule { rule, .. } => rule,
            WatchdogChange::Function { function, .. } => function,
            WatchdogChange::Topic { topic_arn, .. } => topic_arn,
            WatchdogChange::Parameter { name, .. } => name,
            WatchdogChange::ParametersDeleted(names) => names.first().map_or("", String::as_str),
            WatchdogChange::Detector { name, .. } => name,
        }
    }
}

/// `arn:aws:sns:<region>:<account>:<topic>:<subscription id>` → the topic's ARN.
pub fn topic_of_subscription(subscription: &str) -> Option<String> {
    let fields: Vec<&str> = subscription.split(':').collect();
    (fields.len() == 7 && fields[0] == "arn" && fields[2] == "sns").then(|| fields[..6].join(":"))
}

/// The topic name of a topic ARN (its sixth field).
pub fn topic_name(topic_arn: &str) -> &str {
    topic_arn.rsplit(':').next().unwrap_or(topic_arn)
}

fn texts(value: &Value, key: &str) -> Result<Vec<String>, Unreadable> {
    match field(value, &[key]) {
        None => Ok(Vec::new()),
        Some((_, Value::Array(list))) => list
            .iter()
            .map(|item| item.as_str().map(str::to_owned).ok_or_else(|| Unreadable(format!("{key} holds {item}"))))
            .collect(),
        Some((_, other)) => Err(Unreadable(format!("{key} is {other}, not a list"))),
    }
}

/// What a PutEventSelectors stops logging: management write events, unless some selector still
/// logs them (basic: `includeManagementEvents` not false with `readWriteType` All or WriteOnly;
/// advanced: `eventCategory` Management without `readOnly` true).
fn selectors_narrowed(request: &Value) -> Result<Vec<String>, Unreadable> {
    let logs_management_writes =
        match (field(request, &["eventSelectors"]), field(request, &["advancedEventSelectors"])) {
            // No selector at all logs nothing.
            (Some((_, Value::Array(selectors))), None) if selectors.is_empty() => false,
            (Some((_, Value::Array(selectors))), _) if !selectors.is_empty() => {
                selectors.iter().try_fold(false, |any, selector| {
                    let management = bool_field(selector, &["includeManagementEvents"])?;
                    let kind = text_field(selector, &["readWriteType"])?;
                    Ok::<bool, Unreadable>(any || basic_selector_logs_management_writes(management, kind))
                })?
            }
            (_, Some((_, Value::Array(selectors)))) => selectors.iter().any(advanced_logs_management_writes),
            (Some((key, other)), _) | (_, Some((key, other))) => {
                return Err(Unreadable(format!("{key} is {other}, not a list of selectors")))
            }
            (None, None) => {
                return Err(Unreadable("PutEventSelectors without eventSelectors or advancedEventSelectors".into()))
            }
        };
    Ok(if logs_management_writes { Vec::new() } else { vec!["management write events no longer logged".to_owned()] })
}

fn advanced_logs_management_writes(selector: &Value) -> bool {
    let fields = selector.get("fieldSelectors").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let equals = |name: &str| {
        fields.iter().find(|field| field.get("field").and_then(Value::as_str) == Some(name)).and_then(|field| {
            field
                .get("equals")
                .and_then(Value::as_array)
                .map(|values| values.iter().filter_map(Value::as_str).collect::<Vec<_>>())
        })
    };
    advanced_selector_logs_management_writes(equals("eventCategory").as_deref(), equals("readOnly").as_deref())
}

/// Whether a basic event selector logs management write events: `includeManagementEvents` not
/// false, `readWriteType` All or WriteOnly (absent fields take CloudTrail's defaults).
pub fn basic_selector_logs_management_writes(
    include_management_events: Option<bool>,
    read_write: Option<&str>,
) -> bool {
    include_management_events.unwrap_or(true) && matches!(read_write.unwrap_or("All"), "All" | "WriteOnly")
}

/// Whether an advanced event selector logs management write events, from the `Equals` values of
/// its `eventCategory` and `readOnly` field selectors: Management, and not read-only.
pub fn advanced_selector_logs_management_writes(event_category: Option<&[&str]>, read_only: Option<&[&str]>) -> bool {
    event_category.is_some_and(|values| values.contains(&"Management")) && read_only != Some(&["true"])
}

/// What an UpdateTrail turned off: a multi-region trail made single-region, log file validation.
/// A console update sends every field; an SDK call only those it changes (absent is not false).
fn update_narrowed(request: &Value) -> Result<Vec<String>, Unreadable> {
    let mut narrowed = Vec::new();
    if bool_field(request, &["isMultiRegionTrail"])? == Some(false) {
        narrowed.push("the trail made single-region: other regions' events no longer logged".to_owned());
    }
    if bool_field(request, &["enableLogFileValidation"])? == Some(false) {
        narrowed.push("log file validation turned off: edited or deleted log files go unnoticed".to_owned());
    }
    Ok(narrowed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(source: &str, name: &str, request: Value) -> Result<Option<WatchdogChange>, Unreadable> {
        let record = json!({"eventSource": source, "eventName": name, "requestParameters": request});
        WatchdogChange::from_event(&Event::from_value(&record).unwrap())
    }

    #[test]
    fn trails_are_named_by_name_or_arn_and_restored_by_what_the_call_said() {
        let arn = "arn:aws:cloudtrail:us-west-2:123456789012:trail/org-trail";
        let change = read(CLOUDTRAIL_SOURCE, "StopLogging", json!({"name": arn})).unwrap().unwrap();
        assert_eq!(
            change,
            WatchdogChange::Trail { trail: "org-trail".into(), identifier: arn.into(), call: TrailCall::StopLogging }
        );
        let selectors = read(
            CLOUDTRAIL_SOURCE,
            "PutEventSelectors",
            json!({"trailName": "t", "eventSelectors": [{"readWriteType": "ReadOnly", "includeManagementEvents": true}]}),
        )
        .unwrap()
        .unwrap();
        assert_eq!(selectors.resource(), "t");
    }

    #[test]
    fn any_selector_that_logs_management_writes_keeps_the_trail_whole() {
        let narrowed = |request: Value| selectors_narrowed(&request).unwrap();
        assert!(
            narrowed(json!({"eventSelectors": [{"readWriteType": "All", "includeManagementEvents": true}]})).is_empty()
        );
        assert!(narrowed(json!({"eventSelectors": [{}]})).is_empty(), "the defaults log everything");
        assert_eq!(narrowed(json!({"eventSelectors": []})).len(), 1, "no selector logs nothing");
        assert!(narrowed(json!({"eventSelectors": [
            {"readWriteType": "ReadOnly", "includeManagementEvents": true},
            {"readWriteType": "WriteOnly", "includeManagementEvents": true}]}))
        .is_empty());
        assert_eq!(
            narrowed(json!({"eventSelectors": [{"readWriteType": "All", "includeManagementEvents": false}]})).len(),
            1
        );
        let advanced = |read_only: Value| {
            json!({"advancedEventSelectors": [{"name": "m", "fieldSelectors": [
                {"field": "eventCategory", "equals": ["Management"]}, {"field": "readOnly", "equals": read_only}]}]})
        };
        assert!(narrowed(advanced(json!(["false"]))).is_empty());
        assert_eq!(narrowed(advanced(json!(["true"]))).len(), 1);
        assert_eq!(
            narrowed(json!({"advancedEventSelectors": [{"fieldSelectors": [
                {"field": "eventCategory", "equals": ["Data"]}]}]}))
            .len(),
            1
        );
    }

    #[test]
    fn lambda_names_carry_an_api_version_and_functions_a_name_or_arn() {
        let arn = "arn:aws:lambda:eu-west-1:123456789012:function:snapback-sg-guard:live";
        for name in ["PutFunctionConcurrency20171031", "PutFunctionConcurrency"] {
            let change =
                read(LAMBDA_SOURCE, name, json!({"functionName": arn, "reservedConcurrentExecutions": 0})).unwrap();
            assert_eq!(
                change,
                Some(WatchdogChange::Function {
                    function: "snapback-sg-guard".into(),
                    call: FunctionCall::Concurrency(0)
                })
            );
        }
        assert_eq!(read(LAMBDA_SOURCE, "PutFunctionConcurrencyX", json!({})).unwrap(), None);
        assert_eq!(read(LAMBDA_SOURCE, "GetFunction20150331v2", json!({})).unwrap(), None);
    }

    #[test]
    fn a_subscription_arn_names_its_topic() {
        assert_eq!(
            topic_of_subscription("arn:aws:sns:us-west-2:025658654491:alerts:c3019def-3714").as_deref(),
            Some("arn:aws:sns:us-west-2:025658654491:alerts")
        );
        assert_eq!(topic_of_subscription("arn:aws:sns:us-west-2:025658654491:alerts"), None);
        assert_eq!(topic_name("arn:aws:sns:us-west-2:025658654491:snapback-alerts"), "snapback-alerts");
    }

    #[test]
    fn snapbacks_names_are_its_prefix_and_its_configuration_parameter() {
        assert!(is_own_name("snapback-sg-guard"));
        assert!(!is_own_name("stratus-snapback-x"));
        for name in ["/snapback/config", "/snapback-prod/config", "snapback/config"] {
            assert!(is_config_parameter(name), "{name}");
        }
        for name in ["/snapback/other", "/team/snapback/config", "/snapbackish/config"] {
            assert!(!is_config_parameter(name), "{name}");
        }
    }

    #[test]
    fn missing_names_and_wrong_types_are_unreadable() {
        let cases = [
            (CLOUDTRAIL_SOURCE, "StopLogging", json!({}), "without name"),
            (CLOUDTRAIL_SOURCE, "PutEventSelectors", json!({"trailName": "t"}), "without eventSelectors"),
            (CLOUDTRAIL_SOURCE, "PutEventSelectors", json!({"trailName": "t", "eventSelectors": 3}), "not a list"),
            (CLOUDTRAIL_SOURCE, "UpdateTrail", json!({"name": "t", "isMultiRegionTrail": "maybe"}), "not a boolean"),
            (EVENTS_SOURCE, "RemoveTargets", json!({"rule": "snapback-x", "ids": "1"}), "not a list"),
            (LAMBDA_SOURCE, "PutFunctionConcurrency20171031", json!({"functionName": "f"}), "without reserved"),
            (SNS_SOURCE, "Unsubscribe", json!({"subscriptionArn": "nope"}), "names no topic"),
            (SSM_SOURCE, "PutParameter", json!({"name": 4}), "not a string"),
            (CONFIG_SOURCE, "StopConfigurationRecorder", json!({}), "without configurationRecorderName"),
        ];
        for (source, name, request, reason) in cases {
            let error = read(source, name, request.clone()).unwrap_err();
            assert!(error.0.contains(reason), "{name} {request}: {error}");
        }
    }
}
