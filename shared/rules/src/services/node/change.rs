//! Node-side changes as CloudTrail records them (SHAPES.md §3 and §6): subnets, instance metadata
//! options, launch templates, the account's IMDS and EBS defaults, snapshot and image sharing, and
//! the subnets of a new managed node group. Legacy EC2 calls use lowerCamelCase with `{"items":
//! [...]}` lists and `{"value": …}` attribute wrappers; newer ones a PascalCase `<Action>Request`
//! wrapper whose one-element lists arrive as objects. RunInstances records the effective IMDS
//! settings only in `responseElements.instancesSet.items[]`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::Value;

use crate::event::Event;
use crate::json::{bool_field, elements, field, int_field, items, str_at, text_field};
use crate::services::eks::EKS_SOURCE;
use crate::services::{Change, Unreadable};

pub const EC2_SOURCE: &str = "ec2.amazonaws.com";

/// `HttpTokens` of an instance, a launch template or the account's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpTokens {
    /// IMDSv2 only.
    Required,
    /// IMDSv1 allowed.
    Optional,
    /// An account default that leaves it to the AMI and the launch (`no-preference`).
    NoPreference,
    Other(String),
}

impl HttpTokens {
    pub fn parse(text: &str) -> HttpTokens {
        match text.trim().to_ascii_lowercase().as_str() {
            "required" => HttpTokens::Required,
            "optional" => HttpTokens::Optional,
            "no-preference" => HttpTokens::NoPreference,
            other => HttpTokens::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            HttpTokens::Required => "required",
            HttpTokens::Optional => "optional",
            HttpTokens::NoPreference => "no-preference",
            HttpTokens::Other(text) => text,
        }
    }
}

/// Instance metadata options as a call or a description gives them; None: not said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataOptions {
    pub http_tokens: Option<HttpTokens>,
    /// `HttpPutResponseHopLimit`.
    pub hop_limit: Option<i64>,
    /// `HttpEndpoint`: with the endpoint off there is no metadata service to weaken.
    pub endpoint_enabled: Option<bool>,
}

impl MetadataOptions {
    /// IMDSv1 reachable: tokens optional, the endpoint not switched off.
    pub fn allows_v1(&self) -> bool {
        self.http_tokens == Some(HttpTokens::Optional) && self.endpoint_enabled != Some(false)
    }

    /// The hop limit, when it is above `max` and the endpoint is not switched off.
    pub fn hop_limit_above(&self, max: i64) -> Option<i64> {
        self.hop_limit.filter(|hops| *hops > max && self.endpoint_enabled != Some(false))
    }

    /// Reads `metadataOptions` (RunInstances) or `MetadataOptions` (PascalCase requests).
    fn read(value: &Value, what: &str) -> Result<MetadataOptions, Unreadable> {
        if !value.is_object() {
            return Err(Unreadable(format!("{what} is {value}, not an object")));
        }
        let endpoint = text_field(value, &["httpEndpoint", "HttpEndpoint"])?;
        Ok(MetadataOptions {
            http_tokens: text_field(value, &["httpTokens", "HttpTokens"])?.map(HttpTokens::parse),
            hop_limit: int_field(value, &["httpPutResponseHopLimit", "HttpPutResponseHopLimit"])?,
            endpoint_enabled: endpoint.map(|text| !text.trim().eq_ignore_ascii_case("disabled")),
        })
    }
}

/// A ModifySubnetAttribute call (one attribute per call).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetAttribute {
    pub subnet_id: String,
    /// `mapPublicIpOnLaunch`; None when the call set another attribute.
    pub map_public_ip_on_launch: Option<bool>,
}

/// The subnets of a managed node group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodegroupSubnets {
    pub cluster: String,
    pub nodegroup: String,
    pub subnets: Vec<String>,
    /// Those of `subnets` that auto-assign public IPv4 addresses: a description (DescribeSubnets)
    /// says, a CreateNodegroup record never does (None).
    pub public_subnets: Option<Vec<String>>,
}

impl NodegroupSubnets {
    /// `cluster/nodegroup`, as alerts and the node-group kind name it.
    pub fn resource(&self) -> String {
        format!("{}/{}", self.cluster, self.nodegroup)
    }
}

/// One instance's metadata options as a call left them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceMetadata {
    pub instance_id: String,
    pub options: MetadataOptions,
    /// Launched by this call (RunInstances, or described as it runs) rather than modified.
    pub launched: bool,
}

/// One EBS block device of a launch template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockDevice {
    pub device_name: Option<String>,
    /// `Ebs.Encrypted`; None when not said (the snapshot's encryption, or the account's default
    /// encryption, decides).
    pub encrypted: Option<bool>,
}

/// A launch template version: the one a CreateLaunchTemplate(Version) call made, or the default
/// version as described.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchTemplateVersion {
    pub template_id: Option<String>,
    pub template_name: Option<String>,
    /// Its version number, when the record says (1 for a new template).
    pub version: Option<String>,
    /// Whether it is the template's default version.
    pub is_default: bool,
    /// `SourceVersion`: what the data leaves out comes from that version, which the record does
    /// not show.
    pub inherits_from: Option<String>,
    pub metadata: MetadataOptions,
    pub block_devices: Vec<BlockDevice>,
    /// The template's own tags.
    pub tags: BTreeMap<String, String>,
    /// The tags it gives the instances it launches.
    pub instance_tags: BTreeMap<String, String>,
}

impl LaunchTemplateVersion {
    /// Its id (`lt-…`), else its name.
    pub fn resource(&self) -> &str {
        self.template_id.as_deref().or(self.template_name.as_deref()).unwrap_or("unknown-launch-template")
    }

    /// IMDS tokens not required: optional, or not set at all without a source version to inherit
    /// them from (the AMI and the account default then decide, IMDSv1 unless one of them
    /// requires tokens). None when the version inherits its metadata options: unknown here.
    pub fn tokens_not_required(&self) -> Option<bool> {
        if self.metadata.endpoint_enabled == Some(false) {
            return Some(false);
        }
        match &self.metadata.http_tokens {
            Some(tokens) => Some(*tokens != HttpTokens::Required),
            None if self.inherits_from.is_some() => None,
            None => Some(true),
        }
    }
}

/// The account's instance metadata defaults in a region (ModifyInstanceMetadataDefaults).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataDefaults {
    /// None: the call left the tokens default alone.
    pub http_tokens: Option<HttpTokens>,
    pub hop_limit: Option<i64>,
}

/// Which shared resource a sharing change is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedKind {
    /// An EBS snapshot: `createVolumePermission`.
    Snapshot,
    /// An AMI: `launchPermission`.
    Image,
}

impl SharedKind {
    /// The permission attribute the call names.
    pub fn permission(self) -> &'static str {
        match self {
            SharedKind::Snapshot => "createVolumePermission",
            SharedKind::Image => "launchPermission",
        }
    }
}

/// Who a snapshot or image is shared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grantee {
    /// `{"group": "all"}` (everyone: public) or another group.
    Group(String),
    /// `{"userId": "<account>"}`.
    Account(String),
    /// An organization or organizational unit ARN.
    Organization(String),
}

impl Grantee {
    pub fn is_public(&self) -> bool {
        matches!(self, Grantee::Group(group) if group.eq_ignore_ascii_case("all"))
    }
}

/// A ModifySnapshotAttribute or ModifyImageAttribute call: one call carries an add list and a
/// remove list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharingChange {
    pub kind: SharedKind,
    /// `snap-…` or `ami-…`, as written (AMI ids may be mixed case).
    pub id: String,
    pub added: Vec<Grantee>,
    pub removed: Vec<Grantee>,
}

impl SharingChange {
    /// The call (or the description) shares it with everyone.
    pub fn made_public(&self) -> bool {
        self.added.iter().any(Grantee::is_public)
    }
}

/// A node-side change, read from one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeChange {
    /// ModifySubnetAttribute.
    Subnet(SubnetAttribute),
    /// eks CreateNodegroup: the subnets its nodes launch into.
    Nodegroup(NodegroupSubnets),
    /// ModifyInstanceMetadataOptions, or one instance of a RunInstances call.
    Instance(InstanceMetadata),
    /// A RunInstances call that launched several instances, judged one instance at a time
    /// ([`Change::per_resource`]); no rule sees it whole.
    Instances(Vec<InstanceMetadata>),
    /// CreateLaunchTemplate or CreateLaunchTemplateVersion: the version it made.
    LaunchTemplate(LaunchTemplateVersion),
    /// ModifyInstanceMetadataDefaults.
    MetadataDefaults(MetadataDefaults),
    /// DisableEbsEncryptionByDefault (`enabled: false`), or the setting as described.
    EbsEncryptionByDefault { enabled: bool },
    /// ModifySnapshotAttribute or ModifyImageAttribute.
    Sharing(SharingChange),
}

impl Change for NodeChange {
    fn per_resource(&self) -> Vec<Cow<'_, NodeChange>> {
        match self {
            NodeChange::Instances(instances) => {
                instances.iter().map(|instance| Cow::Owned(NodeChange::Instance(instance.clone()))).collect()
            }
            _ => vec![Cow::Borrowed(self)],
        }
    }
}

impl NodeChange {
    /// Reads a record of the calls the node rules listen to; None for any other record. A field
    /// the rules need that is missing or of the wrong type makes the record unreadable; a field
    /// the call did not send is "not said".
    pub fn from_event(event: &Event) -> Result<Option<NodeChange>, Unreadable> {
        let (request, response) = (&event.request, &event.response);
        let change = match (event.event_source.as_str(), event.event_name.as_str()) {
            (EC2_SOURCE, "ModifySubnetAttribute") => subnet_attribute(request)?,
            (EKS_SOURCE, "CreateNodegroup") => nodegroup(request, response)?,
            (EC2_SOURCE, "RunInstances") => run_instances(request, response)?,
            (EC2_SOURCE, "ModifyInstanceMetadataOptions") => instance_metadata_options(request)?,
            (EC2_SOURCE, "CreateLaunchTemplate") => launch_template(request, response, true)?,
            (EC2_SOURCE, "CreateLaunchTemplateVersion") => launch_template(request, response, false)?,
            (EC2_SOURCE, "ModifyInstanceMetadataDefaults") => metadata_defaults(request)?,
            // The API takes no parameters: the record may carry nothing else (SHAPES.md §6.3).
            (EC2_SOURCE, "DisableEbsEncryptionByDefault") => NodeChange::EbsEncryptionByDefault { enabled: false },
            (EC2_SOURCE, "ModifySnapshotAttribute") => sharing(request, SharedKind::Snapshot)?,
            (EC2_SOURCE, "ModifyImageAttribute") => sharing(request, SharedKind::Image)?,
            _ => return Ok(None),
        };
        Ok(Some(change))
    }
}

/// The body of a PascalCase `<Action>Request` wrapper, or the request itself.
fn unwrapped<'a>(request: &'a Value, wrapper: &str) -> &'a Value {
    request.get(wrapper).filter(|body| body.is_object()).unwrap_or(request)
}

/// A required text member, named in the reason when it is missing.
fn required_text(value: &Value, keys: &[&str], call: &str) -> Result<String, Unreadable> {
    text_field(value, keys)?
        .filter(|text| !text.trim().is_empty())
        .map(str::to_owned)
        .ok_or_else(|| Unreadable(format!("{call} without {}", keys[0])))
}

fn subnet_attribute(request: &Value) -> Result<NodeChange, Unreadable> {
    let request = unwrapped(request, "ModifySubnetAttributeRequest");
    Ok(NodeChange::Subnet(SubnetAttribute {
        subnet_id: required_text(request, &["subnetId", "SubnetId"], "ModifySubnetAttribute")?,
        map_public_ip_on_launch: bool_field(request, &["mapPublicIpOnLaunch", "MapPublicIpOnLaunch"])?,
    }))
}

/// As the EKS slice reads the same record: `name` or `clusterName` (a record naming no cluster is
/// unreadable to both slices alike), the node group's name defaulted.
fn nodegroup(request: &Value, response: &Value) -> Result<NodeChange, Unreadable> {
    let created = response.get("nodegroup").unwrap_or(&Value::Null);
    let text = |keys: &[&str]| {
        [request, created].iter().find_map(|value| keys.iter().find_map(|key| str_at(value, key))).map(str::to_owned)
    };
    let subnets = [request, created]
        .iter()
        .find_map(|value| value.get("subnets").and_then(Value::as_array))
        .map(|list| list.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let cluster = text(&["name", "clusterName"])
        .ok_or_else(|| Unreadable("CreateNodegroup names no cluster (name or clusterName)".to_owned()))?;
    Ok(NodeChange::Nodegroup(NodegroupSubnets {
        cluster,
        nodegroup: text(&["nodegroupName"]).unwrap_or_else(|| "unknown-nodegroup".to_owned()),
        subnets,
        public_subnets: None,
    }))
}

/// Every launched instance with metadata options in the response (records before 2019 have
/// none: nothing to judge), the request's options standing in for an instance without them.
fn run_instances(request: &Value, response: &Value) -> Result<NodeChange, Unreadable> {
    let requested = match request.get("metadataOptions").filter(|options| !options.is_null()) {
        Some(options) => Some(MetadataOptions::read(options, "requestParameters.metadataOptions")?),
        None => None,
    };
    let mut instances = Vec::new();
    for item in items(response.get("instancesSet")) {
        if !item.is_object() {
            return Err(Unreadable(format!("an instance of instancesSet is {item}, not an object")));
        }
        let options = match item.get("metadataOptions").filter(|options| !options.is_null()) {
            Some(options) => MetadataOptions::read(options, "instancesSet.items[].metadataOptions")?,
            None => match &requested {
                Some(options) => options.clone(),
                None => continue,
            },
        };
        let instance_id = required_text(item, &["instanceId"], "an instance of instancesSet")?;
        instances.push(InstanceMetadata { instance_id, options, launched: true });
    }
    Ok(match instances.len() {
        1 => NodeChange::Instance(instances.remove(0)),
        _ => NodeChange::Instances(instances),
    })
}

/// The request, inside its PascalCase wrapper: what the call set (the rest is unchanged).
fn instance_metadata_options(request: &Value) -> Result<NodeChange, Unreadable> {
    let body = unwrapped(request, "ModifyInstanceMetadataOptionsRequest");
    Ok(NodeChange::Instance(InstanceMetadata {
        instance_id: required_text(body, &["InstanceId", "instanceId"], "ModifyInstanceMetadataOptions")?,
        options: MetadataOptions::read(body, "ModifyInstanceMetadataOptionsRequest")?,
        launched: false,
    }))
}

fn metadata_defaults(request: &Value) -> Result<NodeChange, Unreadable> {
    let body = unwrapped(request, "ModifyInstanceMetadataDefaultsRequest");
    if !body.is_object() {
        return Err(Unreadable(format!("ModifyInstanceMetadataDefaults with request {body}")));
    }
    Ok(NodeChange::MetadataDefaults(MetadataDefaults {
        http_tokens: text_field(body, &["HttpTokens", "httpTokens"])?.map(HttpTokens::parse),
        hop_limit: int_field(body, &["HttpPutResponseHopLimit", "httpPutResponseHopLimit"])?,
    }))
}

/// CreateLaunchTemplate (`created`) or CreateLaunchTemplateVersion: the request's data, the
/// response's ids and version (both wrappers are PascalCase; the response inside is camelCase).
fn launch_template(request: &Value, response: &Value, created: bool) -> Result<NodeChange, Unreadable> {
    let call = if created { "CreateLaunchTemplate" } else { "CreateLaunchTemplateVersion" };
    let body = unwrapped(request, &format!("{call}Request"));
    let answer = unwrapped(response, &format!("{call}Response"));
    let made = field(answer, &["launchTemplateVersion", "launchTemplate", "LaunchTemplateVersion", "LaunchTemplate"])
        .map_or(&Value::Null, |(_, made)| made);
    let text = |keys: &[&str]| -> Result<Option<String>, Unreadable> {
        Ok(text_field(made, keys)?.or(text_field(body, keys)?).map(str::to_owned))
    };
    let template_id = text(&["launchTemplateId", "LaunchTemplateId"])?;
    let template_name = text(&["launchTemplateName", "LaunchTemplateName"])?;
    if template_id.is_none() && template_name.is_none() {
        return Err(Unreadable(format!("{call} names no launch template")));
    }
    let version = match int_field(made, &["versionNumber", "VersionNumber", "latestVersionNumber"])? {
        Some(number) => Some(number.to_string()),
        None if created => Some("1".to_owned()),
        None => None,
    };
    let is_default = created || bool_field(made, &["defaultVersion", "DefaultVersion"])?.unwrap_or(false);
    let data = match field(body, &["LaunchTemplateData", "launchTemplateData"]) {
        None => &Value::Null,
        Some((_, data)) if data.is_object() => data,
        Some((key, data)) => return Err(Unreadable(format!("{key} is {data}, not an object"))),
    };
    let metadata = match field(data, &["MetadataOptions", "metadataOptions"]) {
        Some((key, options)) => MetadataOptions::read(options, key)?,
        None => MetadataOptions::default(),
    };
    let mut block_devices = Vec::new();
    let mappings = field(data, &["BlockDeviceMapping", "BlockDeviceMappings", "blockDeviceMapping"]);
    for mapping in elements(mappings.map(|(_, mappings)| mappings)) {
        let Some((_, ebs)) = field(mapping, &["Ebs", "ebs"]) else { continue };
        block_devices.push(BlockDevice {
            device_name: text_field(mapping, &["DeviceName", "deviceName"])?.map(str::to_owned),
            encrypted: bool_field(ebs, &["Encrypted", "encrypted"])?,
        });
    }
    let (mut tags, mut instance_tags) = (BTreeMap::new(), BTreeMap::new());
    for (_, specs) in [field(body, &["TagSpecification", "TagSpecifications"]), field(data, &["TagSpecification"])]
        .into_iter()
        .flatten()
    {
        for spec in elements(Some(specs)) {
            let target = match text_field(spec, &["ResourceType", "resourceType"])? {
                Some("instance") => &mut instance_tags,
                Some("launch-template") | None => &mut tags,
                Some(_) => continue,
            };
            for tag in elements(field(spec, &["Tag", "Tags"]).map(|(_, tag)| tag)) {
                if let Some(key) = text_field(tag, &["Key", "key"])? {
                    let value = text_field(tag, &["Value", "value"])?.unwrap_or_default();
                    target.insert(key.to_owned(), value.to_owned());
                }
            }
        }
    }
    Ok(NodeChange::LaunchTemplate(LaunchTemplateVersion {
        template_id,
        template_name,
        version,
        is_default,
        inherits_from: text_field(body, &["SourceVersion", "sourceVersion"])?.map(str::to_owned),
        metadata,
        block_devices,
        tags,
        instance_tags,
    }))
}

/// Both lists of the call's permission attribute; a call about another attribute changes no
/// sharing (empty lists).
fn sharing(request: &Value, kind: SharedKind) -> Result<NodeChange, Unreadable> {
    let (call, id_keys) = match kind {
        SharedKind::Snapshot => ("ModifySnapshotAttribute", ["snapshotId", "SnapshotId"]),
        SharedKind::Image => ("ModifyImageAttribute", ["imageId", "ImageId"]),
    };
    let id = required_text(request, &id_keys, call)?;
    let permission = request.get(kind.permission()).unwrap_or(&Value::Null);
    if !permission.is_null() && !permission.is_object() {
        return Err(Unreadable(format!("{} is {permission}, not an object", kind.permission())));
    }
    Ok(NodeChange::Sharing(SharingChange {
        kind,
        id,
        added: grantees(permission.get("add"))?,
        removed: grantees(permission.get("remove"))?,
    }))
}

fn grantees(list: Option<&Value>) -> Result<Vec<Grantee>, Unreadable> {
    let mut grantees = Vec::new();
    for item in items(list) {
        if let Some(group) = text_field(item, &["group", "Group"])? {
            grantees.push(Grantee::Group(group.to_owned()));
        } else if let Some(account) = text_field(item, &["userId", "UserId"])? {
            grantees.push(Grantee::Account(account.to_owned()));
        } else if let Some(arn) = text_field(item, &["organizationArn", "organizationalUnitArn"])? {
            grantees.push(Grantee::Organization(arn.to_owned()));
        } else {
            return Err(Unreadable(format!("a permission item {item} names no group, account or organization")));
        }
    }
    Ok(grantees)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(event_source: &str, event_name: &str, request: Value, response: Value) -> Result<NodeChange, Unreadable> {
        let record = json!({"eventSource": event_source, "eventName": event_name,
                            "requestParameters": request, "responseElements": response});
        NodeChange::from_event(&Event::from_value(&record).unwrap()).map(Option::unwrap)
    }

    fn ec2(event_name: &str, request: Value, response: Value) -> Result<NodeChange, Unreadable> {
        read(EC2_SOURCE, event_name, request, response)
    }

    #[test]
    fn run_instances_reads_every_launched_instance_from_the_response() {
        let response = json!({"instancesSet": {"items": [
            {"instanceId": "i-1", "metadataOptions": {"state": "pending", "httpTokens": "optional", "httpPutResponseHopLimit": 1, "httpEndpoint": "enabled"}},
            {"instanceId": "i-2", "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": "2"}}
        ]}});
        let NodeChange::Instances(instances) = ec2("RunInstances", json!({}), response).unwrap() else { panic!() };
        assert_eq!(instances.len(), 2);
        assert!(instances[0].options.allows_v1());
        assert_eq!(instances[1].options.hop_limit, Some(2));
        assert!(instances.iter().all(|instance| instance.launched));
        let parts = NodeChange::Instances(instances).per_resource().len();
        assert_eq!(parts, 2);
    }

    #[test]
    fn a_2016_launch_without_metadata_options_judges_nothing() {
        let response = json!({"instancesSet": {"items": [{"instanceId": "i-1", "instanceType": "t2.micro"}]}});
        assert_eq!(ec2("RunInstances", json!({}), response).unwrap(), NodeChange::Instances(vec![]));
        assert_eq!(ec2("RunInstances", json!(null), json!(null)).unwrap(), NodeChange::Instances(vec![]));
    }

    #[test]
    fn modify_instance_metadata_options_reads_the_pascal_case_wrapper() {
        let request = json!({"ModifyInstanceMetadataOptionsRequest": {"HttpTokens": "optional", "InstanceId": "i-abcd", "HttpPutResponseHopLimit": 3}});
        let NodeChange::Instance(instance) = ec2("ModifyInstanceMetadataOptions", request, json!(null)).unwrap() else {
            panic!()
        };
        assert_eq!(instance.instance_id, "i-abcd");
        assert!(instance.options.allows_v1());
        assert_eq!(instance.options.hop_limit_above(1), Some(3));
        assert!(!instance.launched);
    }

    #[test]
    fn a_disabled_endpoint_allows_no_imdsv1_whatever_the_tokens() {
        let options = MetadataOptions {
            http_tokens: Some(HttpTokens::Optional),
            hop_limit: Some(5),
            endpoint_enabled: Some(false),
        };
        assert!(!options.allows_v1());
        assert_eq!(options.hop_limit_above(1), None);
    }

    #[test]
    fn subnet_attributes_arrive_in_the_value_wrapper() {
        let change = ec2(
            "ModifySubnetAttribute",
            json!({"subnetId": "subnet-1", "mapPublicIpOnLaunch": {"value": true}}),
            json!({"_return": true}),
        );
        assert_eq!(
            change.unwrap(),
            NodeChange::Subnet(SubnetAttribute { subnet_id: "subnet-1".into(), map_public_ip_on_launch: Some(true) })
        );
        let other =
            ec2("ModifySubnetAttribute", json!({"subnetId": "subnet-1", "enableDns64": {"value": true}}), json!(null));
        assert_eq!(
            other.unwrap(),
            NodeChange::Subnet(SubnetAttribute { subnet_id: "subnet-1".into(), map_public_ip_on_launch: None })
        );
    }

    #[test]
    fn a_launch_template_reads_metadata_devices_and_tags_with_one_element_lists_as_objects() {
        let request = json!({"CreateLaunchTemplateRequest": {
            "LaunchTemplateName": "nodes",
            "LaunchTemplateData": {
                "MetadataOptions": {"HttpTokens": "optional", "HttpPutResponseHopLimit": 2},
                "BlockDeviceMapping": {"Ebs": {"VolumeSize": 100, "Encrypted": false}, "tag": 1, "DeviceName": "/dev/xvda"},
                "TagSpecification": {"ResourceType": "instance", "tag": 1, "Tag": [
                    {"Key": "kubernetes.io/cluster/shop", "Value": "owned", "tag": 1}]}
            },
            "TagSpecification": {"ResourceType": "launch-template", "tag": 1, "Tag": {"Key": "team", "Value": "web", "tag": 1}}
        }});
        let response = json!({"CreateLaunchTemplateResponse": {"launchTemplate": {
            "launchTemplateId": "lt-1", "launchTemplateName": "nodes", "defaultVersionNumber": 1, "latestVersionNumber": 1}}});
        let NodeChange::LaunchTemplate(made) = ec2("CreateLaunchTemplate", request, response).unwrap() else {
            panic!()
        };
        assert_eq!(made.resource(), "lt-1");
        assert_eq!(made.version.as_deref(), Some("1"));
        assert!(made.is_default);
        assert_eq!(made.tokens_not_required(), Some(true));
        assert_eq!(made.block_devices, [BlockDevice { device_name: Some("/dev/xvda".into()), encrypted: Some(false) }]);
        assert_eq!(made.tags["team"], "web");
        assert_eq!(made.instance_tags["kubernetes.io/cluster/shop"], "owned");
    }

    #[test]
    fn a_version_from_a_source_version_without_metadata_options_is_unknown() {
        let request = json!({"CreateLaunchTemplateVersionRequest": {"LaunchTemplateId": "lt-1", "SourceVersion": "3",
            "LaunchTemplateData": {"ImageId": "ami-1"}}});
        let response = json!({"CreateLaunchTemplateVersionResponse": {"launchTemplateVersion": {
            "launchTemplateId": "lt-1", "versionNumber": 4, "defaultVersion": false}}});
        let NodeChange::LaunchTemplate(made) = ec2("CreateLaunchTemplateVersion", request, response).unwrap() else {
            panic!()
        };
        assert_eq!(made.version.as_deref(), Some("4"));
        assert!(!made.is_default);
        assert_eq!(made.tokens_not_required(), None);
    }

    #[test]
    fn sharing_reads_both_lists() {
        let request = json!({"snapshotId": "snap-1", "attributeType": "CREATE_VOLUME_PERMISSION",
            "createVolumePermission": {"add": {"items": [{"group": "all"}, {"userId": "111122223333"}]},
                                       "remove": {"items": [{"userId": "444455556666"}]}}});
        let NodeChange::Sharing(change) = ec2("ModifySnapshotAttribute", request, json!({"_return": true})).unwrap()
        else {
            panic!()
        };
        assert!(change.made_public());
        assert_eq!(change.removed, [Grantee::Account("444455556666".into())]);
        let description = json!({"imageId": "ami-1", "attributeType": "description", "description": {"value": "x"}});
        let NodeChange::Sharing(other) = ec2("ModifyImageAttribute", description, json!(null)).unwrap() else {
            panic!()
        };
        assert!(other.added.is_empty() && !other.made_public());
    }

    #[test]
    fn missing_ids_and_wrong_types_make_the_record_unreadable() {
        let cases = [
            ("ModifySubnetAttribute", json!({"mapPublicIpOnLaunch": {"value": true}}), json!(null), "without subnetId"),
            (
                "ModifySubnetAttribute",
                json!({"subnetId": "subnet-1", "mapPublicIpOnLaunch": {"value": 1}}),
                json!(null),
                "not a boolean",
            ),
            (
                "ModifyInstanceMetadataOptions",
                json!({"ModifyInstanceMetadataOptionsRequest": {"HttpTokens": "optional"}}),
                json!(null),
                "without InstanceId",
            ),
            (
                "ModifyInstanceMetadataOptions",
                json!({"ModifyInstanceMetadataOptionsRequest": {"InstanceId": "i-1", "HttpTokens": 1}}),
                json!(null),
                "not a string",
            ),
            (
                "RunInstances",
                json!({}),
                json!({"instancesSet": {"items": [{"metadataOptions": {"httpTokens": "optional"}}]}}),
                "without instanceId",
            ),
            (
                "RunInstances",
                json!({}),
                json!({"instancesSet": {"items": [{"instanceId": "i-1", "metadataOptions": {"httpPutResponseHopLimit": "many"}}]}}),
                "not an integer",
            ),
            ("RunInstances", json!({}), json!({"instancesSet": {"items": ["i-1"]}}), "not an object"),
            (
                "CreateLaunchTemplate",
                json!({"CreateLaunchTemplateRequest": {"LaunchTemplateData": {}}}),
                json!(null),
                "names no launch template",
            ),
            (
                "CreateLaunchTemplate",
                json!({"CreateLaunchTemplateRequest": {"LaunchTemplateName": "x", "LaunchTemplateData": []}}),
                json!(null),
                "not an object",
            ),
            (
                "ModifyImageAttribute",
                json!({"launchPermission": {"add": {"items": [{"group": "all"}]}}}),
                json!(null),
                "without imageId",
            ),
            (
                "ModifyImageAttribute",
                json!({"imageId": "ami-1", "launchPermission": "all"}),
                json!(null),
                "not an object",
            ),
            (
                "ModifySnapshotAttribute",
                json!({"snapshotId": "snap-1", "createVolumePermission": {"add": {"items": [{"who": "all"}]}}}),
                json!(null),
                "names no group",
            ),
        ];
        for (name, request, response, reason) in cases {
            let error = ec2(name, request.clone(), response).unwrap_err();
            assert!(error.0.contains(reason), "{name} {request}: {error}");
        }
    }

    #[test]
    fn the_minimal_ebs_stub_is_read_and_other_records_are_not_this_slices() {
        let stub = json!({"awsRegion": "us-west-2", "eventName": "DisableEbsEncryptionByDefault",
            "eventSource": "ec2.amazonaws.com", "recipientAccountId": "123456789"});
        let event = Event::from_value(&stub).unwrap();
        assert_eq!(
            NodeChange::from_event(&event).unwrap(),
            Some(NodeChange::EbsEncryptionByDefault { enabled: false })
        );
        let lookalike = json!({"eventSource": "codecommit.amazonaws.com", "eventName": "ModifyImageAttribute"});
        assert_eq!(NodeChange::from_event(&Event::from_value(&lookalike).unwrap()).unwrap(), None);
    }

    #[test]
    fn create_nodegroup_reads_its_subnets_but_not_whether_they_are_public() {
        let change = read(
            EKS_SOURCE,
            "CreateNodegroup",
            json!({"name": "shop", "nodegroupName": "web", "subnets": ["subnet-a", "subnet-b"]}),
            json!({}),
        );
        assert_eq!(
            change.unwrap(),
            NodeChange::Nodegroup(NodegroupSubnets {
                cluster: "shop".into(),
                nodegroup: "web".into(),
                subnets: vec!["subnet-a".into(), "subnet-b".into()],
                public_subnets: None,
            })
        );
    }
}
