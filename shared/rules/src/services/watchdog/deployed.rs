//! snapback's EventBridge rules as the Terraform module deploys them, known from a rule's name:
//! `<prefix>[central-]<function>-<route>`, with the manifest's pattern and one target, the
//! function, with the module's retry policy and dead-letter queue. What lets the watchdog put a
//! deleted rule or a removed target back exactly (the module reads the same constants).

use serde_json::Value;

use crate::heartbeat;
use crate::manifest::event_patterns;
use crate::registry;

/// The id of the rule's one target.
pub const TARGET_ID: &str = "snapback";
/// EventBridge keeps trying to deliver an event for up to an hour.
pub const TARGET_MAXIMUM_EVENT_AGE_SECONDS: i32 = 3600;
pub const TARGET_MAXIMUM_RETRY_ATTEMPTS: i32 = 185;
/// The dead-letter queue's name after the prefix.
pub const DEAD_LETTERS: &str = "dead-letters";
/// The central bus's name after the prefix, and its rules' key prefix.
pub const CENTRAL: &str = "central";

/// One deployed rule, from its name.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployedRule {
    /// The module's `name_prefix` (starts with `snapback-`).
    pub prefix: String,
    pub function: &'static str,
    pub route: usize,
    /// On the central bus (`<prefix>central`), not the default one.
    pub central: bool,
    pub pattern: Value,
}

impl DeployedRule {
    /// The rule named `name`, if it is one the module deploys.
    pub fn named(name: &str) -> Option<DeployedRule> {
        heartbeat::routes().into_iter().find_map(|(function, route)| {
            let key = format!("{function}-{route}");
            let (rest, central) = match name.strip_suffix(&format!("{CENTRAL}-{key}")) {
                Some(rest) => (rest, true),
                None => (name.strip_suffix(&key)?, false),
            };
            let prefix = rest.to_owned();
            if !prefix.starts_with(super::OWN_NAME_PREFIX) {
                return None;
            }
            let definition = registry::function(function)?;
            let pattern = event_patterns(definition).into_iter().nth(route)?;
            Some(DeployedRule { prefix, function, route, central, pattern })
        })
    }

    /// The function it delivers to: `<prefix><function>`.
    pub fn function_name(&self) -> String {
        format!("{}{}", self.prefix, self.function)
    }

    /// Its bus: None for the default one.
    pub fn bus(&self) -> Option<String> {
        self.central.then(|| format!("{}{CENTRAL}", self.prefix))
    }

    pub fn dead_letter_queue(&self) -> String {
        format!("{}{DEAD_LETTERS}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deployed_rules_name_tells_its_function_route_bus_and_pattern() {
        let rule = DeployedRule::named("snapback-prod-central-node-guard-1").unwrap();
        assert_eq!(
            (rule.prefix.as_str(), rule.function, rule.route, rule.central),
            ("snapback-prod-", "node-guard", 1, true)
        );
        assert_eq!(rule.function_name(), "snapback-prod-node-guard");
        assert_eq!(rule.bus().as_deref(), Some("snapback-prod-central"));
        assert_eq!(rule.dead_letter_queue(), "snapback-prod-dead-letters");
        let manifest = crate::manifest::manifest();
        assert_eq!(rule.pattern, manifest["functions"]["node-guard"]["event_patterns"][1]);
        let plain = DeployedRule::named("snapback-sg-guard-0").unwrap();
        assert_eq!((plain.function, plain.route, plain.bus()), ("sg-guard", 0, None));
    }

    #[test]
    fn other_names_are_not_deployed_rules() {
        for name in ["team-sg-guard-0", "snapback-sg-guard-9", "snapback-sweeper-0", "snapback-nightly", "sg-guard-0"] {
            assert!(DeployedRule::named(name).is_none(), "{name}");
        }
    }
}
