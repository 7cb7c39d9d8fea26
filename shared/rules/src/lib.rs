//! The pure core of snapback: a tolerant CloudTrail event model, the rule registry, findings with
//! their restore plans, the configuration document and the policy that turns a finding into a
//! decision. No async, no SDK, no environment, no clock: time is passed in.

pub mod config;
pub mod eks;
pub mod event;
pub mod finding;
pub mod guards;
mod json;
pub mod manifest;
pub mod policy;
pub mod registry;
pub mod rules;
pub mod security_group;

pub use config::{Config, ConfigError, Mode, Scope};
pub use event::{Actor, Event, EventError};
pub use finding::{Action, EndpointTarget, Finding, Plan, ResourceKind, RevokeTarget, Severity};
pub use guards::{check_guards, Ignored};
pub use registry::{evaluate, listens_to, registry, rule, RuleMeta};
