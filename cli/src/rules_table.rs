//! `snapback rules`: the registry as a table or JSON.

use snapback_rules::registry::{describe, registry};

pub fn render_table() -> String {
    let mut rows =
        vec![["RULE".to_owned(), "SEVERITY".to_owned(), "DEFAULT".to_owned(), "EVENTS".to_owned(), "TITLE".to_owned()]];
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

/// RULES.md: the catalog, generated from the registry (`make rules-doc`).
pub fn render_markdown() -> String {
    let mut out = String::from(
        "# snapback rules\n\n<!-- Generated from the rule registry by `make rules-doc`; do not edit by hand. -->\n\n\
         Modes: `off` (ignored), `notify` (alert only), `remediate` (restore, then alert). Set them per rule in the \
         configuration document; see the README. *State*: whether the rule also judges a resource as it is \
         (a sweep), not only the change that made it so.\n\n\
         | rule | severity | default mode | events | state | title |\n|---|---|---|---|---|---|\n",
    );
    for meta in registry() {
        let events: Vec<String> = meta.events.iter().map(|key| format!("`{}` {}", key.source, key.name)).collect();
        out += &format!(
            "| [`{id}`](#{id}) | {} | {} | {} | {} | {} |\n",
            meta.severity.as_str(),
            meta.default_mode.as_str(),
            events.join("<br>"),
            if meta.changes_only.is_none() { "yes" } else { "changes only" },
            meta.title,
            id = meta.id
        );
    }
    for meta in registry() {
        out += &format!("\n## {}\n\n{}\n\n", meta.id, meta.title);
        out +=
            &format!("- **Severity:** {}; **default mode:** {}\n", meta.severity.as_str(), meta.default_mode.as_str());
        out += &format!("- **Why:** {}\n", meta.rationale);
        match meta.changes_only {
            None => out += "- **Judges:** changes, and resources as they are (sweeps)\n",
            Some(why) => out += &format!("- **Judges:** changes only ({why})\n"),
        }
        out += &format!("- **Fix by hand:** {}\n", meta.manual_fix);
        out += &format!(
            "- **IAM actions:** {}\n",
            meta.iam_actions.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
        );
        for (name, description, default) in snapback_rules::registry::option_docs(meta) {
            out += &format!("- **Option `{name}`:** {description} (default `{default}`)\n");
        }
        out += &format!("- **Exempt a resource:** tag `snapback:exempt={}`\n", meta.id);
    }
    out
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
            assert!(line.contains(meta.events[0].name), "{line}");
        }
        assert_eq!(render_json().lines().count(), registry().len());
    }

    /// JSON text with every object's keys sorted: comparable whatever map order serde_json's
    /// features give this build.
    fn canonical(value: &serde_json::Value) -> String {
        match value {
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let fields: Vec<String> = keys
                    .iter()
                    .map(|key| format!("{}:{}", serde_json::Value::from(key.as_str()), canonical(&map[*key])))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }
            serde_json::Value::Array(items) => {
                format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(","))
            }
            other => other.to_string(),
        }
    }

    #[test]
    fn the_committed_manifest_is_what_the_registry_generates() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/modules/snapback/manifest.json");
        let committed: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_default()).unwrap_or_default();
        assert!(
            canonical(&committed) == canonical(&snapback_rules::manifest::manifest()),
            "infra/modules/snapback/manifest.json is stale: run `make manifest` and commit it"
        );
    }

    #[test]
    fn the_committed_rules_md_is_what_the_registry_generates() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../RULES.md");
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(committed == render_markdown(), "RULES.md is stale: run `make rules-doc` and commit it");
    }
}
