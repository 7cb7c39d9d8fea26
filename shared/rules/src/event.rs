//! A CloudTrail record, read tolerantly from an EventBridge envelope or a bare record.

use serde_json::Value;

use crate::json::str_at;

pub const CLOUDTRAIL_DETAIL_TYPE: &str = "AWS API Call via CloudTrail";

/// Why a payload is not an event snapback can evaluate. Never retryable: the same bytes will
/// fail the same way, so the caller logs the reason and moves on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("not valid JSON: {0}")]
    InvalidJson(String),
    #[error("expected a JSON object, got {0}")]
    NotAnObject(&'static str),
    #[error("EventBridge detail-type {0:?} is not a CloudTrail API call")]
    NotCloudTrail(String),
    #[error("field `{0}` is missing or not a string")]
    MissingField(&'static str),
    /// CloudTrail writes `requestParameters` and `responseElements` as objects, or null.
    #[error("field `{0}` is {1}, not an object")]
    NotAnObjectField(&'static str, &'static str),
}

/// Who made the call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    /// `userIdentity.type`: IAMUser, AssumedRole, Root, AWSService, ...
    pub kind: Option<String>,
    /// `userIdentity.arn` (absent for some AWS service calls).
    pub arn: Option<String>,
    /// `userIdentity.sessionContext.sessionIssuer.arn`: the role behind an assumed-role session.
    pub issuer_arn: Option<String>,
    /// `userIdentity.invokedBy`, or the service principal when the caller is an AWS service.
    pub invoked_by: Option<String>,
}

impl Actor {
    /// The most specific name for the caller, for alerts.
    pub fn display(&self) -> &str {
        self.arn.as_deref().or(self.issuer_arn.as_deref()).or(self.invoked_by.as_deref()).unwrap_or("unknown")
    }

    /// The IAM role ARN behind this identity, when it is a role session: the session issuer, or
    /// the role named in an `assumed-role` ARN when the issuer is missing.
    pub fn role_arn(&self) -> Option<String> {
        if let Some(issuer) = &self.issuer_arn {
            return Some(issuer.clone());
        }
        let arn = self.arn.as_deref()?;
        // arn:aws:sts::123456789012:assumed-role/RoleName/session
        let mut parts = arn.splitn(6, ':');
        let (prefix, partition, service, _region, account, resource) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if prefix != "arn" || service != "sts" {
            return None;
        }
        let role = resource.strip_prefix("assumed-role/")?.split('/').next()?;
        Some(format!("arn:{partition}:iam::{account}:role/{role}"))
    }
}

/// One CloudTrail record: the fields snapback uses, with the request and response kept as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub event_id: String,
    pub event_source: String,
    pub event_name: String,
    pub event_time: Option<String>,
    pub region: Option<String>,
    pub account: Option<String>,
    pub actor: Actor,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub error_code: Option<String>,
    pub read_only: bool,
    pub request: Value,
    pub response: Value,
}

impl Event {
    pub fn from_slice(bytes: &[u8]) -> Result<Event, EventError> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| EventError::InvalidJson(e.to_string()))?;
        Event::from_value(&value)
    }

    /// Reads an EventBridge envelope (`detail-type` + `detail`) or a bare CloudTrail record.
    pub fn from_value(value: &Value) -> Result<Event, EventError> {
        if !value.is_object() {
            return Err(EventError::NotAnObject(json_kind(value)));
        }
        match value.get("detail-type") {
            Some(detail_type) => {
                let detail_type = detail_type.as_str().unwrap_or_default();
                if detail_type != CLOUDTRAIL_DETAIL_TYPE {
                    return Err(EventError::NotCloudTrail(detail_type.to_string()));
                }
                let detail = value.get("detail").unwrap_or(&Value::Null);
                if !detail.is_object() {
                    return Err(EventError::MissingField("detail"));
                }
                Event::from_record(detail, Envelope::of(value))
            }
            None => Event::from_record(value, Envelope::default()),
        }
    }

    fn from_record(record: &Value, envelope: Envelope) -> Result<Event, EventError> {
        let text = |key: &str| str_at(record, key).map(str::to_owned);
        let event_source = text("eventSource").ok_or(EventError::MissingField("eventSource"))?;
        let event_name = text("eventName").ok_or(EventError::MissingField("eventName"))?;
        let identity = record.get("userIdentity").unwrap_or(&Value::Null);
        let actor = Actor {
            kind: str_at(identity, "type").map(str::to_owned),
            arn: str_at(identity, "arn").map(str::to_owned),
            issuer_arn: identity
                .get("sessionContext")
                .and_then(|c| c.get("sessionIssuer"))
                .and_then(|i| str_at(i, "arn"))
                .map(str::to_owned),
            invoked_by: str_at(identity, "invokedBy")
                .or_else(|| str_at(identity, "principalId").filter(|p| p.ends_with(".amazonaws.com")))
                .map(str::to_owned),
        };
        Ok(Event {
            // Older and abridged records lack eventID; the envelope id is the next best key.
            event_id: text("eventID").or(envelope.id).unwrap_or_else(|| "unknown".to_owned()),
            event_time: text("eventTime").or(envelope.time),
            region: text("awsRegion").or(envelope.region),
            account: text("recipientAccountId")
                .or(envelope.account)
                .or_else(|| str_at(identity, "accountId").map(str::to_owned)),
            source_ip: text("sourceIPAddress"),
            user_agent: text("userAgent"),
            error_code: text("errorCode"),
            read_only: record.get("readOnly").and_then(Value::as_bool).unwrap_or(false),
            request: object_or_null(record, "requestParameters")?,
            response: object_or_null(record, "responseElements")?,
            event_source,
            event_name,
            actor,
        })
    }
}

#[derive(Default)]
struct Envelope {
    id: Option<String>,
    time: Option<String>,
    region: Option<String>,
    account: Option<String>,
}

impl Envelope {
    fn of(value: &Value) -> Envelope {
        let text = |key: &str| str_at(value, key).map(str::to_owned);
        Envelope { id: text("id"), time: text("time"), region: text("region"), account: text("account") }
    }
}

/// A member that CloudTrail writes as an object or null (absent reads as null).
fn object_or_null(record: &Value, key: &'static str) -> Result<Value, EventError> {
    match record.get(key) {
        None | Some(Value::Null) => Ok(Value::Null),
        Some(object @ Value::Object(_)) => Ok(object.clone()),
        Some(other) => Err(EventError::NotAnObjectField(key, json_kind(other))),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_an_eventbridge_envelope_and_falls_back_to_its_fields() {
        let envelope = json!({
            "version": "0", "id": "env-1", "detail-type": "AWS API Call via CloudTrail",
            "source": "aws.ec2", "account": "111122223333", "time": "2024-01-01T00:00:00Z",
            "region": "eu-west-1", "resources": [],
            "detail": {"eventSource": "ec2.amazonaws.com", "eventName": "AuthorizeSecurityGroupIngress",
                       "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/bob"}}
        });
        let event = Event::from_value(&envelope).unwrap();
        assert_eq!(event.event_id, "env-1");
        assert_eq!(event.account.as_deref(), Some("111122223333"));
        assert_eq!(event.region.as_deref(), Some("eu-west-1"));
        assert_eq!(event.actor.display(), "arn:aws:iam::111122223333:user/bob");
        assert!(event.request.is_null());
    }

    #[test]
    fn refuses_other_detail_types_by_name() {
        let envelope = json!({"detail-type": "EKS Fargate Pod Scheduled Termination", "detail": {}});
        assert_eq!(
            Event::from_value(&envelope),
            Err(EventError::NotCloudTrail("EKS Fargate Pod Scheduled Termination".into()))
        );
    }

    #[test]
    fn names_the_missing_field() {
        let err = Event::from_value(&json!({"eventSource": "ec2.amazonaws.com"})).unwrap_err();
        assert_eq!(err.to_string(), "field `eventName` is missing or not a string");
        assert_eq!(Event::from_value(&json!([1])), Err(EventError::NotAnObject("an array")));
        let text = json!({"eventSource": "ec2.amazonaws.com", "eventName": "RunInstances", "requestParameters": "x"});
        assert_eq!(Event::from_value(&text), Err(EventError::NotAnObjectField("requestParameters", "a string")));
        let listed = json!({"eventSource": "ec2.amazonaws.com", "eventName": "RunInstances", "responseElements": [1]});
        assert_eq!(Event::from_value(&listed), Err(EventError::NotAnObjectField("responseElements", "an array")));
    }

    #[test]
    fn derives_the_role_of_an_assumed_role_session_without_issuer() {
        let actor = Actor {
            arn: Some("arn:aws:sts::111122223333:assumed-role/snapback-sg-guard/i-123".into()),
            ..Actor::default()
        };
        assert_eq!(actor.role_arn().as_deref(), Some("arn:aws:iam::111122223333:role/snapback-sg-guard"));
        let user = Actor { arn: Some("arn:aws:iam::111122223333:user/bob".into()), ..Actor::default() };
        assert_eq!(user.role_arn(), None);
    }
}
