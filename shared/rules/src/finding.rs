//! What a rule reports, and the typed plan that restores the safe state. Actions are typed per
//! service (each slice defines its own) and travel here as [`Action`], so a new service adds
//! actions without touching this file, the pipeline or the adapter trait.

use std::any::Any;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::registry::RuleMeta;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// How every alert form shows it.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }
}

/// A kind of resource a service's rules judge: which slice looks it up (its tags, its cluster)
/// and whether the `scope` setting applies to it.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ResourceKind {
    /// The slice that owns it (`security-groups`, `eks`).
    pub service: &'static str,
    /// `security-group`, `eks-cluster`.
    pub name: &'static str,
    /// True when a resource of no EKS cluster is out of scope under `scope: eks`.
    pub scoped_by_cluster: bool,
    /// True when a change's finding on it is a candidate that the resource, as its adapter's
    /// look-up describes it, must confirm ([`crate::Slice::confirm`]): the record lacks a fact the
    /// rule needs (an ECR registry's scanning configuration, the subnets of a new node group).
    pub confirmed_by_look_up: bool,
    /// Its type in the AWS Security Finding Format (`AwsEc2SecurityGroup`, `Other`).
    pub asff_type: &'static str,
    /// Its ARN, with `{partition}`, `{region}`, `{account}` and `{id}` to fill in.
    pub arn: &'static str,
}

impl ResourceKind {
    /// The ARN of resource `id` of this kind.
    pub fn arn_of(&self, partition: &str, region: &str, account: &str, id: &str) -> String {
        self.arn
            .replace("{partition}", partition)
            .replace("{region}", region)
            .replace("{account}", account)
            .replace("{id}", id)
    }
}

impl Serialize for ResourceKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name)
    }
}

/// One rule's verdict on one observation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static RuleMeta,
    pub kind: &'static ResourceKind,
    /// The resource the rule judged (a security-group id, a cluster name).
    pub resource: String,
    /// What the event changed, one readable line per dangerous part.
    pub changed: Vec<String>,
    pub plan: Plan,
}

/// The actions that restore the safe state. Empty when the change cannot be undone in place;
/// `manual` then says what a person has to do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub actions: Vec<Action>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manual: Option<String>,
}

/// A restore action of one service, typed by that service. The service's adapter (in
/// `shared/aws`) runs it; everything in between only needs these methods.
pub trait ServiceAction: Clone + PartialEq + fmt::Debug + Serialize + Send + Sync + 'static {
    /// The slice whose adapter runs it.
    const SERVICE: &'static str;
    /// The resource it changes (a group id, a cluster name).
    fn resource(&self) -> &str;
    /// Readable form for alerts and logs.
    fn describe(&self) -> String;
    /// Folds `other` into this action when both change the same setting of the same resource,
    /// so one event yields one call per setting. Returns false otherwise.
    fn absorb(&mut self, _other: &Self) -> bool {
        false
    }
}

/// The object-safe face of a [`ServiceAction`].
trait AnyAction: fmt::Debug + Send + Sync {
    fn service(&self) -> &'static str;
    fn resource(&self) -> &str;
    fn describe(&self) -> String;
    fn to_json(&self) -> Value;
    fn absorb(&mut self, other: &dyn AnyAction) -> bool;
    fn same(&self, other: &dyn AnyAction) -> bool;
    fn boxed_clone(&self) -> Box<dyn AnyAction>;
    fn as_any(&self) -> &dyn Any;
}

impl<T: ServiceAction> AnyAction for T {
    fn service(&self) -> &'static str {
        T::SERVICE
    }
    fn resource(&self) -> &str {
        ServiceAction::resource(self)
    }
    fn describe(&self) -> String {
        ServiceAction::describe(self)
    }
    fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("actions serialize")
    }
    fn absorb(&mut self, other: &dyn AnyAction) -> bool {
        other.as_any().downcast_ref::<T>().is_some_and(|other| ServiceAction::absorb(self, other))
    }
    fn same(&self, other: &dyn AnyAction) -> bool {
        other.as_any().downcast_ref::<T>() == Some(self)
    }
    fn boxed_clone(&self) -> Box<dyn AnyAction> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// One restore action of any service.
pub struct Action(Box<dyn AnyAction>);

impl Action {
    pub fn new(action: impl ServiceAction) -> Action {
        Action(Box::new(action))
    }

    /// The typed action, when it belongs to service action type `T`.
    pub fn downcast<T: ServiceAction>(&self) -> Option<&T> {
        self.0.as_any().downcast_ref()
    }

    pub fn service(&self) -> &'static str {
        self.0.service()
    }

    pub fn resource(&self) -> &str {
        self.0.resource()
    }

    pub fn describe(&self) -> String {
        self.0.describe()
    }

    /// See [`ServiceAction::absorb`].
    pub fn absorb(&mut self, other: &Action) -> bool {
        self.0.absorb(other.0.as_ref())
    }

    /// Index of the action in `merged` that covers this one: an equal one, one that absorbs it
    /// (the same setting of the same resource), or this one appended. Each restore runs once.
    pub fn merge_into(&self, merged: &mut Vec<Action>) -> usize {
        if let Some(index) = merged.iter().position(|existing| existing == self) {
            return index;
        }
        if let Some(index) = merged.iter_mut().position(|existing| existing.absorb(self)) {
            return index;
        }
        merged.push(self.clone());
        merged.len() - 1
    }
}

impl<T: ServiceAction> From<T> for Action {
    fn from(action: T) -> Action {
        Action::new(action)
    }
}

impl Clone for Action {
    fn clone(&self) -> Action {
        Action(self.0.boxed_clone())
    }
}

impl PartialEq for Action {
    fn eq(&self, other: &Action) -> bool {
        self.0.same(other.0.as_ref())
    }
}

impl Eq for Action {}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for Action {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.to_json().serialize(serializer)
    }
}
