//! The watchdog adapter: puts back what can be put back exactly (a trail's logging, a rule's
//! state, a function's concurrency, AWS Config's recorder), each after reading that it is still
//! off, and reads a configuration parameter's history, which is how a PutParameter's finding is
//! confirmed (CloudTrail never records a SecureString's value). Its sweep describes snapback's
//! own rules, functions and topics, so that what no event reported (the watchdog's own rule
//! disabled) is still found. Built only with the `watchdog`
//! feature: the guards do not link these SDK clients.

use std::time::Instant;

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_ssm::types::ParameterHistory;
use snapback_rules::heartbeat;
use snapback_rules::services::watchdog::{
    advanced_selector_logs_management_writes, basic_selector_logs_management_writes, is_own_name, topic_name,
    AlertTopicState, GuardFunctionState, GuardRuleState, ParameterState, TrailCoverage, TrailState, WatchdogAction,
    WatchdogState, EVENT_RULE, FUNCTION, OWN_NAME_PREFIX, PARAMETER, REGION_TRAILS, SERVICE, TOPIC,
};
use snapback_rules::{Action, ResourceFacts, ResourceKind};

use crate::adapter::{typed, ActionResult, BoxFuture, Described, Found, LookedUp, ServiceAdapter};
use crate::error::AwsError;
use crate::sweep::{each, sort_found, CallBound, SweepContext, SWEEP_CONCURRENCY};

/// The watchdog slice over CloudTrail, EventBridge, Lambda, AWS Config and SSM.
#[derive(Clone, Debug)]
pub struct WatchdogApi {
    cloudtrail: aws_sdk_cloudtrail::Client,
    events: aws_sdk_eventbridge::Client,
    lambda: aws_sdk_lambda::Client,
    config: aws_sdk_config::Client,
    ssm: aws_sdk_ssm::Client,
    sns: aws_sdk_sns::Client,
}

impl WatchdogApi {
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        WatchdogApi {
            cloudtrail: aws_sdk_cloudtrail::Client::new(sdk),
            events: aws_sdk_eventbridge::Client::new(sdk),
            lambda: aws_sdk_lambda::Client::new(sdk),
            config: aws_sdk_config::Client::new(sdk),
            ssm: aws_sdk_ssm::Client::new(sdk),
            sns: aws_sdk_sns::Client::new(sdk),
        }
    }

    /// Over clients built elsewhere (tests give each its own account's header).
    pub fn from_clients(
        cloudtrail: aws_sdk_cloudtrail::Client,
        events: aws_sdk_eventbridge::Client,
        lambda: aws_sdk_lambda::Client,
        config: aws_sdk_config::Client,
        ssm: aws_sdk_ssm::Client,
        sns: aws_sdk_sns::Client,
    ) -> Self {
        WatchdogApi { cloudtrail, events, lambda, config, ssm, sns }
    }

    /// The parameter's last two versions, decrypted; both None when it does not exist.
    pub async fn parameter_history(&self, name: &str) -> Result<ParameterState, AwsError> {
        let mut versions: Vec<ParameterHistory> = Vec::new();
        let mut pages =
            self.ssm.get_parameter_history().name(name).with_decryption(true).max_results(50).into_paginator().send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => versions.extend(page.parameters().iter().cloned()),
                Err(error) if error.as_service_error().is_some_and(|e| e.is_parameter_not_found()) => break,
                Err(error) => return Err(AwsError::from_sdk("ssm:GetParameterHistory", error)),
            }
        }
        versions.sort_by_key(|version| version.version());
        let current = versions.pop();
        let previous = versions.pop();
        Ok(ParameterState {
            name: name.to_owned(),
            modified_by: current.as_ref().and_then(|version| version.last_modified_user().map(str::to_owned)),
            current: current.and_then(|version| version.value),
            previous: previous.and_then(|version| version.value),
        })
    }

    /// What logs this region: every trail listed here (multi-region trails of other home regions
    /// included), with whether it is logging and logs management write events. A trail whose
    /// status cannot be read (another account's) is marked unreadable; a listing that fails
    /// leaves the region unjudged this run, and the other sweeps go on.
    async fn sweep_trails(&self, bound: &CallBound) -> Result<Vec<Option<Found>>, AwsError> {
        let region = self.cloudtrail.config().region().map(|region| region.to_string()).unwrap_or_default();
        let listed = match bound.call(self.cloudtrail.describe_trails().include_shadow_trails(true).send()).await {
            Ok(listed) => listed,
            Err(error) => {
                let error = AwsError::from_sdk("cloudtrail:DescribeTrails", error);
                tracing::warn!(%error, "the region's trails are not judged this run");
                return Ok(Vec::new());
            }
        };
        let trails = listed
            .trail_list()
            .iter()
            .filter_map(|trail| {
                let home = trail.home_region().unwrap_or(&region).to_owned();
                let organization = trail.is_organization_trail().unwrap_or(false);
                Some((trail.name()?.to_owned(), trail.trail_arn()?.to_owned(), home, organization))
            })
            .collect::<Vec<_>>();
        let trails = each(trails, |(name, arn, home_region, organization)| async move {
            let unreadable = |error: AwsError| {
                tracing::warn!(trail = %arn, %error, "trail not readable: not held against the region");
                Ok(Some(TrailState {
                    name: name.clone(),
                    arn: arn.clone(),
                    home_region: home_region.clone(),
                    organization,
                    readable: false,
                    logging: false,
                    management_writes: false,
                }))
            };
            let status = match bound.call(self.cloudtrail.get_trail_status().name(&arn).send()).await {
                Ok(status) => status,
                // Deleted since it was listed.
                Err(error) if error.as_service_error().is_some_and(|e| e.is_trail_not_found_exception()) => {
                    return Ok(None)
                }
                Err(error) => return unreadable(AwsError::from_sdk("cloudtrail:GetTrailStatus", error)),
            };
            let selectors = match bound.call(self.cloudtrail.get_event_selectors().trail_name(&arn).send()).await {
                Ok(selectors) => selectors,
                Err(error) if error.as_service_error().is_some_and(|e| e.is_trail_not_found_exception()) => {
                    return Ok(None)
                }
                Err(error) => return unreadable(AwsError::from_sdk("cloudtrail:GetEventSelectors", error)),
            };
            let basic = selectors.event_selectors().iter().any(|selector| {
                let read_write = selector.read_write_type().map(|kind| kind.as_str());
                basic_selector_logs_management_writes(selector.include_management_events(), read_write)
            });
            let advanced = selectors.advanced_event_selectors().iter().any(|selector| {
                let equals = |name: &str| {
                    selector
                        .field_selectors()
                        .iter()
                        .find(|field| field.field() == name)
                        .map(|field| field.equals().iter().map(String::as_str).collect::<Vec<_>>())
                };
                advanced_selector_logs_management_writes(
                    equals("eventCategory").as_deref(),
                    equals("readOnly").as_deref(),
                )
            });
            let logging = status.is_logging().unwrap_or(false);
            Ok(Some(TrailState {
                name,
                arn,
                home_region,
                organization,
                readable: true,
                logging,
                management_writes: basic || advanced,
            }))
        })
        .await?;
        let trails = trails.into_iter().flatten().collect();
        let state = WatchdogState::Trails(TrailCoverage { region: region.clone(), trails });
        Ok(vec![Some(found(&REGION_TRAILS, region, state))])
    }

    /// snapback's rules on the default bus and on its own buses, each with its target count.
    async fn sweep_rules(&self, bound: &CallBound) -> Result<Vec<Option<Found>>, AwsError> {
        let buses = own_buses(&self.events, bound).await?;
        let mut rules = Vec::new();
        for bus in buses {
            let mut next = None;
            loop {
                let request = self.events.list_rules().name_prefix(OWN_NAME_PREFIX).set_event_bus_name(bus.clone());
                let page = bound
                    .call(request.set_next_token(next).send())
                    .await
                    .map_err(|error| AwsError::from_sdk("events:ListRules", error))?;
                for rule in page.rules() {
                    let Some(name) = rule.name() else { continue };
                    let enabled = rule.state().is_none_or(|state| state.as_str() != "DISABLED");
                    rules.push((name.to_owned(), bus.clone(), enabled));
                }
                next = page.next_token().map(str::to_owned);
                if next.is_none() {
                    break;
                }
            }
        }
        each(rules, |(name, bus, enabled)| async move {
            let request = self.events.list_targets_by_rule().rule(&name).set_event_bus_name(bus.clone());
            let targets = match bound.call(request.send()).await {
                Ok(page) => page.targets().len(),
                // Deleted since it was listed: nothing to judge.
                Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => {
                    return Ok(None)
                }
                Err(error) => return Err(AwsError::from_sdk("events:ListTargetsByRule", error)),
            };
            let state = WatchdogState::Rule(GuardRuleState { name: name.clone(), bus, enabled, targets });
            Ok(Some(found(&EVENT_RULE, name, state)))
        })
        .await
    }

    /// snapback's functions with their reserved concurrency.
    async fn sweep_functions(&self, bound: &CallBound) -> Result<Vec<Option<Found>>, AwsError> {
        let mut names = Vec::new();
        let mut pages = self.lambda.list_functions().into_paginator().send();
        while let Some(page) = bound.call(pages.next()).await {
            let page = page.map_err(|error| AwsError::from_sdk("lambda:ListFunctions", error))?;
            names.extend(
                page.functions()
                    .iter()
                    .filter_map(|function| function.function_name())
                    .filter(|name| is_own_name(name))
                    .map(str::to_owned),
            );
        }
        each(names, |name| async move {
            let reserved = match bound.call(self.lambda.get_function_concurrency().function_name(&name).send()).await {
                Ok(answer) => answer.reserved_concurrent_executions(),
                Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => {
                    return Ok(None)
                }
                Err(error) => return Err(AwsError::from_sdk("lambda:GetFunctionConcurrency", error)),
            };
            let state = WatchdogState::Function(GuardFunctionState { name: name.clone(), reserved });
            Ok(Some(found(&FUNCTION, name, state)))
        })
        .await
    }

    /// snapback's topics with their confirmed subscriptions.
    async fn sweep_topics(&self, bound: &CallBound) -> Result<Vec<Option<Found>>, AwsError> {
        let mut arns = Vec::new();
        let mut pages = self.sns.list_topics().into_paginator().send();
        while let Some(page) = bound.call(pages.next()).await {
            let page = page.map_err(|error| AwsError::from_sdk("sns:ListTopics", error))?;
            arns.extend(
                page.topics()
                    .iter()
                    .filter_map(|topic| topic.topic_arn())
                    .filter(|arn| is_own_name(topic_name(arn)))
                    .map(str::to_owned),
            );
        }
        each(arns, |arn| async move {
            let mut subscriptions = 0;
            let mut pages = self.sns.list_subscriptions_by_topic().topic_arn(&arn).into_paginator().send();
            while let Some(page) = bound.call(pages.next()).await {
                let page = match page {
                    Ok(page) => page,
                    Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found_exception()) => {
                        return Ok(None)
                    }
                    Err(error) => return Err(AwsError::from_sdk("sns:ListSubscriptionsByTopic", error)),
                };
                subscriptions += page
                    .subscriptions()
                    .iter()
                    .filter(|subscription| subscription.subscription_arn().is_some_and(|arn| arn.starts_with("arn:")))
                    .count();
            }
            let state = WatchdogState::Topic(AlertTopicState { arn: arn.clone(), subscriptions });
            Ok(Some(found(&TOPIC, arn, state)))
        })
        .await
    }

    /// The region's trails; snapback's rules, functions and topics, described; sorted.
    async fn sweep_all(&self) -> Result<Vec<Found>, AwsError> {
        let bound = CallBound::new(SWEEP_CONCURRENCY);
        let (trails, rules, functions, topics) = tokio::try_join!(
            self.sweep_trails(&bound),
            self.sweep_rules(&bound),
            self.sweep_functions(&bound),
            self.sweep_topics(&bound)
        )?;
        // None: deleted between the listing and its description.
        let mut found: Vec<Found> = trails.into_iter().chain(rules).chain(functions).chain(topics).flatten().collect();
        sort_found(&mut found);
        Ok(found)
    }

    /// StartLogging, unless the trail logs already.
    async fn start_logging(&self, trail: &str, identifier: &str) -> Result<ActionResult, AwsError> {
        match self.cloudtrail.get_trail_status().name(identifier).send().await {
            Ok(status) if status.is_logging() == Some(true) => return Ok(ActionResult::AlreadySafe),
            Ok(_) => {}
            Err(error) if error.as_service_error().is_some_and(|e| e.is_trail_not_found_exception()) => {
                return Ok(ActionResult::NotApplicable(format!("trail {trail} no longer exists")))
            }
            Err(error) => return Err(AwsError::from_sdk("cloudtrail:GetTrailStatus", error)),
        }
        self.cloudtrail
            .start_logging()
            .name(identifier)
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("cloudtrail:StartLogging", error))?;
        Ok(ActionResult::Restored)
    }

    /// EnableRule, unless the rule is enabled already.
    async fn enable_rule(&self, rule: &str, bus: Option<&str>) -> Result<ActionResult, AwsError> {
        match self.events.describe_rule().name(rule).set_event_bus_name(bus.map(str::to_owned)).send().await {
            // ENABLED, or a state that also receives events (ENABLED_WITH_ALL_CLOUDTRAIL_…).
            Ok(described) if described.state().is_some_and(|state| state.as_str() != "DISABLED") => {
                return Ok(ActionResult::AlreadySafe)
            }
            Ok(_) => {}
            Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => {
                return Ok(ActionResult::NotApplicable(format!("rule {rule} no longer exists")))
            }
            Err(error) => return Err(AwsError::from_sdk("events:DescribeRule", error)),
        }
        self.events
            .enable_rule()
            .name(rule)
            .set_event_bus_name(bus.map(str::to_owned))
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("events:EnableRule", error))?;
        Ok(ActionResult::Restored)
    }

    /// One of snapback's rules put back as the module deploys it: re-created when `recreate` and
    /// gone (PutRule, enabled, with the manifest's pattern), then its target put back unless the
    /// function is a target already (PutTargets with the module's retry policy and dead-letter
    /// queue). The function's ARN, read from Lambda, names the account, region and partition.
    async fn restore_rule(&self, rule: &str, recreate: bool) -> Result<ActionResult, AwsError> {
        use aws_sdk_eventbridge::types::{DeadLetterConfig, RetryPolicy, RuleState, Target};
        use snapback_rules::services::watchdog::deployed::{
            DeployedRule, TARGET_ID, TARGET_MAXIMUM_EVENT_AGE_SECONDS, TARGET_MAXIMUM_RETRY_ATTEMPTS,
        };
        let Some(deployed) = DeployedRule::named(rule) else {
            return Ok(ActionResult::NotApplicable(format!("{rule} is not a rule the snapback module deploys")));
        };
        let bus = deployed.bus();
        let function_arn = match self.lambda.get_function().function_name(deployed.function_name()).send().await {
            Ok(function) => function.configuration().and_then(|c| c.function_arn()).map(str::to_owned),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => None,
            Err(error) => return Err(AwsError::from_sdk("lambda:GetFunction", error)),
        };
        let Some(function_arn) = function_arn else {
            return Ok(ActionResult::NotApplicable(format!("function {} no longer exists", deployed.function_name())));
        };
        let mut restored = false;
        let exists = match self.events.describe_rule().name(rule).set_event_bus_name(bus.clone()).send().await {
            Ok(_) => true,
            Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => false,
            Err(error) => return Err(AwsError::from_sdk("events:DescribeRule", error)),
        };
        if !exists {
            if !recreate {
                return Ok(ActionResult::NotApplicable(format!("rule {rule} no longer exists")));
            }
            self.events
                .put_rule()
                .name(rule)
                .set_event_bus_name(bus.clone())
                .event_pattern(deployed.pattern.to_string())
                .state(RuleState::Enabled)
                .description(format!(
                    "CloudTrail API calls for {} (re-created by snapback's watchdog)",
                    deployed.function
                ))
                .send()
                .await
                .map_err(|error| AwsError::from_sdk("events:PutRule", error))?;
            restored = true;
        }
        let targets = self
            .events
            .list_targets_by_rule()
            .rule(rule)
            .set_event_bus_name(bus.clone())
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("events:ListTargetsByRule", error))?;
        if !targets.targets().iter().any(|target| target.arn() == function_arn) {
            // arn:<partition>:lambda:<region>:<account>:function:<name>
            let parts: Vec<&str> = function_arn.split(':').collect();
            let queue = format!("arn:{}:sqs:{}:{}:{}", parts[1], parts[3], parts[4], deployed.dead_letter_queue());
            let target = Target::builder()
                .id(TARGET_ID)
                .arn(&function_arn)
                .retry_policy(
                    RetryPolicy::builder()
                        .maximum_event_age_in_seconds(TARGET_MAXIMUM_EVENT_AGE_SECONDS)
                        .maximum_retry_attempts(TARGET_MAXIMUM_RETRY_ATTEMPTS)
                        .build(),
                )
                .dead_letter_config(DeadLetterConfig::builder().arn(queue).build())
                .build()
                .map_err(|error| AwsError::permanent("events:PutTargets", error.to_string()))?;
            let answer = self
                .events
                .put_targets()
                .rule(rule)
                .set_event_bus_name(bus)
                .targets(target)
                .send()
                .await
                .map_err(|error| AwsError::from_sdk("events:PutTargets", error))?;
            if answer.failed_entry_count() > 0 {
                let failed = answer.failed_entries().first();
                return Err(AwsError::permanent(
                    "events:PutTargets",
                    format!(
                        "{}: {}",
                        failed.and_then(|f| f.error_code()).unwrap_or_default(),
                        failed.and_then(|f| f.error_message()).unwrap_or_default()
                    ),
                ));
            }
            restored = true;
        }
        Ok(if restored { ActionResult::Restored } else { ActionResult::AlreadySafe })
    }

    /// DeleteFunctionConcurrency, only while the reservation is still zero (a reservation set
    /// since, by someone else, stays).
    async fn remove_zero_concurrency(&self, function: &str) -> Result<ActionResult, AwsError> {
        match self.lambda.get_function_concurrency().function_name(function).send().await {
            Ok(reserved) if reserved.reserved_concurrent_executions() != Some(0) => {
                return Ok(ActionResult::AlreadySafe)
            }
            Ok(_) => {}
            Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => {
                return Ok(ActionResult::NotApplicable(format!("function {function} no longer exists")))
            }
            Err(error) => return Err(AwsError::from_sdk("lambda:GetFunctionConcurrency", error)),
        }
        self.lambda
            .delete_function_concurrency()
            .function_name(function)
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("lambda:DeleteFunctionConcurrency", error))?;
        Ok(ActionResult::Restored)
    }

    /// StartConfigurationRecorder (which does nothing to a recorder that records already).
    async fn start_recorder(&self, recorder: &str) -> Result<ActionResult, AwsError> {
        match self.config.start_configuration_recorder().configuration_recorder_name(recorder).send().await {
            Ok(_) => Ok(ActionResult::Restored),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_configuration_recorder_exception()) => {
                Ok(ActionResult::NotApplicable(format!("AWS Config recorder {recorder} no longer exists")))
            }
            Err(error) => Err(AwsError::from_sdk("config:StartConfigurationRecorder", error)),
        }
    }
}

/// The default bus (None) and snapback's own buses (a central deployment's).
async fn own_buses(events: &aws_sdk_eventbridge::Client, bound: &CallBound) -> Result<Vec<Option<String>>, AwsError> {
    let mut buses: Vec<Option<String>> = vec![None];
    let mut next = None;
    loop {
        let page = bound
            .call(events.list_event_buses().name_prefix(OWN_NAME_PREFIX).set_next_token(next).send())
            .await
            .map_err(|error| AwsError::from_sdk("events:ListEventBuses", error))?;
        buses.extend(page.event_buses().iter().filter_map(|bus| bus.name().map(|name| Some(name.to_owned()))));
        next = page.next_token().map(str::to_owned);
        if next.is_none() {
            return Ok(buses);
        }
    }
}

/// Sends the heartbeats ([`heartbeat`]): the watchdog's scheduled run needs an EventBridge
/// client for them, and nothing else of the adapter.
#[derive(Clone, Debug)]
pub struct HeartbeatSender {
    events: aws_sdk_eventbridge::Client,
}

impl HeartbeatSender {
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        HeartbeatSender { events: aws_sdk_eventbridge::Client::new(sdk) }
    }

    pub fn from_client(events: aws_sdk_eventbridge::Client) -> Self {
        HeartbeatSender { events }
    }

    /// Puts one heartbeat per guard's rule ([`heartbeat::routes`]) on the default bus and, when
    /// it exists, the deployment's central bus (`<prefix>central`: `prefix` is the module's
    /// `name_prefix`), marked with the time it is sent; how many. Every batch is sent; entries
    /// EventBridge refused then fail the call (retryable): a heartbeat lost here would read as
    /// a broken path.
    pub async fn send(&self, prefix: &str) -> Result<usize, AwsError> {
        let sent_at = aws_smithy_types::DateTime::from(std::time::SystemTime::now())
            .fmt(aws_smithy_types::date_time::Format::DateTime)
            .map_err(|error| AwsError::permanent("format the heartbeat's time", error.to_string()))?;
        let central = format!("{prefix}{}", snapback_rules::services::watchdog::deployed::CENTRAL);
        let buses: Vec<Option<String>> = own_buses(&self.events, &CallBound::new(1))
            .await?
            .into_iter()
            .filter(|bus| bus.as_ref().is_none_or(|name| name == &central))
            .collect();
        let routes = heartbeat::routes();
        let entries: Vec<PutEventsRequestEntry> = buses
            .iter()
            .flat_map(|bus| routes.iter().map(move |(function, route)| (bus, function, route)))
            .map(|(bus, function, route)| {
                let bus_name = bus.as_deref().unwrap_or(heartbeat::DEFAULT_BUS);
                PutEventsRequestEntry::builder()
                    .set_event_bus_name(bus.clone())
                    .source(heartbeat::SOURCE)
                    .detail_type(heartbeat::DETAIL_TYPE)
                    .detail(heartbeat::detail(function, *route, bus_name, &sent_at).to_string())
                    .build()
            })
            .collect();
        let mut refused: Vec<String> = Vec::new();
        let mut failure: Option<AwsError> = None;
        // PutEvents takes at most 10 entries a call.
        for chunk in entries.chunks(10) {
            match self.events.put_events().set_entries(Some(chunk.to_vec())).send().await {
                Ok(answer) => refused.extend(answer.entries().iter().filter_map(|entry| {
                    entry.error_code().map(|code| format!("{code} {}", entry.error_message().unwrap_or_default()))
                })),
                Err(error) => {
                    failure.get_or_insert(AwsError::from_sdk("events:PutEvents", error));
                }
            }
        }
        if let Some(error) = failure {
            return Err(error);
        }
        if let Some(first) = refused.first() {
            return Err(AwsError::Retryable {
                operation: "events:PutEvents",
                message: format!("{} of {} heartbeats refused, the first: {first}", refused.len(), entries.len()),
                source: None,
            });
        }
        Ok(entries.len())
    }
}

/// A swept resource of the watchdog's: no tags read (its resources are not exempted by tag).
fn found(kind: &'static ResourceKind, resource: String, state: WatchdogState) -> Found {
    Found { kind, resource, state: Box::new(state), facts: Some(ResourceFacts::default()) }
}

impl ServiceAdapter for WatchdogApi {
    fn service(&self) -> &'static str {
        SERVICE
    }

    /// A configuration parameter's history (which confirms a PutParameter's finding); no call for
    /// anything else: the watchdog's resources carry no exemption tags it reads, and a deleted
    /// trail or function is still the finding (never "gone, nothing to say").
    fn look_up<'a>(
        &'a self,
        kind: &'static ResourceKind,
        resource: &'a str,
        _find_cluster: bool,
    ) -> BoxFuture<'a, Result<Option<LookedUp>, AwsError>> {
        Box::pin(async move {
            let described = match kind.name == PARAMETER.name {
                true => Some(Box::new(WatchdogState::Parameter(self.parameter_history(resource).await?)) as Described),
                false => None,
            };
            Ok(Some(LookedUp { facts: ResourceFacts::default(), described }))
        })
    }

    fn run<'a>(
        &'a self,
        action: &'a Action,
        _described: Option<Described>,
        _deadline: Instant,
    ) -> BoxFuture<'a, Result<ActionResult, AwsError>> {
        Box::pin(async move {
            match typed::<WatchdogAction>(action, SERVICE)? {
                WatchdogAction::StartLogging { trail, identifier } => self.start_logging(trail, identifier).await,
                WatchdogAction::EnableRule { rule, bus } => self.enable_rule(rule, bus.as_deref()).await,
                WatchdogAction::RestoreRule { rule, recreate } => self.restore_rule(rule, *recreate).await,
                WatchdogAction::DeleteFunctionConcurrency { function } => self.remove_zero_concurrency(function).await,
                WatchdogAction::StartConfigurationRecorder { recorder } => self.start_recorder(recorder).await,
            }
        })
    }

    /// The region's trails (one logging management writes), snapback's own rules (enabled, with a
    /// target), functions (no zero reservation) and topics (read by someone): what keeps it seeing
    /// and acting, whatever changed it.
    fn sweep<'a>(&'a self, _context: &'a SweepContext) -> BoxFuture<'a, Result<Vec<Found>, AwsError>> {
        Box::pin(self.sweep_all())
    }
}
