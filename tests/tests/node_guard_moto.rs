//! The node guard against moto's EC2, EKS, SNS, SQS, SSM and DynamoDB: CloudTrail records in the
//! shapes of SHAPES.md (stage `node`) built from what moto really made, handled by node-guard as
//! deployed. moto lacks the account's instance metadata defaults (Get/ModifyInstanceMetadataDefaults):
//! `shared/aws/tests/node_defaults_mocked.rs` covers that restore.

use aws_sdk_ec2::types::{
    AttributeBooleanValue, HttpTokensState, InstanceMetadataOptionsRequest, LaunchPermission,
    LaunchPermissionModifications, OperationType, PermissionGroup, ResourceType, SnapshotAttributeName, Tag,
    TagSpecification,
};
use serde_json::{json, Value};
use snapback_tests::{deadline_in, eks_record, envelope, record, World, REGION};

const IMAGE: &str = "ami-03cf127a";

fn outcomes(report: &snapback_pipeline::Report) -> Vec<(&str, &str)> {
    report.decisions.iter().map(|d| (d.rule.as_str(), d.outcome.as_str())).collect()
}

fn tags(pairs: &[(&str, &str)]) -> TagSpecification {
    let mut spec = TagSpecification::builder().resource_type(ResourceType::Instance);
    for (key, value) in pairs {
        spec = spec.tags(Tag::builder().key(*key).value(*value).build());
    }
    spec.build()
}

/// An instance launched with these tags and IMDSv1 allowed, and the RunInstances record of its
/// launch (the effective options in the response, as SHAPES.md §3 says): (instance id, record).
async fn launched(world: &World, pairs: &[(&str, &str)]) -> (String, Value) {
    let options = InstanceMetadataOptionsRequest::builder()
        .http_tokens(HttpTokensState::Optional)
        .http_put_response_hop_limit(1)
        .build();
    let mut request = world.aws.ec2.run_instances().image_id(IMAGE).min_count(1).max_count(1).metadata_options(options);
    if !pairs.is_empty() {
        request = request.tag_specifications(tags(pairs));
    }
    let output = request.send().await.unwrap();
    let id = output.instances()[0].instance_id().unwrap().to_owned();
    let tag_set: Vec<Value> = pairs.iter().map(|(key, value)| json!({"key": key, "value": value})).collect();
    let event = record(
        &world.aws.account,
        "RunInstances",
        json!({"instancesSet": {"items": [{"imageId": IMAGE, "minCount": 1, "maxCount": 1}]}, "instanceType": "m6i.large",
               "metadataOptions": {"httpTokens": "optional"}}),
        json!({"reservationId": "r-0123456789abcdef0", "ownerId": world.aws.account, "groupSet": {},
               "instancesSet": {"items": [{"instanceId": id, "imageId": IMAGE, "instanceType": "m6i.large",
                   "tagSet": if tag_set.is_empty() { json!({}) } else { json!({"items": tag_set}) },
                   "metadataOptions": {"state": "pending", "httpTokens": "optional", "httpPutResponseHopLimit": 1,
                       "httpEndpoint": "enabled", "httpProtocolIpv4": "enabled", "httpProtocolIpv6": "disabled",
                       "instanceMetadataTags": "disabled"}}]}}),
    );
    (id, envelope(&event))
}

async fn tokens_of(world: &World, instance_id: &str) -> String {
    let output = world.aws.ec2.describe_instances().instance_ids(instance_id).send().await.unwrap();
    let instance = &output.reservations()[0].instances()[0];
    instance.metadata_options().and_then(|o| o.http_tokens()).map(|t| t.as_str().to_owned()).unwrap_or_default()
}

const NODE: &[(&str, &str)] = &[("eks:cluster-name", "prod"), ("eks:nodegroup-name", "web")];

/// GIVEN a managed node launched with IMDSv1 allowed, WHEN node-guard handles its RunInstances,
/// THEN the node requires IMDSv2 tokens and one alert says so.
#[tokio::test]
async fn an_imdsv1_node_is_snapped_back_to_required_tokens() {
    let world = World::new().await;
    let (instance, event) = launched(&world, NODE).await;
    assert_eq!(tokens_of(&world, &instance).await, "optional");

    let report = world.function_guard("node-guard", &world.aws, &[]).handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(outcomes(&report), [("instance-imdsv1", "remediated")]);
    assert_eq!(tokens_of(&world, &instance).await, "required");
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].message["resource"], instance.as_str());
    assert_eq!(alerts[0].message["cluster"], "prod");
    assert_eq!(alerts[0].message["restored"], json!([format!("require IMDSv2 tokens on instance {instance}")]));
}

#[tokio::test]
async fn in_notify_mode_the_node_is_alerted_and_left_alone() {
    let world = World::new().await;
    world.put_config(r#"{"rules": {"instance-imdsv1": {"mode": "notify"}}}"#).await;
    let (instance, event) = launched(&world, NODE).await;

    let report = world.function_guard("node-guard", &world.aws, &[]).handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(outcomes(&report), [("instance-imdsv1", "would-remediate")]);
    assert_eq!(tokens_of(&world, &instance).await, "optional");
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].message["outcome"], "would-remediate");
}

#[tokio::test]
async fn an_exempt_node_keeps_imdsv1_and_an_instance_of_no_cluster_is_out_of_scope() {
    let world = World::new().await;
    let exempt: Vec<(&str, &str)> = NODE.iter().copied().chain([("snapback:exempt", "instance-imdsv1")]).collect();
    let (kept, exempt_event) = launched(&world, &exempt).await;
    let (stray, stray_event) = launched(&world, &[("Name", "build-box")]).await;
    let guard = world.function_guard("node-guard", &world.aws, &[]);

    let exempted = guard.handle(&exempt_event, deadline_in(30)).await.unwrap();
    let strayed = guard.handle(&stray_event, deadline_in(30)).await.unwrap();

    assert_eq!(outcomes(&exempted), [("instance-imdsv1", "exempt")]);
    assert_eq!(outcomes(&strayed), [("instance-imdsv1", "out-of-scope")]);
    assert_eq!(tokens_of(&world, &kept).await, "optional");
    assert_eq!(tokens_of(&world, &stray).await, "optional");
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 1, "the exemption is alerted, the stray instance is not snapback's business");
    assert_eq!(alerts[0].message["outcome"], "exempt");
}

/// GIVEN a node someone already fixed, WHEN the record of its IMDSv1 launch arrives late, THEN
/// nothing is changed and nothing alerted; AND GIVEN one event delivered twice with the ledger,
/// THEN one delivery restores and alerts, the other is quiet.
#[tokio::test]
async fn an_already_safe_node_and_a_duplicate_delivery_restore_and_alert_once() {
    let world = World::new().await;
    let (fixed, late) = launched(&world, NODE).await;
    world
        .aws
        .ec2
        .modify_instance_metadata_options()
        .instance_id(&fixed)
        .http_tokens(HttpTokensState::Required)
        .send()
        .await
        .unwrap();
    let table = world.ledger_table().await;
    let guard = world.function_guard_with_ledger("node-guard", &table);

    let report = guard.handle(&late, deadline_in(30)).await.unwrap();
    assert_eq!(outcomes(&report), [("instance-imdsv1", "already-safe")]);
    assert!(world.alerts().await.is_empty());

    let (instance, event) = launched(&world, NODE).await;
    let first = guard.handle(&event, deadline_in(30)).await.unwrap();
    let second = guard.handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(outcomes(&first), [("instance-imdsv1", "remediated")]);
    assert!(second.decisions.is_empty() && second.ignored.is_some(), "{second:?}");
    assert_eq!(tokens_of(&world, &instance).await, "required");
    assert_eq!(world.alerts().await.len(), 1);
}

/// Two subnets of the world's VPC, the second auto-assigning public addresses, tagged for the cluster.
async fn subnets(world: &World) -> (String, String) {
    let mut ids = Vec::new();
    for (cidr, public) in [("10.0.1.0/24", false), ("10.0.2.0/24", true)] {
        let subnet = world.aws.ec2.create_subnet().vpc_id(&world.vpc_id).cidr_block(cidr).send().await.unwrap();
        let id = subnet.subnet().unwrap().subnet_id().unwrap().to_owned();
        if public {
            let on = AttributeBooleanValue::builder().value(true).build();
            world.aws.ec2.modify_subnet_attribute().subnet_id(&id).map_public_ip_on_launch(on).send().await.unwrap();
        }
        ids.push(id);
    }
    (ids.remove(0), ids.remove(0))
}

fn nodegroup_created(world: &World, name: &str, subnets: &[&str]) -> Value {
    envelope(&eks_record(
        &world.aws.account,
        "CreateNodegroup",
        json!({"name": "prod", "nodegroupName": name, "subnets": subnets,
               "nodeRole": format!("arn:aws:iam::{}:role/node", world.aws.account)}),
        json!({"nodegroup": {"nodegroupName": name, "clusterName": "prod", "status": "CREATING", "subnets": subnets}}),
    ))
}

async fn create_nodegroup(world: &World, name: &str, subnets: &[&str]) {
    world
        .aws
        .eks
        .create_nodegroup()
        .cluster_name("prod")
        .nodegroup_name(name)
        .set_subnets(Some(subnets.iter().map(|s| (*s).to_owned()).collect()))
        .node_role(format!("arn:aws:iam::{}:role/node", world.aws.account))
        .send()
        .await
        .unwrap();
}

/// GIVEN node groups created in a private subnet and in one that auto-assigns public addresses,
/// WHEN node-guard handles their CreateNodegroup records (which never say), THEN its look-up
/// describes the subnets: the private one is no finding at all, the public one is alerted.
#[tokio::test]
async fn a_node_group_is_alerted_only_when_its_subnets_really_auto_assign_public_addresses() {
    let world = World::new().await;
    world.cluster("prod", false, true, &[], &[], &[]).await;
    let (private, public) = subnets(&world).await;
    create_nodegroup(&world, "private", &[&private]).await;
    create_nodegroup(&world, "public", &[&private, &public]).await;
    let guard = world.function_guard("node-guard", &world.aws, &[]);

    let quiet = guard.handle(&nodegroup_created(&world, "private", &[&private]), deadline_in(30)).await.unwrap();
    assert!(quiet.decisions.is_empty(), "confirmed away: {quiet:?}");
    assert!(world.alerts().await.is_empty());

    let loud = guard.handle(&nodegroup_created(&world, "public", &[&private, &public]), deadline_in(30)).await.unwrap();
    assert_eq!(outcomes(&loud), [("nodegroup-public-subnet", "would-remediate")]);
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].message["resource"], "prod/public");
    let changed = alerts[0].message["rules"][0]["changed"].to_string();
    assert!(changed.contains(&public) && !changed.contains(&private), "{changed}");
}

/// GIVEN a cluster's subnet switched to auto-assign public addresses, WHEN node-guard handles the
/// ModifySubnetAttribute, THEN the subnet is private again.
#[tokio::test]
async fn a_cluster_subnet_made_public_is_turned_back() {
    let world = World::new().await;
    let (_, public) = subnets(&world).await;
    world
        .aws
        .ec2
        .create_tags()
        .resources(&public)
        .tags(Tag::builder().key("kubernetes.io/cluster/prod").value("shared").build())
        .send()
        .await
        .unwrap();
    let event = envelope(&record(
        &world.aws.account,
        "ModifySubnetAttribute",
        json!({"subnetId": public, "mapPublicIpOnLaunch": {"value": true}}),
        json!({"requestId": "8f2c1e4a-5b6d-4e7f-9a0b-1c2d3e4f5a6b", "_return": true}),
    ));

    let report = world.function_guard("node-guard", &world.aws, &[]).handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(outcomes(&report), [("subnet-auto-public-ip", "remediated")]);
    let subnet = world.aws.ec2.describe_subnets().subnet_ids(&public).send().await.unwrap();
    assert_eq!(subnet.subnets()[0].map_public_ip_on_launch(), Some(false));
}

/// A snapshot of a new volume, shared with group `all` and with one account.
async fn public_snapshot(world: &World) -> String {
    let volume = world.aws.ec2.create_volume().availability_zone(format!("{REGION}a")).size(1).send().await.unwrap();
    let snapshot = world.aws.ec2.create_snapshot().volume_id(volume.volume_id().unwrap()).send().await.unwrap();
    let id = snapshot.snapshot_id().unwrap().to_owned();
    world
        .aws
        .ec2
        .modify_snapshot_attribute()
        .snapshot_id(&id)
        .attribute(SnapshotAttributeName::CreateVolumePermission)
        .operation_type(OperationType::Add)
        .group_names("all")
        .user_ids("111122223333")
        .send()
        .await
        .unwrap();
    id
}

async fn volume_permissions(world: &World, snapshot: &str) -> Vec<String> {
    let output = world
        .aws
        .ec2
        .describe_snapshot_attribute()
        .snapshot_id(snapshot)
        .attribute(SnapshotAttributeName::CreateVolumePermission)
        .send()
        .await
        .unwrap();
    let mut permissions: Vec<String> = output
        .create_volume_permissions()
        .iter()
        .map(|p| p.group().map(|g| g.as_str().to_owned()).or(p.user_id().map(str::to_owned)).unwrap_or_default())
        .collect();
    permissions.sort();
    permissions
}

/// GIVEN a snapshot made public (and shared with an account), WHEN node-guard handles the
/// ModifySnapshotAttribute, THEN it is no longer public and the account share stays.
#[tokio::test]
async fn a_public_snapshot_is_unshared_from_everyone_but_keeps_its_account_shares() {
    let world = World::new().await;
    let snapshot = public_snapshot(&world).await;
    assert_eq!(volume_permissions(&world, &snapshot).await, ["111122223333", "all"]);
    let event = envelope(&record(
        &world.aws.account,
        "ModifySnapshotAttribute",
        json!({"snapshotId": snapshot, "attributeType": "CREATE_VOLUME_PERMISSION",
               "createVolumePermission": {"add": {"items": [{"group": "all"}, {"userId": "111122223333"}]}}}),
        json!({"_return": true}),
    ));

    let report = world.function_guard("node-guard", &world.aws, &[]).handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(outcomes(&report), [("snapshot-public", "remediated")]);
    assert_eq!(volume_permissions(&world, &snapshot).await, ["111122223333"]);
    assert_eq!(world.alerts().await[0].message["severity"], "critical");
}

/// GIVEN an image made public, WHEN node-guard handles the ModifyImageAttribute, THEN it is private.
#[tokio::test]
async fn a_public_image_is_made_private() {
    let world = World::new().await;
    let (instance, _) = launched(&world, &[]).await;
    let image = world.aws.ec2.create_image().instance_id(&instance).name("node-image").send().await.unwrap();
    let image = image.image_id().unwrap().to_owned();
    let add = LaunchPermissionModifications::builder()
        .add(LaunchPermission::builder().group(PermissionGroup::All).build())
        .build();
    world.aws.ec2.modify_image_attribute().image_id(&image).launch_permission(add).send().await.unwrap();
    let event = envelope(&record(
        &world.aws.account,
        "ModifyImageAttribute",
        json!({"imageId": image, "attributeType": "launchPermission", "launchPermission": {"add": {"items": [{"group": "all"}]}}}),
        json!({"_return": true}),
    ));

    let report = world.function_guard("node-guard", &world.aws, &[]).handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(outcomes(&report), [("ami-public", "remediated")]);
    let described = world.aws.ec2.describe_images().image_ids(&image).send().await.unwrap();
    assert_eq!(described.images()[0].public(), Some(false));
}

/// GIVEN EBS encryption by default switched off, WHEN node-guard handles the (parameterless)
/// DisableEbsEncryptionByDefault, THEN it is on again; a second delivery finds it already safe.
#[tokio::test]
async fn ebs_encryption_by_default_is_turned_back_on() {
    let world = World::new().await;
    world.aws.ec2.disable_ebs_encryption_by_default().send().await.unwrap();
    let event = envelope(&record(
        &world.aws.account,
        "DisableEbsEncryptionByDefault",
        Value::Null,
        json!({"ebsEncryptionByDefault": false}),
    ));
    let guard = world.function_guard("node-guard", &world.aws, &[]);

    let report = guard.handle(&event, deadline_in(30)).await.unwrap();
    let again = guard.handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(outcomes(&report), [("ebs-default-encryption-disabled", "remediated")]);
    assert_eq!(outcomes(&again), [("ebs-default-encryption-disabled", "already-safe")]);
    let setting = world.aws.ec2.get_ebs_encryption_by_default().send().await.unwrap();
    assert_eq!(setting.ebs_encryption_by_default(), Some(true));
    assert_eq!(world.alerts().await.len(), 1);
}

/// GIVEN a node launch template whose default version allows IMDSv1 and the rule in remediate
/// mode, WHEN node-guard handles its CreateLaunchTemplate, THEN a new default version requires
/// tokens. (moto ignores SourceVersion, so only the metadata options are asserted.)
#[tokio::test]
async fn a_node_launch_template_allowing_imdsv1_gets_a_default_version_requiring_tokens() {
    use aws_sdk_ec2::types::{
        LaunchTemplateHttpTokensState, LaunchTemplateInstanceMetadataOptionsRequest, RequestLaunchTemplateData,
    };
    let world = World::new().await;
    world.put_config(r#"{"rules": {"launch-template-imdsv1": {"mode": "remediate"}}}"#).await;
    let data = RequestLaunchTemplateData::builder()
        .image_id(IMAGE)
        .metadata_options(
            LaunchTemplateInstanceMetadataOptionsRequest::builder()
                .http_tokens(LaunchTemplateHttpTokensState::Optional)
                .build(),
        )
        .build();
    let created = world
        .aws
        .ec2
        .create_launch_template()
        .launch_template_name("prod-nodes")
        .launch_template_data(data)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::LaunchTemplate)
                .tags(Tag::builder().key("eks:cluster-name").value("prod").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let id = created.launch_template().unwrap().launch_template_id().unwrap().to_owned();
    let event = envelope(&record(
        &world.aws.account,
        "CreateLaunchTemplate",
        json!({"CreateLaunchTemplateRequest": {"LaunchTemplateName": "prod-nodes",
               "LaunchTemplateData": {"ImageId": IMAGE, "MetadataOptions": {"HttpTokens": "optional"}}}}),
        json!({"CreateLaunchTemplateResponse": {"launchTemplate": {"launchTemplateId": id, "launchTemplateName": "prod-nodes",
               "defaultVersionNumber": 1, "latestVersionNumber": 1}}}),
    ));

    let report = world.function_guard("node-guard", &world.aws, &[]).handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(outcomes(&report), [("launch-template-imdsv1", "remediated")]);
    let default = world
        .aws
        .ec2
        .describe_launch_template_versions()
        .launch_template_id(&id)
        .versions("$Default")
        .send()
        .await
        .unwrap();
    let version = &default.launch_template_versions()[0];
    assert_eq!(version.version_number(), Some(2));
    let tokens = version.launch_template_data().and_then(|d| d.metadata_options()).and_then(|o| o.http_tokens());
    assert_eq!(tokens, Some(&LaunchTemplateHttpTokensState::Required));
}

/// GIVEN an IMDSv1 node and a public snapshot from before snapback ran, WHEN the sweeper runs
/// with both rules in notify mode, THEN it finds both, alerts both, and changes neither.
#[tokio::test]
async fn the_sweep_finds_an_imdsv1_node_and_a_public_snapshot() {
    let world = World::new().await;
    world
        .put_config(r#"{"rules": {"instance-imdsv1": {"mode": "notify"}, "snapshot-public": {"mode": "notify"}}}"#)
        .await;
    let (instance, _) = launched(&world, NODE).await;
    let snapshot = public_snapshot(&world).await;
    let sweeper = world.function_guard("sweeper", &world.aws, &[]);

    let report = sweeper.sweep(Some(&world.aws.account), Some(REGION), deadline_in(60)).await.unwrap();

    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let mut found: Vec<(&str, &str, &str)> =
        report.decisions.iter().map(|d| (d.rule.as_str(), d.resource.as_str(), d.outcome.as_str())).collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("instance-imdsv1", instance.as_str(), "would-remediate"),
            ("snapshot-public", snapshot.as_str(), "would-remediate")
        ]
    );
    assert_eq!(tokens_of(&world, &instance).await, "optional");
    assert!(volume_permissions(&world, &snapshot).await.contains(&"all".to_owned()));
    assert_eq!(world.alerts().await.len(), 2);
}

/// GIVEN a node launched with IMDSv1 and a hop limit of 2, both rules in remediate mode, WHEN
/// node-guard handles its RunInstances, THEN one ModifyInstanceMetadataOptions requires tokens
/// and sets the hop limit to 1, and one alert names both rules.
#[tokio::test]
async fn tokens_and_hop_limit_of_one_node_are_restored_in_one_call_and_one_alert() {
    let world = World::new().await;
    world.put_config(r#"{"rules": {"instance-imds-hop-limit": {"mode": "remediate"}}}"#).await;
    let (instance, mut event) = launched(&world, NODE).await;
    world
        .aws
        .ec2
        .modify_instance_metadata_options()
        .instance_id(&instance)
        .http_tokens(HttpTokensState::Optional)
        .http_put_response_hop_limit(2)
        .send()
        .await
        .unwrap();
    event["detail"]["responseElements"]["instancesSet"]["items"][0]["metadataOptions"]["httpPutResponseHopLimit"] =
        json!(2);

    let report = world.function_guard("node-guard", &world.aws, &[]).handle(&event, deadline_in(30)).await.unwrap();

    let mut found = outcomes(&report);
    found.sort();
    assert_eq!(found, [("instance-imds-hop-limit", "remediated"), ("instance-imdsv1", "remediated")]);
    let output = world.aws.ec2.describe_instances().instance_ids(&instance).send().await.unwrap();
    let options = output.reservations()[0].instances()[0].metadata_options().unwrap();
    assert_eq!(
        (options.http_tokens(), options.http_put_response_hop_limit()),
        (Some(&HttpTokensState::Required), Some(1))
    );
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        alerts[0].message["restored"],
        json!([format!("require IMDSv2 tokens and set the IMDS hop limit to 1 on instance {instance}")])
    );
}

/// GIVEN an untagged launch template that only a node group's use makes a node template, WHEN
/// node-guard handles a CreateLaunchTemplateVersion allowing IMDSv1 (notify, the default), THEN
/// the look-up finds its cluster through the node group and alerts; a template no node group
/// uses is out of scope.
#[tokio::test]
async fn a_template_is_a_node_template_when_a_node_group_uses_it() {
    use aws_sdk_ec2::types::{
        LaunchTemplateHttpTokensState, LaunchTemplateInstanceMetadataOptionsRequest, RequestLaunchTemplateData,
    };
    use aws_sdk_eks::types::LaunchTemplateSpecification;
    let world = World::new().await;
    world.cluster("prod", false, true, &[], &[], &[]).await;
    let (private, _) = subnets(&world).await;
    let mut ids = Vec::new();
    for name in ["prod-nodes", "build-boxes"] {
        let data = RequestLaunchTemplateData::builder()
            .metadata_options(
                LaunchTemplateInstanceMetadataOptionsRequest::builder()
                    .http_tokens(LaunchTemplateHttpTokensState::Optional)
                    .build(),
            )
            .build();
        let created = world
            .aws
            .ec2
            .create_launch_template()
            .launch_template_name(name)
            .launch_template_data(data)
            .send()
            .await
            .unwrap();
        ids.push(created.launch_template().unwrap().launch_template_id().unwrap().to_owned());
    }
    world
        .aws
        .eks
        .create_nodegroup()
        .cluster_name("prod")
        .nodegroup_name("web")
        .subnets(&private)
        .node_role(format!("arn:aws:iam::{}:role/node", world.aws.account))
        .launch_template(LaunchTemplateSpecification::builder().id(&ids[0]).build())
        .send()
        .await
        .unwrap();
    let version = |id: &str| {
        envelope(&record(
            &world.aws.account,
            "CreateLaunchTemplateVersion",
            json!({"CreateLaunchTemplateVersionRequest": {"LaunchTemplateId": id,
                   "LaunchTemplateData": {"MetadataOptions": {"HttpTokens": "optional"}}}}),
            json!({"CreateLaunchTemplateVersionResponse": {"launchTemplateVersion": {"launchTemplateId": id,
                   "versionNumber": 1, "defaultVersion": true}}}),
        ))
    };
    let guard = world.function_guard("node-guard", &world.aws, &[]);

    let used = guard.handle(&version(&ids[0]), deadline_in(30)).await.unwrap();
    let unused = guard.handle(&version(&ids[1]), deadline_in(30)).await.unwrap();

    assert_eq!(outcomes(&used), [("launch-template-imdsv1", "would-remediate")]);
    assert_eq!(outcomes(&unused), [("launch-template-imdsv1", "out-of-scope")]);
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].message["cluster"], "prod");
}

/// GIVEN two untagged subnets switched to auto-assign public addresses, one listed in a cluster's
/// VPC config, WHEN node-guard handles both ModifySubnetAttribute records, THEN the cluster's is
/// turned back and the other is out of scope (scope eks).
#[tokio::test]
async fn an_untagged_subnet_is_a_clusters_when_its_vpc_config_lists_it() {
    let world = World::new().await;
    let (listed, stray) = subnets(&world).await;
    let on = AttributeBooleanValue::builder().value(true).build();
    world.aws.ec2.modify_subnet_attribute().subnet_id(&listed).map_public_ip_on_launch(on).send().await.unwrap();
    world
        .aws
        .eks
        .create_cluster()
        .name("prod")
        .role_arn(format!("arn:aws:iam::{}:role/eks-cluster", world.aws.account))
        .resources_vpc_config(aws_sdk_eks::types::VpcConfigRequest::builder().subnet_ids(&listed).build())
        .send()
        .await
        .unwrap();
    let opened = |subnet: &str| {
        envelope(&record(
            &world.aws.account,
            "ModifySubnetAttribute",
            json!({"subnetId": subnet, "mapPublicIpOnLaunch": {"value": true}}),
            json!({"_return": true}),
        ))
    };
    let guard = world.function_guard("node-guard", &world.aws, &[]);

    let restored = guard.handle(&opened(&listed), deadline_in(30)).await.unwrap();
    let ignored = guard.handle(&opened(&stray), deadline_in(30)).await.unwrap();

    assert_eq!(outcomes(&restored), [("subnet-auto-public-ip", "remediated")]);
    assert_eq!(outcomes(&ignored), [("subnet-auto-public-ip", "out-of-scope")]);
    let described = world.aws.ec2.describe_subnets().subnet_ids(&listed).subnet_ids(&stray).send().await.unwrap();
    let public: Vec<(&str, Option<bool>)> =
        described.subnets().iter().map(|s| (s.subnet_id().unwrap(), s.map_public_ip_on_launch())).collect();
    assert!(
        public.contains(&(listed.as_str(), Some(false))) && public.contains(&(stray.as_str(), Some(true))),
        "{public:?}"
    );
}
