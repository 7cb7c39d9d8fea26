//! Prints the HTML report of the sample scan (`snapback_cli::scan::sample`): what
//! `make scan-screenshot` renders to docs/scan-report.png.

fn main() {
    let findings = snapback_cli::scan::sample::findings();
    print!("{}", snapback_cli::scan::html::render(&findings, &snapback_cli::scan::sample::coverage()));
}
