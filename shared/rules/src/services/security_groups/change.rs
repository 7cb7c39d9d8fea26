//! Security-group changes as CloudTrail records them, in every shape of SHAPES.md, flattened to
//! one entry per (permission × source) so a rule can judge each opened path on its own.

use std::fmt;

use ipnet::IpNet;
use serde::Serialize;
use serde_json::Value;

use crate::event::Event;
use crate::json::{int_at, items, one_or_many, str_at};
use crate::services::Unreadable;

/// Which side of the group a change touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    Ingress,
    Egress,
    /// ModifySecurityGroupRules does not say; the adapter checks the rule before revoking it.
    Unknown,
}

/// Where traffic is allowed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A CIDR exactly as sent, with its parsed network.
    Cidr {
        text: String,
        net: IpNet,
    },
    /// Text that is not a valid CIDR: never judged world-open.
    Unparsed(String),
    Group(String),
    PrefixList(String),
}

impl Source {
    /// A CIDR source as written; text that does not parse is kept, never judged world-open.
    pub fn cidr(text: &str) -> Source {
        match text.trim().parse::<IpNet>() {
            Ok(net) => Source::Cidr { text: text.to_owned(), net },
            Err(_) => Source::Unparsed(text.to_owned()),
        }
    }

    /// Open to the whole internet: any IPv4 or IPv6 CIDR of prefix length 0, host bits or not.
    pub fn is_world(&self) -> bool {
        matches!(self, Source::Cidr { net, .. } if net.prefix_len() == 0)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Cidr { text, .. } | Source::Unparsed(text) => f.write_str(text),
            Source::Group(id) => write!(f, "group {id}"),
            Source::PrefixList(id) => write!(f, "prefix list {id}"),
        }
    }
}

/// True when `cidr` parses and has prefix length 0.
pub fn is_world_cidr(cidr: &str) -> bool {
    Source::cidr(cidr).is_world()
}

/// IP protocol, normalised from names and numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protocol {
    All,
    Tcp,
    Udp,
    Other(String),
}

impl Protocol {
    pub fn parse(text: &str) -> Protocol {
        match text.trim().to_ascii_lowercase().as_str() {
            "-1" | "all" => Protocol::All,
            "tcp" | "6" => Protocol::Tcp,
            "udp" | "17" => Protocol::Udp,
            other => Protocol::Other(other.to_owned()),
        }
    }

    /// The value the EC2 API expects back in a revoke.
    pub fn api_name(&self) -> &str {
        match self {
            Protocol::All => "-1",
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Other(text) => text,
        }
    }
}

/// One opened path: a protocol and port range from one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleEntry {
    pub protocol: Protocol,
    pub from_port: Option<i64>,
    pub to_port: Option<i64>,
    pub source: Source,
    /// The `sgr-` id AWS gave this rule, when the record carries it.
    pub rule_id: Option<String>,
}

impl RuleEntry {
    /// Ports on `protocol` this entry opens, including "all protocols" entries.
    pub fn opens_port(&self, protocol: &Protocol, port: u16) -> bool {
        match &self.protocol {
            Protocol::All => true,
            own if own == protocol => match (self.from_port, self.to_port) {
                (Some(from), Some(to)) => from <= i64::from(port) && i64::from(port) <= to,
                // A tcp/udp rule without ports is malformed; treat it as covering everything.
                _ => true,
            },
            _ => false,
        }
    }

    /// All protocols, or every tcp/udp port (1-65535 counts: port 0 carries no traffic).
    pub fn opens_everything(&self) -> bool {
        match self.protocol {
            Protocol::All => true,
            Protocol::Tcp | Protocol::Udp => {
                matches!((self.from_port, self.to_port), (Some(from), Some(to)) if from <= 1 && to >= 65535)
            }
            Protocol::Other(_) => false,
        }
    }

    /// Readable form for alerts: `tcp 22 from 0.0.0.0/0 (sgr-…)`.
    pub fn describe(&self) -> String {
        let ports = match (&self.protocol, self.from_port, self.to_port) {
            (Protocol::All, _, _) => "all traffic".to_owned(),
            (protocol, Some(from), Some(to)) if from == to => format!("{} {from}", protocol.api_name()),
            (protocol, Some(from), Some(to)) => format!("{} {from}-{to}", protocol.api_name()),
            (protocol, _, _) => format!("{} all ports", protocol.api_name()),
        };
        match &self.rule_id {
            Some(id) => format!("{ports} from {} ({id})", self.source),
            None => format!("{ports} from {}", self.source),
        }
    }
}

/// A change to a security group's rules, read from one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityGroupChange {
    /// `groupId`; None when the call named the group by `groupName` only.
    pub group_id: Option<String>,
    pub group_name: Option<String>,
    pub direction: Direction,
    pub entries: Vec<RuleEntry>,
}

/// One group per call.
impl crate::services::Change for SecurityGroupChange {}

impl SecurityGroupChange {
    /// The group as alerts name it.
    pub fn resource(&self) -> String {
        self.group_id.clone().or_else(|| self.group_name.clone()).unwrap_or_else(|| "unknown-group".into())
    }

    /// Reads an Authorize/ModifySecurityGroupRules record; None for any other event. A port that
    /// is not an integer in range makes the record unreadable: garbage is not a world-open range.
    pub fn from_event(event: &Event) -> Result<Option<SecurityGroupChange>, Unreadable> {
        if event.event_source != "ec2.amazonaws.com" {
            return Ok(None);
        }
        match event.event_name.as_str() {
            "AuthorizeSecurityGroupIngress" => authorize(event, Direction::Ingress).map(Some),
            "AuthorizeSecurityGroupEgress" => authorize(event, Direction::Egress).map(Some),
            "ModifySecurityGroupRules" => modify(event).map(Some),
            _ => Ok(None),
        }
    }
}

fn authorize(event: &Event, direction: Direction) -> Result<SecurityGroupChange, Unreadable> {
    let request = &event.request;
    let mut entries = Vec::new();
    for permission in items(request.get("ipPermissions")) {
        entries.extend(permission_entries(permission)?);
    }
    // Legacy flat form: CidrIp/IpProtocol/FromPort/ToPort at the top, `ipPermissions: {}`.
    if let Some(cidr) = str_at(request, "cidrIp") {
        let protocol = Protocol::parse(str_at(request, "ipProtocol").unwrap_or("-1"));
        entries.push(RuleEntry {
            from_port: port_at(request, "fromPort", &protocol)?,
            to_port: port_at(request, "toPort", &protocol)?,
            protocol,
            source: Source::cidr(cidr),
            rule_id: None,
        });
    }
    let created = items(event.response.get("securityGroupRuleSet"));
    for entry in &mut entries {
        entry.rule_id = created
            .iter()
            .find(|rule| same_rule(entry, rule))
            .and_then(|rule| str_at(rule, "securityGroupRuleId"))
            .map(str::to_owned);
    }
    Ok(SecurityGroupChange {
        group_id: str_at(request, "groupId").map(str::to_owned),
        group_name: str_at(request, "groupName").map(str::to_owned),
        direction,
        entries,
    })
}

/// A port field: absent, or an integer (number or numeric string) in range for the protocol:
/// 0-65535 for tcp and udp, -1 (any) to 65535 for the rest (ICMP types and codes).
fn port_at(value: &Value, key: &str, protocol: &Protocol) -> Result<Option<i64>, Unreadable> {
    let Some(raw) = value.get(key).filter(|raw| !raw.is_null()) else { return Ok(None) };
    let lowest = if matches!(protocol, Protocol::Tcp | Protocol::Udp) { 0 } else { -1 };
    let port = match raw {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    };
    match port {
        Some(port) if (lowest..=65535).contains(&port) => Ok(Some(port)),
        _ => {
            Err(Unreadable(format!("{key} {raw} of a {} permission is not a port {lowest}-65535", protocol.api_name())))
        }
    }
}

fn permission_entries(permission: &Value) -> Result<Vec<RuleEntry>, Unreadable> {
    let protocol = Protocol::parse(str_at(permission, "ipProtocol").unwrap_or("-1"));
    let (from_port, to_port) = match protocol {
        Protocol::All => (None, None),
        _ => (port_at(permission, "fromPort", &protocol)?, port_at(permission, "toPort", &protocol)?),
    };
    let mut sources = Vec::new();
    for range in items(permission.get("ipRanges")) {
        sources.extend(str_at(range, "cidrIp").map(Source::cidr));
    }
    for range in items(permission.get("ipv6Ranges")) {
        sources.extend(str_at(range, "cidrIpv6").map(Source::cidr));
    }
    for group in items(permission.get("groups")) {
        sources.extend(str_at(group, "groupId").map(|id| Source::Group(id.to_owned())));
    }
    for list in items(permission.get("prefixListIds")) {
        sources.extend(str_at(list, "prefixListId").map(|id| Source::PrefixList(id.to_owned())));
    }
    Ok(sources
        .into_iter()
        .map(|source| RuleEntry { protocol: protocol.clone(), from_port, to_port, source, rule_id: None })
        .collect())
}

/// Matches a requested entry to a rule of `responseElements.securityGroupRuleSet`.
fn same_rule(entry: &RuleEntry, created: &Value) -> bool {
    let protocol = Protocol::parse(str_at(created, "ipProtocol").unwrap_or("-1"));
    if protocol != entry.protocol {
        return false;
    }
    // "-1" rules come back with fromPort/toPort -1 while the request had none.
    if protocol != Protocol::All
        && (int_at(created, "fromPort") != entry.from_port || int_at(created, "toPort") != entry.to_port)
    {
        return false;
    }
    match &entry.source {
        Source::Cidr { net, .. } => ["cidrIpv4", "cidrIpv6"]
            .iter()
            .filter_map(|key| str_at(created, key))
            .filter_map(|text| text.parse::<IpNet>().ok())
            .any(|created_net| created_net.trunc() == net.trunc()),
        Source::Unparsed(text) => str_at(created, "cidrIpv4").or(str_at(created, "cidrIpv6")) == Some(text),
        Source::Group(id) => created.get("referencedGroupInfo").and_then(|g| str_at(g, "groupId")) == Some(id),
        Source::PrefixList(id) => str_at(created, "prefixListId") == Some(id),
    }
}

fn modify(event: &Event) -> Result<SecurityGroupChange, Unreadable> {
    let request = event.request.get("ModifySecurityGroupRulesRequest").unwrap_or(&event.request);
    let mut entries = Vec::new();
    for update in one_or_many(request.get("SecurityGroupRule")) {
        let Some(rule) = update.get("SecurityGroupRule") else { continue };
        let source = if let Some(cidr) = str_at(rule, "CidrIpv4").or(str_at(rule, "CidrIpv6")) {
            Source::cidr(cidr)
        } else if let Some(id) = str_at(rule, "ReferencedGroupId") {
            Source::Group(id.to_owned())
        } else if let Some(id) = str_at(rule, "PrefixListId") {
            Source::PrefixList(id.to_owned())
        } else {
            continue;
        };
        let protocol = Protocol::parse(str_at(rule, "IpProtocol").unwrap_or("-1"));
        let (from_port, to_port) = match protocol {
            Protocol::All => (None, None),
            _ => (port_at(rule, "FromPort", &protocol)?, port_at(rule, "ToPort", &protocol)?),
        };
        entries.push(RuleEntry {
            protocol,
            from_port,
            to_port,
            source,
            rule_id: str_at(update, "SecurityGroupRuleId").map(str::to_owned),
        });
    }
    Ok(SecurityGroupChange {
        group_id: str_at(request, "GroupId").map(str::to_owned),
        group_name: None,
        direction: Direction::Unknown,
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(record: Value) -> SecurityGroupChange {
        SecurityGroupChange::from_event(&Event::from_value(&record).unwrap()).unwrap().unwrap()
    }

    fn ssh_with_ports(from: Value, to: Value) -> Value {
        json!({
            "eventSource": "ec2.amazonaws.com", "eventName": "AuthorizeSecurityGroupIngress",
            "requestParameters": {"groupId": "sg-1", "ipPermissions": {"items": [
                {"ipProtocol": "tcp", "fromPort": from, "toPort": to, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}
            ]}}
        })
    }

    #[test]
    fn ports_that_are_not_integers_in_range_make_the_record_unreadable() {
        for (from, to) in [
            (json!("-22"), json!(22)),
            (json!(1e308), json!(1e308)),
            (json!(22), json!(70000)),
            (json!("ssh"), json!(22)),
        ] {
            let event = Event::from_value(&ssh_with_ports(from.clone(), to.clone())).unwrap();
            let error = SecurityGroupChange::from_event(&event).unwrap_err();
            assert!(error.0.contains("is not a port 0-65535"), "{from} {to}: {error}");
        }
        assert_eq!(change(ssh_with_ports(json!("22"), json!(22))).entries[0].from_port, Some(22));
    }

    #[test]
    fn ipv4_prefix_zero_with_host_bits_is_world_but_slash_sixteen_is_not() {
        assert!(is_world_cidr("0.0.0.0/0"));
        assert!(is_world_cidr("208.236.235.254/0"));
        assert!(is_world_cidr("::/0"));
        assert!(is_world_cidr("2001:db8::1/0"));
        assert!(!is_world_cidr("0.0.0.0/16"));
        assert!(!is_world_cidr("0.0.0.0/32"));
        assert!(!is_world_cidr("not-a-cidr"));
    }

    #[test]
    fn minus_one_rules_match_their_response_rule_despite_the_echoed_ports() {
        let parsed = change(json!({
            "eventSource": "ec2.amazonaws.com", "eventName": "AuthorizeSecurityGroupIngress",
            "requestParameters": {"groupId": "sg-1", "ipPermissions": {"items": [
                {"ipProtocol": "-1", "groups": {}, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}, "ipv6Ranges": {}, "prefixListIds": {}}
            ]}},
            "responseElements": {"_return": true, "securityGroupRuleSet": {"items": [
                {"securityGroupRuleId": "sgr-all", "isEgress": false, "ipProtocol": "-1", "fromPort": -1, "toPort": -1, "cidrIpv4": "0.0.0.0/0"}
            ]}}
        }));
        assert_eq!(parsed.entries.len(), 1);
        assert_eq!(parsed.entries[0].rule_id.as_deref(), Some("sgr-all"));
        assert!(parsed.entries[0].opens_everything());
        assert_eq!(parsed.entries[0].describe(), "all traffic from 0.0.0.0/0 (sgr-all)");
    }

    #[test]
    fn numeric_protocols_and_string_ports_are_understood() {
        let parsed = change(json!({
            "eventSource": "ec2.amazonaws.com", "eventName": "AuthorizeSecurityGroupIngress",
            "requestParameters": {"groupId": "sg-1", "ipPermissions": {"items": [
                {"ipProtocol": "6", "fromPort": "20", "toPort": "25", "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}
            ]}}
        }));
        assert!(parsed.entries[0].opens_port(&Protocol::Tcp, 22));
        assert!(!parsed.entries[0].opens_port(&Protocol::Tcp, 26));
        assert!(!parsed.entries[0].opens_port(&Protocol::Udp, 22));
    }
}
