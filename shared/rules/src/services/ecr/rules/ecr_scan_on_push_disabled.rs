//! `ecr-scan-on-push-disabled`: images pushed to a repository are not scanned for
//! vulnerabilities.
//!
//! Whether they are depends on the registry too: enhanced scanning, or a basic scan-on-push rule
//! whose filter matches the repository, scans them whatever the repository says. No record
//! carries the registry's configuration, so a change's finding is judged on the repository alone
//! (as the default registry, basic without rules, would) and confirmed by the look-up's
//! description, which carries it ([`REPOSITORY`](crate::services::ecr::REPOSITORY) is
//! `confirmed_by_look_up`); sweeps judge the description directly.

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::NO_OPTIONS;
use crate::registry::{Rule, RuleMeta};
use crate::services::ecr::{EcrAction, EcrChange, RepositoryState};

pub static RULE: Rule<EcrChange, RepositoryState> = Rule {
    meta: RuleMeta {
        id: "ecr-scan-on-push-disabled",
        title: "ECR repository not scanned on push",
        severity: Severity::Medium,
        default_mode: Mode::Remediate,
        rationale: "Images reach the cluster's nodes without a vulnerability scan: known-vulnerable images run \
                    unnoticed until someone looks.",
        manual_fix: "aws ecr put-image-scanning-configuration --repository-name <repository> \
                     --image-scanning-configuration scanOnPush=true, or a registry scan-on-push rule covering it",
        events: &[super::super::ecr("CreateRepository"), super::super::ecr("PutImageScanningConfiguration")],
        iam_actions: &[
            "ecr:DescribeRepositories",
            "ecr:ListTagsForResource",
            "ecr:GetRepositoryPolicy",
            "ecr:GetRegistryScanningConfiguration",
            "ecr:PutImageScanningConfiguration",
        ],
        options: NO_OPTIONS,
        changes_only: None,
    },
    check_change,
    // The repository as it is (with its registry's scanning), read as its creation.
    check_state: Some(|meta, repository, config| check_change(meta, &repository.as_change(), config)),
};

fn check_change(meta: &'static RuleMeta, change: &EcrChange, config: &Config) -> Option<Finding> {
    let repository = super::super::judged(change, config)?;
    if change.scan_on_push != Some(false) {
        return None;
    }
    if change.registry_scanning.as_ref().is_some_and(|registry| registry.scans_on_push(repository)) {
        return None;
    }
    // One wording for a creation, a change and a description, so a confirmed finding reads the same.
    let changed = "scan on push off, and no registry scanning covers the repository".to_owned();
    let action = EcrAction::EnableScanOnPush { repository: repository.to_owned() };
    Some(super::super::finding(meta, repository, changed, Some(action), None))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::confirm;
    use crate::services::ecr::{Encryption, RegistryScanning, RepositoryState, ScanningRule, TagMutability};
    use crate::services::test_support::*;
    use crate::Config;

    fn put(scan_on_push: serde_json::Value) -> serde_json::Value {
        ecr(
            "PutImageScanningConfiguration",
            json!({"repositoryName": "shop/web", "imageScanningConfiguration": {"scanOnPush": scan_on_push}}),
            json!({"registryId": "111122223333", "repositoryName": "shop/web", "imageScanningConfiguration": {"scanOnPush": scan_on_push}}),
        )
    }

    fn repository(scan_on_push: bool, registry_scanning: RegistryScanning) -> RepositoryState {
        RepositoryState {
            name: "shop/web".into(),
            scan_on_push,
            tag_mutability: TagMutability::Immutable,
            encryption: Encryption {
                encryption_type: "KMS".into(),
                kms_key: Some("arn:aws:kms:us-east-1:111122223333:key/k".into()),
            },
            policy: None,
            tags: Default::default(),
            registry_scanning,
        }
    }

    #[test]
    fn turning_scan_on_push_off_is_restored_and_on_is_not_a_finding() {
        let found = findings(&put(json!(false)), &Config::default());
        assert_eq!(plans(&found), ["ecr-scan-on-push-disabled shop/web: turn scan on push on for repository shop/web"]);
        assert_eq!(found[0].changed, ["scan on push off, and no registry scanning covers the repository"]);
        assert!(findings(&put(json!(true)), &Config::default()).is_empty());
    }

    #[test]
    fn a_registry_that_scans_the_repository_anyway_drops_the_finding() {
        let config = Config::default();
        let found = findings(&put(json!(false)), &config);
        let basic = RegistryScanning::Basic { rules: vec![] };
        let covering = RegistryScanning::Basic {
            rules: vec![ScanningRule { scan_frequency: "SCAN_ON_PUSH".into(), filters: vec!["shop/*".into()] }],
        };
        assert_eq!(confirm(&found[0], &repository(false, basic.clone()), &config).as_ref(), Some(&found[0]));
        assert_eq!(confirm(&found[0], &repository(false, covering.clone()), &config), None);
        assert_eq!(confirm(&found[0], &repository(false, RegistryScanning::Enhanced), &config), None);
        assert_eq!(confirm(&found[0], &repository(true, basic.clone()), &config), None);
        assert_eq!(rule_ids(&state_findings(&repository(false, basic), &config)), ["ecr-scan-on-push-disabled"]);
        assert!(state_findings(&repository(false, covering), &config).is_empty());
    }

    #[test]
    fn repositories_outside_ecr_repository_prefixes_are_not_judged() {
        let config = Config::from_json(r#"{"ecr_repository_prefixes": ["prod/"]}"#).unwrap();
        assert!(findings(&put(json!(false)), &config).is_empty());
        let config = Config::from_json(r#"{"ecr_repository_prefixes": ["shop/"]}"#).unwrap();
        assert_eq!(rule_ids(&findings(&put(json!(false)), &config)), ["ecr-scan-on-push-disabled"]);
    }

    #[test]
    fn a_flag_that_is_not_a_boolean_is_unreadable() {
        assert!(unreadable(&put(json!("no"))).unwrap().contains("scanOnPush"));
    }
}
