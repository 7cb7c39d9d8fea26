//! `--format html`: the report as one self-contained page (inline CSS and SVG, no script, no
//! external asset) to open in a browser or attach to a ticket. Every string from the account
//! (resource names, tags, cluster names) is escaped: the page treats them as hostile.

use std::fmt::Write;

use snapback_rules::Severity;

use super::{Coverage, ScanFinding, ScanMode};

const SEVERITIES: [Severity; 4] = [Severity::Critical, Severity::High, Severity::Medium, Severity::Low];

/// Text made safe for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The colour a severity is drawn in.
fn colour(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "#b91c1c",
        Severity::High => "#f97316",
        Severity::Medium => "#eab308",
        Severity::Low => "#2563eb",
    }
}

/// The whole page.
pub fn render(findings: &[ScanFinding], coverage: &Coverage) -> String {
    let count = |severity: Severity| findings.iter().filter(|f| f.severity == severity).count();
    let utc = coverage.at.to_offset(time::UtcOffset::UTC);
    let at = format!(
        "{}-{:02}-{:02} {:02}:{:02} UTC",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute()
    );
    let accounts = if coverage.accounts.is_empty() { "unknown".to_owned() } else { coverage.accounts.join(", ") };
    let regions = if coverage.regions.is_empty() { "none".to_owned() } else { coverage.regions.join(", ") };
    let headline = match findings.len() {
        0 => "No findings".to_owned(),
        1 => "1 finding".to_owned(),
        n => format!("{n} findings"),
    };

    let mut page = String::new();
    let _ = write!(
        page,
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>snapback scan: {title} ({accounts})</title>
<style>{STYLE}</style>
</head>
<body>
<header class="top">
<div class="wrap">
<p class="brand">snapback scan</p>
<h1>{title}</h1>
<dl class="meta">
<div><dt>Account{account_s}</dt><dd>{accounts}</dd></div>
<div><dt>Region{region_s}</dt><dd>{regions}</dd></div>
<div><dt>Scanned</dt><dd>{at}</dd></div>
</dl>
</div>
</header>
<main class="wrap">
"#,
        title = escape(&headline),
        accounts = escape(&accounts),
        regions = escape(&regions),
        at = escape(&at),
        account_s = if coverage.accounts.len() > 1 { "s" } else { "" },
        region_s = if coverage.regions.len() > 1 { "s" } else { "" },
    );

    if !coverage.gaps.is_empty() {
        page += "<section class=\"gaps\"><h2>Not scanned: this report is incomplete</h2><ul>\n";
        for gap in &coverage.gaps {
            let _ = writeln!(page, "<li>{}</li>", escape(gap));
        }
        page += "</ul></section>\n";
    }

    page += "<section class=\"tiles\">\n";
    for severity in SEVERITIES {
        let n = count(severity);
        let _ = writeln!(
            page,
            r#"<a class="tile{muted}" href="{href}" style="--c:{colour}"><span class="n">{n}</span><span class="l">{label}</span></a>"#,
            muted = if n == 0 { " muted" } else { "" },
            href = if n == 0 { "#top".to_owned() } else { format!("#{}", severity.as_str()) },
            colour = colour(severity),
            label = severity.as_str(),
        );
    }
    let modes = [ScanMode::Remediate, ScanMode::Notify, ScanMode::Exempt]
        .map(|mode| (mode, findings.iter().filter(|f| f.mode == mode).count()));
    page += "<div class=\"tile modes\">";
    for (mode, n) in modes {
        let _ = write!(page, r#"<div><b>{n}</b><span class="mode {mode}">{mode}</span></div>"#);
    }
    page += "</div>\n</section>\n";

    if findings.is_empty() {
        let _ = write!(
            page,
            r##"<section class="clean">
<svg viewBox="0 0 48 48" width="56" height="56" aria-hidden="true"><circle cx="24" cy="24" r="22" fill="#15803d"/><path d="M14 25l7 7 13-15" fill="none" stroke="#fff" stroke-width="4.5" stroke-linecap="round" stroke-linejoin="round"/></svg>
<div><h2>No findings</h2>
<p>Nothing in {regions} breaks a snapback rule: every EKS cluster, managed nodegroup and security group scanned is as the rules want it{caveat}.</p></div>
</section>
"##,
            regions = escape(&regions),
            caveat = if coverage.gaps.is_empty() { "" } else { " (but see what could not be scanned above)" },
        );
    } else {
        page += "<section class=\"charts\">\n";
        page += &severity_chart(findings);
        page += &service_chart(findings);
        page += "</section>\n";
        for severity in SEVERITIES {
            let group: Vec<&ScanFinding> = findings.iter().filter(|f| f.severity == severity).collect();
            if group.is_empty() {
                continue;
            }
            let _ = writeln!(
                page,
                r#"<section class="group" id="{id}"><h2 style="--c:{colour}"><span class="dot"></span>{label} <span class="count">{n}</span></h2>"#,
                id = severity.as_str(),
                colour = colour(severity),
                label = severity.label(),
                n = group.len(),
            );
            for f in group {
                page += &finding_card(f);
            }
            page += "</section>\n";
        }
    }
    let _ = write!(
        page,
        r#"</main>
<footer class="wrap">snapback {version} · <code>snapback scan --remediate</code> restores what is in remediate mode, after showing the plan · every rule, its options and exemptions: RULES.md</footer>
</body>
</html>
"#,
        version = escape(env!("CARGO_PKG_VERSION")),
    );
    page
}

fn finding_card(f: &ScanFinding) -> String {
    let mut card = String::new();
    let where_ = format!(
        "{} / {}",
        f.account.as_deref().unwrap_or("unknown account"),
        f.region.as_deref().unwrap_or("unknown region")
    );
    let _ = write!(
        card,
        r#"<article class="finding" style="--c:{colour};--t:{text}">
<header><span class="sev">{severity}</span><h3>{title}</h3><span class="mode {mode}" title="{mode_help}">{mode}</span></header>
<dl class="facts">
<div><dt>Rule</dt><dd><code>{rule}</code></dd></div>
<div><dt>Resource</dt><dd><code>{resource}</code> <span class="kind">{kind}</span></dd></div>
<div><dt>Cluster</dt><dd>{cluster}</dd></div>
<div><dt>Account / region</dt><dd>{where_}</dd></div>
</dl>
<dl class="body">
"#,
        colour = colour(f.severity),
        text = if f.severity == Severity::Medium { "#422006" } else { "#fff" },
        severity = f.severity.label(),
        title = escape(&f.title),
        mode = f.mode,
        mode_help = match f.mode {
            ScanMode::Remediate => "snapback restores this",
            ScanMode::Notify => "snapback alerts only",
            ScanMode::Exempt => "tagged exempt: an accepted risk",
        },
        rule = escape(&f.rule),
        resource = escape(&f.resource),
        kind = escape(f.kind.name),
        cluster = f.cluster.as_deref().map_or_else(|| "<span class=\"none\">none</span>".to_owned(), escape),
        where_ = escape(&where_),
    );
    card += "<dt>What is wrong</dt><dd>";
    card += &list(&f.found);
    card += "</dd>\n";
    let (label, restore) = match f.mode {
        _ if f.actions.is_empty() && f.restore.iter().all(|step| *step == f.fix) => {
            ("No automatic restore", "<span class=\"none\">fix it by hand (below)</span>".to_owned())
        }
        _ if f.actions.is_empty() => ("No automatic restore", list(&f.restore)),
        ScanMode::Remediate => ("snapback restores", list(&f.restore)),
        ScanMode::Notify => ("Restore in remediate mode", list(&f.restore)),
        ScanMode::Exempt => ("Restore if not exempt", list(&f.restore)),
    };
    let _ = writeln!(card, "<dt>{label}</dt><dd>{restore}</dd>");
    let _ = write!(
        card,
        "<dt>Why it matters</dt><dd>{}</dd>\n<dt>Fix</dt><dd class=\"fix\">{}</dd>\n</dl>\n</article>\n",
        escape(&f.why),
        escape(&f.fix)
    );
    card
}

/// One item: as text; several: as a list.
fn list(items: &[String]) -> String {
    match items {
        [] => "<span class=\"none\">-</span>".to_owned(),
        [one] => escape(one),
        many => {
            let items: Vec<String> = many.iter().map(|item| format!("<li>{}</li>", escape(item))).collect();
            format!("<ul>{}</ul>", items.concat())
        }
    }
}

/// Geometry shared by the charts: label column, bar area, row height.
const LABEL_WIDTH: f64 = 132.0;
const BAR_WIDTH: f64 = 300.0;
const ROW: f64 = 34.0;

/// Counts by severity, one bar each in its colour.
fn severity_chart(findings: &[ScanFinding]) -> String {
    let counts: Vec<(Severity, usize)> =
        SEVERITIES.iter().map(|&s| (s, findings.iter().filter(|f| f.severity == s).count())).collect();
    let max = counts.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1) as f64;
    let summary: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {}", s.as_str())).collect();
    let mut svg = chart_open("By severity", &summary.join(", "), counts.len());
    for (row, (severity, n)) in counts.iter().enumerate() {
        let y = row as f64 * ROW;
        let width = if *n == 0 { 2.0 } else { (*n as f64 / max * BAR_WIDTH).max(6.0) };
        let _ = write!(
            svg,
            r#"<text class="label" x="0" y="{ty}">{label}</text><rect x="{LABEL_WIDTH}" y="{y}" width="{width:.1}" height="22" rx="4" fill="{colour}"/><text class="value" x="{vx:.1}" y="{ty}">{n}</text>"#,
            ty = y + 16.0,
            label = severity.label(),
            colour = colour(*severity),
            vx = LABEL_WIDTH + width + 8.0,
        );
    }
    svg + "</svg></figure>\n"
}

/// Counts by service, one bar each, in segments by severity.
fn service_chart(findings: &[ScanFinding]) -> String {
    let mut services: Vec<(&str, Vec<(Severity, usize)>)> = Vec::new();
    for f in findings {
        let service = f.kind.service;
        if !services.iter().any(|(name, _)| *name == service) {
            let counts = SEVERITIES
                .iter()
                .map(|&s| (s, findings.iter().filter(|g| g.kind.service == service && g.severity == s).count()))
                .collect();
            services.push((service, counts));
        }
    }
    let total = |counts: &[(Severity, usize)]| counts.iter().map(|(_, n)| n).sum::<usize>();
    services.sort_by(|a, b| total(&b.1).cmp(&total(&a.1)).then(a.0.cmp(b.0)));
    let max = services.iter().map(|(_, counts)| total(counts)).max().unwrap_or(0).max(1) as f64;
    let summary: Vec<String> = services.iter().map(|(name, counts)| format!("{} {name}", total(counts))).collect();
    let mut svg = chart_open("By service", &summary.join(", "), services.len() + 1);
    for (row, (service, counts)) in services.iter().enumerate() {
        let y = row as f64 * ROW;
        let _ = write!(svg, r#"<text class="label" x="0" y="{}">{}</text>"#, y + 16.0, escape(service));
        let mut x = LABEL_WIDTH;
        for (severity, n) in counts.iter().filter(|(_, n)| *n > 0) {
            let width = *n as f64 / max * BAR_WIDTH;
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{y}" width="{width:.1}" height="22" fill="{colour}"><title>{n} {label}</title></rect>"#,
                colour = colour(*severity),
                label = severity.as_str(),
            );
            x += width;
        }
        let _ = write!(svg, r#"<text class="value" x="{:.1}" y="{}">{}</text>"#, x + 8.0, y + 16.0, total(counts));
    }
    // The legend: the severities present.
    let y = services.len() as f64 * ROW + 6.0;
    let mut x = 0.0;
    for severity in SEVERITIES.iter().filter(|&&s| findings.iter().any(|f| f.severity == s)) {
        let _ = write!(
            svg,
            r#"<rect x="{x}" y="{y}" width="12" height="12" rx="2" fill="{colour}"/><text class="legend" x="{tx}" y="{ty}">{label}</text>"#,
            colour = colour(*severity),
            tx = x + 17.0,
            ty = y + 11.0,
            label = severity.as_str(),
        );
        x += 90.0;
    }
    svg + "</svg></figure>\n"
}

/// A chart's figure and the opening of its SVG, `rows` rows high.
fn chart_open(caption: &str, summary: &str, rows: usize) -> String {
    let height = rows as f64 * ROW;
    let width = LABEL_WIDTH + BAR_WIDTH + 40.0;
    format!(
        r#"<figure class="chart"><figcaption>{caption}</figcaption><svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{caption}: {summary}"><title>{caption}: {summary}</title>"#,
        caption = escape(caption),
        summary = escape(summary),
    )
}

const STYLE: &str = r#"
:root{--ink:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f8fafc;--card:#fff}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;overflow-wrap:anywhere}
.wrap{max-width:1120px;margin:0 auto;padding:0 28px}
.top{background:linear-gradient(120deg,#0f172a,#1e293b 60%,#134e4a);color:#f8fafc;padding:26px 0 30px}
.brand{margin:0;font-size:13px;letter-spacing:.14em;text-transform:uppercase;color:#5eead4;font-weight:600}
h1{margin:4px 0 14px;font-size:30px;line-height:1.2}
.meta{display:flex;flex-wrap:wrap;gap:10px 36px;margin:0}
.meta dt{font-size:12px;text-transform:uppercase;letter-spacing:.08em;color:#94a3b8}
.meta dd{margin:0;font-weight:500;overflow-wrap:anywhere}
main.wrap{padding-top:24px;padding-bottom:12px}
.tiles{display:grid;grid-template-columns:repeat(4,1fr) 1.3fr;gap:14px;margin-bottom:20px}
.tile{display:flex;flex-direction:column;background:var(--card);border:1px solid var(--line);border-top:4px solid var(--c,#94a3b8);border-radius:10px;padding:12px 16px;text-decoration:none;color:inherit}
.tile .n{font-size:30px;font-weight:700;line-height:1.1;color:var(--c)}
.tile .l{font-size:13px;text-transform:uppercase;letter-spacing:.08em;color:var(--muted)}
.tile.muted .n{color:#cbd5e1}
.tile.modes{justify-content:center;gap:3px;border-top-color:#0f766e}
.tile.modes div{display:flex;align-items:center;gap:8px;font-size:13px;color:var(--muted)}
.tile.modes b{min-width:18px;text-align:right;color:var(--ink)}
.tile.modes .mode{padding:0 8px;font-size:12px}
.mode{display:inline-block;border-radius:999px;padding:2px 10px;font-size:12.5px;font-weight:600;white-space:nowrap}
.mode.remediate{background:#ccfbf1;color:#115e59}
.mode.notify{background:#e0e7ff;color:#3730a3}
.mode.exempt{background:#f1f5f9;color:#475569;border:1px dashed #94a3b8}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:14px;margin-bottom:26px}
.chart{margin:0;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 18px 10px}
.chart figcaption{font-weight:600;margin-bottom:10px}
.chart svg{max-width:100%;height:auto;display:block}
.chart .label{font-size:13px;font-weight:600;fill:#334155}
.chart .value{font-size:13px;font-weight:700;fill:#0f172a}
.chart .legend{font-size:12px;fill:#475569}
.gaps{background:#fff7ed;border:1px solid #fdba74;border-radius:10px;padding:10px 18px;margin-bottom:18px}
.gaps h2{font-size:16px;margin:4px 0;color:#9a3412}
.clean{display:flex;gap:18px;align-items:center;background:#f0fdf4;border:1px solid #86efac;border-radius:10px;padding:22px 24px}
.clean h2{margin:0 0 4px;color:#14532d}
.clean p{margin:0;color:#166534}
.group h2{display:flex;align-items:center;gap:10px;font-size:18px;margin:8px 0 12px;letter-spacing:.04em}
.group .dot{width:12px;height:12px;border-radius:50%;background:var(--c)}
.group .count{font-size:13px;font-weight:600;background:#e2e8f0;border-radius:999px;padding:1px 9px}
.finding{background:var(--card);border:1px solid var(--line);border-left:5px solid var(--c);border-radius:10px;padding:14px 20px 12px;margin-bottom:14px;box-shadow:0 1px 2px rgba(15,23,42,.04)}
.finding>header{display:flex;align-items:center;gap:12px;margin-bottom:8px}
.finding h3{margin:0;font-size:17px;flex:1}
.sev{font-size:11.5px;font-weight:700;letter-spacing:.06em;color:var(--t,#fff);background:var(--c);border-radius:5px;padding:2px 8px}
.facts{display:flex;flex-wrap:wrap;gap:4px 28px;margin:0 0 10px;padding-bottom:10px;border-bottom:1px solid var(--line)}
.facts dt{font-size:11.5px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted)}
.facts dd{margin:0}
.kind{font-size:12px;color:var(--muted)}
.none{color:#94a3b8}
.body{display:grid;grid-template-columns:190px 1fr;gap:6px 16px;margin:0}
.body dt{font-weight:600;color:#334155}
.body dd{margin:0;overflow-wrap:anywhere}
.body ul{margin:0;padding-left:18px}
.fix{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:13px;background:#f1f5f9;border-radius:6px;padding:6px 10px}
footer{color:var(--muted);font-size:13px;padding-top:8px;padding-bottom:28px}
@media (max-width:820px){.tiles{grid-template-columns:repeat(2,1fr)}.charts{grid-template-columns:1fr}.body{grid-template-columns:1fr}}
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::sample;

    #[test]
    fn escape_neutralises_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x" onclick='y'>&amp;</a>"#),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn every_string_from_the_account_is_escaped() {
        let mut hostile = sample::findings().remove(0);
        hostile.resource = r#"sg-1"><img src=x onerror=alert(1)>"#.into();
        hostile.cluster = Some("<script>alert('c')</script>".into());
        hostile.found = vec!["tcp 22 from 0.0.0.0/0 </dd><marquee>".into()];
        hostile.restore = vec!["revoke & </ul>".into(), "two".into()];
        hostile.account = Some("<i>acct</i>".into());
        let mut coverage = sample::coverage();
        coverage.regions = vec!["<u>region</u>".into()];
        coverage.gaps = vec!["eks: <blink>denied</blink>".into()];

        let page = render(&[hostile], &coverage);

        for raw in ["<img", "<script", "<marquee>", "<i>", "<u>", "<blink>"] {
            assert!(!page.contains(raw), "{raw} reached the page unescaped");
        }
        assert!(page.contains("sg-1&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(&#39;c&#39;)&lt;/script&gt;"));
        assert!(page.contains("<li>revoke &amp; &lt;/ul&gt;</li>"));
        assert!(page.contains("eks: &lt;blink&gt;denied&lt;/blink&gt;"));
    }

    #[test]
    fn findings_are_grouped_most_severe_first_with_both_charts() {
        let findings = sample::findings();
        let page = render(&findings, &sample::coverage());
        assert!(page.starts_with("<!DOCTYPE html>") && page.ends_with("</html>\n"));
        assert!(!page.contains("<script") && !page.contains("<link") && !page.contains("src="), "self-contained");
        let at = |needle: &str| page.find(needle).unwrap_or_else(|| panic!("{needle} missing"));
        assert!(at(r#"id="critical""#) < at(r#"id="high""#) && at(r#"id="high""#) < at(r#"id="medium""#));
        assert!(!page.contains(r#"id="low""#), "no empty group");
        assert_eq!(page.matches("<article class=\"finding\"").count(), findings.len());
        assert!(page.contains("aria-label=\"By severity: 2 critical, 4 high, 4 medium, 0 low\""), "{page}");
        assert!(page.contains("aria-label=\"By service: 5 eks, 5 security-groups\""), "{page}");
        assert!(page.contains("<dd>111122223333</dd>") && page.contains("<dd>eu-west-1, us-east-1</dd>"));
        assert!(page.contains("<dd>2026-12-01 10:25 UTC</dd>"));
        assert!(page.contains("<h1>10 findings</h1>"));
    }

    #[test]
    fn no_findings_says_so_and_draws_no_chart() {
        let page = render(&[], &sample::coverage());
        assert!(page.contains("<h1>No findings</h1>") && page.contains("<h2>No findings</h2>"));
        assert!(!page.contains("class=\"chart\""));
        assert!(!page.contains("Not scanned"));
    }
}
