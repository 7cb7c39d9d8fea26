//! `--format html`: the report as one self-contained page (inline CSS and SVG, no script, no
//! external asset) to open in a browser or attach to a ticket. A scan's page groups its findings by
//! severity; a replay's (`Coverage::replayed`) counts them by rule, by actor and by day, and lists
//! them in the order of their calls, each with who made it, when, and where it was read. Every
//! string from the account or a record (resource names, tags, cluster names, callers, file names)
//! is escaped: the page treats them as hostile.

use std::fmt::Write;

use snapback_rules::Severity;
use time::Date;

use super::{
    call_day, call_time, count_by_actor, count_by_day, count_by_rule, counted, minute_utc, replay_period, thousands,
    ByDay, Coverage, DayColumn, Occurrence, Replayed, ScanFinding, ScanMode,
};

const SEVERITIES: [Severity; 4] = [Severity::Critical, Severity::High, Severity::Medium, Severity::Low];

/// Which report a page is. The wording follows it: a scan's findings are there now and
/// `--remediate` restores them; a replay's were made in the past and nothing was done about them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Report {
    Scan,
    Replay,
}

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

/// The whole page: a scan's, or a replay's when `coverage.replayed` says what it read.
pub fn render(findings: &[ScanFinding], coverage: &Coverage) -> String {
    let (mut page, report) = match &coverage.replayed {
        None => (scan_top(findings, coverage), Report::Scan),
        Some(replayed) => (replay_top(findings, coverage, replayed), Report::Replay),
    };
    page += &gaps(&coverage.gaps, report);
    page += &tiles(findings);
    match (&coverage.replayed, findings.is_empty()) {
        (None, true) => page += &scan_clean(coverage),
        (Some(replayed), true) => page += &replay_clean(coverage, replayed),
        (None, false) => page += &scan_findings(findings),
        (Some(_), false) => page += &replay_findings(findings),
    }
    page += &footer(report);
    page
}

/// The page up to its main part: the document's head, then the banner with the headline and
/// what the report covers.
fn top(brand: &str, title: &str, style: &str, headline: &str, meta: &[(String, String)]) -> String {
    let mut page = format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<header class="top">
<div class="wrap">
<p class="brand">{brand}</p>
<h1>{headline}</h1>
<dl class="meta">
"#,
        title = escape(title),
        brand = escape(brand),
        headline = escape(headline),
    );
    for (label, value) in meta {
        let _ = writeln!(page, "<div><dt>{}</dt><dd>{}</dd></div>", escape(label), escape(value));
    }
    page + "</dl>\n</div>\n</header>\n<main class=\"wrap\">\n"
}

fn scan_top(findings: &[ScanFinding], coverage: &Coverage) -> String {
    let accounts = if coverage.accounts.is_empty() { "unknown".to_owned() } else { coverage.accounts.join(", ") };
    let regions = if coverage.regions.is_empty() { "none".to_owned() } else { coverage.regions.join(", ") };
    let headline = match findings.len() {
        0 => "No findings".to_owned(),
        1 => "1 finding".to_owned(),
        n => format!("{n} findings"),
    };
    let meta = [
        (plural("Account", coverage.accounts.len()), accounts.clone()),
        (plural("Region", coverage.regions.len()), regions),
        ("Scanned".to_owned(), minute_utc(coverage.at)),
    ];
    top("snapback scan", &format!("snapback scan: {headline} ({accounts})"), STYLE, &headline, &meta)
}

/// A replay's banner: `7 findings in 12,345 records`, then the files and records read, the
/// period, the accounts the findings are in and when the report was made.
fn replay_top(findings: &[ScanFinding], coverage: &Coverage, replayed: &Replayed) -> String {
    let found = match findings.len() {
        0 => "No findings".to_owned(),
        n => counted(n, "finding", "findings"),
    };
    let headline = format!("{found} in {}", counted(replayed.records, "record", "records"));
    let mut meta = vec![
        ("Files read".to_owned(), thousands(replayed.files)),
        ("Records".to_owned(), thousands(replayed.records)),
        ("Period".to_owned(), replay_period(replayed, findings)),
    ];
    if !coverage.accounts.is_empty() {
        meta.push((plural("Account", coverage.accounts.len()), coverage.accounts.join(", ")));
    }
    meta.push(("Generated".to_owned(), minute_utc(coverage.at)));
    let style = format!("{STYLE}{REPLAY_STYLE}");
    top("snapback replay", &format!("snapback replay: {headline}"), &style, &headline, &meta)
}

/// `Account`, or `Accounts` for more than one.
fn plural(noun: &str, n: usize) -> String {
    if n > 1 {
        format!("{noun}s")
    } else {
        noun.to_owned()
    }
}

/// What could not be scanned or read, each with its reason.
fn gaps(gaps: &[String], report: Report) -> String {
    if gaps.is_empty() {
        return String::new();
    }
    let heading = match report {
        Report::Scan => "Not scanned: this report is incomplete",
        Report::Replay => "Left out: this report is incomplete",
    };
    let mut section = format!("<section class=\"gaps\"><h2>{heading}</h2><ul>\n");
    for gap in gaps {
        let _ = writeln!(section, "<li>{}</li>", escape(gap));
    }
    section + "</ul></section>\n"
}

/// A tile per severity (linking to its first finding) and one counting the modes.
fn tiles(findings: &[ScanFinding]) -> String {
    let mut section = String::from("<section class=\"tiles\">\n");
    for severity in SEVERITIES {
        let n = findings.iter().filter(|f| f.severity == severity).count();
        let _ = writeln!(
            section,
            r#"<a class="tile{muted}" href="{href}" style="--c:{colour}"><span class="n">{n}</span><span class="l">{label}</span></a>"#,
            muted = if n == 0 { " muted" } else { "" },
            href = if n == 0 { "#top".to_owned() } else { format!("#{}", severity.as_str()) },
            colour = colour(severity),
            label = severity.as_str(),
        );
    }
    let modes = [ScanMode::Remediate, ScanMode::Notify, ScanMode::Exempt]
        .map(|mode| (mode, findings.iter().filter(|f| f.mode == mode).count()));
    section += "<div class=\"tile modes\">";
    for (mode, n) in modes {
        let _ = write!(section, r#"<div><b>{n}</b><span class="mode {mode}">{mode}</span></div>"#);
    }
    section + "</div>\n</section>\n"
}

/// The tick in a circle that says nothing was found, with `text` beside it.
fn clean(text: &str) -> String {
    format!(
        r##"<section class="clean">
<svg viewBox="0 0 48 48" width="56" height="56" aria-hidden="true"><circle cx="24" cy="24" r="22" fill="#15803d"/><path d="M14 25l7 7 13-15" fill="none" stroke="#fff" stroke-width="4.5" stroke-linecap="round" stroke-linejoin="round"/></svg>
<div><h2>No findings</h2>
<p>{text}</p></div>
</section>
"##
    )
}

fn scan_clean(coverage: &Coverage) -> String {
    let regions = if coverage.regions.is_empty() { "none".to_owned() } else { coverage.regions.join(", ") };
    clean(&format!(
        "Nothing in {regions} breaks a snapback rule: every EKS cluster, managed nodegroup and security group scanned is as the rules want it{caveat}.",
        regions = escape(&regions),
        caveat = if coverage.gaps.is_empty() { "" } else { " (but see what could not be scanned above)" },
    ))
}

fn replay_clean(coverage: &Coverage, replayed: &Replayed) -> String {
    clean(&format!(
        "Nothing in the {records} replayed would have been restored or alerted on: no call in them breaks a snapback rule{caveat}.",
        records = counted(replayed.records, "record", "records"),
        caveat = if coverage.gaps.is_empty() { "" } else { " (but see what was left out above)" },
    ))
}

/// A scan's charts (by severity, by service), then its findings grouped by severity.
fn scan_findings(findings: &[ScanFinding]) -> String {
    let mut html = String::from("<section class=\"charts\">\n");
    html += &severity_chart(findings);
    html += &service_chart(findings);
    html += "</section>\n";
    for severity in SEVERITIES {
        let group: Vec<&ScanFinding> = findings.iter().filter(|f| f.severity == severity).collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(
            html,
            r#"<section class="group" id="{id}"><h2 style="--c:{colour}"><span class="dot"></span>{label} <span class="count">{n}</span></h2>"#,
            id = severity.as_str(),
            colour = colour(severity),
            label = severity.label(),
            n = group.len(),
        );
        for f in group {
            html += &finding_card(f, Report::Scan, None);
        }
        html += "</section>\n";
    }
    html
}

/// A replay's charts (by rule, by actor, by day), then its findings in the order given (the
/// caller's: by the time of their calls) under a heading per day. The first card of each severity
/// is where its tile links.
fn replay_findings(findings: &[ScanFinding]) -> String {
    let mut html = String::from("<section class=\"charts\">\n");
    html += &rule_chart(findings);
    html += &actor_chart(findings);
    html += &day_chart(&count_by_day(findings));
    html += "</section>\n";
    let _ = writeln!(
        html,
        r#"<section class="group timeline" id="findings"><h2>Findings, in the order of their calls <span class="count">{}</span></h2>"#,
        findings.len()
    );
    let mut anchored: Vec<Severity> = Vec::new();
    for same_day in findings.chunk_by(|a, b| call_day(a) == call_day(b)) {
        let day = call_day(&same_day[0])
            .map_or_else(|| "No time recorded".to_owned(), |day| format!("{} {day}", day.weekday()));
        let _ = writeln!(html, r#"<h3 class="day">{day} <span class="count">{}</span></h3>"#, same_day.len());
        for f in same_day {
            let anchor = if anchored.contains(&f.severity) {
                None
            } else {
                anchored.push(f.severity);
                Some(f.severity.as_str())
            };
            html += &finding_card(f, Report::Replay, anchor);
        }
    }
    html + "</section>\n"
}

fn footer(report: Report) -> String {
    let about = match report {
        Report::Scan => {
            "<code>snapback scan --remediate</code> restores what is in remediate mode, after showing the plan"
        }
        Report::Replay => "a replay of recorded CloudTrail: it made no AWS call and restored nothing",
    };
    format!(
        r#"</main>
<footer class="wrap">snapback {version} · {about} · every rule, its options and exemptions: RULES.md</footer>
</body>
</html>
"#,
        version = escape(env!("CARGO_PKG_VERSION")),
    )
}

/// A finding's card, with the id `anchor` when a tile links to it.
fn finding_card(f: &ScanFinding, report: Report, anchor: Option<&str>) -> String {
    let mut card = String::new();
    let where_ = format!(
        "{} / {}",
        f.account.as_deref().unwrap_or("unknown account"),
        f.region.as_deref().unwrap_or("unknown region")
    );
    let _ = write!(
        card,
        r#"<article class="finding"{id} style="--c:{colour};--t:{text}">
<header><span class="sev">{severity}</span><h3>{title}</h3><span class="mode {mode}" title="{mode_help}">{mode}</span></header>
<dl class="facts">
"#,
        id = anchor.map_or_else(String::new, |anchor| format!(r#" id="{}""#, escape(anchor))),
        colour = colour(f.severity),
        text = if f.severity == Severity::Medium { "#422006" } else { "#fff" },
        severity = f.severity.label(),
        title = escape(&f.title),
        mode = f.mode,
        mode_help = mode_help(f.mode, report),
    );
    card += &fact("Rule", &format!("<code>{}</code>", escape(&f.rule)));
    card += &fact(
        "Resource",
        &format!(r#"<code>{}</code> <span class="kind">{}</span>"#, escape(&f.resource), escape(f.kind.name)),
    );
    match (&f.cluster, report) {
        (Some(cluster), _) => card += &fact("Cluster", &escape(cluster)),
        (None, Report::Scan) => card += &fact("Cluster", "<span class=\"none\">none</span>"),
        // A call does not carry its resource's tags: unknown, not "none".
        (None, Report::Replay) => {}
    }
    card += &fact("Account / region", &escape(&where_));
    card += "</dl>\n<dl class=\"body\">\n";
    if let Some(occurrence) = &f.occurrence {
        card += &call_facts(f, occurrence);
    }
    let wrong = if report == Report::Replay { "What was wrong" } else { "What is wrong" };
    let _ = writeln!(card, "<dt>{wrong}</dt><dd>{}</dd>", list(&f.found));
    let (label, restore) = restore(f, report);
    let _ = writeln!(card, "<dt>{label}</dt><dd>{restore}</dd>");
    let _ = write!(
        card,
        "<dt>Why it matters</dt><dd>{}</dd>\n<dt>Fix</dt><dd class=\"fix\">{}</dd>\n</dl>\n</article>\n",
        escape(&f.why),
        escape(&f.fix)
    );
    card
}

/// A fact of a card's top row; `value` is HTML, already escaped.
fn fact(label: &str, value: &str) -> String {
    format!("<div><dt>{label}</dt><dd>{value}</dd></div>\n")
}

/// Who made the call, when, which call it was and where its record was read.
fn call_facts(f: &ScanFinding, occurrence: &Occurrence) -> String {
    format!(
        "<dt>Who</dt><dd><code>{actor}</code></dd>\n<dt>When</dt><dd>{time}</dd>\n\
         <dt>Call</dt><dd><code>{event}</code> <span class=\"kind\">{id}</span></dd>\n\
         <dt>Read from</dt><dd><code>{origin}</code></dd>\n",
        actor = escape(&occurrence.actor),
        time = escape(&call_time(f)),
        event = escape(&occurrence.event_name),
        id = escape(&occurrence.event_id),
        origin = escape(&occurrence.origin),
    )
}

/// What a mode means, as the mode badge's tooltip.
fn mode_help(mode: ScanMode, report: Report) -> &'static str {
    match (mode, report) {
        (ScanMode::Remediate, Report::Scan) => "snapback restores this",
        (ScanMode::Remediate, Report::Replay) => "snapback would have restored this",
        (ScanMode::Notify, Report::Scan) => "snapback alerts only",
        (ScanMode::Notify, Report::Replay) => "snapback would have alerted only",
        (ScanMode::Exempt, _) => "tagged exempt: an accepted risk",
    }
}

/// The label and HTML of what snapback restores (or would have restored), or what a person has to do.
fn restore(f: &ScanFinding, report: Report) -> (&'static str, String) {
    match f.mode {
        _ if f.actions.is_empty() && f.restore.iter().all(|step| *step == f.fix) => {
            ("No automatic restore", "<span class=\"none\">fix it by hand (below)</span>".to_owned())
        }
        _ if f.actions.is_empty() => ("No automatic restore", list(&f.restore)),
        ScanMode::Remediate if report == Report::Replay => ("snapback would have restored", list(&f.restore)),
        ScanMode::Remediate => ("snapback restores", list(&f.restore)),
        ScanMode::Notify => ("Restore in remediate mode", list(&f.restore)),
        ScanMode::Exempt => ("Restore if not exempt", list(&f.restore)),
    }
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

/// Geometry shared by the charts: label column, bar area, row height, and the width they make.
const LABEL_WIDTH: f64 = 132.0;
const BAR_WIDTH: f64 = 300.0;
const ROW: f64 = 34.0;
const CHART_WIDTH: f64 = LABEL_WIDTH + BAR_WIDTH + 40.0;

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
    svg += &severity_legend(&severities_of(findings.iter()), services.len() as f64 * ROW + 6.0);
    svg + "</svg></figure>\n"
}

/// The severities among `findings`, most severe first.
fn severities_of<'a>(findings: impl Iterator<Item = &'a ScanFinding> + Clone) -> Vec<Severity> {
    SEVERITIES.into_iter().filter(|&severity| findings.clone().any(|f| f.severity == severity)).collect()
}

/// A legend of `severities`, in a row at `y`.
fn severity_legend(severities: &[Severity], y: f64) -> String {
    let mut svg = String::new();
    let mut x = 0.0;
    for severity in severities {
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
    svg
}

/// Geometry of the charts that put each name above its bar: rule ids and ARNs are too long for
/// the label column.
const NAMED_ROW: f64 = 42.0;
const NAMED_BAR_WIDTH: f64 = CHART_WIDTH - 48.0;
/// About as many characters as the chart's width holds; a longer name keeps its end (an ARN's
/// most specific part) and the bar's tooltip has it whole.
const NAMED_LABEL_CHARS: usize = 50;
/// Callers with a bar of their own; the rest share one.
const TOP_ACTORS: usize = 8;
const ACTOR_COLOUR: &str = "#0f766e";
const OTHERS_COLOUR: &str = "#94a3b8";

/// One bar of a chart with names above bars.
struct NamedBar {
    name: String,
    count: usize,
    colour: &'static str,
}

/// Counts by rule, most first, each bar in the colour of the rule's severity.
fn rule_chart(findings: &[ScanFinding]) -> String {
    let bars: Vec<NamedBar> = count_by_rule(findings)
        .into_iter()
        .map(|(rule, severity, count)| NamedBar { name: rule.to_owned(), count, colour: colour(severity) })
        .collect();
    let legend_y = bars.len() as f64 * NAMED_ROW + 6.0;
    named_bar_chart("By rule", &bars, &severity_legend(&severities_of(findings.iter()), legend_y))
}

/// Counts by caller, most first: the top 8, and the rest summed as "others".
fn actor_chart(findings: &[ScanFinding]) -> String {
    let counts = count_by_actor(findings);
    // A single caller beyond the top 8 gets its own bar: "others" would hide a name for nothing.
    let shown = if counts.len() <= TOP_ACTORS + 1 { counts.len() } else { TOP_ACTORS };
    let mut bars: Vec<NamedBar> = counts[..shown]
        .iter()
        .map(|(actor, count)| NamedBar { name: (*actor).to_owned(), count: *count, colour: ACTOR_COLOUR })
        .collect();
    let rest = &counts[shown..];
    if !rest.is_empty() {
        bars.push(NamedBar {
            name: format!("others ({})", counted(rest.len(), "actor", "actors")),
            count: rest.iter().map(|(_, count)| count).sum(),
            colour: OTHERS_COLOUR,
        });
    }
    named_bar_chart("By actor", &bars, "")
}

/// Horizontal bars, each name above its bar, with `legend` (SVG, placed by the caller) below.
fn named_bar_chart(caption: &str, bars: &[NamedBar], legend: &str) -> String {
    let max = bars.iter().map(|bar| bar.count).max().unwrap_or(0).max(1) as f64;
    let summary: Vec<String> = bars.iter().map(|bar| format!("{} {}", bar.count, bar.name)).collect();
    let legend_height = if legend.is_empty() { 0.0 } else { 24.0 };
    let height = bars.len() as f64 * NAMED_ROW + legend_height;
    let mut svg = figure_open("chart", caption, &summary.join(", "), CHART_WIDTH, height);
    for (row, bar) in bars.iter().enumerate() {
        let y = row as f64 * NAMED_ROW;
        let width = (bar.count as f64 / max * NAMED_BAR_WIDTH).max(6.0);
        let _ = write!(
            svg,
            r#"<g><title>{name}: {count}</title><text class="label" x="0" y="{ty}">{label}</text><rect x="0" y="{by}" width="{width:.1}" height="16" rx="3" fill="{colour}"/><text class="value" x="{vx:.1}" y="{vy}">{n}</text></g>"#,
            name = escape(&bar.name),
            count = counted(bar.count, "finding", "findings"),
            label = escape(&chart_label(&bar.name, NAMED_LABEL_CHARS)),
            ty = y + 13.0,
            by = y + 19.0,
            colour = bar.colour,
            vx = width + 8.0,
            vy = y + 32.0,
            n = bar.count,
        );
    }
    svg + legend + "</svg></figure>\n"
}

/// A bar's label: an ARN as its account and the end of its resource (callers in different
/// accounts often share a role name), anything else as its end.
fn chart_label(name: &str, max: usize) -> String {
    let parts: Vec<&str> = name.splitn(6, ':').collect();
    match parts[..] {
        ["arn", _, _, _, account, resource] if !account.is_empty() => {
            format!("{account} {}", keep_end(resource, max.saturating_sub(account.chars().count() + 1).max(12)))
        }
        _ => keep_end(name, max),
    }
}

/// `text`, or its last `max - 1` characters after an ellipsis.
fn keep_end(text: &str, max: usize) -> String {
    let length = text.chars().count();
    if length <= max {
        return text.to_owned();
    }
    let end: String = text.chars().skip(length - (max - 1)).collect();
    format!("…{end}")
}

/// Geometry of the chart by day: a column per day across the report's width, room above the
/// columns for their counts and below for the day labels, which are thinned to never overlap.
const DAY_CHART_WIDTH: f64 = 1000.0;
const DAY_PLOT_HEIGHT: f64 = 150.0;
const DAY_TOP: f64 = 18.0;
const DAY_AXIS: f64 = 22.0;
const DAY_LABEL_WIDTH: f64 = 56.0;
/// Narrower columns have no room for their count (their tooltip has it).
const DAY_COUNT_MIN_SLOT: f64 = 18.0;
/// An empty day's stub, darker than the axis it sits on.
const EMPTY_COLOUR: &str = "#94a3b8";
const AXIS_COLOUR: &str = "#e2e8f0";

/// Counts by day, a column a day (or a few, over a long span) from the first to the last day
/// with findings, in segments by severity; a day without findings is an empty column, so quiet
/// days show. Nothing when no finding has a readable time.
fn day_chart(by_day: &ByDay) -> String {
    let columns = &by_day.columns;
    if columns.is_empty() {
        return String::new();
    }
    let caption = match by_day.days_per_column {
        1 => "By day".to_owned(),
        days => format!("By {days} days"),
    };
    let base = DAY_TOP + DAY_PLOT_HEIGHT;
    let mut svg = figure_open("chart wide", &caption, &day_summary(by_day), DAY_CHART_WIDTH, base + DAY_AXIS + 24.0);
    let max = columns.iter().map(|column| column.findings.len()).max().unwrap_or(0).max(1) as f64;
    let slot = DAY_CHART_WIDTH / columns.len() as f64;
    let width = (slot * 0.72).min(56.0);
    let label_every = (DAY_LABEL_WIDTH / slot).ceil().max(1.0) as usize;
    for (index, column) in columns.iter().enumerate() {
        let x = index as f64 * slot + (slot - width) / 2.0;
        svg += &day_column(column, x, width, max, slot >= DAY_COUNT_MIN_SLOT);
        if index % label_every == 0 {
            // Centred under its column, but kept inside the chart at either end.
            let half_label = DAY_LABEL_WIDTH / 2.0;
            let _ = write!(
                svg,
                r#"<text class="tick" x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
                (x + width / 2.0).clamp(half_label, DAY_CHART_WIDTH - half_label),
                base + 15.0,
                short_day(column.first)
            );
        }
    }
    let _ = write!(svg, r#"<line x1="0" y1="{base}" x2="{DAY_CHART_WIDTH}" y2="{base}" stroke="{AXIS_COLOUR}"/>"#);
    let dated = columns.iter().flat_map(|column| column.findings.iter().copied());
    svg += &severity_legend(&severities_of(dated), base + DAY_AXIS + 6.0);
    svg + "</svg></figure>\n"
}

/// One day's column: its findings stacked by severity, most severe at the bottom, or a stub on
/// the axis for a day without any.
fn day_column(column: &DayColumn, x: f64, width: f64, max: f64, with_count: bool) -> String {
    let n = column.findings.len();
    let mut svg = format!(r#"<g class="col"><title>{}: {}</title>"#, column.label(), counted(n, "finding", "findings"));
    let base = DAY_TOP + DAY_PLOT_HEIGHT;
    if n == 0 {
        let _ =
            write!(svg, r#"<rect x="{x:.1}" y="{}" width="{width:.1}" height="2" fill="{EMPTY_COLOUR}"/>"#, base - 2.0);
        return svg + "</g>";
    }
    let mut top = base;
    for severity in SEVERITIES {
        let count = column.findings.iter().filter(|f| f.severity == severity).count();
        if count > 0 {
            let height = count as f64 / max * DAY_PLOT_HEIGHT;
            top -= height;
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{top:.1}" width="{width:.1}" height="{height:.1}" fill="{}"/>"#,
                colour(severity)
            );
        }
    }
    if with_count {
        let _ = write!(
            svg,
            r#"<text class="value" x="{:.1}" y="{:.1}" text-anchor="middle">{n}</text>"#,
            x + width / 2.0,
            top - 5.0
        );
    }
    svg + "</g>"
}

/// `7 findings from 2026-11-27 to 2026-11-30: 3 on 2026-11-27, 2 on 2026-11-28, 2 on 2026-11-30`,
/// and how many findings had no readable time.
fn day_summary(by_day: &ByDay) -> String {
    let dated: usize = by_day.columns.iter().map(|column| column.findings.len()).sum();
    let (Some(first), Some(last)) = (by_day.columns.first(), by_day.columns.last()) else {
        return String::new();
    };
    let mut summary = if first.first == last.last {
        format!("{} on {}", counted(dated, "finding", "findings"), first.first)
    } else {
        format!("{} from {} to {}", counted(dated, "finding", "findings"), first.first, last.last)
    };
    let days: Vec<String> = by_day
        .columns
        .iter()
        .filter(|column| !column.findings.is_empty())
        .map(|column| format!("{} on {}", column.findings.len(), column.label()))
        .collect();
    summary += ": ";
    summary += &days.join(", ");
    if by_day.undated > 0 {
        summary += &format!("; {} without a time", by_day.undated);
    }
    summary
}

/// `Nov 27`.
fn short_day(day: Date) -> String {
    let month = day.month().to_string();
    format!("{} {}", &month[..3], day.day())
}

/// A scan chart's figure and the opening of its SVG, `rows` rows high.
fn chart_open(caption: &str, summary: &str, rows: usize) -> String {
    figure_open("chart", caption, summary, CHART_WIDTH, rows as f64 * ROW)
}

/// A chart's figure (of `class`) and the opening of its SVG, with the summary as its accessible
/// name and tooltip.
fn figure_open(class: &str, caption: &str, summary: &str, width: f64, height: f64) -> String {
    format!(
        r#"<figure class="{class}"><figcaption>{caption}</figcaption><svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{caption}: {summary}"><title>{caption}: {summary}</title>"#,
        caption = escape(caption),
        summary = escape(summary),
    )
}

/// The replay page's additions: the wide chart by day and the timeline's day headings.
const REPLAY_STYLE: &str = r#"
.chart.wide{grid-column:1/-1}
.chart .tick{font-size:11.5px;fill:#64748b}
.timeline .day{display:flex;align-items:center;gap:8px;margin:18px 0 10px;font-size:14px;color:#334155;letter-spacing:.04em}
"#;

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

    const ALICE: &str = "arn:aws:sts::111122223333:assumed-role/platform-admin/alice@example.com";
    const BOB: &str = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_PowerUser_4f2a9c1e7b3d5a60/bob";
    const PIPELINE: &str = "arn:aws:iam::111122223333:user/ci-deployer";

    fn replay_page() -> String {
        render(&sample::replay_findings(), &sample::replay_coverage())
    }

    #[test]
    fn a_replay_page_says_what_it_read_and_draws_the_charts_by_rule_actor_and_day() {
        let page = replay_page();
        assert!(page.contains("<p class=\"brand\">snapback replay</p>\n<h1>7 findings in 12,345 records</h1>"));
        for meta in ["Files read</dt><dd>14<", "Records</dt><dd>12,345<", "Period</dt><dd>2026-11-26 to 2026-11-30<"] {
            assert!(page.contains(meta), "{meta}");
        }
        assert!(page.contains("Generated</dt><dd>2026-12-01 10:25 UTC<"));
        assert_eq!(page.matches("role=\"img\"").count(), 3);
        assert!(page.contains(r#"aria-label="By rule: 3 sg-open-k8s-api, 2 sg-open-kubelet, 2 eks-public-endpoint""#));
        assert!(page.contains(&format!(r#"aria-label="By actor: 3 {ALICE}, 2 {PIPELINE}, 2 {BOB}""#)), "{page}");
        let by_day =
            "By day: 7 findings from 2026-11-27 to 2026-11-30: 3 on 2026-11-27, 2 on 2026-11-28, 2 on 2026-11-30";
        assert!(page.contains(&format!(r#"aria-label="{by_day}""#)), "{page}");
        assert!(!page.contains("By severity") && !page.contains("By service"), "the scan's charts");
        assert!(page.contains("it made no AWS call") && !page.contains("snapback scan --remediate"));
    }

    #[test]
    fn the_day_chart_has_a_column_for_every_day_from_the_first_to_the_last_with_findings() {
        let page = replay_page();
        assert_eq!(page.matches("<g class=\"col\">").count(), 4);
        assert!(page.contains("<g class=\"col\"><title>2026-11-29: 0 findings</title><rect "), "an empty column");
        assert!(page.contains("<g class=\"col\"><title>2026-11-27: 3 findings</title>"));
        for tick in ["Nov 27", "Nov 28", "Nov 29", "Nov 30"] {
            assert!(page.contains(&format!(">{tick}</text>")), "{tick}");
        }
    }

    #[test]
    fn replay_cards_keep_the_given_order_under_a_heading_per_day() {
        let page = replay_page();
        let at = |needle: &str| page.find(needle).unwrap_or_else(|| panic!("{needle} missing"));
        let event_ids: Vec<usize> = (0..7).map(|i| at(&format!("5d0b7f3a9c{i:02}<"))).collect();
        assert!(event_ids.windows(2).all(|pair| pair[0] < pair[1]), "cards out of order: {event_ids:?}");
        let days = [
            "<h3 class=\"day\">Friday 2026-11-27 <span class=\"count\">3</span></h3>",
            "<h3 class=\"day\">Saturday 2026-11-28 <span class=\"count\">2</span></h3>",
            "<h3 class=\"day\">Monday 2026-11-30 <span class=\"count\">2</span></h3>",
        ];
        assert!(at(days[0]) < event_ids[0] && event_ids[2] < at(days[1]) && at(days[1]) < event_ids[3]);
        assert!(event_ids[4] < at(days[2]) && at(days[2]) < event_ids[5]);
        assert_eq!(page.matches("<h3 class=\"day\">").count(), 3, "no heading for a day without findings");
        // Each tile links to the first card of its severity.
        assert!(page.contains("<article class=\"finding\" id=\"critical\""));
        assert_eq!(page.matches(" id=\"medium\"").count(), 1);
    }

    #[test]
    fn replay_cards_say_who_when_which_call_from_where_and_what_snapback_would_have_done() {
        let page = replay_page();
        let first_card = &page[page.find("<article").unwrap()..page.find("</article>").unwrap()];
        for fact in [
            format!("<dt>Who</dt><dd><code>{ALICE}</code></dd>"),
            "<dt>When</dt><dd>2026-11-27 09:12:44 UTC</dd>".to_owned(),
            "<dt>Call</dt><dd><code>AuthorizeSecurityGroupIngress</code> <span class=\"kind\">3f6c2a1e-8b4d-4c7a-9e21-5d0b7f3a9c00</span></dd>".to_owned(),
            "<dt>Read from</dt><dd><code>s3://org-trail-logs/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/27/".to_owned(),
        ] {
            assert!(first_card.contains(&fact), "{fact} missing from {first_card}");
        }
        assert!(!first_card.contains("<dt>Cluster</dt>"), "a call does not say the cluster");
        assert_eq!(page.matches("<dt>snapback would have restored</dt>").count(), 4, "remediate mode");
        assert_eq!(page.matches("<dt>Restore in remediate mode</dt>").count(), 3, "notify mode");
        assert!(page.contains("title=\"snapback would have restored this\"") && !page.contains("snapback restores"));
    }

    #[test]
    fn a_hostile_caller_origin_call_and_time_are_escaped_in_cards_and_charts() {
        let mut hostile = sample::replayed_call(r#"arn"><script>alert(1)</script>"#, Some("2026-11-27T<i>now</i>"));
        let occurrence = hostile.occurrence.as_mut().unwrap();
        occurrence.origin = "trail.json#<img src=x onerror=alert(2)>".into();
        occurrence.event_name = "<b>AuthorizeSecurityGroupIngress</b>".into();
        occurrence.event_id = "'><svg onload=alert(3)>".into();

        let page = render(&[hostile], &sample::replay_coverage());

        for raw in ["<script", "<img", "<b>Authorize", "<i>", "<svg onload"] {
            assert!(!page.contains(raw), "{raw} reached the page unescaped");
        }
        let actor = "arn&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;";
        assert!(page.contains(&format!(r#"aria-label="By actor: 1 {actor}""#)), "{page}");
        assert!(page.contains(&format!("<g><title>{actor}: 1 finding</title>")));
        assert!(page.contains(&format!("<dt>Who</dt><dd><code>{actor}</code></dd>")));
        assert!(page.contains("<dd><code>trail.json#&lt;img src=x onerror=alert(2)&gt;</code></dd>"));
        assert!(page.contains("<code>&lt;b&gt;AuthorizeSecurityGroupIngress&lt;/b&gt;</code>"));
        assert!(page.contains("&#39;&gt;&lt;svg onload=alert(3)&gt;"));
        assert!(page.contains("<dt>When</dt><dd>2026-11-27T&lt;i&gt;now&lt;/i&gt;</dd>"));
    }

    #[test]
    fn the_top_eight_callers_have_bars_and_the_rest_share_one_as_others_unless_only_one_is_left() {
        let calls = |actor: String, n: usize| (0..n).map(move |_| sample::replayed_call(&actor, None));
        let mut findings: Vec<ScanFinding> = (0..8).flat_map(|i| calls(format!("actor-{i}"), 3)).collect();
        findings.extend((8..11).flat_map(|i| calls(format!("actor-{i}"), 1)));

        let page = render(&findings, &sample::replay_coverage());

        let top: Vec<String> = (0..8).map(|i| format!("3 actor-{i}")).collect();
        let summary = format!(r#"aria-label="By actor: {}, 3 others (3 actors)""#, top.join(", "));
        assert!(page.contains(&summary), "{page}");
        assert!(page.contains(&format!("fill=\"{OTHERS_COLOUR}\"")));

        // Nine: the ninth keeps its name.
        let page = render(&findings[..25], &sample::replay_coverage());
        assert!(page.contains(&format!(r#"aria-label="By actor: {}, 1 actor-8""#, top.join(", "))), "{page}");
    }

    #[test]
    fn a_long_name_keeps_its_end_in_the_chart_label() {
        assert_eq!(keep_end("short", 50), "short");
        assert_eq!(
            chart_label("arn:aws:sts::777788889999:assumed-role/github-actions-deploy/GitHubActions", 40),
            "777788889999 …tions-deploy/GitHubActions"
        );
        assert_eq!(chart_label("ec2.amazonaws.com", 40), "ec2.amazonaws.com");
        assert_eq!(keep_end("arn:aws:sts::1:assumed-role/r/session", 12), "…e/r/session");
    }

    #[test]
    fn without_a_window_a_replay_page_gives_the_first_and_last_day_with_findings() {
        let mut coverage = sample::replay_coverage();
        coverage.replayed = Some(Replayed { since: None, until: None, ..coverage.replayed.unwrap() });
        let page = render(&sample::replay_findings(), &coverage);
        assert!(page.contains("Period</dt><dd>2026-11-27 to 2026-11-30<"));
    }

    #[test]
    fn a_replay_without_findings_says_nothing_replayed_would_have_been_restored_or_alerted_on() {
        let page = render(&[], &sample::replay_coverage());
        assert!(page.contains("<h1>No findings in 12,345 records</h1>"));
        assert!(page.contains(
            "Nothing in the 12,345 records replayed would have been restored or alerted on: no call in them breaks a snapback rule."
        ));
        assert!(!page.contains("class=\"chart"));
    }

    #[test]
    fn no_findings_says_so_and_draws_no_chart() {
        let page = render(&[], &sample::coverage());
        assert!(page.contains("<h1>No findings</h1>") && page.contains("<h2>No findings</h2>"));
        assert!(!page.contains("class=\"chart\""));
        assert!(!page.contains("Not scanned"));
    }
}
