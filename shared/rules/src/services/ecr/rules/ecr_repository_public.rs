//! `ecr-repository-public`: a repository policy that lets anyone in.

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::NO_OPTIONS;
use crate::registry::{Rule, RuleMeta};
use crate::services::ecr::{EcrAction, EcrChange, RepositoryPolicy, RepositoryState};

pub static RULE: Rule<EcrChange, RepositoryState> = Rule {
    meta: RuleMeta {
        id: "ecr-repository-public",
        title: "ECR repository policy allows anyone",
        severity: Severity::High,
        default_mode: Mode::Notify,
        rationale: "A statement for principal * without a condition opens the repository to every AWS account: \
                    images (and the secrets baked into them) can be pulled, and with push actions replaced.",
        manual_fix: "Remove the statements for principal * (or limit them with a condition such as \
                     aws:PrincipalOrgID): aws ecr set-repository-policy, or aws ecr delete-repository-policy",
        events: &[super::super::ecr("SetRepositoryPolicy")],
        iam_actions: &[
            "ecr:DescribeRepositories",
            "ecr:ListTagsForResource",
            "ecr:GetRepositoryPolicy",
            "ecr:GetRegistryScanningConfiguration",
            "ecr:SetRepositoryPolicy",
            "ecr:DeleteRepositoryPolicy",
        ],
        options: NO_OPTIONS,
        changes_only: None,
    },
    check_change,
    // The repository as it is, read as the call that set its policy.
    check_state: Some(|meta, repository, config| check_change(meta, &repository.as_change(), config)),
};

fn check_change(meta: &'static RuleMeta, change: &EcrChange, config: &Config) -> Option<Finding> {
    let repository = super::super::judged(change, config)?;
    let policy = change.policy.as_ref()?;
    let public = policy.public_statements();
    if public.is_empty() {
        return None;
    }
    let described: Vec<String> = public.into_iter().map(RepositoryPolicy::describe).collect();
    let changed = format!("policy lets anyone (principal *, no condition) in: {}", described.join(", "));
    let repository_name = repository.to_owned();
    let action = match policy.without_public_statements() {
        Some(policy_text) => EcrAction::SetRepositoryPolicy { repository: repository_name, policy_text },
        None => EcrAction::DeleteRepositoryPolicy { repository: repository_name },
    };
    Some(super::super::finding(meta, repository, changed, Some(action), None))
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::services::ecr::{
        EcrAction, Encryption, RegistryScanning, RepositoryPolicy, RepositoryState, TagMutability,
    };
    use crate::services::test_support::*;
    use crate::Config;

    fn set(statements: Value) -> Value {
        let text = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
        ecr(
            "SetRepositoryPolicy",
            json!({"repositoryName": "shop/web", "policyText": text, "force": false}),
            json!({"registryId": "111122223333", "repositoryName": "shop/web", "policyText": text}),
        )
    }

    fn pull(sid: &str, principal: Value) -> Value {
        json!({"Sid": sid, "Effect": "Allow", "Principal": principal, "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]})
    }

    #[test]
    fn public_statements_are_removed_and_the_rest_kept() {
        let record =
            set(json!([pull("public", json!("*")), pull("partner", json!({"AWS": "arn:aws:iam::444455556666:root"}))]));
        let found = findings(&record, &Config::default());
        assert_eq!(found[0].changed, ["policy lets anyone (principal *, no condition) in: statement public"]);
        let Some(EcrAction::SetRepositoryPolicy { policy_text, .. }) = found[0].plan.actions[0].downcast::<EcrAction>()
        else {
            panic!("{:?}", found[0].plan)
        };
        let kept: Value = serde_json::from_str(policy_text).unwrap();
        assert_eq!(kept["Statement"], json!([pull("partner", json!({"AWS": "arn:aws:iam::444455556666:root"}))]));
    }

    #[test]
    fn a_policy_of_public_statements_only_is_deleted() {
        let found = findings(&set(json!(pull("", json!({"AWS": ["*"]})))), &Config::default());
        assert_eq!(
            plans(&found),
            ["ecr-repository-public shop/web: delete the policy of repository shop/web (only public statements)"]
        );
    }

    #[test]
    fn conditions_deny_statements_and_named_principals_are_not_public() {
        let mut conditioned = pull("org", json!("*"));
        conditioned["Condition"] = json!({"StringEquals": {"aws:PrincipalOrgID": "o-abc"}});
        let deny = json!({"Effect": "Deny", "Principal": "*", "Action": "ecr:*"});
        let named = pull("partner", json!({"AWS": "arn:aws:iam::444455556666:root"}));
        assert!(findings(&set(json!([conditioned, deny, named])), &Config::default()).is_empty());
    }

    #[test]
    fn a_public_policy_as_described_gets_the_verdict_of_the_call_that_set_it() {
        let statements = json!([pull("public", json!("*"))]);
        let text = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
        let state = RepositoryState {
            name: "shop/web".into(),
            scan_on_push: true,
            tag_mutability: TagMutability::Immutable,
            encryption: Encryption::aes256(),
            policy: Some(RepositoryPolicy::parse(&text).unwrap()),
            tags: Default::default(),
            registry_scanning: RegistryScanning::Enhanced,
        };
        let config = Config::from_json(r#"{"rules": {"ecr-repository-kms-missing": {"mode": "off"}}}"#).unwrap();
        assert_eq!(plans(&state_findings(&state, &config)), plans(&findings(&set(statements), &config)));
        let private = RepositoryState { policy: None, ..state };
        assert!(state_findings(&private, &config).is_empty());
    }

    #[test]
    fn a_policy_text_that_is_not_json_is_unreadable() {
        let record = ecr(
            "SetRepositoryPolicy",
            json!({"repositoryName": "shop/web", "policyText": "{\"Statement\": ["}),
            json!(null),
        );
        assert!(unreadable(&record).unwrap().contains("policyText is not JSON"));
    }
}
