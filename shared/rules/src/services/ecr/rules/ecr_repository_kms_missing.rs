//! `ecr-repository-kms-missing`: a repository created without a KMS key of the account's own.

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::NO_OPTIONS;
use crate::registry::{Rule, RuleMeta};
use crate::services::ecr::{EcrChange, RepositoryState};

pub static RULE: Rule<EcrChange, RepositoryState> = Rule {
    meta: RuleMeta {
        id: "ecr-repository-kms-missing",
        title: "ECR repository not encrypted with a KMS key",
        severity: Severity::Low,
        default_mode: Mode::Off,
        rationale: "AES256 (the default) encrypts at rest with keys only AWS controls: no key policy of yours, no \
                    audit of each use, no revoking. Off by default: many registries are fine with it.",
        manual_fix: "The encryption of a repository cannot change after it is created: create a repository with \
                     --encryption-configuration encryptionType=KMS, push the images to it and delete this one.",
        events: &[super::super::ecr("CreateRepository")],
        // The look-up describes the whole repository, policy and registry scanning included.
        iam_actions: &[
            "ecr:DescribeRepositories",
            "ecr:ListTagsForResource",
            "ecr:GetRepositoryPolicy",
            "ecr:GetRegistryScanningConfiguration",
        ],
        options: NO_OPTIONS,
        changes_only: None,
    },
    check_change,
    // The repository as it is, read as its creation.
    check_state: Some(|meta, repository, config| check_change(meta, &repository.as_change(), config)),
};

fn check_change(meta: &'static RuleMeta, change: &EcrChange, config: &Config) -> Option<Finding> {
    let repository = super::super::judged(change, config)?;
    let encryption = change.encryption.as_ref().filter(|encryption| !encryption.uses_kms())?;
    let changed = format!("encrypted with {}, not a KMS key", encryption.encryption_type);
    let manual = format!("{} (repository {repository})", meta.manual_fix);
    Some(super::super::finding(meta, repository, changed, None, Some(manual)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::ecr::{Encryption, RegistryScanning, RepositoryState, TagMutability};
    use crate::services::test_support::*;
    use crate::{Config, Mode};

    fn on() -> Config {
        Config::from_json(r#"{"rules": {"ecr-repository-kms-missing": {"mode": "notify"}}}"#).unwrap()
    }

    fn create(encryption: Option<serde_json::Value>) -> serde_json::Value {
        let mut request = json!({"repositoryName": "shop/web", "imageTagMutability": "IMMUTABLE",
                                 "imageScanningConfiguration": {"scanOnPush": true}});
        if let Some(encryption) = encryption {
            request["encryptionConfiguration"] = encryption;
        }
        ecr("CreateRepository", request, json!({"repository": {"repositoryName": "shop/web"}}))
    }

    #[test]
    fn off_by_default_and_when_on_reports_aes256_with_the_fix_by_hand() {
        assert_eq!(Config::default().mode("ecr-repository-kms-missing"), Mode::Off);
        assert!(findings(&create(None), &Config::default()).is_empty());
        let found = findings(&create(None), &on());
        assert_eq!(found[0].changed, ["encrypted with AES256, not a KMS key"]);
        assert!(found[0].plan.actions.is_empty());
        assert!(found[0].plan.manual.as_deref().unwrap().ends_with("(repository shop/web)"));
        let kms = create(Some(json!({"encryptionType": "KMS", "kmsKey": "arn:aws:kms:us-east-1:111122223333:key/k"})));
        assert!(findings(&kms, &on()).is_empty());
        assert!(findings(&create(Some(json!({"encryptionType": "KMS_DSSE"}))), &on()).is_empty());
    }

    #[test]
    fn a_repository_encrypted_with_aes256_is_reported_as_it_is() {
        let state = RepositoryState {
            name: "shop/web".into(),
            scan_on_push: true,
            tag_mutability: TagMutability::Immutable,
            encryption: Encryption::aes256(),
            policy: None,
            tags: Default::default(),
            registry_scanning: RegistryScanning::Basic { rules: vec![] },
        };
        assert_eq!(plans(&state_findings(&state, &on())), plans(&findings(&create(None), &on())));
    }

    #[test]
    fn an_encryption_configuration_that_is_not_an_object_is_unreadable() {
        assert!(unreadable(&create(Some(json!("KMS")))).unwrap().contains("encryptionConfiguration"));
    }
}
