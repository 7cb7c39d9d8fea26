//! The watchdog adapter: puts back what can be put back exactly (a trail's logging, a rule's
//! state, a function's concurrency, AWS Config's recorder), each after reading that it is still
//! off, and reads a configuration parameter's history, which is how a PutParameter's finding is
//! confirmed (CloudTrail never records a SecureString's value). Its sweep lists nothing. Built
//! only with the `watchdog`
//! feature: the guards do not link these SDK clients.

use std::time::Instant;

use aws_sdk_ssm::types::ParameterHistory;
use snapback_rules::services::watchdog::{ParameterState, WatchdogAction, PARAMETER, SERVICE};
use snapback_rules::{Action, ResourceFacts, ResourceKind};

use crate::adapter::{typed, ActionResult, BoxFuture, Described, Found, LookedUp, ServiceAdapter};
use crate::error::AwsError;
use crate::sweep::SweepContext;

/// The watchdog slice over CloudTrail, EventBridge, Lambda, AWS Config and SSM.
#[derive(Clone, Debug)]
pub struct WatchdogApi {
    cloudtrail: aws_sdk_cloudtrail::Client,
    events: aws_sdk_eventbridge::Client,
    lambda: aws_sdk_lambda::Client,
    config: aws_sdk_config::Client,
    ssm: aws_sdk_ssm::Client,
}

impl WatchdogApi {
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        WatchdogApi {
            cloudtrail: aws_sdk_cloudtrail::Client::new(sdk),
            events: aws_sdk_eventbridge::Client::new(sdk),
            lambda: aws_sdk_lambda::Client::new(sdk),
            config: aws_sdk_config::Client::new(sdk),
            ssm: aws_sdk_ssm::Client::new(sdk),
        }
    }

    /// Over clients built elsewhere (tests give each its own account's header).
    pub fn from_clients(
        cloudtrail: aws_sdk_cloudtrail::Client,
        events: aws_sdk_eventbridge::Client,
        lambda: aws_sdk_lambda::Client,
        config: aws_sdk_config::Client,
        ssm: aws_sdk_ssm::Client,
    ) -> Self {
        WatchdogApi { cloudtrail, events, lambda, config, ssm }
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
            Ok(described) if described.state().is_some_and(|state| state.as_str() == "ENABLED") => {
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
                true => Some(Box::new(self.parameter_history(resource).await?) as Described),
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
                WatchdogAction::DeleteFunctionConcurrency { function } => self.remove_zero_concurrency(function).await,
                WatchdogAction::StartConfigurationRecorder { recorder } => self.start_recorder(recorder).await,
            }
        })
    }

    /// Nothing: every watchdog rule judges changes (whether snapback can still see and act is
    /// the heartbeat's to check).
    fn sweep<'a>(&'a self, _context: &'a SweepContext) -> BoxFuture<'a, Result<Vec<Found>, AwsError>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}
