//! `snapback rules`: the registry as a table or JSON.

use snapback_rules::registry::{describe, registry};

pub fn render_table() -> String {
    let mut rows = vec![["RULE".to_owned(), "SEVERITY".to_owned(), "DEFAULT".to_owned(), "EVENTS".to_owned(), "TITLE".to_owned()]];
    for meta in registry() {
        let events: Vec<String> = meta
            .events
            .iter()
            .map(|key| format!("{}:{}", key.source.trim_end_matches(".amazonaws.com"), key.name))
            .collect();
        rows.push([
            meta.id.to_owned(),
            meta.severity.as_str().to_owned(),
            meta.default_mode.as_str().to_owned(),
            events.join(", "),
            meta.title.to_owned(),
        ]);
    }
    crate::replay::format_table(&rows)
}

pub fn render_json() -> String {
    registry().iter().map(|meta| describe(meta).to_string() + "\n").collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_appears_with_its_default_mode() {
        let table = render_table();
        for meta in registry() {
            let line = table.lines().find(|line| line.starts_with(meta.id)).expect("row per rule");
            assert!(line.contains(meta.default_mode.as_str()), "{line}");
            assert!(line.contains("ec2:AuthorizeSecurityGroupIngress"), "{line}");
        }
        assert_eq!(render_json().lines().count(), registry().len());
    }
}
