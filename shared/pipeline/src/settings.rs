use std::time::Duration;

/// A function's settings, read once per cold start from its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `SNAPBACK_TOPIC_ARN`: where alerts go.
    pub topic_arn: String,
    /// `SNAPBACK_CONFIG`: a file path, `ssm:<parameter-name>`, or unset for the built-in defaults.
    pub config: ConfigLocation,
    /// `SNAPBACK_CONFIG_TTL_SECONDS` (default 60): how long a fetched config is trusted.
    pub config_ttl: Duration,
    /// `SNAPBACK_SELF_ARNS`: snapback's own role ARNs, comma separated.
    pub own_principals: Vec<String>,
    /// `SNAPBACK_LEDGER_TABLE`: the DynamoDB ledger; unset, snapback works without de-duplication.
    pub ledger_table: Option<String>,
    /// `SNAPBACK_RELAY_FUNCTION`: the Slack relay function, which the watchdog invokes directly
    /// when the alert topic refuses an alert for good; unset without a relay.
    pub relay_function: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigLocation {
    BuiltIn,
    File(String),
    Ssm(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {name}: {message}")]
pub struct SettingsError {
    pub name: &'static str,
    pub message: String,
}

impl Settings {
    pub fn from_env() -> Result<Settings, SettingsError> {
        Settings::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingsError> {
        let topic_arn = lookup("SNAPBACK_TOPIC_ARN").filter(|arn| arn.starts_with("arn:")).ok_or_else(|| {
            SettingsError { name: "SNAPBACK_TOPIC_ARN", message: "must be set to the SNS topic ARN for alerts".into() }
        })?;
        let config =
            match lookup("SNAPBACK_CONFIG").map(|value| value.trim().to_owned()).filter(|value| !value.is_empty()) {
                None => ConfigLocation::BuiltIn,
                Some(value) => match value.strip_prefix("ssm:") {
                    Some("") => {
                        return Err(SettingsError {
                            name: "SNAPBACK_CONFIG",
                            message: "`ssm:` needs a parameter name".into(),
                        })
                    }
                    Some(name) => ConfigLocation::Ssm(name.to_owned()),
                    None => ConfigLocation::File(value),
                },
            };
        let config_ttl = match lookup("SNAPBACK_CONFIG_TTL_SECONDS") {
            None => Duration::from_secs(60),
            Some(text) => Duration::from_secs(text.trim().parse().map_err(|_| SettingsError {
                name: "SNAPBACK_CONFIG_TTL_SECONDS",
                message: format!("expected a whole number of seconds, got {text:?}"),
            })?),
        };
        let own_principals = lookup("SNAPBACK_SELF_ARNS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|arn| !arn.is_empty())
            .map(str::to_owned)
            .collect();
        let ledger_table =
            lookup("SNAPBACK_LEDGER_TABLE").map(|table| table.trim().to_owned()).filter(|table| !table.is_empty());
        let relay_function =
            lookup("SNAPBACK_RELAY_FUNCTION").map(|name| name.trim().to_owned()).filter(|name| !name.is_empty());
        Ok(Settings { topic_arn, config, config_ttl, own_principals, ledger_table, relay_function })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let env: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        Settings::from_lookup(|name| env.get(name).cloned())
    }

    #[test]
    fn reads_every_variable_and_names_the_bad_one() {
        let topic = ("SNAPBACK_TOPIC_ARN", "arn:aws:sns:us-east-1:111122223333:snapback");
        let parsed =
            settings(&[topic, ("SNAPBACK_CONFIG", "ssm:/snapback/config"), ("SNAPBACK_SELF_ARNS", "a, b,")]).unwrap();
        assert_eq!(parsed.config, ConfigLocation::Ssm("/snapback/config".into()));
        assert_eq!(parsed.own_principals, ["a", "b"]);
        assert_eq!(parsed.config_ttl, Duration::from_secs(60));
        assert_eq!(parsed.ledger_table, None);
        assert_eq!(
            settings(&[topic, ("SNAPBACK_LEDGER_TABLE", "snapback-ledger")]).unwrap().ledger_table.as_deref(),
            Some("snapback-ledger")
        );
        assert_eq!(
            settings(&[topic, ("SNAPBACK_CONFIG", "/etc/snapback.json")]).unwrap().config,
            ConfigLocation::File("/etc/snapback.json".into())
        );
        assert_eq!(settings(&[topic]).unwrap().config, ConfigLocation::BuiltIn);
        assert_eq!(settings(&[]).unwrap_err().name, "SNAPBACK_TOPIC_ARN");
        assert_eq!(
            settings(&[topic, ("SNAPBACK_CONFIG_TTL_SECONDS", "1m")]).unwrap_err().name,
            "SNAPBACK_CONFIG_TTL_SECONDS"
        );
        assert_eq!(settings(&[topic, ("SNAPBACK_CONFIG", "ssm:")]).unwrap_err().name, "SNAPBACK_CONFIG");
    }
}
