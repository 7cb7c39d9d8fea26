//! The pure core of snapback: a tolerant CloudTrail event model, one slice per AWS service (change
//! parser, rules, typed restore actions), the registry of functions and rules, findings with their
//! restore plans, the configuration document and the policy that turns a finding into a
//! decision. No async, no SDK, no environment, no clock: time is passed in.
//!
//! The flow, top-down: [`event`] / [`observation`] (input) → [`services`] (parse, rules) →
//! [`policy`] (screen, decide) → plans of typed actions for `shared/aws` to execute.

pub mod config;
pub mod event;
pub mod finding;
pub mod heartbeat;
mod json;
pub mod manifest;
pub mod observation;
pub mod options;
pub mod policy;
pub mod registry;
pub mod services;

pub use config::{is_account_id, Config, ConfigError, Mode, Scope};
pub use event::{Actor, Event, EventError};
pub use finding::{Action, Finding, Plan, ResourceKind, ServiceAction, Severity};
pub use observation::{DescribedState, Observation, Origin};
pub use policy::{decide, screen, Decision, Ignored, ResourceFacts};
pub use registry::{function, listens_to, registry, rule, Function, RuleMeta};
pub use services::{evaluate, Slice, Unreadable};
