//! What the pipeline judges: an observation, and the origin every alert about it names. A
//! CloudTrail change, or a resource as a sweep described it; Kubernetes audit events arrive as a
//! further variant, judged through the same policy, execution and alerts.

use std::any::Any;
use std::fmt;

use crate::config::Config;
use crate::event::Event;
use crate::finding::Finding;
use crate::services::{Slice, Unreadable};

/// One at a time per invocation and never stored in bulk, so the size difference between the
/// variants costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Observation {
    /// A CloudTrail record of a call that changed something.
    Change(Event),
    /// A resource as a sweep described it.
    State(DescribedState),
}

/// A resource as described at a moment: a slice's state type (a `GroupState`, an `EksState`).
pub struct DescribedState {
    pub account: Option<String>,
    pub region: Option<String>,
    /// When it was described (RFC 3339; time is passed in).
    pub found_at: String,
    pub resource: String,
    pub state: Box<dyn Any + Send + Sync>,
    id: String,
}

impl DescribedState {
    pub fn new(
        account: Option<String>,
        region: Option<String>,
        found_at: &str,
        resource: &str,
        state: Box<dyn Any + Send + Sync>,
    ) -> DescribedState {
        let id = Origin::sweep_id(account.as_deref(), region.as_deref(), resource, found_at);
        DescribedState { account, region, found_at: found_at.to_owned(), resource: resource.to_owned(), state, id }
    }
}

impl fmt::Debug for DescribedState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DescribedState").field("id", &self.id).finish_non_exhaustive()
    }
}

impl Observation {
    /// The findings of these slices' enabled rules.
    pub fn judge<'a>(
        &self,
        services: impl IntoIterator<Item = &'a dyn Slice>,
        config: &Config,
    ) -> Result<Vec<Finding>, Unreadable> {
        match self {
            Observation::Change(event) => crate::services::judge_change(services, event, config),
            Observation::State(described) => Ok(services
                .into_iter()
                .flat_map(|service| service.judge_state(described.state.as_ref(), config))
                .collect()),
        }
    }

    pub fn origin(&self) -> Origin {
        match self {
            Observation::Change(event) => Origin::of(event),
            Observation::State(described) => Origin::sweep(
                described.account.as_deref(),
                described.region.as_deref(),
                &described.resource,
                &described.found_at,
            ),
        }
    }

    /// A stable id for logs: the CloudTrail event id, or the sweep's account, region, resource and time.
    pub fn id(&self) -> &str {
        match self {
            Observation::Change(event) => &event.event_id,
            Observation::State(described) => &described.id,
        }
    }

    /// What happened, for logs: the API call's name, or `Sweep`.
    pub fn name(&self) -> &str {
        match self {
            Observation::Change(event) => &event.event_name,
            Observation::State(_) => SWEEP_EVENT,
        }
    }
}

/// Who an alert names for a finding a sweep made: nobody's call, the state as it was found.
pub const SWEEP_ACTOR: &str = "snapback sweep (found as it is, not by a change)";
/// The event name of a sweep's findings.
pub const SWEEP_EVENT: &str = "Sweep";

/// Who did what, where and when: what an alert says about where its findings came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Origin {
    pub account: Option<String>,
    pub region: Option<String>,
    pub actor: String,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub event_id: String,
    pub event_name: String,
    pub event_time: Option<String>,
    /// Found as it is by a sweep, not reported by CloudTrail: no caller, no event to link.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub found_by_sweep: bool,
}

impl Origin {
    /// What a sweep found `resource` to be at `found_at`: nobody's call, no event to link.
    pub fn sweep(account: Option<&str>, region: Option<&str>, resource: &str, found_at: &str) -> Origin {
        Origin {
            account: account.map(str::to_owned),
            region: region.map(str::to_owned),
            actor: SWEEP_ACTOR.to_owned(),
            source_ip: None,
            user_agent: None,
            event_id: Origin::sweep_id(account, region, resource, found_at),
            event_name: SWEEP_EVENT.to_owned(),
            event_time: Some(found_at.to_owned()),
            found_by_sweep: true,
        }
    }

    /// The id of a sweep's look at one resource, for logs and the ledger.
    fn sweep_id(account: Option<&str>, region: Option<&str>, resource: &str, found_at: &str) -> String {
        format!("sweep:{}:{}:{resource}:{found_at}", account.unwrap_or("-"), region.unwrap_or("-"))
    }

    pub fn of(event: &Event) -> Origin {
        Origin {
            account: event.account.clone(),
            region: event.region.clone(),
            actor: event.actor.display().to_owned(),
            source_ip: event.source_ip.clone(),
            user_agent: event.user_agent.clone(),
            event_id: event.event_id.clone(),
            event_name: event.event_name.clone(),
            event_time: event.event_time.clone(),
            found_by_sweep: false,
        }
    }
}
