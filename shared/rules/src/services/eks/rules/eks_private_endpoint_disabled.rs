//! `eks-private-endpoint-disabled`: the private endpoint switched off.

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::NO_OPTIONS;
use crate::registry::{Rule, RuleMeta};
use crate::services::eks::{EksAction as Action, EndpointAccess};
use crate::services::eks::{EksChange, EksState};

pub static RULE: Rule<EksChange, EksState> = Rule {
    meta: RuleMeta {
        id: "eks-private-endpoint-disabled",
        title: "EKS private endpoint disabled",
        severity: Severity::Medium,
        default_mode: Mode::Remediate,
        rationale: "Without the private endpoint, nodes and in-VPC tools reach the API server over the public \
                    endpoint, which then has to stay open to them.",
        manual_fix: "aws eks update-cluster-config --name <cluster> --resources-vpc-config endpointPrivateAccess=true",
        events: super::super::CLUSTER_CONFIG_EVENTS,
        iam_actions: super::super::UPDATE_CONFIG_ACTIONS,
        options: NO_OPTIONS,
        changes_only: None,
    },
    check_change,
    // The resource as it is, read as the change that made it so.
    check_state: Some(|meta, resource, config| check_change(meta, &resource.as_change(), config)),
};

fn check_change(meta: &'static RuleMeta, change: &EksChange, _config: &Config) -> Option<Finding> {
    let (cluster, endpoint) = super::super::cluster_endpoint(change)?;
    if endpoint.private != Some(false) {
        return None;
    }
    let access = EndpointAccess { private: Some(true), public: None, public_cidrs: None };
    let action = Action::UpdateEndpointAccess { cluster: cluster.to_owned(), access };
    Some(super::super::cluster_finding(meta, cluster, "private endpoint off".to_owned(), action))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::test_support::*;
    use crate::Config;

    #[test]
    fn switching_the_private_endpoint_off_is_caught_and_its_plan_merges_with_the_posture() {
        let record = eks(
            "UpdateClusterConfig",
            json!({"name": "prod", "resourcesVpcConfig": {"endpointPrivateAccess": false, "endpointPublicAccess": true}}),
            json!({}),
        );
        let found = findings(&record, &Config::default());
        assert_eq!(rule_ids(&found), ["eks-public-endpoint", "eks-private-endpoint-disabled"]);
        let mut merged = found[1].plan.actions[0].clone();
        assert!(merged.absorb(&found[0].plan.actions[0]));
        assert_eq!(merged.describe(), "set private endpoint on, public endpoint off for cluster prod");
    }
}
