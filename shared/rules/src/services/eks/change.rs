//! EKS changes as CloudTrail records them (REST/JSON: real arrays and booleans, path
//! parameters copied into the request, ARNs in paths URL-encoded, `update.params` values that are
//! strings holding JSON). Absent fields mean the API's defaults on create and "unchanged" on
//! update.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use crate::event::Event;
use crate::json::str_at;
use crate::services::Unreadable;

pub const EKS_SOURCE: &str = "eks.amazonaws.com";

/// The API's default for a cluster created without a public CIDR list.
pub const WORLD_IPV4: &str = "0.0.0.0/0";

/// Endpoint access: what an event left (None = the event does not say), or what a restore sets
/// (None = leave as it is).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct EndpointAccess {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_cidrs: Option<Vec<String>>,
}

impl EndpointAccess {
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(private) = self.private {
            parts.push(format!("private endpoint {}", if private { "on" } else { "off" }));
        }
        match (self.public, &self.public_cidrs) {
            (Some(false), _) => parts.push("public endpoint off".to_owned()),
            (Some(true), Some(cidrs)) => parts.push(format!("public endpoint limited to {}", cidrs.join(", "))),
            (Some(true), None) => parts.push("public endpoint on".to_owned()),
            (None, Some(cidrs)) => parts.push(format!("public access CIDRs {}", cidrs.join(", "))),
            (None, None) => {}
        }
        parts.join(", ")
    }
}

/// Control-plane log types the event turned on and off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoggingChange {
    pub enabled: BTreeSet<String>,
    pub disabled: BTreeSet<String>,
    /// True for a create: every type not enabled is off.
    pub complete: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EksChange {
    /// CreateCluster or UpdateClusterConfig.
    Cluster {
        cluster: String,
        created: bool,
        endpoint: Option<EndpointAccess>,
        logging: Option<LoggingChange>,
        /// Whether secrets are envelope-encrypted; known on create only.
        secrets_encrypted: Option<bool>,
    },
    /// CreateNodegroup.
    Nodegroup(NodegroupAccess),
    /// AssociateAccessPolicy.
    AccessPolicy(AccessPolicyAssociation),
}

/// A managed nodegroup's remote access: what CreateNodegroup sets and DescribeNodegroup shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodegroupAccess {
    pub cluster: String,
    pub nodegroup: String,
    pub ssh_key: Option<String>,
    pub source_security_groups: Vec<String>,
}

/// An access policy associated with a principal's access entry: what AssociateAccessPolicy
/// makes and ListAssociatedAccessPolicies shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPolicyAssociation {
    pub cluster: String,
    pub principal_arn: String,
    pub policy_arn: String,
    /// `cluster` or `namespace`.
    pub scope: String,
}

/// One cluster, nodegroup or association per call.
impl crate::services::Change for EksChange {}

impl EksChange {
    pub fn cluster(&self) -> &str {
        match self {
            EksChange::Cluster { cluster, .. }
            | EksChange::Nodegroup(NodegroupAccess { cluster, .. })
            | EksChange::AccessPolicy(AccessPolicyAssociation { cluster, .. }) => cluster,
        }
    }

    /// Reads a cluster, nodegroup or access-policy record; None for any other event. A record
    /// that names no cluster is unreadable: nothing could be looked up or restored.
    pub fn from_event(event: &Event) -> Result<Option<EksChange>, Unreadable> {
        if event.event_source != EKS_SOURCE || !EKS_CALLS.contains(&event.event_name.as_str()) {
            return Ok(None);
        }
        let cluster = cluster_name(&event.request).or_else(|| event.response.get("cluster").and_then(cluster_name));
        match cluster {
            Some(cluster) => Ok(EksChange::read(event, cluster)),
            None => Err(Unreadable(format!("{} names no cluster (name or clusterName)", event.event_name))),
        }
    }

    fn read(event: &Event, cluster: String) -> Option<EksChange> {
        let request = &event.request;
        let response = &event.response;
        match event.event_name.as_str() {
            "CreateCluster" => Some(created_cluster(cluster, request, response.get("cluster").unwrap_or(&Value::Null))),
            "UpdateClusterConfig" => Some(updated_cluster(cluster, request, response)),
            "CreateNodegroup" => {
                let remote = request.get("remoteAccess").unwrap_or(&Value::Null);
                Some(EksChange::Nodegroup(NodegroupAccess {
                    cluster,
                    nodegroup: str_at(request, "nodegroupName").unwrap_or("unknown-nodegroup").to_owned(),
                    ssh_key: str_at(remote, "ec2SshKey").filter(|key| !key.is_empty()).map(str::to_owned),
                    source_security_groups: strings(remote.get("sourceSecurityGroups")),
                }))
            }
            "AssociateAccessPolicy" => Some(EksChange::AccessPolicy(AccessPolicyAssociation {
                cluster,
                principal_arn: decode(str_at(request, "principalArn").unwrap_or_default()),
                policy_arn: decode(str_at(request, "policyArn").unwrap_or_default()),
                scope: request
                    .get("accessScope")
                    .and_then(|scope| str_at(scope, "type"))
                    .unwrap_or("cluster")
                    .to_ascii_lowercase(),
            })),
            _ => None,
        }
    }
}

/// The EKS calls the slice reads.
const EKS_CALLS: &[&str] = &["CreateCluster", "UpdateClusterConfig", "CreateNodegroup", "AssociateAccessPolicy"];

/// `name` in recent records, `clusterName` in old ones.
fn cluster_name(value: &Value) -> Option<String> {
    str_at(value, "name").or_else(|| str_at(value, "clusterName")).map(str::to_owned)
}

/// Path parameters arrive URL-encoded (`arn%3Aaws%3Aiam…`).
fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn created_cluster(cluster: String, request: &Value, created: &Value) -> EksChange {
    // The response holds the effective config with defaults filled in; the request is the fallback.
    let config_of =
        |key: &str| created.get(key).filter(|v| v.is_object()).or_else(|| request.get(key)).unwrap_or(&Value::Null);
    let vpc = config_of("resourcesVpcConfig");
    let public = vpc.get("endpointPublicAccess").and_then(Value::as_bool).unwrap_or(true);
    let private = vpc.get("endpointPrivateAccess").and_then(Value::as_bool).unwrap_or(false);
    let cidrs = match vpc.get("publicAccessCidrs") {
        Some(Value::Array(_)) => strings(vpc.get("publicAccessCidrs")),
        _ => vec![WORLD_IPV4.to_owned()],
    };
    let mut logging = logging_change(config_of("logging"));
    logging.complete = true;
    let encryption = created.get("encryptionConfig").or_else(|| request.get("encryptionConfig"));
    EksChange::Cluster {
        cluster,
        created: true,
        endpoint: Some(EndpointAccess { public: Some(public), private: Some(private), public_cidrs: Some(cidrs) }),
        logging: Some(logging),
        secrets_encrypted: Some(encrypts_secrets(encryption)),
    }
}

fn updated_cluster(cluster: String, request: &Value, response: &Value) -> EksChange {
    let params: Vec<(&str, &str)> = response
        .get("update")
        .and_then(|update| update.get("params"))
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(|p| Some((str_at(p, "type")?, str_at(p, "value")?))).collect())
        .unwrap_or_default();
    let param = |name: &str| params.iter().find(|(kind, _)| *kind == name).map(|(_, value)| *value);

    let vpc = request.get("resourcesVpcConfig");
    let mut endpoint = vpc.map(|vpc| EndpointAccess {
        public: vpc.get("endpointPublicAccess").and_then(Value::as_bool),
        private: vpc.get("endpointPrivateAccess").and_then(Value::as_bool),
        public_cidrs: vpc.get("publicAccessCidrs").filter(|v| v.is_array()).map(|v| strings(Some(v))),
    });
    // The response's params carry the resulting state, as strings (lists JSON-encoded).
    if param("EndpointPublicAccess").is_some()
        || param("EndpointPrivateAccess").is_some()
        || param("PublicAccessCidrs").is_some()
    {
        let state = endpoint.get_or_insert_with(EndpointAccess::default);
        if let Some(value) = param("EndpointPublicAccess").and_then(|v| v.parse().ok()) {
            state.public = Some(value);
        }
        if let Some(value) = param("EndpointPrivateAccess").and_then(|v| v.parse().ok()) {
            state.private = Some(value);
        }
        if let Some(list) = param("PublicAccessCidrs").and_then(|v| serde_json::from_str::<Vec<String>>(v).ok()) {
            state.public_cidrs = Some(list);
        }
    }
    let logging = match request.get("logging") {
        Some(logging) if logging.is_object() => Some(logging_change(logging)),
        _ => param("ClusterLogging").and_then(|v| serde_json::from_str::<Value>(v).ok()).map(|v| logging_change(&v)),
    };
    EksChange::Cluster { cluster, created: false, endpoint, logging, secrets_encrypted: None }
}

/// A type is on iff it appears in an entry with `"enabled": true` (the console sends two entries).
fn logging_change(logging: &Value) -> LoggingChange {
    let mut change = LoggingChange::default();
    for entry in logging.get("clusterLogging").and_then(Value::as_array).into_iter().flatten() {
        let target = if entry.get("enabled").and_then(Value::as_bool).unwrap_or(false) {
            &mut change.enabled
        } else {
            &mut change.disabled
        };
        target.extend(strings(entry.get("types")));
    }
    change.disabled.retain(|kind| !change.enabled.contains(kind));
    change
}

fn encrypts_secrets(encryption: Option<&Value>) -> bool {
    encryption.and_then(Value::as_array).into_iter().flatten().any(|config| {
        config
            .get("resources")
            .and_then(Value::as_array)
            .is_some_and(|resources| resources.iter().any(|r| r == "secrets"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(record: Value) -> EksChange {
        EksChange::from_event(&Event::from_value(&record).unwrap()).unwrap().unwrap()
    }

    #[test]
    fn a_2018_create_without_endpoint_fields_gets_the_api_defaults() {
        let parsed = change(json!({"eventSource": "eks.amazonaws.com", "eventName": "CreateCluster",
            "requestParameters": {"clusterName": "test", "resourcesVpcConfig": {"subnetIds": ["subnet-1"]}},
            "responseElements": {"cluster": {"clusterName": "test", "status": "CREATING", "resourcesVpcConfig": {"subnetIds": ["subnet-1"]}}}}));
        let EksChange::Cluster { cluster, endpoint, logging, secrets_encrypted, created } = parsed else { panic!() };
        assert_eq!(cluster, "test");
        assert!(created);
        assert_eq!(
            endpoint.unwrap(),
            EndpointAccess { public: Some(true), private: Some(false), public_cidrs: Some(vec!["0.0.0.0/0".into()]) }
        );
        assert!(logging.unwrap().enabled.is_empty());
        assert_eq!(secrets_encrypted, Some(false));
    }

    #[test]
    fn update_params_are_json_inside_strings() {
        let parsed = change(json!({"eventSource": "eks.amazonaws.com", "eventName": "UpdateClusterConfig",
            "requestParameters": {"name": "prod", "resourcesVpcConfig": {"endpointPublicAccess": true}},
            "responseElements": {"update": {"id": "u1", "status": "InProgress", "type": "EndpointAccessUpdate", "params": [
                {"type": "EndpointPublicAccess", "value": "true"}, {"type": "EndpointPrivateAccess", "value": "false"},
                {"type": "PublicAccessCidrs", "value": "[\"0.0.0.0/0\"]"}]}}}));
        let EksChange::Cluster { endpoint, logging, .. } = parsed else { panic!() };
        assert_eq!(
            endpoint.unwrap(),
            EndpointAccess { public: Some(true), private: Some(false), public_cidrs: Some(vec!["0.0.0.0/0".into()]) }
        );
        assert_eq!(logging, None);
    }

    #[test]
    fn access_policy_principals_are_url_decoded() {
        let parsed = change(json!({"eventSource": "eks.amazonaws.com", "eventName": "AssociateAccessPolicy",
            "requestParameters": {"name": "prod", "principalArn": "arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fdev",
                "policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", "accessScope": {"type": "cluster"}}}));
        let EksChange::AccessPolicy(AccessPolicyAssociation { principal_arn, scope, .. }) = parsed else { panic!() };
        assert_eq!(principal_arn, "arn:aws:iam::111122223333:role/dev");
        assert_eq!(scope, "cluster");
    }
}
