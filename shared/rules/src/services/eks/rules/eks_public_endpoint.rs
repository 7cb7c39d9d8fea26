//! `eks-public-endpoint`: the API endpoint reachable from the internet outside the configured
//! posture (private only, or public limited to `public_access_cidrs`).

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::{read, Cidr, OptionDoc, OptionsSpec};
use crate::registry::{Rule, RuleMeta};
use crate::services::eks::{EksChange, EksState};

pub static RULE: Rule<EksChange, EksState> = Rule {
    meta: RuleMeta {
        id: "eks-public-endpoint",
        title: "EKS API endpoint public",
        severity: Severity::High,
        default_mode: Mode::Remediate,
        rationale: "A public API endpoint puts the cluster's front door on the internet: every leaked kubeconfig, \
                    token or API-server vulnerability becomes reachable from anywhere.",
        manual_fix: "aws eks update-cluster-config --name <cluster> --resources-vpc-config \
                     endpointPrivateAccess=true,endpointPublicAccess=false (or publicAccessCidrs limited to your ranges)",
        events: super::super::CLUSTER_CONFIG_EVENTS,
        iam_actions: super::super::UPDATE_CONFIG_ACTIONS,
        options: OptionsSpec {
            docs: &[OptionDoc {
                name: "public_access_cidrs",
                description: "CIDRs the public endpoint may serve; empty means the posture is private only",
            }],
            defaults: || Box::new(PublicEndpointOptions::default()),
            read: read::<PublicEndpointOptions>,
        },
        changes_only: None,
    },
    check_change,
    // The resource as it is, read as the change that made it so.
    check_state: Some(|meta, resource, config| check_change(meta, &resource.as_change(), config)),
};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicEndpointOptions {
    pub public_access_cidrs: Vec<Cidr>,
}

fn check_change(meta: &'static RuleMeta, change: &EksChange, config: &Config) -> Option<Finding> {
    let (cluster, endpoint) = super::super::cluster_endpoint(change)?;
    if endpoint.public != Some(true) {
        return None;
    }
    let allowed: Vec<IpNet> =
        config.options::<PublicEndpointOptions>(meta).public_access_cidrs.iter().map(|cidr| *cidr.net()).collect();
    let cidrs = endpoint.public_cidrs.as_deref();
    let within_posture = !allowed.is_empty()
        && cidrs.is_some_and(|cidrs| {
            !cidrs.is_empty()
                && cidrs
                    .iter()
                    .all(|cidr| cidr.parse::<IpNet>().is_ok_and(|net| allowed.iter().any(|ok| ok.contains(&net))))
        });
    if within_posture {
        return None;
    }
    let changed = match cidrs {
        Some(cidrs) if !cidrs.is_empty() => format!("public endpoint on, open to {}", cidrs.join(", ")),
        _ => "public endpoint on".to_owned(),
    };
    Some(super::super::cluster_finding(meta, cluster, changed, super::super::endpoint_posture(cluster, config)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::test_support::*;
    use crate::Config;

    fn update(public: &str, cidrs: &str) -> serde_json::Value {
        eks(
            "UpdateClusterConfig",
            json!({"name": "prod", "resourcesVpcConfig": {"endpointPublicAccess": true}}),
            json!({"update": {"id": "u", "type": "EndpointAccessUpdate", "params": [
                {"type": "EndpointPublicAccess", "value": public}, {"type": "EndpointPrivateAccess", "value": "true"},
                {"type": "PublicAccessCidrs", "value": cidrs}]}}),
        )
    }

    #[test]
    fn public_on_is_reverted_to_private_only_by_default() {
        let findings = findings(&update("true", "[\"203.0.113.0/24\"]"), &Config::default());
        assert_eq!(rule_ids(&findings), ["eks-public-endpoint"]);
        assert_eq!(findings[0].changed, ["public endpoint on, open to 203.0.113.0/24"]);
        assert_eq!(
            findings[0].plan.actions[0].describe(),
            "set private endpoint on, public endpoint off for cluster prod"
        );
    }

    #[test]
    fn with_allowed_cidrs_public_inside_them_is_fine_and_outside_is_limited() {
        let config =
            Config::from_json(r#"{"rules": {"eks-public-endpoint": {"public_access_cidrs": ["203.0.113.0/24"]}}}"#)
                .unwrap();
        assert!(findings(&update("true", "[\"203.0.113.128/25\"]"), &config).is_empty());
        let outside = findings(&update("true", "[\"198.51.100.0/24\"]"), &config);
        assert_eq!(
            outside[0].plan.actions[0].describe(),
            "set private endpoint on, public endpoint limited to 203.0.113.0/24 for cluster prod"
        );
        assert!(findings(&update("false", "[\"0.0.0.0/0\"]"), &config).is_empty());
    }
}
