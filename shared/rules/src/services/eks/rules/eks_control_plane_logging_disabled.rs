//! `eks-control-plane-logging-disabled`: a required control-plane log type off.

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use serde::{Deserialize, Serialize};

use crate::options::{read, OptionDoc, OptionsSpec};
use crate::registry::{Rule, RuleMeta};
use crate::services::eks::EksAction as Action;
use crate::services::eks::{EksChange, EksState};

pub static RULE: Rule<EksChange, EksState> = Rule {
    meta: RuleMeta {
        id: "eks-control-plane-logging-disabled",
        title: "EKS control-plane logging disabled",
        severity: Severity::Medium,
        default_mode: Mode::Remediate,
        rationale: "Without the audit and authenticator logs there is no record of who did what in the cluster; \
                    turning them off is also a classic first step of an intruder.",
        manual_fix: "aws eks update-cluster-config --name <cluster> --logging \
                     '{\"clusterLogging\":[{\"types\":[\"api\",\"audit\",\"authenticator\",\"controllerManager\",\"scheduler\"],\"enabled\":true}]}'",
        events: super::super::CLUSTER_CONFIG_EVENTS,
        iam_actions: super::super::UPDATE_CONFIG_ACTIONS,
        options: OptionsSpec {
            docs: &[OptionDoc { name: "required_types", description: "control-plane log types that must stay on" }],
            defaults: || {
                let all = ["api", "audit", "authenticator", "controllerManager", "scheduler"];
                Box::new(LoggingOptions { required_types: all.map(str::to_owned).to_vec() })
            },
            read: read::<LoggingOptions>,
        },
        changes_only: None,
    },
    check_change,
    // The resource as it is, read as the change that made it so.
    check_state: Some(|meta, resource, config| check_change(meta, &resource.as_change(), config)),
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggingOptions {
    pub required_types: Vec<String>,
}

fn check_change(meta: &'static RuleMeta, change: &EksChange, config: &Config) -> Option<Finding> {
    let EksChange::Cluster { cluster, logging: Some(logging), .. } = change else { return None };
    let required = &config.options::<LoggingOptions>(meta).required_types;
    // A create leaves every type not enabled off; an update only changes the types it names.
    let off: Vec<String> = required
        .iter()
        .filter(
            |kind| if logging.complete { !logging.enabled.contains(*kind) } else { logging.disabled.contains(*kind) },
        )
        .cloned()
        .collect();
    if off.is_empty() {
        return None;
    }
    let changed = format!("control-plane logging off for {}", off.join(", "));
    Some(super::super::cluster_finding(
        meta,
        cluster,
        changed,
        Action::EnableLogging { cluster: cluster.clone(), types: off },
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::test_support::*;
    use crate::Config;

    #[test]
    fn the_console_two_entry_list_counts_only_enabled_entries() {
        let record = eks(
            "CreateCluster",
            json!({"name": "prod", "resourcesVpcConfig": {"endpointPublicAccess": false, "endpointPrivateAccess": true},
                   "logging": {"clusterLogging": [{"enabled": true, "types": ["api", "audit"]},
                                                  {"enabled": false, "types": ["authenticator", "controllerManager", "scheduler"]}]},
                   "encryptionConfig": [{"resources": ["secrets"], "provider": {"keyArn": "k"}}]}),
            json!({}),
        );
        let found = findings(&record, &Config::default());
        assert_eq!(rule_ids(&found), ["eks-control-plane-logging-disabled"]);
        assert_eq!(found[0].changed, ["control-plane logging off for authenticator, controllerManager, scheduler"]);
    }

    #[test]
    fn an_update_judges_only_the_types_it_turns_off() {
        let record = eks(
            "UpdateClusterConfig",
            json!({"name": "prod", "logging": {"clusterLogging": [{"types": ["audit"], "enabled": false}]}}),
            json!({"update": {"type": "LoggingUpdate", "params": [{"type": "ClusterLogging",
                "value": "{\"clusterLogging\":[{\"types\":[\"audit\"],\"enabled\":false}]}"}]}}),
        );
        let found = findings(&record, &Config::default());
        assert_eq!(found[0].plan.actions[0].describe(), "enable control-plane logging audit on cluster prod");
        let turned_on = eks(
            "UpdateClusterConfig",
            json!({"name": "prod", "logging": {"clusterLogging": [{"types": ["audit"], "enabled": true}]}}),
            json!({}),
        );
        assert!(findings(&turned_on, &Config::default()).is_empty());
    }
}
