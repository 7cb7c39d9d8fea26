//! `eks-secrets-encryption-missing`: a cluster created without envelope encryption of secrets.

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use serde::{Deserialize, Serialize};

use crate::options::{read, OptionDoc, OptionsSpec};
use crate::registry::{Rule, RuleMeta};
use crate::services::eks::EksAction as Action;
use crate::services::eks::{EksChange, EksState};

pub static RULE: Rule<EksChange, EksState> = Rule {
    meta: RuleMeta {
        id: "eks-secrets-encryption-missing",
        title: "EKS cluster created without secrets encryption",
        severity: Severity::Medium,
        default_mode: Mode::Notify,
        rationale: "Kubernetes secrets are then protected only by EBS-level encryption in etcd; envelope \
                    encryption with your KMS key adds a key you control, audit and can revoke.",
        manual_fix: "aws eks associate-encryption-config --cluster-name <cluster> --encryption-config \
                     '[{\"resources\":[\"secrets\"],\"provider\":{\"keyArn\":\"<KMS key ARN>\"}}]' (it cannot be undone)",
        events: &[crate::registry::EventKey { source: super::super::EKS_SOURCE, name: "CreateCluster" }],
        iam_actions: &["eks:DescribeCluster", "eks:AssociateEncryptionConfig", "kms:DescribeKey", "kms:CreateGrant"],
        options: OptionsSpec {
            docs: &[OptionDoc {
                name: "kms_key_arn",
                description: "when set (and the rule remediates), AssociateEncryptionConfig with this key; otherwise alert with the fix",
            }],
            defaults: || Box::new(EncryptionOptions::default()),
            read: read::<EncryptionOptions>,
        },
        changes_only: None,
    },
    check_change,
    // The resource as it is, read as the change that made it so.
    check_state: Some(|meta, resource, config| check_change(meta, &resource.as_change(), config)),
};

/// `kms_key_arn` empty: alert with the fix instead of encrypting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptionOptions {
    pub kms_key_arn: String,
}

fn check_change(meta: &'static RuleMeta, change: &EksChange, config: &Config) -> Option<Finding> {
    let EksChange::Cluster { cluster, secrets_encrypted: Some(false), .. } = change else { return None };
    let changed = "cluster created without a secrets encryption config".to_owned();
    let key_arn = config.options::<EncryptionOptions>(meta).kms_key_arn.as_str();
    if key_arn.is_empty() {
        let manual = meta.manual_fix.replace("<cluster>", cluster);
        return Some(super::super::manual_finding(meta, cluster, changed, manual));
    }
    let action = Action::AssociateEncryptionConfig { cluster: cluster.clone(), key_arn: key_arn.to_owned() };
    Some(super::super::cluster_finding(meta, cluster, changed, action))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::test_support::*;
    use crate::Config;

    fn created_without_encryption() -> serde_json::Value {
        eks(
            "CreateCluster",
            json!({"name": "prod", "resourcesVpcConfig": {"endpointPublicAccess": false, "endpointPrivateAccess": true},
                   "logging": {"clusterLogging": [{"enabled": true, "types": ["api", "audit", "authenticator", "controllerManager", "scheduler"]}]}}),
            json!({"cluster": {"name": "prod", "status": "CREATING"}}),
        )
    }

    #[test]
    fn without_a_key_the_alert_carries_the_exact_fix() {
        let found = findings(&created_without_encryption(), &Config::default());
        assert_eq!(rule_ids(&found), ["eks-secrets-encryption-missing"]);
        assert!(found[0].plan.actions.is_empty());
        assert!(found[0].plan.manual.as_deref().unwrap().contains("--cluster-name prod"));
    }

    #[test]
    fn with_a_configured_key_the_plan_associates_it() {
        let config = Config::from_json(r#"{"rules": {"eks-secrets-encryption-missing": {"kms_key_arn": "arn:aws:kms:us-east-1:111122223333:key/k"}}}"#).unwrap();
        let found = findings(&created_without_encryption(), &config);
        assert_eq!(
            found[0].plan.actions[0].describe(),
            "encrypt secrets of cluster prod with arn:aws:kms:us-east-1:111122223333:key/k"
        );
    }
}
