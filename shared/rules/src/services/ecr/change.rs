//! ECR repository changes as CloudTrail records them (REST/JSON, SHAPES.md §6.5): settings left at
//! their defaults are absent from a CreateRepository request, not false, and a repository policy
//! arrives as JSON text inside a string.

use serde_json::Value;

use crate::event::Event;
use crate::json::{bool_field, field, text_field};
use crate::services::{Change, Unreadable};

pub const ECR_SOURCE: &str = "ecr.amazonaws.com";

/// `imageTagMutability`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagMutability {
    Mutable,
    Immutable,
    /// `IMMUTABLE_WITH_EXCLUSION`, `MUTABLE_WITH_EXCLUSION` and whatever comes next, as written.
    Other(String),
}

impl TagMutability {
    pub fn parse(text: &str) -> TagMutability {
        match text.trim().to_ascii_uppercase().as_str() {
            "MUTABLE" => TagMutability::Mutable,
            "IMMUTABLE" => TagMutability::Immutable,
            other => TagMutability::Other(other.to_owned()),
        }
    }

    /// Tags can be overwritten: MUTABLE, or a mutable setting with exclusions.
    pub fn is_mutable(&self) -> bool {
        match self {
            TagMutability::Mutable => true,
            TagMutability::Immutable => false,
            TagMutability::Other(text) => text.starts_with("MUTABLE"),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            TagMutability::Mutable => "MUTABLE",
            TagMutability::Immutable => "IMMUTABLE",
            TagMutability::Other(text) => text,
        }
    }
}

/// `encryptionConfiguration`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encryption {
    /// `AES256` (the default), `KMS` or `KMS_DSSE`.
    pub encryption_type: String,
    pub kms_key: Option<String>,
}

impl Encryption {
    /// The default: Amazon S3-managed keys.
    pub fn aes256() -> Encryption {
        Encryption { encryption_type: "AES256".to_owned(), kms_key: None }
    }

    pub fn uses_kms(&self) -> bool {
        self.encryption_type.to_ascii_uppercase().starts_with("KMS")
    }
}

/// A repository policy: the document, and the statements that let anyone in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryPolicy {
    pub document: Value,
}

impl RepositoryPolicy {
    /// Reads `policyText`, a JSON object in a string.
    pub fn parse(text: &str) -> Result<RepositoryPolicy, Unreadable> {
        match serde_json::from_str::<Value>(text) {
            Ok(document) if document.is_object() => Ok(RepositoryPolicy { document }),
            Ok(other) => Err(Unreadable(format!("policyText holds {other}, not a policy document"))),
            Err(error) => Err(Unreadable(format!("policyText is not JSON: {error}"))),
        }
    }

    /// The statements: `Statement` is an array, or one statement as an object.
    fn statements(&self) -> Vec<&Value> {
        match self.document.get("Statement") {
            Some(Value::Array(list)) => list.iter().collect(),
            Some(one @ Value::Object(_)) => vec![one],
            _ => Vec::new(),
        }
    }

    /// The statements that allow principal `*` without a condition: anyone, any account.
    pub fn public_statements(&self) -> Vec<&Value> {
        self.statements().into_iter().filter(|statement| is_public(statement)).collect()
    }

    /// How a public statement reads in an alert: its Sid, else its actions.
    pub fn describe(statement: &Value) -> String {
        if let Some(sid) = statement.get("Sid").and_then(Value::as_str).filter(|sid| !sid.is_empty()) {
            return format!("statement {sid}");
        }
        let actions = match statement.get("Action") {
            Some(Value::String(action)) => action.clone(),
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "),
            _ => "no action".to_owned(),
        };
        format!("a statement allowing {actions}")
    }

    /// The policy text without its public statements, or None when none would remain (the
    /// restore then deletes the policy).
    pub fn without_public_statements(&self) -> Option<String> {
        let kept: Vec<Value> = self.statements().into_iter().filter(|s| !is_public(s)).cloned().collect();
        if kept.is_empty() {
            return None;
        }
        let mut document = self.document.clone();
        document["Statement"] = Value::Array(kept);
        Some(document.to_string())
    }
}

/// Allow, principal `*` (or `{"AWS": "*"}`, alone or in a list), and no condition.
fn is_public(statement: &Value) -> bool {
    let allows = statement.get("Effect").and_then(Value::as_str).is_some_and(|e| e.eq_ignore_ascii_case("allow"));
    let anyone = match statement.get("Principal") {
        Some(Value::String(principal)) => principal == "*",
        Some(Value::Object(map)) => map.get("AWS").is_some_and(|aws| match aws {
            Value::String(principal) => principal == "*",
            Value::Array(list) => list.iter().any(|principal| principal == "*"),
            _ => false,
        }),
        _ => false,
    };
    let unconditional = match statement.get("Condition") {
        None | Some(Value::Null) => true,
        Some(Value::Object(conditions)) => conditions.is_empty(),
        Some(_) => false,
    };
    allows && anyone && unconditional
}

/// A BASIC scanning rule of the registry (GetRegistryScanningConfiguration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanningRule {
    /// `SCAN_ON_PUSH`, `CONTINUOUS_SCAN` or `MANUAL`.
    pub scan_frequency: String,
    /// Its `WILDCARD` repository filters.
    pub filters: Vec<String>,
}

/// The registry's scanning configuration: what the repository setting alone does not say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryScanning {
    /// Basic scanning, with the registry's rules (none by default).
    Basic { rules: Vec<ScanningRule> },
    /// Enhanced scanning (Amazon Inspector): the repository's scan-on-push setting is ignored.
    Enhanced,
}

impl RegistryScanning {
    /// Images pushed to `repository` are scanned whatever the repository's own setting says:
    /// enhanced scanning, or a BASIC scan-on-push rule whose filter matches it.
    pub fn scans_on_push(&self, repository: &str) -> bool {
        match self {
            RegistryScanning::Enhanced => true,
            RegistryScanning::Basic { rules } => rules
                .iter()
                .filter(|rule| rule.scan_frequency.eq_ignore_ascii_case("SCAN_ON_PUSH"))
                .any(|rule| rule.filters.iter().any(|filter| filter_matches(filter, repository))),
        }
    }
}

/// ECR's scanning filters: without `*`, a name containing the filter; with `*`, the whole name,
/// each `*` standing for zero or more characters.
pub fn filter_matches(filter: &str, repository: &str) -> bool {
    if !filter.contains('*') {
        return repository.contains(filter);
    }
    let parts: Vec<&str> = filter.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !repository.starts_with(first) || repository.len() < first.len() + last.len() || !repository.ends_with(last) {
        return false;
    }
    let mut rest = &repository[first.len()..repository.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// A change to one repository, read from one record; None: the call does not say or change it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrChange {
    pub repository: String,
    /// CreateRepository: every setting is known (absent ones are the defaults).
    pub created: bool,
    pub scan_on_push: Option<bool>,
    pub tag_mutability: Option<TagMutability>,
    pub encryption: Option<Encryption>,
    pub policy: Option<RepositoryPolicy>,
    /// The registry's scanning configuration: never in a record (None), always in a
    /// description. A change's finding on a repository is confirmed by the look-up's description
    /// (`RepositoryState`, with it), so the rule stays pure and still sees the registry.
    pub registry_scanning: Option<RegistryScanning>,
}

/// One repository per call.
impl Change for EcrChange {}

impl EcrChange {
    /// Reads a CreateRepository, PutImageScanningConfiguration, PutImageTagMutability or
    /// SetRepositoryPolicy record from ECR (not CodeCommit's CreateRepository); None for any
    /// other record.
    pub fn from_event(event: &Event) -> Result<Option<EcrChange>, Unreadable> {
        if event.event_source != ECR_SOURCE {
            return Ok(None);
        }
        let request = &event.request;
        let call = event.event_name.as_str();
        if !matches!(
            call,
            "CreateRepository" | "PutImageScanningConfiguration" | "PutImageTagMutability" | "SetRepositoryPolicy"
        ) {
            return Ok(None);
        }
        // The response echoes the repository with its effective settings; the request is the fallback.
        let echoed =
            event.response.get("repository").filter(|repository| repository.is_object()).unwrap_or(&Value::Null);
        let repository = text_field(request, &["repositoryName"])?
            .or(text_field(echoed, &["repositoryName"])?)
            .or(text_field(&event.response, &["repositoryName"])?)
            .filter(|name| !name.is_empty())
            .ok_or_else(|| Unreadable(format!("{call} without repositoryName")))?
            .to_owned();
        let mut change = EcrChange {
            repository,
            created: false,
            scan_on_push: None,
            tag_mutability: None,
            encryption: None,
            policy: None,
            registry_scanning: None,
        };
        match call {
            "CreateRepository" => {
                change.created = true;
                change.scan_on_push = Some(scan_on_push(echoed)?.or(scan_on_push(request)?).unwrap_or(false));
                let mutability =
                    text_field(echoed, &["imageTagMutability"])?.or(text_field(request, &["imageTagMutability"])?);
                change.tag_mutability = Some(mutability.map_or(TagMutability::Mutable, TagMutability::parse));
                change.encryption =
                    Some(encryption(echoed)?.or(encryption(request)?).unwrap_or_else(Encryption::aes256));
            }
            "PutImageScanningConfiguration" => {
                let scan = scan_on_push(request)?.or(scan_on_push(&event.response)?);
                change.scan_on_push = Some(scan.ok_or_else(|| Unreadable(format!("{call} without scanOnPush")))?);
            }
            "PutImageTagMutability" => {
                let mutability = text_field(request, &["imageTagMutability"])?
                    .or(text_field(&event.response, &["imageTagMutability"])?)
                    .ok_or_else(|| Unreadable(format!("{call} without imageTagMutability")))?;
                change.tag_mutability = Some(TagMutability::parse(mutability));
            }
            _ => {
                let text = text_field(request, &["policyText"])?
                    .or(text_field(&event.response, &["policyText"])?)
                    .ok_or_else(|| Unreadable(format!("{call} without policyText")))?;
                change.policy = Some(RepositoryPolicy::parse(text)?);
            }
        }
        Ok(Some(change))
    }
}

fn scan_on_push(value: &Value) -> Result<Option<bool>, Unreadable> {
    match field(value, &["imageScanningConfiguration"]) {
        None => Ok(None),
        Some((_, configuration)) if configuration.is_object() => bool_field(configuration, &["scanOnPush"]),
        Some((key, other)) => Err(Unreadable(format!("{key} is {other}, not an object"))),
    }
}

fn encryption(value: &Value) -> Result<Option<Encryption>, Unreadable> {
    let Some((key, configuration)) = field(value, &["encryptionConfiguration"]) else { return Ok(None) };
    if !configuration.is_object() {
        return Err(Unreadable(format!("{key} is {configuration}, not an object")));
    }
    let encryption_type = text_field(configuration, &["encryptionType"])?.unwrap_or("AES256").to_owned();
    let kms_key = text_field(configuration, &["kmsKey"])?.map(str::to_owned);
    Ok(Some(Encryption { encryption_type, kms_key }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(
        event_source: &str,
        event_name: &str,
        request: Value,
        response: Value,
    ) -> Result<Option<EcrChange>, Unreadable> {
        let record = json!({"eventSource": event_source, "eventName": event_name,
                            "requestParameters": request, "responseElements": response});
        EcrChange::from_event(&Event::from_value(&record).unwrap())
    }

    #[test]
    fn a_2018_create_with_only_a_name_gets_every_default() {
        let change = read(
            ECR_SOURCE,
            "CreateRepository",
            json!({"repositoryName": "testrepo"}),
            json!({"repository": {"repositoryName": "testrepo", "createdAt": "Jul 11, 2018 10:17:44 PM"}}),
        )
        .unwrap()
        .unwrap();
        assert!(change.created);
        assert_eq!(change.scan_on_push, Some(false));
        assert_eq!(change.tag_mutability, Some(TagMutability::Mutable));
        assert_eq!(change.encryption, Some(Encryption::aes256()));
        assert_eq!(change.registry_scanning, None);
    }

    #[test]
    fn codecommit_create_repository_is_not_ecrs() {
        assert_eq!(
            read("codecommit.amazonaws.com", "CreateRepository", json!({"repositoryName": "r"}), json!(null)).unwrap(),
            None
        );
        assert_eq!(read(ECR_SOURCE, "DeleteRepository", json!({"repositoryName": "r"}), json!(null)).unwrap(), None);
    }

    #[test]
    fn policies_keep_their_private_statements_and_lose_the_public_ones() {
        let policy = RepositoryPolicy::parse(&json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "public", "Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"},
            {"Sid": "listed", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::444455556666:root", "*"]}, "Action": ["ecr:GetDownloadUrlForLayer"]},
            {"Sid": "org", "Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage",
             "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}},
            {"Sid": "deny", "Effect": "Deny", "Principal": "*", "Action": "ecr:DeleteRepository"}
        ]}).to_string()).unwrap();
        let public: Vec<String> = policy.public_statements().into_iter().map(RepositoryPolicy::describe).collect();
        assert_eq!(public, ["statement public", "statement listed"]);
        let kept: Value = serde_json::from_str(&policy.without_public_statements().unwrap()).unwrap();
        let sids: Vec<&str> =
            kept["Statement"].as_array().unwrap().iter().map(|s| s["Sid"].as_str().unwrap()).collect();
        assert_eq!(sids, ["org", "deny"]);
        assert_eq!(kept["Version"], "2012-10-17");
        let only_public = RepositoryPolicy::parse(
            r#"{"Statement": {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "ecr:*"}}"#,
        )
        .unwrap();
        assert_eq!(only_public.without_public_statements(), None);
        assert_eq!(RepositoryPolicy::describe(only_public.public_statements()[0]), "a statement allowing ecr:*");
    }

    #[test]
    fn scanning_filters_match_as_ecr_documents() {
        // The ECR user guide's table: filters down, repositories across.
        let names = ["prod", "repo-prod", "prod-repo", "repo-prod-repo", "prodrepo"];
        for (filter, expected) in [
            ("prod", [true, true, true, true, true]),
            ("*prod", [true, true, false, false, false]),
            ("prod*", [true, false, true, false, true]),
            ("*prod*", [true, true, true, true, true]),
            ("prod*repo", [false, false, true, false, true]),
        ] {
            let matched: Vec<bool> = names.iter().map(|name| filter_matches(filter, name)).collect();
            assert_eq!(matched, expected, "{filter}");
        }
        assert!(!filter_matches("a*a", "a"));
        let basic = RegistryScanning::Basic {
            rules: vec![
                ScanningRule { scan_frequency: "SCAN_ON_PUSH".into(), filters: vec!["prod-*".into()] },
                ScanningRule { scan_frequency: "MANUAL".into(), filters: vec!["*".into()] },
            ],
        };
        assert!(basic.scans_on_push("prod-api"));
        assert!(!basic.scans_on_push("dev-api"));
        assert!(RegistryScanning::Enhanced.scans_on_push("dev-api"));
    }

    #[test]
    fn missing_names_wrong_types_and_policies_that_are_not_json_are_unreadable() {
        let cases = [
            ("CreateRepository", json!({}), "without repositoryName"),
            ("CreateRepository", json!({"repositoryName": "r", "imageScanningConfiguration": true}), "not an object"),
            (
                "CreateRepository",
                json!({"repositoryName": "r", "imageScanningConfiguration": {"scanOnPush": "often"}}),
                "not a boolean",
            ),
            (
                "CreateRepository",
                json!({"repositoryName": "r", "encryptionConfiguration": {"encryptionType": 256}}),
                "not a string",
            ),
            ("PutImageScanningConfiguration", json!({"repositoryName": "r"}), "without scanOnPush"),
            ("PutImageTagMutability", json!({"repositoryName": "r"}), "without imageTagMutability"),
            ("SetRepositoryPolicy", json!({"repositoryName": "r"}), "without policyText"),
            ("SetRepositoryPolicy", json!({"repositoryName": "r", "policyText": "{not json"}), "not JSON"),
            ("SetRepositoryPolicy", json!({"repositoryName": "r", "policyText": "[]"}), "not a policy document"),
            ("SetRepositoryPolicy", json!({"repositoryName": 7, "policyText": "{}"}), "not a string"),
        ];
        for (name, request, reason) in cases {
            let error = read(ECR_SOURCE, name, request.clone(), json!(null)).unwrap_err();
            assert!(error.0.contains(reason), "{name} {request}: {error}");
        }
    }
}
