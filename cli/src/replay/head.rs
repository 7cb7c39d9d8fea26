//! The cheap look at a record: its top-level members read as borrowed strings, everything else
//! skipped unparsed. Most of a trail is reads and calls no rule listens to; for those this look
//! is the whole cost, and only the rest is parsed into JSON values and judged.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// The members that decide whether a record is judged at all.
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(rename = "eventSource", borrow)]
    event_source: Option<Member<'a>>,
    #[serde(rename = "eventName", borrow)]
    event_name: Option<Member<'a>>,
    #[serde(rename = "errorCode", borrow)]
    error_code: Option<Member<'a>>,
    #[serde(rename = "readOnly", borrow)]
    read_only: Option<Member<'a>>,
    #[serde(rename = "requestParameters", borrow)]
    request: Option<Member<'a>>,
    #[serde(rename = "responseElements", borrow)]
    response: Option<Member<'a>>,
    /// Present at all, even as null: only the full read says what such a record is.
    #[serde(rename = "detail-type", default, deserialize_with = "present")]
    detail_type: bool,
}

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(deserializer).map(|_| true)
}

/// A member's value, as much of it as the screen needs.
enum Member<'a> {
    Text(Cow<'a, str>),
    Bool(bool),
    Object,
    Other,
}

/// Why a record is left alone, when its head alone says so: the same first reason, with the
/// same label, as [`snapback_rules::screen`] gives after a full parse. None: parse and judge it
/// (it matters, or it is unusual enough that only the full read can say why not).
///
/// The members it skips are checked as JSON, not as values: a number out of f64's range, a lone
/// UTF-16 surrogate in an escape or nesting deeper than 128 inside a skipped member pass here,
/// where the full read would call the record unreadable. Such a record is not a call anyone made.
pub fn skip_reason(record: &[u8], listens: impl Fn(&str, &str) -> bool) -> Option<&'static str> {
    // serde_json checks UTF-8 only in the strings it reads; the full read reads them all.
    std::str::from_utf8(record).ok()?;
    let head: Head = serde_json::from_slice(record).ok()?;
    // An EventBridge envelope, or a record the full read refuses: let it say why.
    if head.detail_type {
        return None;
    }
    let (Some(Member::Text(source)), Some(Member::Text(name))) = (&head.event_source, &head.event_name) else {
        return None;
    };
    if ![&head.request, &head.response].into_iter().all(|member| matches!(member, None | Some(Member::Object))) {
        return None;
    }
    if matches!(head.error_code, Some(Member::Text(_))) {
        return Some("call-failed");
    }
    if matches!(head.read_only, Some(Member::Bool(true))) {
        return Some("read-only");
    }
    if !listens(source, name) {
        return Some("not-listened");
    }
    None
}

impl<'de: 'a, 'a> Deserialize<'de> for Member<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(MemberVisitor)
    }
}

struct MemberVisitor;

impl<'de> Visitor<'de> for MemberVisitor {
    type Value = Member<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Member<'de>, E> {
        Ok(Member::Text(Cow::Borrowed(text)))
    }

    // A string with escapes: serde_json unescapes it into a scratch buffer.
    fn visit_str<E: de::Error>(self, text: &str) -> Result<Member<'de>, E> {
        Ok(Member::Text(Cow::Owned(text.to_owned())))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Member<'de>, E> {
        Ok(Member::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Member<'de>, E> {
        Ok(Member::Other)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Member<'de>, E> {
        Ok(Member::Other)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Member<'de>, E> {
        Ok(Member::Other)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Member<'de>, E> {
        Ok(Member::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Member<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Member::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Member<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Member::Object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use snapback_rules::{listens_to, screen, Config, Event};

    /// What the full read says: the skip label, or None when the record is judged (or refused).
    fn full_read(record: &str) -> Option<&'static str> {
        let value: Value = serde_json::from_str(record).ok()?;
        let event = Event::from_value(&value).ok()?;
        screen(&event, &Config::default(), &[], listens_to).map(|ignored| ignored.label())
    }

    #[test]
    fn what_the_head_skips_the_full_read_skips_with_the_same_label() {
        let records = [
            r#"{"eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","readOnly":true,"requestParameters":{"a":[1]}}"#,
            r#"{"eventSource":"s3.amazonaws.com","eventName":"PutObject","readOnly":false,"responseElements":null}"#,
            r#"{"eventSource":"ec2.amazonaws.com","eventName":"AuthorizeSecurityGroupIngress","errorCode":"Client.UnauthorizedOperation"}"#,
            r#"{"eventSource":"ec2.amazonaws.com","eventName":"AuthorizeSecurityGroupIngress","errorCode":7,"readOnly":true}"#,
            r#"{"eventSource":"ec2.amazonaws.com","eventName":"AuthorizeSecurityGroupIngress","readOnly":"true"}"#,
            r#"{"eventSource":"ec2.amazonaws.com","eventName":"Authorize\u0053ecurityGroupIngress"}"#,
            r#"{"eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","requestParameters":"text"}"#,
            r#"{"eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","readOnly":true,"readOnly":true}"#,
            r#"{"detail-type":"AWS API Call via CloudTrail","detail":{"eventSource":"s3.amazonaws.com","eventName":"GetObject","readOnly":true}}"#,
            r#"{"detail-type":null,"eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","readOnly":true}"#,
            r#"{"eventSource":"ec2.amazonaws.com"}"#,
            r#"{"eventSource":"ec2.amazonaws.com","eventName":"RunInstances","readOnly":fals}"#,
            r#"[1]"#,
        ];
        for record in records {
            let skipped = skip_reason(record.as_bytes(), listens_to);
            if let Some(label) = skipped {
                assert_eq!(Some(label), full_read(record), "{record}");
            }
        }
        let label = |record: &str| skip_reason(record.as_bytes(), listens_to);
        assert_eq!(label(records[0]), Some("read-only"));
        assert_eq!(label(records[1]), Some("not-listened"));
        assert_eq!(label(records[2]), Some("call-failed"));
        assert_eq!(label(records[3]), Some("read-only"), "a numeric errorCode is no error code");
        assert_eq!(label(records[4]), None, "judged: a string readOnly is not read-only");
        assert_eq!(label(records[5]), None, "judged: an escaped name is the listened name");
        assert_eq!(label(records[6]), None, "left to the full read, which names the bad member");
        assert_eq!(label(records[8]), None, "an envelope is read in full");
        assert_eq!(label(records[9]), None, "so is a record with any detail-type");
        let bad_utf8 = b"{\"eventSource\":\"ec2.amazonaws.com\",\"eventName\":\"DescribeInstances\",\"readOnly\":true,\"x\":\"\xff\"}";
        assert_eq!(skip_reason(bad_utf8, listens_to), None, "left to the full read, which refuses it");
    }
}
