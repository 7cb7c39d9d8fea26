//! Test support: a moto account per test, real-shaped CloudTrail events built from moto's real
//! answers, and the alerts that reached an SQS queue subscribed to the topic.

pub mod fault_proxy;
pub mod lambda;
pub mod runtime_api;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use aws_sdk_ec2::types::{IpPermission, IpRange, Ipv6Range, SecurityGroupRule, Tag, TagSpecification};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde_json::Value;
use snapback_aws::{
    BusyPolicy, Ec2Nodes, Ec2SecurityGroups, EcrRepositories, EksApi, ServiceAdapter, SnsPublisher, SsmConfigSource,
};
use snapback_pipeline::config_cache::ConfigCache;
use snapback_pipeline::Guard;
use snapback_testkit::cloudtrail;

pub const REGION: &str = "us-east-1";
pub const DEFAULT_ACCOUNT: &str = "123456789012";
pub const CONFIG_PARAMETER: &str = "/snapback/config";

/// moto's server: the one `make test` started (`SNAPBACK_MOTO_URL`), else one this test process
/// starts from the project's virtualenv and that stops when the process ends. Without either, the
/// test fails at once with one line saying what to run.
pub fn moto_url() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| std::env::var("SNAPBACK_MOTO_URL").unwrap_or_else(|_| start_moto())).clone()
}

/// Serves moto on a free loopback port until stdin closes, which happens when the test process
/// exits, however it exits.
const MOTO_SERVER: &str = r#"
import socket, sys
from moto.server import ThreadedMotoServer
with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
server.start()
print(port, flush=True)
sys.stdin.read()
server.stop()
"#;

fn start_moto() -> String {
    use std::io::BufRead;
    static SERVER: OnceLock<Mutex<std::process::Child>> = OnceLock::new();
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    let spawned = std::process::Command::new(&python)
        .args(["-c", MOTO_SERVER])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(_) => panic!("moto's server is not installed: run `make test` (it installs moto into .venv and starts it)"),
    };
    let mut port = String::new();
    std::io::BufReader::new(child.stdout.take().expect("piped stdout")).read_line(&mut port).unwrap_or_default();
    let port = port.trim().to_owned();
    if port.is_empty() {
        panic!("moto's server did not start from .venv: run `make test` (it installs moto into .venv and starts it)");
    }
    let _ = SERVER.set(Mutex::new(child));
    format!("http://127.0.0.1:{port}")
}

/// A 12-digit moto account nobody else in this run uses, so tests share one server safely.
pub fn fresh_account() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let salt = u64::from(std::process::id()) % 10_000;
    format!("{:04}{:08}", 1000 + salt % 9000, NEXT.fetch_add(1, Ordering::Relaxed) + 10_000_000 * (salt % 9))
}

/// Sends `x-moto-account-id` on every request, moto's way to pick the account.
#[derive(Debug, Clone)]
pub struct MotoAccount(pub String);

impl Intercept for MotoAccount {
    fn name(&self) -> &'static str {
        "MotoAccount"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        context.request_mut().headers_mut().insert("x-moto-account-id", self.0.clone());
        Ok(())
    }
}

pub async fn sdk_config() -> aws_config::SdkConfig {
    sdk_config_at(&moto_url()).await
}

/// The SDK configuration snapback's functions use (retries), pointed at `endpoint`, with longer
/// timeouts: one moto process serving parallel tests on two cores can take seconds over an
/// answer, and an attempt timed out there is sent again (a publish then arrives twice), which
/// AWS's latencies do not make likely.
pub async fn sdk_config_at(endpoint: &str) -> aws_config::SdkConfig {
    let patient = aws_config::timeout::TimeoutConfig::builder()
        .operation_attempt_timeout(std::time::Duration::from_secs(30))
        .operation_timeout(std::time::Duration::from_secs(90))
        .build();
    snapback_aws::sdk_config_loader()
        .timeout_config(patient)
        .endpoint_url(endpoint)
        .region(aws_sdk_ec2::config::Region::new(REGION))
        .credentials_provider(aws_sdk_ec2::config::Credentials::new("testing", "testing", None, None, "moto"))
        .load()
        .await
}

/// Clients for one moto account.
#[derive(Clone, Debug)]
pub struct Clients {
    pub account: String,
    pub ec2: aws_sdk_ec2::Client,
    pub eks: aws_sdk_eks::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub sns: aws_sdk_sns::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub cloudtrail: aws_sdk_cloudtrail::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub config: aws_sdk_config::Client,
    pub s3: aws_sdk_s3::Client,
    pub iam: aws_sdk_iam::Client,
}

impl Clients {
    /// The adapter of one slice on these clients, as `snapback_aws::adapter` builds it in a
    /// function, with short busy-cluster waits (the shape is production's).
    pub fn adapter(&self, service: &str, protected: &[String]) -> Box<dyn ServiceAdapter> {
        use snapback_rules::services::{ecr, eks, node, security_groups};
        match service {
            security_groups::SERVICE => Box::new(Ec2SecurityGroups::new(self.ec2.clone(), self.eks.clone())),
            eks::SERVICE => Box::new(
                EksApi::new(self.eks.clone())
                    .with_busy_policy(BusyPolicy {
                        first_wait: std::time::Duration::from_millis(200),
                        max_wait: std::time::Duration::from_secs(1),
                        margin: std::time::Duration::from_millis(500),
                    })
                    .protecting(protected),
            ),
            node::SERVICE => Box::new(Ec2Nodes::new(self.ec2.clone(), self.eks.clone())),
            ecr::SERVICE => Box::new(EcrRepositories::new(self.ecr.clone())),
            snapback_rules::services::watchdog::SERVICE => Box::new(self.watchdog_api()),
            other => panic!("no test adapter for slice {other}"),
        }
    }

    /// The watchdog's adapter on these clients (which also sends the heartbeats).
    pub fn watchdog_api(&self) -> snapback_aws::WatchdogApi {
        snapback_aws::WatchdogApi::from_clients(
            self.cloudtrail.clone(),
            self.events.clone(),
            self.lambda.clone(),
            self.config.clone(),
            self.ssm.clone(),
            self.sns.clone(),
        )
    }

    pub async fn for_account(account: &str) -> Clients {
        Clients::for_account_at(account, &moto_url()).await
    }

    /// Clients of `account` that reach moto through `endpoint` (a fault proxy).
    pub async fn for_account_at(account: &str, endpoint: &str) -> Clients {
        let sdk = sdk_config_at(endpoint).await;
        let header = MotoAccount(account.to_owned());
        Clients {
            account: account.to_owned(),
            ec2: aws_sdk_ec2::Client::from_conf(
                aws_sdk_ec2::config::Builder::from(&sdk).interceptor(header.clone()).build(),
            ),
            eks: aws_sdk_eks::Client::from_conf(
                aws_sdk_eks::config::Builder::from(&sdk).interceptor(header.clone()).build(),
            ),
            ecr: aws_sdk_ecr::Client::from_conf(
                aws_sdk_ecr::config::Builder::from(&sdk).interceptor(header.clone()).build(),
            ),
            sns: aws_sdk_sns::Client::from_conf(
                aws_sdk_sns::config::Builder::from(&sdk).interceptor(header.clone()).build(),
            ),
            sqs: aws_sdk_sqs::Client::from_conf(
                aws_sdk_sqs::config::Builder::from(&sdk).interceptor(header.clone()).build(),
            ),
            ssm: aws_sdk_ssm::Client::from_conf(
                aws_sdk_ssm::config::Builder::from(&sdk).interceptor(header.clone()).build(),
            ),
            dynamodb: aws_sdk_dynamodb::Client::from_conf(
                aws_sdk_dynamodb::config::Builder::from(&sdk).interceptor(header.clone()).build(),
            ),
            cloudtrail: aws_sdk_cloudtrail::Client::from_conf(
                aws_sdk_cloudtrail::config::Builder::from(&sdk).interceptor(header.clone()).build(),
            ),
            events: aws_sdk_eventbridge::Client::from_conf(
                aws_sdk_eventbridge::config::Builder::from(&sdk).interceptor(header.clone()).build(),
            ),
            lambda: aws_sdk_lambda::Client::from_conf(
                aws_sdk_lambda::config::Builder::from(&sdk).interceptor(header.clone()).build(),
            ),
            config: aws_sdk_config::Client::from_conf(
                aws_sdk_config::config::Builder::from(&sdk).interceptor(header.clone()).build(),
            ),
            // moto serves buckets by path, not by a virtual host under 127.0.0.1.
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).interceptor(header.clone()).build(),
            ),
            iam: aws_sdk_iam::Client::from_conf(aws_sdk_iam::config::Builder::from(&sdk).interceptor(header).build()),
        }
    }
}

/// One test's AWS: its own account, an alert topic with a raw-delivery SQS subscriber, a VPC.
pub struct World {
    pub aws: Clients,
    pub topic_arn: String,
    pub queue_url: String,
    pub vpc_id: String,
}

/// An alert as it arrived on the queue.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub message: Value,
    pub attributes: BTreeMap<String, String>,
}

impl World {
    pub async fn new() -> World {
        World::in_account(&fresh_account()).await
    }

    /// moto's default account, the one a process without the account header (a bootstrap
    /// binary) works in.
    pub async fn in_default_account() -> World {
        World::in_account(DEFAULT_ACCOUNT).await
    }

    pub async fn in_account(account: &str) -> World {
        let aws = Clients::for_account(account).await;
        let topic_arn = aws
            .sns
            .create_topic()
            .name(format!("snapback-alerts-{}", fresh_account()))
            .send()
            .await
            .unwrap()
            .topic_arn
            .unwrap();
        let queue_url = subscribe_queue(&aws, &topic_arn, None).await;
        let vpc_id = aws.ec2.create_vpc().cidr_block("10.0.0.0/16").send().await.unwrap().vpc.unwrap().vpc_id.unwrap();
        // As in an account snapback guards (moto starts with it off): otherwise every sweep of
        // every test would find, restore and alert ebs-default-encryption-disabled.
        aws.ec2.enable_ebs_encryption_by_default().send().await.unwrap();
        World { aws, topic_arn, queue_url, vpc_id }
    }

    /// The environment of a function binary working in this world (moto's default account).
    pub fn function_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", moto_url()),
            ("AWS_REGION", REGION.to_owned()),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
            ("SNAPBACK_TOPIC_ARN", self.topic_arn.clone()),
            ("SNAPBACK_SELF_ARNS", format!("arn:aws:iam::{}:role/snapback-sg-guard", self.aws.account)),
        ]
    }

    /// A multi-region trail `name` logging management events, read and write, as AWS sets a new
    /// trail up (moto gives a new trail no event selector): the region is covered.
    pub async fn logging_trail(&self, name: &str) {
        // Bucket names are global: one per account.
        let bucket = format!("{name}-logs-{}", self.aws.account);
        self.aws.s3.create_bucket().bucket(&bucket).send().await.unwrap();
        let trail = self.aws.cloudtrail.create_trail().name(name).s3_bucket_name(&bucket).is_multi_region_trail(true);
        trail.send().await.unwrap();
        self.log_management_events(name).await;
        self.aws.cloudtrail.start_logging().name(name).send().await.unwrap();
    }

    /// The trail's selector set to management events, read and write: what AWS gives a new
    /// trail (moto gives it none).
    pub async fn log_management_events(&self, trail: &str) {
        let selector = aws_sdk_cloudtrail::types::EventSelector::builder()
            .read_write_type(aws_sdk_cloudtrail::types::ReadWriteType::All)
            .include_management_events(true)
            .build();
        self.aws.cloudtrail.put_event_selectors().trail_name(trail).event_selectors(selector).send().await.unwrap();
    }

    /// Stores a config document in the account's SSM parameter the guard reads.
    pub async fn put_config(&self, document: &str) {
        self.aws
            .ssm
            .put_parameter()
            .name(CONFIG_PARAMETER)
            .value(document)
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .overwrite(true)
            .send()
            .await
            .unwrap();
    }

    /// sg-guard as deployed, on this account's clients, reading config from SSM.
    pub fn guard(&self, own_principals: &[&str]) -> Guard {
        self.function_guard("sg-guard", &self.aws, own_principals)
    }

    /// sg-guard on other clients of this account (through a fault proxy, say).
    pub fn guard_with(&self, aws: &Clients, own_principals: &[&str]) -> Guard {
        self.function_guard("sg-guard", aws, own_principals)
    }

    /// eks-guard as deployed, on this account's clients, reading config from SSM.
    pub fn eks_guard(&self, own_principals: &[&str]) -> Guard {
        self.function_guard("eks-guard", &self.aws, own_principals)
    }

    /// eks-guard on other clients of this account (through a fault proxy, say).
    pub fn eks_guard_with(&self, aws: &Clients, own_principals: &[&str]) -> Guard {
        self.function_guard("eks-guard", aws, own_principals)
    }

    /// The registry's function `name` with its slices' adapters over `aws`.
    pub fn function_guard(&self, name: &str, aws: &Clients, own_principals: &[&str]) -> Guard {
        self.function_guard_reading(name, aws, CONFIG_PARAMETER, own_principals)
    }

    /// As [`World::function_guard`], reading its config from SSM parameter `parameter`.
    pub fn function_guard_reading(&self, name: &str, aws: &Clients, parameter: &str, own_principals: &[&str]) -> Guard {
        let own: Vec<String> = own_principals.iter().map(|arn| (*arn).to_owned()).collect();
        let function = snapback_rules::function(name).expect("a registered function");
        Guard {
            function,
            adapters: function.slices().into_iter().map(|service| aws.adapter(service.name(), &own)).collect(),
            accounts: None,
            organization: None,
            publisher: Box::new(SnsPublisher::new(aws.sns.clone(), &self.topic_arn)),
            config: ConfigCache::new(
                Some(Box::new(SsmConfigSource::new(aws.ssm.clone(), parameter))),
                std::time::Duration::from_secs(60),
            ),
            own_principals: own,
            ledger: None,
        }
    }

    /// A new ledger table, as Terraform makes it (`pk`, `sk`, on demand); returns its name.
    pub async fn ledger_table(&self) -> String {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        };
        let name = format!("snapback-ledger-{}", fresh_account());
        let key = |name: &str, kind| KeySchemaElement::builder().attribute_name(name).key_type(kind).build().unwrap();
        let attribute = |name: &str| {
            AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build().unwrap()
        };
        self.aws
            .dynamodb
            .create_table()
            .table_name(&name)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("pk", KeyType::Hash))
            .key_schema(key("sk", KeyType::Range))
            .attribute_definitions(attribute("pk"))
            .attribute_definitions(attribute("sk"))
            .send()
            .await
            .unwrap();
        name
    }

    /// The ledger in `table`, on this account's clients.
    pub fn ledger(&self, table: &str) -> Box<dyn snapback_aws::Ledger> {
        Box::new(snapback_aws::DynamoLedger::new(self.aws.dynamodb.clone(), table))
    }

    /// The registry's function `name` on this account, remembering in the ledger `table`.
    pub fn function_guard_with_ledger(&self, name: &str, table: &str) -> Guard {
        Guard { ledger: Some(self.ledger(table)), ..self.function_guard(name, &self.aws, &[]) }
    }

    /// A security group in the VPC with these tags.
    pub async fn group(&self, name: &str, tags: &[(&str, &str)]) -> String {
        let mut request =
            self.aws.ec2.create_security_group().group_name(name).description("snapback test").vpc_id(&self.vpc_id);
        if !tags.is_empty() {
            let tags = tags.iter().map(|(k, v)| Tag::builder().key(*k).value(*v).build()).collect();
            request = request.tag_specifications(
                TagSpecification::builder()
                    .resource_type(aws_sdk_ec2::types::ResourceType::SecurityGroup)
                    .set_tags(Some(tags))
                    .build(),
            );
        }
        request.send().await.unwrap().group_id.unwrap()
    }

    /// An EKS cluster with this endpoint access, these log types on, and these tags.
    pub async fn cluster(
        &self,
        name: &str,
        public: bool,
        private: bool,
        cidrs: &[&str],
        logs_on: &[&str],
        tags: &[(&str, &str)],
    ) {
        use aws_sdk_eks::types::{LogSetup, LogType, Logging, VpcConfigRequest};
        let mut request = self
            .aws
            .eks
            .create_cluster()
            .name(name)
            .role_arn(format!("arn:aws:iam::{}:role/eks-cluster", self.aws.account))
            .resources_vpc_config(
                VpcConfigRequest::builder()
                    .subnet_ids("subnet-0a1b2c3d")
                    .endpoint_public_access(public)
                    .endpoint_private_access(private)
                    .set_public_access_cidrs(Some(cidrs.iter().map(|c| (*c).to_owned()).collect()))
                    .build(),
            )
            .logging(
                Logging::builder()
                    .cluster_logging(
                        LogSetup::builder()
                            .set_types(Some(logs_on.iter().map(|t| LogType::from(*t)).collect()))
                            .enabled(true)
                            .build(),
                    )
                    .build(),
            );
        for (key, value) in tags {
            request = request.tags(*key, *value);
        }
        request.send().await.unwrap();
    }

    /// Changes the cluster's endpoint access as a person would.
    pub async fn set_endpoint(&self, name: &str, public: bool, private: bool) {
        let vpc = aws_sdk_eks::types::VpcConfigRequest::builder()
            .endpoint_public_access(public)
            .endpoint_private_access(private)
            .public_access_cidrs("0.0.0.0/0")
            .build();
        self.aws.eks.update_cluster_config().name(name).resources_vpc_config(vpc).send().await.unwrap();
    }

    /// Switches control-plane log types off as a person would.
    pub async fn disable_logging(&self, name: &str, types: &[&str]) {
        use aws_sdk_eks::types::{LogSetup, LogType, Logging};
        let setup = LogSetup::builder()
            .set_types(Some(types.iter().map(|t| LogType::from(*t)).collect()))
            .enabled(false)
            .build();
        let logging = Logging::builder().cluster_logging(setup).build();
        self.aws.eks.update_cluster_config().name(name).logging(logging).send().await.unwrap();
    }

    /// The cluster's endpoint access and enabled log types now, read through snapback's own adapter.
    pub async fn cluster_state(&self, name: &str) -> (bool, bool, Vec<String>, Vec<String>) {
        let facts =
            EksApi::new(self.aws.eks.clone()).describe_cluster(name).await.unwrap().expect("the cluster exists");
        let endpoint = facts.endpoint;
        (endpoint.public, endpoint.private, endpoint.public_cidrs, facts.logging_enabled.into_iter().collect())
    }

    /// A node of `cluster` (tagged `eks:cluster-name`) launched with IMDSv2 tokens as `tokens`
    /// says; its instance id.
    pub async fn node(&self, cluster: &str, tokens: aws_sdk_ec2::types::HttpTokensState) -> String {
        let tags = TagSpecification::builder()
            .resource_type(aws_sdk_ec2::types::ResourceType::Instance)
            .tags(Tag::builder().key("eks:cluster-name").value(cluster).build())
            .build();
        let options = aws_sdk_ec2::types::InstanceMetadataOptionsRequest::builder().http_tokens(tokens).build();
        let request = self.aws.ec2.run_instances().image_id("ami-03cf127a").min_count(1).max_count(1);
        let launched = request.tag_specifications(tags).metadata_options(options).send().await.unwrap();
        launched.instances()[0].instance_id().unwrap().to_owned()
    }

    /// Sets a node's IMDS tokens as `tokens` says (as someone at the console would).
    pub async fn set_tokens(&self, instance: &str, tokens: aws_sdk_ec2::types::HttpTokensState) {
        let modify = self.aws.ec2.modify_instance_metadata_options().instance_id(instance);
        modify.http_tokens(tokens).send().await.unwrap();
    }

    /// An ECR repository with scan on push `scan_on_push`, tags `mutability` (MUTABLE or
    /// IMMUTABLE) and these tags; returns the repository as CreateRepository answered it, as JSON
    /// in the shape of CloudTrail's `responseElements.repository`.
    pub async fn repository(&self, name: &str, scan_on_push: bool, mutability: &str, tags: &[(&str, &str)]) -> Value {
        use aws_sdk_ecr::types::{ImageScanningConfiguration, ImageTagMutability, Tag};
        let mut request = self
            .aws
            .ecr
            .create_repository()
            .repository_name(name)
            .image_tag_mutability(ImageTagMutability::from(mutability))
            .image_scanning_configuration(ImageScanningConfiguration::builder().scan_on_push(scan_on_push).build());
        for (key, value) in tags {
            request = request.tags(Tag::builder().key(*key).value(*value).build().unwrap());
        }
        let repository = request.send().await.unwrap().repository.unwrap();
        serde_json::json!({
            "repositoryArn": repository.repository_arn(),
            "repositoryName": repository.repository_name(),
            "repositoryUri": repository.repository_uri(),
            "registryId": repository.registry_id(),
            "imageTagMutability": mutability,
            "imageScanningConfiguration": {"scanOnPush": scan_on_push},
            "encryptionConfiguration": {"encryptionType": "AES256"},
        })
    }

    /// Sets a repository's policy as a person would.
    pub async fn set_repository_policy(&self, name: &str, policy_text: &str) {
        self.aws.ecr.set_repository_policy().repository_name(name).policy_text(policy_text).send().await.unwrap();
    }

    /// The repository now, read through snapback's own adapter.
    pub async fn repository_state(&self, name: &str) -> snapback_rules::services::ecr::RepositoryState {
        EcrRepositories::new(self.aws.ecr.clone())
            .describe_repository(name)
            .await
            .unwrap()
            .expect("the repository exists")
    }

    /// Authorizes one permission and returns the rules AWS created for it.
    pub async fn authorize(&self, group_id: &str, permission: IpPermission) -> Vec<SecurityGroupRule> {
        let answer = self
            .aws
            .ec2
            .authorize_security_group_ingress()
            .group_id(group_id)
            .ip_permissions(permission.clone())
            .send()
            .await;
        match answer {
            Ok(answer) => answer.security_group_rules.unwrap_or_default(),
            // On a loaded machine moto can answer after the SDK's attempt timeout; the SDK's retry
            // then finds the rule its first attempt made. Read that rule back.
            Err(error)
                if error.as_service_error().and_then(|e| e.meta().code()) == Some("InvalidPermission.Duplicate") =>
            {
                self.rules_of(group_id, &permission).await
            }
            Err(error) => panic!("authorize ingress on {group_id}: {error:?}"),
        }
    }

    /// The group's ingress rules that `permission` made.
    async fn rules_of(&self, group_id: &str, permission: &IpPermission) -> Vec<SecurityGroupRule> {
        let filter = aws_sdk_ec2::types::Filter::builder().name("group-id").values(group_id).build();
        let answer = self.aws.ec2.describe_security_group_rules().filters(filter).send().await.unwrap();
        let v4: Vec<&str> = permission.ip_ranges().iter().filter_map(|range| range.cidr_ip()).collect();
        let v6: Vec<&str> = permission.ipv6_ranges().iter().filter_map(|range| range.cidr_ipv6()).collect();
        answer
            .security_group_rules
            .unwrap_or_default()
            .into_iter()
            .filter(|rule| rule.is_egress() == Some(false))
            .filter(|rule| rule.ip_protocol() == permission.ip_protocol())
            .filter(|rule| rule.from_port() == permission.from_port() && rule.to_port() == permission.to_port())
            .filter(|rule| {
                rule.cidr_ipv4().is_some_and(|cidr| v4.contains(&cidr))
                    || rule.cidr_ipv6().is_some_and(|cidr| v6.contains(&cidr))
            })
            .collect()
    }

    /// The group's ingress rules now, as (protocol, from, to, cidr).
    pub async fn ingress(&self, group_id: &str) -> Vec<(String, i32, i32, String)> {
        let rules = self
            .aws
            .ec2
            .describe_security_group_rules()
            .filters(aws_sdk_ec2::types::Filter::builder().name("group-id").values(group_id).build())
            .send()
            .await
            .unwrap()
            .security_group_rules
            .unwrap_or_default();
        let mut ingress: Vec<_> = rules
            .into_iter()
            .filter(|rule| rule.is_egress == Some(false))
            .map(|rule| {
                (
                    rule.ip_protocol.unwrap_or_default(),
                    rule.from_port.unwrap_or(-1),
                    rule.to_port.unwrap_or(-1),
                    rule.cidr_ipv4.or(rule.cidr_ipv6).unwrap_or_default(),
                )
            })
            .collect();
        ingress.sort();
        ingress
    }

    /// Every alert delivered to the queue so far (drains it).
    pub async fn alerts(&self) -> Vec<Delivered> {
        let mut delivered = Vec::new();
        loop {
            let output = self
                .aws
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .message_attribute_names("All")
                .wait_time_seconds(if delivered.is_empty() { 1 } else { 0 })
                .send()
                .await
                .unwrap();
            let messages = output.messages.unwrap_or_default();
            if messages.is_empty() {
                return delivered;
            }
            for message in messages {
                let attributes = message
                    .message_attributes
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(name, value)| (name, value.string_value.unwrap_or_default()))
                    .collect();
                delivered.push(Delivered {
                    message: serde_json::from_str(message.body.as_deref().unwrap())
                        .unwrap_or_else(|error| panic!("an alert that is not JSON ({error}): {:?}", message.body)),
                    attributes,
                });
                self.aws
                    .sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(message.receipt_handle.unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
}

/// A new SQS queue subscribed to `topic_arn` with raw delivery and, when given, this filter
/// policy on the message attributes; returns its URL.
pub async fn subscribe_queue(aws: &Clients, topic_arn: &str, filter_policy: Option<&str>) -> String {
    let queue_url = aws
        .sqs
        .create_queue()
        .queue_name(format!("alerts-sink-{}", fresh_account()))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queue_arn = aws
        .sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    let mut request = aws
        .sns
        .subscribe()
        .topic_arn(topic_arn)
        .protocol("sqs")
        .endpoint(queue_arn)
        .attributes("RawMessageDelivery", "true")
        .return_subscription_arn(true);
    if let Some(policy) = filter_policy {
        request = request.attributes("FilterPolicy", policy);
    }
    request.send().await.unwrap();
    queue_url
}

/// moto's whole state from its `/moto-api/data.json` backdoor. moto builds it by walking every
/// backend while other tests' requests change them, and answers a 500 page when one changed under
/// it: read again, a few times.
fn moto_data() -> Value {
    use std::io::{Read, Write};
    let address = moto_url().trim_start_matches("http://").to_owned();
    let mut last = String::new();
    for _ in 0..10 {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        write!(stream, "GET /moto-api/data.json HTTP/1.0\r\nHost: {address}\r\n\r\n").unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let body = answer.split_once("\r\n\r\n").map(|(_, body)| body).unwrap_or_default();
        if let Ok(data) = serde_json::from_str(body) {
            return data;
        }
        last = answer.lines().next().unwrap_or_default().to_owned();
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    panic!("moto's data.json did not answer JSON in 10 reads; last status line: {last}");
}

/// What moto recorded as published to `topic_arn`: (subject, message) per publish, from its
/// `/moto-api/data.json` backdoor.
pub fn published_to(topic_arn: &str) -> Vec<(String, String)> {
    let data = moto_data();
    let topics = data["sns"]["Topic"].as_array().cloned().unwrap_or_default();
    let topic = topics.iter().find(|topic| topic["arn"] == topic_arn).expect("the topic is in moto's data");
    topic["sent_notifications"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|sent| (sent[2].as_str().unwrap_or_default().to_owned(), sent[1].as_str().unwrap_or_default().to_owned()))
        .collect()
}

/// A tcp permission on one port from IPv4 and IPv6 CIDRs.
pub fn tcp_from(port: i32, cidrs: &[&str]) -> IpPermission {
    let (v6, v4): (Vec<&str>, Vec<&str>) = cidrs.iter().partition(|cidr| cidr.contains(':'));
    IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(port)
        .to_port(port)
        .set_ip_ranges(Some(v4.iter().map(|c| IpRange::builder().cidr_ip(*c).build()).collect()))
        .set_ipv6_ranges(Some(v6.iter().map(|c| Ipv6Range::builder().cidr_ipv6(*c).build()).collect()))
        .build()
}

/// A CloudTrail record of AuthorizeSecurityGroupIngress, in the standard item shape, built from
/// the permission sent and the rules AWS created (its `securityGroupRuleSet`).
pub fn authorize_record(
    account: &str,
    group_id: &str,
    permission: &IpPermission,
    created: &[SecurityGroupRule],
) -> Value {
    let cidrs: Vec<&str> = permission
        .ip_ranges()
        .iter()
        .filter_map(|range| range.cidr_ip())
        .chain(permission.ipv6_ranges().iter().filter_map(|range| range.cidr_ipv6()))
        .collect();
    let (from, to) = (permission.from_port().unwrap_or(-1), permission.to_port().unwrap_or(-1));
    let item = cloudtrail::permission(permission.ip_protocol().unwrap_or("-1"), from.into(), to.into(), &cidrs);
    let rule_set: Vec<Value> = created
        .iter()
        .map(|rule| {
            cloudtrail::created_rule(
                account,
                group_id,
                rule.security_group_rule_id().unwrap_or_default(),
                rule.ip_protocol().unwrap_or("-1"),
                rule.from_port().unwrap_or(-1).into(),
                rule.to_port().unwrap_or(-1).into(),
                rule.cidr_ipv4().or(rule.cidr_ipv6()).unwrap_or_default(),
            )
        })
        .collect();
    cloudtrail::authorize_ingress(account, group_id, vec![item], rule_set)
}

/// The CloudTrail record of a ModifyInstanceMetadataOptions making tokens optional on `instance`:
/// its request inside the PascalCase wrapper CloudTrail records it in.
pub fn tokens_made_optional_record(account: &str, instance: &str) -> Value {
    record(
        account,
        "ModifyInstanceMetadataOptions",
        serde_json::json!({"ModifyInstanceMetadataOptionsRequest": {"HttpTokens": "optional", "InstanceId": instance}}),
        serde_json::json!({"ModifyInstanceMetadataOptionsResponse": {"instanceId": instance,
            "instanceMetadataOptions": {"state": "pending", "httpTokens": "optional", "httpPutResponseHopLimit": 1,
                "httpEndpoint": "enabled"}}}),
    )
}

/// An EC2 CloudTrail record by IAM user alice, with a fresh event id.
pub fn record(account: &str, event_name: &str, request: Value, response: Value) -> Value {
    cloudtrail::ec2(event_name, account, request, response)
}

/// An EKS CloudTrail record by IAM user alice, with a fresh event id.
pub fn eks_record(account: &str, event_name: &str, request: Value, response: Value) -> Value {
    cloudtrail::eks(event_name, account, request, response)
}

/// An ECR CloudTrail record by IAM user alice, with a fresh event id.
pub fn ecr_record(account: &str, event_name: &str, request: Value, response: Value) -> Value {
    cloudtrail::ecr(event_name, account, request, response)
}

/// A deadline as far off as a Lambda invocation's usual 30 s timeout.
pub fn deadline_in(seconds: u64) -> std::time::Instant {
    std::time::Instant::now() + std::time::Duration::from_secs(seconds)
}

pub use snapback_testkit::cloudtrail::envelope;
