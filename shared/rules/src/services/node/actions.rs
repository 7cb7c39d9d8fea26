//! Node-side restore actions. Each names exactly what to set back, so a restore never touches
//! what the change did not (the account shares of a sharing call, a template's other versions).

use serde::Serialize;

use super::{EBS_ENCRYPTION_BY_DEFAULT, INSTANCE_METADATA_DEFAULTS};
use crate::finding::ServiceAction;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum NodeAction {
    /// ModifySubnetAttribute `MapPublicIpOnLaunch=false`.
    DisableSubnetPublicIp { subnet_id: String },
    /// ModifyInstanceMetadataOptions on one instance: `HttpTokens=required` when
    /// `require_tokens`, `HttpPutResponseHopLimit` when `hop_limit` is set; one call for both.
    UpdateInstanceMetadata { instance_id: String, require_tokens: bool, hop_limit: Option<i64> },
    /// CreateLaunchTemplateVersion from `source_version` with `MetadataOptions.HttpTokens=required`,
    /// then, when `make_default`, ModifyLaunchTemplate to make the new version the default.
    /// Running nodes keep their settings until their node group is updated to the new version.
    RequireTemplateTokens {
        /// The template's id (`lt-…`), or its name when the record gave no id.
        template: String,
        source_version: String,
        make_default: bool,
    },
    /// ModifyInstanceMetadataDefaults `HttpTokens=required` (the account, in the region).
    RequireDefaultTokens,
    /// EnableEbsEncryptionByDefault (the account, in the region).
    EnableEbsEncryptionByDefault,
    /// ModifySnapshotAttribute removing `createVolumePermission` of group `all`, and nothing else.
    UnshareSnapshotPublicly { snapshot_id: String },
    /// ModifyImageAttribute removing `launchPermission` of group `all`, and nothing else.
    UnshareImagePublicly { image_id: String },
}

impl ServiceAction for NodeAction {
    const SERVICE: &'static str = super::SERVICE;

    fn resource(&self) -> &str {
        match self {
            NodeAction::DisableSubnetPublicIp { subnet_id } => subnet_id,
            NodeAction::UpdateInstanceMetadata { instance_id, .. } => instance_id,
            NodeAction::RequireTemplateTokens { template, .. } => template,
            NodeAction::RequireDefaultTokens => INSTANCE_METADATA_DEFAULTS,
            NodeAction::EnableEbsEncryptionByDefault => EBS_ENCRYPTION_BY_DEFAULT,
            NodeAction::UnshareSnapshotPublicly { snapshot_id } => snapshot_id,
            NodeAction::UnshareImagePublicly { image_id } => image_id,
        }
    }

    fn describe(&self) -> String {
        match self {
            NodeAction::DisableSubnetPublicIp { subnet_id } => {
                format!("turn off auto-assigned public IPv4 addresses on subnet {subnet_id}")
            }
            NodeAction::UpdateInstanceMetadata { instance_id, require_tokens, hop_limit } => {
                let mut parts = Vec::new();
                if *require_tokens {
                    parts.push("require IMDSv2 tokens".to_owned());
                }
                if let Some(hops) = hop_limit {
                    parts.push(format!("set the IMDS hop limit to {hops}"));
                }
                format!("{} on instance {instance_id}", parts.join(" and "))
            }
            NodeAction::RequireTemplateTokens { template, source_version, make_default } => {
                let default = if *make_default { " and make it the default" } else { "" };
                format!(
                    "create a version of launch template {template} from version {source_version} with IMDSv2 tokens \
                     required{default} (running nodes change at their node group's next update to it)"
                )
            }
            NodeAction::RequireDefaultTokens => {
                "require IMDSv2 tokens in the account's instance metadata defaults".to_owned()
            }
            NodeAction::EnableEbsEncryptionByDefault => "turn EBS encryption by default back on".to_owned(),
            NodeAction::UnshareSnapshotPublicly { snapshot_id } => {
                format!("remove the public create-volume permission (group all) of snapshot {snapshot_id}")
            }
            NodeAction::UnshareImagePublicly { image_id } => {
                format!("remove the public launch permission (group all) of image {image_id}")
            }
        }
    }

    /// One ModifyInstanceMetadataOptions per instance: tokens required if either asks, the lower
    /// hop limit.
    fn absorb(&mut self, other: &NodeAction) -> bool {
        match (self, other) {
            (
                NodeAction::UpdateInstanceMetadata { instance_id, require_tokens, hop_limit },
                NodeAction::UpdateInstanceMetadata {
                    instance_id: other_id,
                    require_tokens: other_tokens,
                    hop_limit: other_hops,
                },
            ) if instance_id == other_id => {
                *require_tokens |= *other_tokens;
                *hop_limit = match (*hop_limit, *other_hops) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Action;

    #[test]
    fn two_metadata_restores_of_one_instance_merge_into_one_call() {
        let tokens =
            NodeAction::UpdateInstanceMetadata { instance_id: "i-1".into(), require_tokens: true, hop_limit: None };
        let hops =
            NodeAction::UpdateInstanceMetadata { instance_id: "i-1".into(), require_tokens: false, hop_limit: Some(1) };
        let elsewhere =
            NodeAction::UpdateInstanceMetadata { instance_id: "i-2".into(), require_tokens: false, hop_limit: Some(1) };
        let mut merged: Vec<Action> = Vec::new();
        for action in [&tokens, &hops, &elsewhere] {
            Action::from(action.clone()).merge_into(&mut merged);
        }
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].describe(), "require IMDSv2 tokens and set the IMDS hop limit to 1 on instance i-1");
        assert_eq!(merged[0].service(), "node");
        assert!(!Action::from(NodeAction::RequireDefaultTokens).absorb(&Action::from(tokens)));
    }

    #[test]
    fn actions_serialize_with_their_kind() {
        let action = NodeAction::UnshareImagePublicly { image_id: "ami-1".into() };
        assert_eq!(
            serde_json::to_value(&action).unwrap(),
            serde_json::json!({"action": "unshare-image-publicly", "image_id": "ami-1"})
        );
        assert_eq!(Action::from(NodeAction::EnableEbsEncryptionByDefault).resource(), "ebs-encryption-by-default");
    }
}
