//! `eks-cluster-admin-access-entry`: cluster-wide admin granted through an EKS access entry to a
//! principal outside the allow-list.

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use serde::{Deserialize, Serialize};

use crate::options::{read, OptionDoc, OptionsSpec};
use crate::registry::{EventKey, Rule, RuleMeta};
use crate::services::eks::EksAction as Action;
use crate::services::eks::{AccessPolicyAssociation, EksChange, EksState};

/// Access policies that make a principal admin of the whole cluster.
pub const ADMIN_POLICIES: &[&str] = &["AmazonEKSClusterAdminPolicy", "AmazonEKSAdminPolicy"];

pub static RULE: Rule<EksChange, EksState> = Rule {
    meta: RuleMeta {
        id: "eks-cluster-admin-access-entry",
        title: "Cluster admin granted through an EKS access entry",
        severity: Severity::Critical,
        default_mode: Mode::Notify,
        rationale: "An access entry with a cluster-scoped admin policy gives an IAM principal full control of \
                    every namespace, secret and workload: a quiet path to persistence and lateral movement.",
        manual_fix: "aws eks disassociate-access-policy --cluster-name <cluster> --principal-arn <principal> --policy-arn <policy>, \
                     or add the principal to the rule's allowed_principals",
        events: &[EventKey { source: super::super::EKS_SOURCE, name: "AssociateAccessPolicy" }],
        iam_actions: &[
            "eks:DescribeCluster",
            "eks:ListAccessEntries",
            "eks:ListAssociatedAccessPolicies",
            "eks:DisassociateAccessPolicy",
        ],
        options: OptionsSpec {
            docs: &[OptionDoc {
                name: "allowed_principals",
                description: "IAM principal ARNs that may hold cluster-admin access policies",
            }],
            defaults: || Box::new(AdminOptions::default()),
            read: read::<AdminOptions>,
        },
        changes_only: None,
    },
    check_change,
    // The resource as it is, read as the change that made it so.
    check_state: Some(|meta, resource, config| check_change(meta, &resource.as_change(), config)),
};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminOptions {
    pub allowed_principals: Vec<String>,
}

fn check_change(meta: &'static RuleMeta, change: &EksChange, config: &Config) -> Option<Finding> {
    let EksChange::AccessPolicy(AccessPolicyAssociation { cluster, principal_arn, policy_arn, scope }) = change else {
        return None;
    };
    let policy = policy_arn.rsplit('/').next().unwrap_or_default();
    if scope != "cluster" || !ADMIN_POLICIES.contains(&policy) {
        return None;
    }
    if config.options::<AdminOptions>(meta).allowed_principals.iter().any(|allowed| allowed == principal_arn) {
        return None;
    }
    let changed = format!("{policy} associated at cluster scope with {principal_arn}");
    let action = Action::DisassociateAccessPolicy {
        cluster: cluster.clone(),
        principal_arn: principal_arn.clone(),
        policy_arn: policy_arn.clone(),
    };
    Some(super::super::cluster_finding(meta, cluster, changed, action))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::test_support::*;
    use crate::Config;

    fn associate(policy: &str, scope: &str) -> serde_json::Value {
        eks(
            "AssociateAccessPolicy",
            json!({"name": "prod", "principalArn": "arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fintruder",
                   "policyArn": format!("arn:aws:eks::aws:cluster-access-policy/{policy}"), "accessScope": {"type": scope}}),
            json!({}),
        )
    }

    #[test]
    fn cluster_scoped_admin_for_an_unlisted_principal_is_caught() {
        let found = findings(&associate("AmazonEKSClusterAdminPolicy", "cluster"), &Config::default());
        assert_eq!(rule_ids(&found), ["eks-cluster-admin-access-entry"]);
        assert_eq!(
            found[0].plan.actions[0].describe(),
            "disassociate AmazonEKSClusterAdminPolicy from arn:aws:iam::111122223333:role/intruder on cluster prod"
        );
        assert!(findings(&associate("AmazonEKSAdminPolicy", "namespace"), &Config::default()).is_empty());
        assert!(findings(&associate("AmazonEKSViewPolicy", "cluster"), &Config::default()).is_empty());
        let allowed = Config::from_json(
            r#"{"rules": {"eks-cluster-admin-access-entry": {"allowed_principals": ["arn:aws:iam::111122223333:role/intruder"]}}}"#,
        )
        .unwrap();
        assert!(findings(&associate("AmazonEKSAdminPolicy", "cluster"), &allowed).is_empty());
    }
}
