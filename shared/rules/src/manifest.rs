//! The deployment manifest, generated from the registry: the function table (per function its
//! description, timeout, memory, rules, EventBridge event patterns and IAM actions) and every
//! rule's id, severity and default mode. Terraform reads the committed copy
//! (`infra/modules/snapback/manifest.json`) and writes no function name, timeout or memory size of
//! its own, so code and infrastructure cannot drift apart.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::event::CLOUDTRAIL_DETAIL_TYPE;
use crate::heartbeat;
use crate::registry::{self, function_of, registry, Trigger};
use crate::services::watchdog::deployed;

/// snapback's roles are named with this prefix; their own calls are left out of the patterns.
pub const OWN_ROLE_PREFIX: &str = "snapback-";

/// snapback's own EventBridge rules, on the default bus or a custom one (the central bus).
const OWN_RULES: &[&str] = &[
    "arn:{partition}:events:{region}:{account}:rule/snapback-*",
    "arn:{partition}:events:{region}:{account}:rule/*/snapback-*",
];

/// The resources each action of the rules and sweeps may act on, as ARN templates with
/// `{partition}`, `{region}` and `{account}` for the module to fill in (the deployment's own
/// account and region, or a member's account and every region). Describe and List calls, and
/// the account-level settings, support no resource type: `*`.
const ACTION_RESOURCES: &[(&str, &[&str])] = &[
    ("ec2:RevokeSecurityGroupIngress", &["arn:{partition}:ec2:{region}:{account}:security-group/*"]),
    ("ec2:ModifySubnetAttribute", &["arn:{partition}:ec2:{region}:{account}:subnet/*"]),
    ("ec2:ModifyInstanceMetadataOptions", &["arn:{partition}:ec2:{region}:{account}:instance/*"]),
    ("ec2:CreateLaunchTemplateVersion", &["arn:{partition}:ec2:{region}:{account}:launch-template/*"]),
    ("ec2:ModifyLaunchTemplate", &["arn:{partition}:ec2:{region}:{account}:launch-template/*"]),
    // Snapshot and image ARNs name no account.
    ("ec2:ModifySnapshotAttribute", &["arn:{partition}:ec2:{region}::snapshot/*"]),
    ("ec2:ModifyImageAttribute", &["arn:{partition}:ec2:{region}::image/*"]),
    ("ec2:ModifyInstanceMetadataDefaults", &["*"]),
    ("ec2:EnableEbsEncryptionByDefault", &["*"]),
    ("ec2:GetInstanceMetadataDefaults", &["*"]),
    ("ec2:GetEbsEncryptionByDefault", &["*"]),
    ("ec2:DescribeSubnets", &["*"]),
    ("ec2:DescribeInstances", &["*"]),
    ("ec2:DescribeLaunchTemplates", &["*"]),
    ("ec2:DescribeLaunchTemplateVersions", &["*"]),
    ("ec2:DescribeSnapshots", &["*"]),
    ("ec2:DescribeSnapshotAttribute", &["*"]),
    ("ec2:DescribeImages", &["*"]),
    ("ec2:DescribeImageAttribute", &["*"]),
    ("ec2:DescribeSecurityGroups", &["*"]),
    ("ec2:DescribeTags", &["*"]),
    ("ec2:DescribeSecurityGroupRules", &["*"]),
    ("eks:ListClusters", &["*"]),
    ("eks:DescribeCluster", &["arn:{partition}:eks:{region}:{account}:cluster/*"]),
    ("eks:UpdateClusterConfig", &["arn:{partition}:eks:{region}:{account}:cluster/*"]),
    ("eks:AssociateEncryptionConfig", &["arn:{partition}:eks:{region}:{account}:cluster/*"]),
    ("eks:ListAccessEntries", &["arn:{partition}:eks:{region}:{account}:cluster/*"]),
    ("eks:ListNodegroups", &["arn:{partition}:eks:{region}:{account}:cluster/*"]),
    ("eks:ListAssociatedAccessPolicies", &["arn:{partition}:eks:{region}:{account}:access-entry/*"]),
    ("eks:DisassociateAccessPolicy", &["arn:{partition}:eks:{region}:{account}:access-entry/*"]),
    ("eks:DescribeNodegroup", &["arn:{partition}:eks:{region}:{account}:nodegroup/*"]),
    // The cluster's secrets-encryption key, in the cluster's account.
    ("kms:DescribeKey", &["arn:{partition}:kms:{region}:{account}:key/*"]),
    ("kms:CreateGrant", &["arn:{partition}:kms:{region}:{account}:key/*"]),
    ("ecr:DescribeRepositories", &["arn:{partition}:ecr:{region}:{account}:repository/*"]),
    ("ecr:ListTagsForResource", &["arn:{partition}:ecr:{region}:{account}:repository/*"]),
    ("ecr:GetRepositoryPolicy", &["arn:{partition}:ecr:{region}:{account}:repository/*"]),
    ("ecr:PutImageScanningConfiguration", &["arn:{partition}:ecr:{region}:{account}:repository/*"]),
    ("ecr:PutImageTagMutability", &["arn:{partition}:ecr:{region}:{account}:repository/*"]),
    ("ecr:SetRepositoryPolicy", &["arn:{partition}:ecr:{region}:{account}:repository/*"]),
    ("ecr:DeleteRepositoryPolicy", &["arn:{partition}:ecr:{region}:{account}:repository/*"]),
    // A registry-level setting: the action has no resource type.
    ("ecr:GetRegistryScanningConfiguration", &["*"]),
    // A multi-region trail is named in any region by its home region's ARN.
    ("cloudtrail:StartLogging", &["arn:{partition}:cloudtrail:*:{account}:trail/*"]),
    // Reads of every trail that logs the region: an organization's trail is named by its
    // management account's ARN.
    ("cloudtrail:GetTrailStatus", &["arn:{partition}:cloudtrail:*:*:trail/*"]),
    ("cloudtrail:GetEventSelectors", &["arn:{partition}:cloudtrail:*:*:trail/*"]),
    ("cloudtrail:DescribeTrails", &["*"]),
    // snapback's own rules only.
    ("events:EnableRule", OWN_RULES),
    ("events:DescribeRule", OWN_RULES),
    ("events:PutRule", OWN_RULES),
    ("events:PutTargets", OWN_RULES),
    ("events:ListTargetsByRule", OWN_RULES),
    // Listing calls have no resource type.
    ("events:ListRules", &["*"]),
    ("events:ListEventBuses", &["*"]),
    ("lambda:ListFunctions", &["*"]),
    ("sns:ListTopics", &["*"]),
    ("sns:ListSubscriptionsByTopic", &["arn:{partition}:sns:{region}:{account}:snapback-*"]),
    ("lambda:DeleteFunctionConcurrency", &["arn:{partition}:lambda:{region}:{account}:function:snapback-*"]),
    ("lambda:GetFunction", &["arn:{partition}:lambda:{region}:{account}:function:snapback-*"]),
    ("lambda:GetFunctionConcurrency", &["arn:{partition}:lambda:{region}:{account}:function:snapback-*"]),
    // AWS Config's recorder calls have no resource type.
    ("config:StartConfigurationRecorder", &["*"]),
    ("ssm:GetParameterHistory", &["arn:{partition}:ssm:{region}:{account}:parameter/snapback*"]),
];

/// The EventBridge `source` of a CloudTrail eventSource: `ec2.amazonaws.com` → `aws.ec2`.
fn bus_source(event_source: &str) -> String {
    format!("aws.{}", event_source.split('.').next().unwrap_or(event_source))
}

/// One pattern per event source, which also lets through the heartbeat of its route (its index).
/// EventBridge matches a pattern only when every field it names is present, so the exclusion of
/// snapback's own roles is an `$or` with "no session issuer" (IAM users, the root user and AWS
/// services have none); the code's own-principal guard stays as the second layer.
fn patterns(function: &str, events: &BTreeMap<&str, BTreeSet<&str>>) -> Vec<Value> {
    events
        .iter()
        .enumerate()
        .map(|(route, (event_source, names))| {
            let cloudtrail = json!({
                "source": [bus_source(event_source)],
                "detail-type": [CLOUDTRAIL_DETAIL_TYPE],
                "detail": {
                    "eventSource": [event_source],
                    "eventName": names,
                    "errorCode": [{"exists": false}],
                    "$or": [
                        {"userIdentity": {"sessionContext": {"sessionIssuer": {"userName": [{"anything-but": {"prefix": OWN_ROLE_PREFIX}}]}}}},
                        {"userIdentity": {"sessionContext": {"sessionIssuer": {"userName": [{"exists": false}]}}}}
                    ]
                }
            });
            json!({"$or": [cloudtrail, heartbeat::pattern(function, route)]})
        })
        .collect()
}

/// A function's EventBridge patterns, one a rule (none without a CloudTrail trigger).
pub fn event_patterns(function: &crate::Function) -> Vec<Value> {
    patterns(function.name, &function.events_by_source())
}

pub fn manifest() -> Value {
    let mut functions = serde_json::Map::new();
    // What the functions do in the accounts they guard (not the alerts, config and ledger of the
    // deployment itself): the member role of an organization deployment allows exactly these.
    let mut member_actions: BTreeSet<&str> = BTreeSet::new();
    for function in registry::functions() {
        let rules = function.judged_rules();
        let mut actions: BTreeSet<&str> =
            function.base_actions.iter().flat_map(|actions| actions.iter().copied()).collect();
        for meta in &rules {
            actions.extend(meta.iam_actions.iter().copied());
            member_actions.extend(meta.iam_actions.iter().copied());
        }
        if function.trigger == Trigger::Schedule {
            actions.extend(registry::SWEEP_FAN_OUT_ACTIONS.iter().copied());
        }
        if function.trigger == Trigger::Schedule || function.sweeps_itself {
            if function.sweeps_itself {
                actions.extend(heartbeat::SENDER_ACTIONS.iter().copied());
            }
            for service in function.slices() {
                actions.extend(service.sweep_actions().iter().copied());
                // A function that sweeps itself sweeps its own account only: no member role use.
                if function.trigger == Trigger::Schedule {
                    member_actions.extend(service.sweep_actions().iter().copied());
                }
            }
        }
        functions.insert(
            function.name.to_owned(),
            json!({
                "description": function.description,
                "trigger": function.trigger,
                "sweeps_itself": function.sweeps_itself,
                "timeout": function.timeout_seconds,
                "memory_size": function.memory_mb,
                "services": function.slices().iter().map(|service| service.name()).collect::<Vec<_>>(),
                "event_patterns": event_patterns(function),
                "iam_actions": actions,
                "rules": rules.iter().map(|meta| meta.id).collect::<Vec<_>>(),
            }),
        );
    }
    json!({
        "own_role_prefix": OWN_ROLE_PREFIX,
        // Each rule's one target, as the watchdog puts a removed one back.
        "event_target": {
            "id": deployed::TARGET_ID,
            "maximum_event_age_in_seconds": deployed::TARGET_MAXIMUM_EVENT_AGE_SECONDS,
            "maximum_retry_attempts": deployed::TARGET_MAXIMUM_RETRY_ATTEMPTS,
        },
        "functions": functions,
        "member_actions": member_actions,
        "action_resources": ACTION_RESOURCES.iter().map(|(action, resources)| (*action, *resources)).collect::<BTreeMap<_, _>>(),
        // The deployed rules: a registered slice no function hosts yet is not deployed.
        "rules": registry().iter().filter_map(|meta| function_of(meta.id).map(|function| json!({
            "id": meta.id, "severity": meta.severity, "default_mode": meta.default_mode,
            "function": function.name,
        }))).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rules a function hosts (not those of `registry::UNHOSTED` slices).
    fn hosted_rules() -> impl Iterator<Item = &'static crate::RuleMeta> {
        registry().iter().copied().filter(|meta| function_of(meta.id).is_some())
    }

    #[test]
    fn unhosted_rules_are_not_deployed() {
        let listed = manifest()["rules"].to_string();
        for service in registry::UNHOSTED {
            for meta in service.rules() {
                assert!(!listed.contains(&format!("\"{}\"", meta.id)), "{} is in the manifest", meta.id);
            }
        }
        assert_eq!(manifest()["rules"].as_array().unwrap().len(), hosted_rules().count());
    }

    #[test]
    fn every_rule_belongs_to_a_function_with_a_pattern_and_its_actions() {
        let manifest = manifest();
        for meta in hosted_rules() {
            let name = function_of(meta.id).expect("every hosted rule has a function").name;
            let function = &manifest["functions"][name];
            assert!(function.is_object(), "{} names unknown function {name}", meta.id);
            let actions = function["iam_actions"].to_string();
            for action in meta.iam_actions {
                assert!(actions.contains(action), "{}: {action}", meta.id);
            }
            let patterns = function["event_patterns"].to_string();
            for key in meta.events {
                assert!(patterns.contains(key.name) && patterns.contains(key.source), "{}: {key:?}", meta.id);
            }
        }
        assert_eq!(manifest["functions"]["slack-notifier"]["event_patterns"], json!([]));
    }

    #[test]
    fn the_sweeper_may_read_every_swept_slice_and_restore_its_rules_but_listens_to_no_event() {
        let sweeper = &manifest()["functions"]["sweeper"];
        assert_eq!(sweeper["trigger"], "schedule");
        assert_eq!(sweeper["event_patterns"], json!([]));
        // The slices with a rule sweeps judge.
        let swept: Vec<&crate::RuleMeta> = crate::function("sweeper").unwrap().judged_rules();
        assert_eq!(sweeper["rules"].as_array().unwrap().len(), swept.len());
        let actions = sweeper["iam_actions"].to_string();
        for meta in swept {
            for action in meta.iam_actions {
                assert!(actions.contains(action), "{}: {action}", meta.id);
            }
        }
        for function in registry::functions() {
            // The watchdog sweeps its own slice, with its own role.
            let sweeping = match function.sweeps_itself {
                true => manifest()["functions"][function.name]["iam_actions"].to_string(),
                false => actions.clone(),
            };
            for service in function.services {
                for action in service.sweep_actions() {
                    assert!(sweeping.contains(action), "{}: {action}", service.name());
                }
            }
        }
        assert!(!actions.contains("lambda:ListFunctions"), "the sweeper does not sweep the watchdog's slice");
        // The heartbeat's sender is the function that sweeps itself, and only it.
        for function in registry::functions() {
            let sends = manifest()["functions"][function.name]["iam_actions"].to_string().contains("events:PutEvents");
            assert_eq!(sends, function.sweeps_itself, "{}", function.name);
        }
        // Sweeping is for the sweeper: a guard reads only what its restores need.
        assert!(!manifest()["functions"]["eks-guard"]["iam_actions"].to_string().contains("eks:ListNodegroups"));
    }

    #[test]
    fn the_member_role_may_do_what_the_rules_and_sweeps_do_and_nothing_of_the_deployments_own() {
        let manifest = manifest();
        let member: BTreeSet<&str> =
            manifest["member_actions"].as_array().unwrap().iter().map(|action| action.as_str().unwrap()).collect();
        let mut expected: BTreeSet<&str> = hosted_rules().flat_map(|meta| meta.iam_actions.iter().copied()).collect();
        // The sweeper's sweeps reach members; the watchdog sweeps its own account only.
        let swept = crate::function("sweeper").unwrap().slices();
        expected.extend(swept.iter().flat_map(|service| service.sweep_actions().iter().copied()));
        assert_eq!(member, expected);
        for plumbing in ["sns:Publish", "ssm:GetParameter", "dynamodb:PutItem", "kms:Decrypt", "sts:AssumeRole"] {
            assert!(!member.contains(plumbing), "{plumbing} acts on the deployment, not the member");
        }
        // Each has its resources, written on purpose; the table holds nothing else.
        let mapped: BTreeSet<&str> =
            manifest["action_resources"].as_object().unwrap().keys().map(String::as_str).collect();
        // ... the member actions, and what a function that sweeps itself reads in its own account.
        let mut acted: BTreeSet<&str> = member.clone();
        for function in registry::functions().iter().filter(|function| function.sweeps_itself) {
            acted.extend(function.slices().iter().flat_map(|service| service.sweep_actions().iter().copied()));
        }
        assert_eq!(mapped, acted, "action_resources maps exactly the actions on guarded accounts");
    }
}
