//! What the pipeline judges: an observation, and the origin every alert about it names.
//! Today one kind, a CloudTrail change; the sweep's described state and Kubernetes audit events
//! arrive as further variants, judged through the same policy, execution and alerts.

use crate::config::Config;
use crate::event::Event;
use crate::finding::Finding;
use crate::services::{Slice, Unreadable};

#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// A CloudTrail record of a call that changed something.
    Change(Event),
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
        }
    }

    pub fn origin(&self) -> Origin {
        match self {
            Observation::Change(event) => Origin::of(event),
        }
    }

    /// A stable id for logs: the CloudTrail event id.
    pub fn id(&self) -> &str {
        match self {
            Observation::Change(event) => &event.event_id,
        }
    }

    /// What happened, for logs: the API call's name.
    pub fn name(&self) -> &str {
        match self {
            Observation::Change(event) => &event.event_name,
        }
    }
}

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
}

impl Origin {
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
        }
    }
}
