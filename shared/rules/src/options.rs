//! Rule options: each rule reads a typed struct of its own, deserialized from the configuration
//! document over the rule's defaults. An unknown or misspelt option, or a value of the wrong
//! shape, is refused with its field path (`rules.sg-open-kubelet.ports[1]`); a rule cannot read an
//! option that does not exist.

use std::any::Any;
use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A rule's options, whatever their type.
pub trait RuleOptions: Any + fmt::Debug + Send + Sync {
    fn to_value(&self) -> Value;
    fn boxed_clone(&self) -> Box<dyn RuleOptions>;
    fn same(&self, other: &dyn RuleOptions) -> bool;
    fn as_any(&self) -> &dyn Any;
}

impl<T: Serialize + Clone + PartialEq + fmt::Debug + Send + Sync + 'static> RuleOptions for T {
    fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("options serialize")
    }
    fn boxed_clone(&self) -> Box<dyn RuleOptions> {
        Box::new(self.clone())
    }
    fn same(&self, other: &dyn RuleOptions) -> bool {
        other.as_any().downcast_ref::<T>() == Some(self)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// One documented option, for RULES.md and `snapback rules --json`.
#[derive(Debug)]
pub struct OptionDoc {
    pub name: &'static str,
    pub description: &'static str,
}

/// How a rule's options are documented, defaulted and read.
pub struct OptionsSpec {
    pub docs: &'static [OptionDoc],
    pub defaults: fn() -> Box<dyn RuleOptions>,
    /// Reads a complete options object (the defaults with the document's values over them).
    pub read: fn(Value) -> Result<Box<dyn RuleOptions>, OptionError>,
}

impl fmt::Debug for OptionsSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OptionsSpec").field("docs", &self.docs).finish_non_exhaustive()
    }
}

/// A refused option value: the path below the rule (`ports[1]`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionError {
    pub path: String,
    pub message: String,
}

/// The `read` of an [`OptionsSpec`] for options type `T`.
pub fn read<T: DeserializeOwned + RuleOptions>(value: Value) -> Result<Box<dyn RuleOptions>, OptionError> {
    serde_path_to_error::deserialize::<_, T>(value)
        .map(|options| Box::new(options) as Box<dyn RuleOptions>)
        .map_err(|error| OptionError { path: error.path().to_string(), message: error.inner().to_string() })
}

/// The document's values over the defaults; a key the defaults lack is an unknown option.
pub fn overlay(defaults: &dyn RuleOptions, given: &Map<String, Value>) -> Result<Value, OptionError> {
    let mut merged = defaults.to_value();
    let object = merged.as_object_mut().expect("options serialize as an object");
    for (key, value) in given {
        if !object.contains_key(key) {
            let known: Vec<&str> = std::iter::once("mode").chain(object.keys().map(String::as_str)).collect();
            return Err(OptionError {
                path: key.clone(),
                message: format!("unknown option; it takes {}", known.join(", ")),
            });
        }
        object.insert(key.clone(), value.clone());
    }
    Ok(merged)
}

/// For rules without options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoOptions {}

pub const NO_OPTIONS: OptionsSpec =
    OptionsSpec { docs: &[], defaults: || Box::new(NoOptions {}), read: read::<NoOptions> };

/// A tcp or udp port that carries traffic: 1-65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Value", into = "u16")]
pub struct Port(pub u16);

impl TryFrom<Value> for Port {
    type Error = String;
    fn try_from(value: Value) -> Result<Port, String> {
        value
            .as_u64()
            .and_then(|port| u16::try_from(port).ok())
            .filter(|port| *port > 0)
            .map(Port)
            .ok_or_else(|| format!("expected a port 1-65535, got {value}"))
    }
}

impl From<Port> for u16 {
    fn from(port: Port) -> u16 {
        port.0
    }
}

/// At least one port: a rule with none would never fire (switch its mode off instead).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Port>")]
pub struct PortList(Vec<Port>);

impl PortList {
    pub fn of(ports: &[u16]) -> PortList {
        PortList(ports.iter().copied().map(Port).collect())
    }

    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        self.0.iter().map(|port| port.0)
    }
}

impl TryFrom<Vec<Port>> for PortList {
    type Error = &'static str;
    fn try_from(ports: Vec<Port>) -> Result<PortList, &'static str> {
        match ports.is_empty() {
            true => Err("expected at least one port (set the rule's mode to off to disable it)"),
            false => Ok(PortList(ports)),
        }
    }
}

/// A CIDR that is not the whole internet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cidr {
    text: String,
    net: ipnet::IpNet,
}

impl Cidr {
    pub fn net(&self) -> &ipnet::IpNet {
        &self.net
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl TryFrom<String> for Cidr {
    type Error = String;
    fn try_from(text: String) -> Result<Cidr, String> {
        match text.parse::<ipnet::IpNet>() {
            Ok(net) if net.prefix_len() == 0 => Err(format!("{text} is the whole internet")),
            Ok(net) => Ok(Cidr { text, net }),
            Err(_) => Err(format!("expected a CIDR such as 203.0.113.0/24, got {text:?}")),
        }
    }
}

impl From<Cidr> for String {
    fn from(cidr: Cidr) -> String {
        cidr.text
    }
}
