//! The configuration document: per-rule mode and options, scope, exemptions, trusted principals.
//! Every field has a compiled-in default; anything unknown or ill-typed is refused with the path
//! of the offending field.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::options::{overlay, RuleOptions};
use crate::registry::{registry, rule, RuleMeta};

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

/// A rule's mode and typed options.
#[derive(Debug)]
pub struct RuleSettings {
    pub mode: Mode,
    options: Box<dyn RuleOptions>,
}

impl Clone for RuleSettings {
    fn clone(&self) -> RuleSettings {
        RuleSettings { mode: self.mode, options: self.options.boxed_clone() }
    }
}

impl PartialEq for RuleSettings {
    fn eq(&self, other: &RuleSettings) -> bool {
        self.mode == other.mode && self.options.same(other.options.as_ref())
    }
}

impl Eq for RuleSettings {}

impl RuleSettings {
    /// The options as the document would hold them.
    pub fn options_value(&self) -> Value {
        self.options.to_value()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    rules: BTreeMap<&'static str, RuleSettings>,
    pub scope: Scope,
    /// Principals (user, role or assumed-role ARNs) whose changes are never judged.
    pub trusted_principals: Vec<String>,
    pub exemption_tag: String,
    /// How long a finding a sweep keeps finding, unchanged, stays quiet after its alert (with a
    /// ledger table; `realert_after` in the document, such as `"24h"`).
    pub realert_after: Duration,
    /// Whether a finding that is gone since the last sweep is alerted as resolved.
    pub alert_on_resolved: bool,
    /// Name prefixes of the ECR repositories the ECR rules judge; empty: every repository.
    /// ECR repositories belong to no cluster, so `scope` does not narrow them: this does.
    pub ecr_repository_prefixes: Vec<String>,
    /// The role a central deployment assumes to act in a member account (`member_role`).
    pub member_role: String,
    /// Overrides for one account (by id), on top of the rest of the document.
    accounts: BTreeMap<String, Value>,
    /// Overrides for the accounts of an organizational unit (by OU id), below an account's own.
    organizational_units: BTreeMap<String, Value>,
}

pub const DEFAULT_EXEMPTION_TAG: &str = "snapback:exempt";
pub const DEFAULT_MEMBER_ROLE: &str = "snapback-member";
/// The fields an `accounts` or `organizational_units` override may set: the judging ones, not
/// how the deployment reaches accounts.
const OVERRIDABLE: &str = "rules, scope, trusted_principals, exemption_tag, realert_after, alert_on_resolved or \
                           ecr_repository_prefixes";
pub const DEFAULT_REALERT_AFTER: Duration = Duration::from_secs(24 * 3600);

impl Default for Config {
    fn default() -> Config {
        let rules = registry()
            .iter()
            .map(|meta| (meta.id, RuleSettings { mode: meta.default_mode, options: (meta.options.defaults)() }))
            .collect();
        Config {
            rules,
            scope: Scope::Eks,
            trusted_principals: Vec::new(),
            exemption_tag: DEFAULT_EXEMPTION_TAG.to_owned(),
            realert_after: DEFAULT_REALERT_AFTER,
            alert_on_resolved: false,
            ecr_repository_prefixes: Vec::new(),
            member_role: DEFAULT_MEMBER_ROLE.to_owned(),
            accounts: BTreeMap::new(),
            organizational_units: BTreeMap::new(),
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

    /// The rule's typed options. `T` is the options type the rule declares in its
    /// [`crate::options::OptionsSpec`]; asking for another type is a mistake in the rule.
    pub fn options<T: 'static>(&self, meta: &RuleMeta) -> &T {
        self.rules[meta.id]
            .options
            .as_any()
            .downcast_ref::<T>()
            .unwrap_or_else(|| panic!("{} reads options of a type it does not declare", meta.id))
    }

    pub fn mode(&self, rule_id: &str) -> Mode {
        self.rules.get(rule_id).map_or(Mode::Off, |settings| settings.mode)
    }

    /// Whether the ECR rules judge this repository: `ecr_repository_prefixes` is empty or one
    /// of them starts its name.
    pub fn judges_ecr_repository(&self, repository: &str) -> bool {
        self.ecr_repository_prefixes.is_empty()
            || self.ecr_repository_prefixes.iter().any(|prefix| repository.starts_with(prefix.as_str()))
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
        let (mut accounts, mut units) = (None, None);
        for (key, value) in document {
            match key.as_str() {
                "member_role" => {
                    config.member_role = value
                        .as_str()
                        .filter(|name| is_role_name(name))
                        .ok_or_else(|| {
                            refuse("member_role", format!("expected an IAM role name (no path, no ARN), got {value}"))
                        })?
                        .to_owned()
                }
                "accounts" => accounts = Some(value),
                "organizational_units" => units = Some(value),
                _ => config.apply(key, value, "")?,
            }
        }
        // Overrides are checked against the document's own settings, so each error names its field.
        for (field, overrides, valid_key) in [
            ("accounts", accounts, is_account_id as fn(&str) -> bool),
            ("organizational_units", units, is_organizational_unit_id),
        ] {
            let Some(overrides) = overrides else { continue };
            let overrides = overrides
                .as_object()
                .ok_or_else(|| refuse(field, format!("expected an object keyed by id, got {overrides}")))?;
            let mut kept = BTreeMap::new();
            for (id, body) in overrides {
                if !valid_key(id) {
                    let expected = if field == "accounts" { "a 12-digit account id" } else { "an OU id (ou-...)" };
                    return Err(refuse(format!("{field}.{id}"), format!("expected {expected}")));
                }
                config.clone().overlay(body, &format!("{field}.{id}."))?;
                kept.insert(id.clone(), body.clone());
            }
            match field {
                "accounts" => config.accounts = kept,
                _ => config.organizational_units = kept,
            }
        }
        Ok(config)
    }

    /// The configuration that holds in `account`, a member of `organizational_units` (outermost
    /// first): the document, then each unit's overrides, then the account's own.
    pub fn for_account(&self, account: &str, organizational_units: &[&str]) -> Config {
        let bodies: Vec<&Value> = organizational_units
            .iter()
            .filter_map(|unit| self.organizational_units.get(*unit))
            .chain(self.accounts.get(account))
            .collect();
        let mut effective = self.clone();
        for body in bodies {
            effective.overlay(body, "").expect("overrides were validated when the document was read");
        }
        effective
    }

    /// Whether any override could apply to `account`: without one, [`Config::for_account`] is
    /// the document itself.
    pub fn overrides_for(&self, account: &str) -> bool {
        self.accounts.contains_key(account) || !self.organizational_units.is_empty()
    }

    /// The accounts and organizational units the document overrides.
    pub fn override_keys(&self) -> (Vec<&str>, Vec<&str>) {
        (
            self.accounts.keys().map(String::as_str).collect(),
            self.organizational_units.keys().map(String::as_str).collect(),
        )
    }

    /// Whether any organizational unit has overrides (then an account's units must be known).
    pub fn overrides_units(&self) -> bool {
        !self.organizational_units.is_empty()
    }

    /// Applies one override (an object of the judging fields) on top of this config.
    fn overlay(&mut self, body: &Value, prefix: &str) -> Result<(), ConfigError> {
        let field = prefix.trim_end_matches('.');
        let body =
            body.as_object().ok_or_else(|| refuse(field, format!("expected an object of settings, got {body}")))?;
        for (key, value) in body {
            if matches!(key.as_str(), "member_role" | "accounts" | "organizational_units") {
                return Err(refuse(
                    format!("{prefix}{key}"),
                    format!("set for the whole deployment only; an override may set {OVERRIDABLE}"),
                ));
            }
            self.apply(key, value, prefix)?;
        }
        Ok(())
    }

    /// Sets one judging field from the document; `prefix` names where an override sits.
    fn apply(&mut self, key: &str, value: &Value, prefix: &str) -> Result<(), ConfigError> {
        let named = |field: &str| format!("{prefix}{field}");
        match key {
            "rules" => self.read_rules(value).map_err(|error| refuse(named(&error.field), error.message))?,
            "scope" => {
                self.scope = match value.as_str() {
                    Some("eks") => Scope::Eks,
                    Some("all") => Scope::All,
                    _ => return Err(refuse(named("scope"), format!("expected \"eks\" or \"all\", got {value}"))),
                }
            }
            "trusted_principals" => self.trusted_principals = string_list(&named("trusted_principals"), value)?,
            "exemption_tag" => {
                self.exemption_tag = value
                    .as_str()
                    .filter(|tag| !tag.trim().is_empty())
                    .ok_or_else(|| refuse(named("exemption_tag"), format!("expected a non-empty string, got {value}")))?
                    .to_owned()
            }
            "realert_after" => self.realert_after = duration(&named("realert_after"), value)?,
            "alert_on_resolved" => {
                self.alert_on_resolved = value
                    .as_bool()
                    .ok_or_else(|| refuse(named("alert_on_resolved"), format!("expected true or false, got {value}")))?
            }
            "ecr_repository_prefixes" => {
                let field = named("ecr_repository_prefixes");
                self.ecr_repository_prefixes = string_list(&field, value)?;
                if let Some(index) = self.ecr_repository_prefixes.iter().position(|p| p.trim().is_empty()) {
                    return Err(refuse(
                        format!("{field}[{index}]"),
                        "an empty prefix matches every repository; leave the list empty to judge them all",
                    ));
                }
            }
            other if prefix.is_empty() => {
                return Err(refuse(
                    other,
                    format!("unknown field; expected {OVERRIDABLE}, member_role, accounts or organizational_units"),
                ))
            }
            other => return Err(refuse(named(other), format!("unknown field; an override may set {OVERRIDABLE}"))),
        }
        Ok(())
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
            let mut given = body.clone();
            if let Some(mode) = given.remove("mode") {
                settings.mode = mode.as_str().and_then(Mode::parse).ok_or_else(|| {
                    refuse(format!("{field}.mode"), format!("expected one of off, notify, remediate; got {mode}"))
                })?;
            }
            let below =
                |path: &str| if path.starts_with('[') { format!("{field}{path}") } else { format!("{field}.{path}") };
            let merged = overlay(settings.options.as_ref(), &given)
                .map_err(|error| refuse(below(&error.path), format!("{} ({})", error.message, meta.id)))?;
            settings.options =
                (meta.options.read)(merged).map_err(|error| refuse(below(&error.path), error.message))?;
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
                if let Value::Object(options) = settings.options.to_value() {
                    body.extend(options);
                }
                ((*id).to_owned(), Value::Object(body))
            })
            .collect();
        serde_json::json!({
            "rules": rules,
            "scope": self.scope,
            "trusted_principals": self.trusted_principals,
            "exemption_tag": self.exemption_tag,
            "realert_after": format_duration(self.realert_after),
            "alert_on_resolved": self.alert_on_resolved,
            "ecr_repository_prefixes": self.ecr_repository_prefixes,
            "member_role": self.member_role,
            "accounts": self.accounts,
            "organizational_units": self.organizational_units,
        })
    }
}

/// A duration as the document writes it: a whole number and a unit, `s`, `m`, `h` or `d`
/// (`"90m"`, `"24h"`), at least a minute.
fn duration(field: &str, value: &Value) -> Result<Duration, ConfigError> {
    let bad = || refuse(field, format!("expected a duration such as \"24h\", \"90m\" or \"2d\", got {value}"));
    let text = value.as_str().ok_or_else(bad)?.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let amount: u64 = text[..split].parse().map_err(|_| bad())?;
    let unit = match &text[split..] {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    let seconds = amount.checked_mul(unit).ok_or_else(bad)?;
    if seconds < 60 {
        return Err(refuse(field, format!("at least a minute, got {value}")));
    }
    Ok(Duration::from_secs(seconds))
}

/// The largest whole unit that writes `duration` exactly.
fn format_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    match () {
        _ if seconds.is_multiple_of(86_400) => format!("{}d", seconds / 86_400),
        _ if seconds.is_multiple_of(3600) => format!("{}h", seconds / 3600),
        _ if seconds.is_multiple_of(60) => format!("{}m", seconds / 60),
        _ => format!("{seconds}s"),
    }
}

/// An IAM role name: 1-64 of letters, digits and `+=,.@_-`.
fn is_role_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

/// A 12-digit AWS account id.
pub fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// `ou-` then the root's and the unit's own suffixes (`ou-ab12-cd34ef56`), or a root (`r-ab12`),
/// whose override holds for the whole organization.
fn is_organizational_unit_id(id: &str) -> bool {
    let suffix = id.strip_prefix("ou-").or_else(|| id.strip_prefix("r-"));
    suffix.is_some_and(|rest| {
        !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn remote_admin_ports(config: &Config) -> Vec<u16> {
        let meta = rule("sg-open-remote-admin").unwrap();
        config.options::<crate::services::security_groups::PortOptions>(meta).ports.iter().collect()
    }

    #[test]
    fn a_misspelt_option_is_refused_by_path_and_a_wrong_type_by_index() {
        let misspelt =
            Config::from_json(r#"{"rules": {"eks-public-endpoint": {"public_acces_cidrs": []}}}"#).unwrap_err();
        assert_eq!(misspelt.field, "rules.eks-public-endpoint.public_acces_cidrs");
        assert!(misspelt.message.contains("it takes mode, public_access_cidrs"), "{misspelt}");
        let world = Config::from_json(
            r#"{"rules": {"eks-public-endpoint": {"public_access_cidrs": ["10.0.0.0/8", "0.0.0.0/0"]}}}"#,
        )
        .unwrap_err();
        assert_eq!(world.field, "rules.eks-public-endpoint.public_access_cidrs[1]");
        assert!(world.message.contains("is the whole internet"), "{world}");
        let text = Config::from_json(
            r#"{"rules": {"eks-cluster-admin-access-entry": {"allowed_principals": "arn:aws:iam::1:role/x"}}}"#,
        )
        .unwrap_err();
        assert_eq!(text.field, "rules.eks-cluster-admin-access-entry.allowed_principals");
    }

    #[test]
    fn defaults_remediate_every_sg_rule_but_the_api_rule() {
        let config = Config::default();
        assert_eq!(config.mode("sg-open-remote-admin"), Mode::Remediate);
        assert_eq!(config.mode("sg-open-kubelet"), Mode::Remediate);
        assert_eq!(config.mode("sg-open-all-traffic"), Mode::Remediate);
        assert_eq!(config.mode("sg-open-k8s-api"), Mode::Notify);
        assert_eq!(config.scope, Scope::Eks);
        assert_eq!(config.exemption_tag, "snapback:exempt");
        assert_eq!(remote_admin_ports(&config), [22, 3389]);
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
        assert_eq!(remote_admin_ports(&config), [22, 2222]);
        assert_eq!(config.scope, Scope::All);
        assert_eq!(config.trusted_principals, vec!["arn:aws:iam::111122223333:role/break-glass"]);
        assert_eq!(Config::from_value(&config.to_value()).unwrap(), config);
    }

    #[test]
    fn reads_realert_after_in_units_and_writes_it_back_in_the_largest_exact_one() {
        assert_eq!(Config::default().realert_after, Duration::from_secs(24 * 3600));
        assert!(!Config::default().alert_on_resolved);
        for (text, seconds, written) in [("90m", 5400, "90m"), ("48h", 172_800, "2d"), ("120s", 120, "2m")] {
            let config =
                Config::from_json(&format!(r#"{{"realert_after": "{text}", "alert_on_resolved": true}}"#)).unwrap();
            assert_eq!(config.realert_after, Duration::from_secs(seconds), "{text}");
            assert!(config.alert_on_resolved);
            assert_eq!(config.to_value()["realert_after"], written);
            assert_eq!(Config::from_value(&config.to_value()).unwrap(), config);
        }
    }

    #[test]
    fn ecr_repository_prefixes_narrow_the_ecr_rules_and_read_back() {
        assert!(Config::default().judges_ecr_repository("anything"));
        let config = Config::from_json(r#"{"ecr_repository_prefixes": ["prod/", "shop-"]}"#).unwrap();
        assert!(config.judges_ecr_repository("prod/api"));
        assert!(config.judges_ecr_repository("shop-web"));
        assert!(!config.judges_ecr_repository("sandbox/prod/api"));
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
            (r#"{"realert_after": "1 day"}"#, "realert_after"),
            (r#"{"realert_after": 3600}"#, "realert_after"),
            (r#"{"realert_after": "30s"}"#, "realert_after"),
            (r#"{"alert_on_resolved": "yes"}"#, "alert_on_resolved"),
            (r#"{"ecr_repository_prefixes": "team-"}"#, "ecr_repository_prefixes"),
            (r#"{"ecr_repository_prefixes": ["team-", 7]}"#, "ecr_repository_prefixes[1]"),
            (r#"{"ecr_repository_prefixes": ["team-", " "]}"#, "ecr_repository_prefixes[1]"),
            (r#"{"member_role": "arn:aws:iam::111122223333:role/x"}"#, "member_role"),
            (r#"{"accounts": []}"#, "accounts"),
            (r#"{"accounts": {"1234": {}}}"#, "accounts.1234"),
            (r#"{"accounts": {"111122223333": {"scope": "cluster"}}}"#, "accounts.111122223333.scope"),
            (
                r#"{"accounts": {"111122223333": {"rules": {"sg-open-kubelet": {"mode": "x"}}}}}"#,
                "accounts.111122223333.rules.sg-open-kubelet.mode",
            ),
            (r#"{"accounts": {"111122223333": {"member_role": "x"}}}"#, "accounts.111122223333.member_role"),
            (r#"{"accounts": {"111122223333": {"sope": "eks"}}}"#, "accounts.111122223333.sope"),
            (
                r#"{"organizational_units": {"ou-ab12-cd34ef56": {"realert_after": "1s"}}}"#,
                "organizational_units.ou-ab12-cd34ef56.realert_after",
            ),
            (r#"{"organizational_units": {"Engineering": {}}}"#, "organizational_units.Engineering"),
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

    #[test]
    fn an_accounts_overrides_sit_on_its_units_and_the_document() {
        let config = Config::from_json(
            r#"{
                "scope": "all",
                "member_role": "platform-guardrails",
                "rules": {"sg-open-kubelet": {"mode": "notify"}},
                "organizational_units": {
                    "r-ab12": {"exemption_tag": "org:exempt"},
                    "ou-ab12-sandbox1": {"rules": {"sg-open-kubelet": {"mode": "off"}, "sg-open-remote-admin": {"mode": "notify"}}}
                },
                "accounts": {"111122223333": {"rules": {"sg-open-kubelet": {"mode": "remediate"}}, "scope": "eks"}}
            }"#,
        )
        .unwrap();
        assert_eq!(config.member_role, "platform-guardrails");
        assert!(config.overrides_for("111122223333"));

        let sandbox = config.for_account("444455556666", &["r-ab12", "ou-ab12-sandbox1"]);
        assert_eq!(sandbox.mode("sg-open-kubelet"), Mode::Off);
        assert_eq!(sandbox.mode("sg-open-remote-admin"), Mode::Notify);
        assert_eq!(sandbox.exemption_tag, "org:exempt");
        assert_eq!(sandbox.scope, Scope::All, "the document's own setting holds where nothing overrides it");

        // The account's own overrides win over its units'; options stay as the document set them.
        let listed = config.for_account("111122223333", &["r-ab12", "ou-ab12-sandbox1"]);
        assert_eq!(listed.mode("sg-open-kubelet"), Mode::Remediate);
        assert_eq!(listed.mode("sg-open-remote-admin"), Mode::Notify);
        assert_eq!(listed.scope, Scope::Eks);
        assert_eq!(remote_admin_ports(&listed), remote_admin_ports(&config));

        let elsewhere = config.for_account("777788889999", &[]);
        assert_eq!(elsewhere.mode("sg-open-kubelet"), Mode::Notify);
        assert_eq!(elsewhere.scope, Scope::All);

        // The effective document reads back to the same configuration.
        assert_eq!(Config::from_value(&config.to_value()).unwrap(), config);
        assert_eq!(Config::default().member_role, DEFAULT_MEMBER_ROLE);
        assert!(!Config::default().overrides_for("111122223333"));
    }
}
