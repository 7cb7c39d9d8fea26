//! `eks-public-endpoint-open-cidr`: the public endpoint open to every address.

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::NO_OPTIONS;
use crate::registry::{Rule, RuleMeta};
use crate::services::eks::{EksChange, EksState};
use crate::services::security_groups::is_world_cidr;

pub static RULE: Rule<EksChange, EksState> = Rule {
    meta: RuleMeta {
        id: "eks-public-endpoint-open-cidr",
        title: "EKS public endpoint open to 0.0.0.0/0",
        severity: Severity::High,
        default_mode: Mode::Remediate,
        rationale: "With no CIDR list (the API default) or a /0 in it, the API server answers the whole internet; \
                    a public endpoint should at least be limited to known address ranges.",
        manual_fix: "aws eks update-cluster-config --name <cluster> --resources-vpc-config \
                     endpointPublicAccess=false,endpointPrivateAccess=true, or publicAccessCidrs=<your ranges>",
        events: super::super::CLUSTER_CONFIG_EVENTS,
        iam_actions: super::super::UPDATE_CONFIG_ACTIONS,
        options: NO_OPTIONS,
        changes_only: None,
    },
    check_change,
    // The resource as it is, read as the change that made it so.
    check_state: Some(|meta, resource, config| check_change(meta, &resource.as_change(), config)),
};

fn check_change(meta: &'static RuleMeta, change: &EksChange, config: &Config) -> Option<Finding> {
    let (cluster, endpoint) = super::super::cluster_endpoint(change)?;
    if endpoint.public != Some(true) {
        return None;
    }
    // An update that does not say which CIDRs apply leaves them unknown: not judged.
    let cidrs = endpoint.public_cidrs.as_ref()?;
    let open: Vec<&String> = cidrs.iter().filter(|cidr| is_world_cidr(cidr)).collect();
    let changed = match (cidrs.is_empty(), open.is_empty()) {
        (true, _) => "public endpoint on with no CIDR list (open to the internet)".to_owned(),
        (false, false) => {
            format!("public endpoint open to {}", open.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", "))
        }
        (false, true) => return None,
    };
    Some(super::super::cluster_finding(meta, cluster, changed, super::super::endpoint_posture(cluster, config)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::test_support::*;
    use crate::Config;

    #[test]
    fn a_console_create_with_the_default_cidr_is_caught_together_with_the_public_endpoint() {
        let record = eks(
            "CreateCluster",
            json!({"name": "prod", "resourcesVpcConfig": {"subnetIds": ["subnet-1"], "endpointPublicAccess": true,
                   "endpointPrivateAccess": true, "publicAccessCidrs": ["0.0.0.0/0"]},
                   "logging": {"clusterLogging": [{"enabled": true, "types": ["api", "audit", "authenticator", "controllerManager", "scheduler"]}]},
                   "encryptionConfig": [{"resources": ["secrets"], "provider": {"keyArn": "arn:aws:kms:us-east-1:111122223333:key/k"}}]}),
            json!({"cluster": {"name": "prod", "status": "CREATING"}}),
        );
        assert_eq!(
            rule_ids(&findings(&record, &Config::default())),
            ["eks-public-endpoint", "eks-public-endpoint-open-cidr"]
        );
    }
}
