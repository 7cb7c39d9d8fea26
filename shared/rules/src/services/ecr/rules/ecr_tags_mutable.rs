//! `ecr-tags-mutable`: a repository whose image tags can be overwritten.

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::NO_OPTIONS;
use crate::registry::{Rule, RuleMeta};
use crate::services::ecr::{EcrAction, EcrChange, RepositoryState};

pub static RULE: Rule<EcrChange, RepositoryState> = Rule {
    meta: RuleMeta {
        id: "ecr-tags-mutable",
        title: "ECR repository tags mutable",
        severity: Severity::Medium,
        default_mode: Mode::Notify,
        rationale: "Anyone who can push can replace the image behind a tag the cluster already deploys: the next \
                    pod start runs it, and the manifest still looks the same.",
        manual_fix:
            "aws ecr put-image-tag-mutability --repository-name <repository> --image-tag-mutability IMMUTABLE, \
                     and deploy by digest",
        events: &[super::super::ecr("CreateRepository"), super::super::ecr("PutImageTagMutability")],
        // The look-up describes the whole repository, policy and registry scanning included.
        iam_actions: &[
            "ecr:DescribeRepositories",
            "ecr:ListTagsForResource",
            "ecr:GetRepositoryPolicy",
            "ecr:GetRegistryScanningConfiguration",
            "ecr:PutImageTagMutability",
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
    let mutability = change.tag_mutability.as_ref().filter(|mutability| mutability.is_mutable())?;
    let changed = format!("image tags mutable ({})", mutability.as_str());
    let action = EcrAction::MakeTagsImmutable { repository: repository.to_owned() };
    Some(super::super::finding(meta, repository, changed, Some(action), None))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::ecr::{Encryption, RegistryScanning, RepositoryState, TagMutability};
    use crate::services::test_support::*;
    use crate::Config;

    fn put(mutability: serde_json::Value) -> serde_json::Value {
        ecr("PutImageTagMutability", json!({"repositoryName": "shop/web", "imageTagMutability": mutability}), json!({}))
    }

    #[test]
    fn mutable_tags_are_reported_with_the_restore_and_immutable_ones_are_not() {
        for mutability in ["MUTABLE", "MUTABLE_WITH_EXCLUSION"] {
            let found = findings(&put(json!(mutability)), &Config::default());
            assert_eq!(plans(&found), ["ecr-tags-mutable shop/web: make the tags of repository shop/web immutable"]);
            assert_eq!(found[0].changed, [format!("image tags mutable ({mutability})")]);
        }
        for mutability in ["IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"] {
            assert!(findings(&put(json!(mutability)), &Config::default()).is_empty(), "{mutability}");
        }
    }

    #[test]
    fn a_mutable_repository_gets_the_verdict_of_its_creation() {
        let state = RepositoryState {
            name: "shop/web".into(),
            scan_on_push: true,
            tag_mutability: TagMutability::Mutable,
            encryption: Encryption::aes256(),
            policy: None,
            tags: Default::default(),
            registry_scanning: RegistryScanning::Enhanced,
        };
        let created = findings(
            &ecr(
                "CreateRepository",
                json!({"repositoryName": "shop/web",
            "imageScanningConfiguration": {"scanOnPush": true}}),
                json!({}),
            ),
            &Config::default(),
        );
        assert_eq!(plans(&state_findings(&state, &Config::default())), plans(&created));
    }

    #[test]
    fn a_mutability_that_is_not_text_is_unreadable() {
        assert!(unreadable(&put(json!(false))).unwrap().contains("imageTagMutability"));
        assert!(unreadable(&put(json!(null))).unwrap().contains("without imageTagMutability"));
    }
}
