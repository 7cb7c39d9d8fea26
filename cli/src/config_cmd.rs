//! `snapback config`: read, validate and write the configuration document in SSM Parameter
//! Store. A toggle takes effect at the functions' next config refresh (60 s by default).

use serde_json::{Map, Value};
use snapback_rules::{Config, Mode};

pub const DEFAULT_PARAMETER: &str = "/snapback/config";

/// A refusal or failure, with the exit status it deserves.
#[derive(Debug, thiserror::Error)]
pub enum ConfigCommandError {
    /// The request or a document is wrong: nothing was written.
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Aws(String),
}

/// The stored document, or None when the parameter does not exist yet.
pub async fn read(ssm: &aws_sdk_ssm::Client, parameter: &str) -> Result<Option<String>, ConfigCommandError> {
    match ssm.get_parameter().name(parameter).with_decryption(true).send().await {
        Ok(output) => Ok(output.parameter().and_then(|p| p.value()).map(str::to_owned)),
        Err(error) if error.as_service_error().is_some_and(|e| e.is_parameter_not_found()) => Ok(None),
        Err(error) => Err(ConfigCommandError::Aws(format!(
            "ssm:GetParameter {parameter}: {}",
            aws_sdk_ssm::error::DisplayErrorContext(&error)
        ))),
    }
}

/// The effective configuration (stored document over the defaults), as JSON.
pub async fn show(
    ssm: &aws_sdk_ssm::Client,
    parameter: &str,
    account: Option<&str>,
    organizational_units: &[String],
) -> Result<Value, ConfigCommandError> {
    let document = read(ssm, parameter).await?.unwrap_or_else(|| "{}".to_owned());
    effective(&document, account, organizational_units)
        .map_err(|error| ConfigCommandError::Refused(format!("{parameter}: {error}")))
}

/// The configuration `document` gives, over the defaults; for `account` (in these units,
/// outermost first) the one that holds there, without the overrides themselves.
pub fn effective(document: &str, account: Option<&str>, organizational_units: &[String]) -> Result<Value, String> {
    let config = Config::from_json(document).map_err(|error| error.to_string())?;
    let Some(account) = account else { return Ok(config.to_value()) };
    if !snapback_rules::is_account_id(account) {
        return Err(format!("--account: expected a 12-digit account id, got {account:?}"));
    }
    let units: Vec<&str> = organizational_units.iter().map(String::as_str).collect();
    let mut value = config.for_account(account, &units).to_value();
    let object = value.as_object_mut().expect("a config is an object");
    object.remove("accounts");
    object.remove("organizational_units");
    object.insert("account".into(), Value::from(account));
    Ok(value)
}

/// The stored document with `rules.<rule>.mode` set, validated; the rest is kept as written.
pub fn with_mode(document: &str, rule: &str, mode: &str) -> Result<String, ConfigCommandError> {
    if snapback_rules::rule(rule).is_none() {
        let known: Vec<&str> = snapback_rules::registry().iter().map(|meta| meta.id).collect();
        return Err(ConfigCommandError::Refused(format!("unknown rule {rule:?}; known rules: {}", known.join(", "))));
    }
    if Mode::parse(mode).is_none() {
        return Err(ConfigCommandError::Refused(format!(
            "invalid mode {mode:?} for {rule}; expected off, notify or remediate"
        )));
    }
    let mut value: Value = serde_json::from_str(document).map_err(|error| {
        ConfigCommandError::Refused(format!("the stored document is not JSON ({error}); fix it first"))
    })?;
    let root = value
        .as_object_mut()
        .ok_or_else(|| ConfigCommandError::Refused("the stored document is not a JSON object".into()))?;
    let rules = root.entry("rules").or_insert_with(|| Value::Object(Map::new()));
    let rules = rules
        .as_object_mut()
        .ok_or_else(|| ConfigCommandError::Refused("`rules` in the stored document is not an object".into()))?;
    let settings = rules.entry(rule).or_insert_with(|| Value::Object(Map::new()));
    let settings = settings
        .as_object_mut()
        .ok_or_else(|| ConfigCommandError::Refused(format!("`rules.{rule}` is not an object")))?;
    settings.insert("mode".into(), Value::from(mode));
    Config::from_value(&value)
        .map_err(|error| ConfigCommandError::Refused(format!("the resulting document is invalid: {error}")))?;
    Ok(serde_json::to_string_pretty(&value).expect("documents serialize"))
}

pub async fn set_mode(
    ssm: &aws_sdk_ssm::Client,
    parameter: &str,
    rule: &str,
    mode: &str,
) -> Result<String, ConfigCommandError> {
    let current = read(ssm, parameter).await?.unwrap_or_else(|| "{}".to_owned());
    let document = with_mode(&current, rule, mode)?;
    ssm.put_parameter()
        .name(parameter)
        .value(&document)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .overwrite(true)
        .send()
        .await
        .map_err(|error| {
            ConfigCommandError::Aws(format!(
                "ssm:PutParameter {parameter}: {}",
                aws_sdk_ssm::error::DisplayErrorContext(&error)
            ))
        })?;
    Ok(document)
}

/// Validates a document file.
pub fn check(text: &str) -> Result<Config, ConfigCommandError> {
    Config::from_json(text).map_err(|error| ConfigCommandError::Refused(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_mode_keeps_the_rest_of_the_document_and_refuses_by_name() {
        let document = r#"{"scope": "all", "rules": {"sg-open-remote-admin": {"ports": [22, 2222]}}}"#;
        let updated: Value =
            serde_json::from_str(&with_mode(document, "sg-open-remote-admin", "notify").unwrap()).unwrap();
        assert_eq!(updated["scope"], "all");
        assert_eq!(
            updated["rules"]["sg-open-remote-admin"],
            serde_json::json!({"ports": [22, 2222], "mode": "notify"})
        );
        assert!(with_mode(document, "sg-open-ssh", "off")
            .unwrap_err()
            .to_string()
            .contains("unknown rule \"sg-open-ssh\""));
        assert!(with_mode(document, "sg-open-kubelet", "loud")
            .unwrap_err()
            .to_string()
            .contains("invalid mode \"loud\""));
        assert!(with_mode(r#"{"scope": "cluster"}"#, "sg-open-kubelet", "off")
            .unwrap_err()
            .to_string()
            .contains("config field `scope`"));
    }
}
