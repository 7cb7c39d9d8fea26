//! The configuration document: per-rule mode and options, scope, exemptions, trusted principals.
//! Every field has a compiled-in default; anything unknown or ill-typed is refused with the path
//! of the offending field.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::registry::{registry, rule, OptionDefault, OptionSpec};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Off,
    Notify,
    Remediate,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::Notify => "notify",
            Mode::Remediate => "remediate",
        }
    }

    pub fn parse(text: &str) -> Option<Mode> {
        match text {
            "off" => Some(Mode::Off),
            "notify" => Some(Mode::Notify),
            "remediate" => Some(Mode::Remediate),
            _ => None,
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which security groups the security-group rules judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Only groups that belong to an EKS cluster (by tag or by the cluster's VPC config).
    Eks,
    All,
}

/// A rule option's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum OptionValue {
    Ports(Vec<u16>),
    /// CIDRs (validated) and other string lists.
    Strings(Vec<String>),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSettings {
    pub mode: Mode,
    options: BTreeMap<&'static str, OptionValue>,
}

impl RuleSettings {
    /// A port-list option; the registry guarantees it exists for the rule that declares it.
    pub fn ports(&self, name: &str) -> &[u16] {
        match self.options.get(name) {
            Some(OptionValue::Ports(ports)) => ports,
            _ => &[],
        }
    }

    /// A CIDR or string-list option.
    pub fn strings(&self, name: &str) -> &[String] {
        match self.options.get(name) {
            Some(OptionValue::Strings(list)) => list,
            _ => &[],
        }
    }

    /// A single-string option; empty when unset.
    pub fn text(&self, name: &str) -> &str {
        match self.options.get(name) {
            Some(OptionValue::Text(text)) => text,
            _ => "",
        }
    }

    pub fn options(&self) -> &BTreeMap<&'static str, OptionValue> {
        &self.options
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    rules: BTreeMap<&'static str, RuleSettings>,
    pub scope: Scope,
    /// Principals (user, role or assumed-role ARNs) whose changes are never judged.
    pub trusted_principals: Vec<String>,
    pub exemption_tag: String,
}

pub const DEFAULT_EXEMPTION_TAG: &str = "snapback:exempt";

impl Default for Config {
    fn default() -> Config {
        let rules = registry()
            .iter()
            .map(|meta| {
                let options = meta.options.iter().map(|spec| (spec.name, spec.default.value())).collect();
                (meta.id, RuleSettings { mode: meta.default_mode, options })
            })
            .collect();
        Config {
            rules,
            scope: Scope::Eks,
            trusted_principals: Vec::new(),
            exemption_tag: DEFAULT_EXEMPTION_TAG.to_owned(),
        }
    }
}

/// A refused configuration document, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("config field `{field}`: {message}")]
pub struct ConfigError {
    pub field: String,
    pub message: String,
}

fn refuse(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError { field: field.into(), message: message.into() }
}

impl Config {
    pub fn settings(&self, rule_id: &str) -> &RuleSettings {
        &self.rules[rule_id]
    }

    pub fn mode(&self, rule_id: &str) -> Mode {
        self.rules.get(rule_id).map_or(Mode::Off, |settings| settings.mode)
    }

    /// Parses a JSON document over the defaults.
    pub fn from_json(text: &str) -> Result<Config, ConfigError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| refuse("(document)", format!("not valid JSON: {e}")))?;
        Config::from_value(&value)
    }

    pub fn from_value(value: &Value) -> Result<Config, ConfigError> {
        let document = value.as_object().ok_or_else(|| refuse("(document)", "expected a JSON object"))?;
        let mut config = Config::default();
        for (key, value) in document {
            match key.as_str() {
                "rules" => config.read_rules(value)?,
                "scope" => {
                    config.scope = match value.as_str() {
                        Some("eks") => Scope::Eks,
                        Some("all") => Scope::All,
                        _ => return Err(refuse("scope", format!("expected \"eks\" or \"all\", got {value}"))),
                    }
                }
                "trusted_principals" => config.trusted_principals = string_list("trusted_principals", value)?,
                "exemption_tag" => {
                    config.exemption_tag = value
                        .as_str()
                        .filter(|tag| !tag.trim().is_empty())
                        .ok_or_else(|| refuse("exemption_tag", format!("expected a non-empty string, got {value}")))?
                        .to_owned()
                }
                other => {
                    return Err(refuse(
                        other,
                        "unknown field; expected rules, scope, trusted_principals or exemption_tag",
                    ))
                }
            }
        }
        Ok(config)
    }

    fn read_rules(&mut self, value: &Value) -> Result<(), ConfigError> {
        let rules = value.as_object().ok_or_else(|| refuse("rules", "expected an object keyed by rule id"))?;
        for (rule_id, body) in rules {
            let field = format!("rules.{rule_id}");
            let meta = rule(rule_id)
                .ok_or_else(|| refuse(&field, format!("unknown rule id; known rules: {}", known_rule_ids())))?;
            let body: &Map<String, Value> =
                body.as_object().ok_or_else(|| refuse(&field, "expected an object such as {\"mode\": \"notify\"}"))?;
            let settings = self.rules.get_mut(meta.id).expect("defaults hold every registered rule");
            for (key, value) in body {
                let field = format!("{field}.{key}");
                if key == "mode" {
                    settings.mode = value.as_str().and_then(Mode::parse).ok_or_else(|| {
                        refuse(&field, format!("expected one of off, notify, remediate; got {value}"))
                    })?;
                    continue;
                }
                let spec = meta.options.iter().find(|spec| spec.name == key).ok_or_else(|| {
                    let known: Vec<&str> =
                        std::iter::once("mode").chain(meta.options.iter().map(|spec| spec.name)).collect();
                    refuse(&field, format!("unknown option; {} takes {}", meta.id, known.join(", ")))
                })?;
                settings.options.insert(spec.name, parse_option(spec, &field, value)?);
            }
        }
        Ok(())
    }

    /// The document this config reads back from: every field, defaults included.
    pub fn to_value(&self) -> Value {
        let rules: Map<String, Value> = self
            .rules
            .iter()
            .map(|(id, settings)| {
                let mut body = Map::new();
                body.insert("mode".into(), Value::from(settings.mode.as_str()));
                for (name, value) in &settings.options {
                    body.insert((*name).into(), serde_json::to_value(value).expect("options serialize"));
                }
                ((*id).to_owned(), Value::Object(body))
            })
            .collect();
        serde_json::json!({
            "rules": rules,
            "scope": self.scope,
            "trusted_principals": self.trusted_principals,
            "exemption_tag": self.exemption_tag,
        })
    }
}

fn known_rule_ids() -> String {
    registry().iter().map(|meta| meta.id).collect::<Vec<_>>().join(", ")
}

fn string_list(field: &str, value: &Value) -> Result<Vec<String>, ConfigError> {
    let list = value.as_array().ok_or_else(|| refuse(field, format!("expected a list of strings, got {value}")))?;
    list.iter()
        .enumerate()
        .map(|(index, item)| {
            item.as_str()
                .map(str::to_owned)
                .ok_or_else(|| refuse(format!("{field}[{index}]"), format!("expected a string, got {item}")))
        })
        .collect()
}

fn parse_option(spec: &OptionSpec, field: &str, value: &Value) -> Result<OptionValue, ConfigError> {
    match spec.default {
        OptionDefault::Ports(_) => {
            let list =
                value.as_array().ok_or_else(|| refuse(field, format!("expected a list of ports, got {value}")))?;
            if list.is_empty() {
                return Err(refuse(field, "expected at least one port (set the rule's mode to off to disable it)"));
            }
            let ports = list
                .iter()
                .enumerate()
                .map(|(index, item)| {
                    item.as_u64().and_then(|port| u16::try_from(port).ok()).filter(|port| *port > 0).ok_or_else(|| {
                        refuse(format!("{field}[{index}]"), format!("expected a port 1-65535, got {item}"))
                    })
                })
                .collect::<Result<Vec<u16>, ConfigError>>()?;
            Ok(OptionValue::Ports(ports))
        }
        OptionDefault::Cidrs(_) => {
            let list = string_list(field, value)?;
            for (index, cidr) in list.iter().enumerate() {
                match cidr.parse::<ipnet::IpNet>() {
                    Ok(net) if net.prefix_len() == 0 => {
                        return Err(refuse(format!("{field}[{index}]"), format!("{cidr} is the whole internet")))
                    }
                    Ok(_) => {}
                    Err(_) => {
                        return Err(refuse(
                            format!("{field}[{index}]"),
                            format!("expected a CIDR such as 203.0.113.0/24, got {cidr:?}"),
                        ))
                    }
                }
            }
            Ok(OptionValue::Strings(list))
        }
        OptionDefault::Strings(_) => Ok(OptionValue::Strings(string_list(field, value)?)),
        OptionDefault::Text(_) => value
            .as_str()
            .map(|text| OptionValue::Text(text.to_owned()))
            .ok_or_else(|| refuse(field, format!("expected a string, got {value}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_remediate_every_sg_rule_but_the_api_rule() {
        let config = Config::default();
        assert_eq!(config.mode("sg-open-remote-admin"), Mode::Remediate);
        assert_eq!(config.mode("sg-open-kubelet"), Mode::Remediate);
        assert_eq!(config.mode("sg-open-all-traffic"), Mode::Remediate);
        assert_eq!(config.mode("sg-open-k8s-api"), Mode::Notify);
        assert_eq!(config.scope, Scope::Eks);
        assert_eq!(config.exemption_tag, "snapback:exempt");
        assert_eq!(config.settings("sg-open-remote-admin").ports("ports"), &[22, 3389]);
        assert_eq!(Config::from_json("{}").unwrap(), config);
    }

    #[test]
    fn reads_modes_options_and_scope() {
        let config = Config::from_json(
            r#"{"rules": {"sg-open-remote-admin": {"mode": "notify", "ports": [22, 2222]}}, "scope": "all",
                "trusted_principals": ["arn:aws:iam::111122223333:role/break-glass"]}"#,
        )
        .unwrap();
        assert_eq!(config.mode("sg-open-remote-admin"), Mode::Notify);
        assert_eq!(config.settings("sg-open-remote-admin").ports("ports"), &[22, 2222]);
        assert_eq!(config.scope, Scope::All);
        assert_eq!(config.trusted_principals, vec!["arn:aws:iam::111122223333:role/break-glass"]);
        assert_eq!(Config::from_value(&config.to_value()).unwrap(), config);
    }

    #[test]
    fn refuses_bad_documents_naming_the_field() {
        let cases = [
            (r#"{"rules": {"sg-open-ssh": {"mode": "off"}}}"#, "rules.sg-open-ssh"),
            (r#"{"rules": {"sg-open-kubelet": {"mode": "remedy"}}}"#, "rules.sg-open-kubelet.mode"),
            (r#"{"rules": {"sg-open-kubelet": {"prots": [1]}}}"#, "rules.sg-open-kubelet.prots"),
            (r#"{"rules": {"sg-open-kubelet": {"ports": [10250, 70000]}}}"#, "rules.sg-open-kubelet.ports[1]"),
            (r#"{"rules": {"sg-open-kubelet": {"ports": []}}}"#, "rules.sg-open-kubelet.ports"),
            (r#"{"rules": {"sg-open-kubelet": "off"}}"#, "rules.sg-open-kubelet"),
            (r#"{"scope": "cluster"}"#, "scope"),
            (r#"{"trusted_principals": ["a", 1]}"#, "trusted_principals[1]"),
            (r#"{"exemption_tag": ""}"#, "exemption_tag"),
            (r#"{"scopes": "eks"}"#, "scopes"),
            (r#"[]"#, "(document)"),
            (r#"{"rules": "#, "(document)"),
        ];
        for (document, field) in cases {
            let error = Config::from_json(document).unwrap_err();
            assert_eq!(error.field, field, "{document}: {error}");
            assert!(error.to_string().starts_with(&format!("config field `{field}`")));
        }
        let unknown = Config::from_json(r#"{"rules": {"sg-open-ssh": {}}}"#).unwrap_err();
        assert!(unknown.message.contains("sg-open-remote-admin"), "{unknown}");
    }
}
