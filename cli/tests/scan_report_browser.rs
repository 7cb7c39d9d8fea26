//! The HTML report as a browser builds it: Debian's Chromium, headless, loads the page of the
//! sample scan plus a finding with hostile names and dumps the DOM it made of it. Every finding's
//! rule and resource must be on the page, the charts drawn in SVG, and no hostile name turned
//! into markup. Without Chromium the test says it skipped, unless `SNAPBACK_REQUIRE_BROWSER=1`
//! (`make test` sets it, after installing Chromium) makes a missing browser a failure.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use snapback_cli::scan::{html, sample, ScanFinding};

/// `/usr/bin/chromium`, or `chromium` / `chromium-browser` on PATH.
fn chromium() -> Option<PathBuf> {
    let debian = PathBuf::from("/usr/bin/chromium");
    if debian.is_file() {
        return Some(debian);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Text as a DOM serializer writes a text node: only `&`, `<` and `>` escaped.
fn as_dumped(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The page Chromium built from `file`, as HTML.
fn dump_dom(browser: &PathBuf, file: &std::path::Path, profile: &std::path::Path) -> String {
    let child = Command::new(browser)
        // The sandbox (unavailable to root) adds nothing for a local page of our own.
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", file.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("{} cannot run: {error}", browser.display()));
    let pid = child.id();
    let (done, result) = mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    let output = match result.recv_timeout(Duration::from_secs(60)) {
        Ok(output) => output.expect("chromium's output"),
        Err(_) => {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("chromium did not finish within 60 s");
        }
    };
    assert!(output.status.success(), "chromium failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn chromium_renders_every_finding_and_the_svg_charts_and_no_hostile_name_as_markup() {
    let Some(browser) = chromium() else {
        if std::env::var("SNAPBACK_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!(
                "SNAPBACK_REQUIRE_BROWSER=1 but no chromium (/usr/bin/chromium or on PATH): `make browser` installs it"
            );
        }
        eprintln!(
            "skipped: no chromium (/usr/bin/chromium or on PATH) to render the HTML report; `make test` installs it"
        );
        return;
    };
    let mut findings = sample::findings();
    findings.push(ScanFinding {
        // Payloads that mark the page when they run (an alert would block the headless browser).
        resource: r#"sg-0bad"><img src=x onerror="document.body.dataset.owned=1">"#.into(),
        cluster: Some("<script>document.body.dataset.owned='cluster'</script>".into()),
        found: vec!["tcp 22 from 0.0.0.0/0 </dd></dl></article><h1>owned</h1>".into()],
        ..findings[0].clone()
    });
    let dir = std::env::temp_dir().join(format!("snapback-html-report-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("report.html");
    std::fs::write(&file, html::render(&findings, &sample::coverage())).unwrap();

    let dom = dump_dom(&browser, &file, &dir.join("profile"));

    for finding in &findings {
        assert!(dom.contains(&as_dumped(&finding.rule)), "{} is not on the page", finding.rule);
        assert!(dom.contains(&as_dumped(&finding.resource)), "{} is not on the page", finding.resource);
    }
    assert_eq!(dom.matches("<article class=\"finding\"").count(), findings.len(), "one card per finding");
    assert_eq!(dom.matches("<svg").count(), 2, "the severity and the service chart");
    assert!(dom.contains("<rect"), "the charts have bars");
    for markup in ["<img", "<script", "<h1>owned", "data-owned"] {
        assert!(!dom.contains(markup), "a hostile name became markup or ran: {markup}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
