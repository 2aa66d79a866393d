//! The HTML report, end to end: `honk diff --html` on real strace traces (the
//! demo's, recorded from a real workload) and `honk eval --html`, checked as
//! text, then loaded in a real headless Chromium: it must render without a
//! script error, with the anomaly list, the map and the timeline, and its
//! screenshot must not be blank. Without Chromium the browser part prints why
//! and is skipped (CI installs Debian's `chromium`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;

fn demo_trace(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/demo").join(name)
}

fn honk(args: &[&str], dir: &Path) -> std::process::Output {
    Command::cargo_bin("honk")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

/// Checks that hold for every report, whatever produced it.
fn check_self_contained(html: &str) {
    assert!(
        html.starts_with("<!DOCTYPE html>") || html.starts_with("<!doctype html>"),
        "{}",
        &html[..80]
    );
    for external in ["http://", "https://", "src=\"//", "href=\"//", "@import"] {
        assert!(!html.contains(external), "the report refers outside itself: {external}");
    }
    // url(...) only for references inside the page (SVG patterns).
    for (at, _) in html.match_indices("url(") {
        assert!(
            html[at..].starts_with("url(#"),
            "the report refers outside itself: {}",
            &html[at..at + 30]
        );
    }
}

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

/// Runs headless Chromium on `page` with `args`; returns (stdout, stderr).
fn run_chromium(browser: &str, page: &Path, args: &[String]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--enable-logging=stderr", "--v=0"])
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Loads the report in Chromium: no script error, the parts there, a screenshot with content.
fn check_in_browser(page: &Path, must_have: &[&str]) {
    let Some(browser) = chromium() else {
        common::skip("the browser check: no chromium installed (apt-get install chromium)");
        return;
    };
    let (dom, log) = run_chromium(browser, page, &["--dump-dom".to_string()]);
    // Chromium logs every console message (errors, uncaught exceptions, warnings)
    // as a CONSOLE line with --enable-logging; the report logs nothing itself.
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:?}");
    assert!(dom.contains("data-ready=\"1\""), "the report's script did not finish");
    assert!(!dom.contains("data-errors"), "the report's script reported errors");
    for id in must_have {
        assert!(dom.contains(&format!("id=\"{id}\"")), "no #{id} in the rendered page");
    }

    let shot = page.with_extension("png");
    run_chromium(
        browser,
        page,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,2400".to_string(),
        ],
    );
    let decoder = png::Decoder::new(std::fs::File::open(&shot).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let pixels = &pixels[..info.buffer_size()];
    let channels = info.color_type.samples();
    let mut colours = std::collections::HashSet::new();
    let mut not_background = 0usize;
    for px in pixels.chunks(channels) {
        colours.insert(px.to_vec());
        if px[..3] != [255, 255, 255] {
            not_background += 1;
        }
    }
    let total = pixels.len() / channels;
    eprintln!(
        "{}: {}×{} screenshot, {} colours, {:.1}% not white",
        page.display(),
        info.width,
        info.height,
        colours.len(),
        100.0 * not_background as f64 / total as f64
    );
    assert!(
        colours.len() > 50,
        "the screenshot has {} colours: blank?",
        colours.len()
    );
    assert!(not_background * 100 > total, "the screenshot is almost all white");
}

#[test]
fn diff_report_of_real_strace_traces() {
    let dir = tempfile::tempdir().unwrap();
    let out = honk(
        &[
            "diff",
            "-q",
            "--html",
            "report.html",
            demo_trace("baseline.strace").to_str().unwrap(),
            demo_trace("target.strace").to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let page = dir.path().join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    check_self_contained(&html);
    // The compromised run's telltale calls are in the list, with their nearest baseline line.
    assert!(html.contains("shadow"), "the shadow read is not listed");
    assert!(
        html.contains("authorized_keys"),
        "the authorized_keys write is not listed"
    );
    assert!(html.contains("nearest"), "no nearest baseline line");
    // The map draws both sides; the timeline has bins.
    for id in ["summary", "anomalies", "map", "timeline"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "no #{id}");
    }
    assert!(html.matches("<circle").count() > 100, "the map has too few points");
    // `id` and `uname` ran only in the compromised run: their calls are new.
    let new_calls = &html[html.find("id=\"new-syscalls\"").expect("a table of new system calls")..];
    for call in ["getgroups", "uname"] {
        assert!(
            new_calls[..new_calls.find("</table>").unwrap()].contains(call),
            "{call} is not listed as new"
        );
    }
    check_in_browser(&page, &["summary", "anomalies", "map", "timeline"]);
}

#[test]
fn hostile_lines_are_shown_as_text() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("base.log"), "service started\nrequest served in 5 ms\n").unwrap();
    std::fs::write(
        dir.path().join("target.log"),
        "service started\n<script>alert(1)</script> \"><img src=x onerror=alert(2)> </textarea> -->\n",
    )
    .unwrap();
    let out = honk(
        &["diff", "-q", "--html", "r.html", "base.log", "target.log"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    check_self_contained(&html);
    assert!(!html.contains("<script>alert"), "a log line became a script");
    assert!(!html.contains("<img"), "a log line became an element");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;"),
        "the line is not shown escaped"
    );
    check_in_browser(&dir.path().join("r.html"), &["anomalies"]);
}

#[test]
fn eval_report_has_the_roc_curve() {
    let dir = tempfile::tempdir().unwrap();
    let write = |folder: &str, name: &str, text: &str| {
        std::fs::create_dir_all(dir.path().join(folder)).unwrap();
        std::fs::write(dir.path().join(folder).join(name), text).unwrap();
    };
    for i in 0..4 {
        write("train", &format!("t{i}"), "5 5 22 11 9\n");
        write(
            "normal",
            &format!("n{i}"),
            if i == 0 { "5 22 11 9 9\n" } else { "5 5 22 11 9\n" },
        );
        write("attack", &format!("a{i}"), &format!("5 22 {}\n", 30 + i));
    }
    let out = honk(
        &[
            "eval",
            "-q",
            "--json",
            "--html",
            "e.html",
            "--baseline",
            "train",
            "--normal",
            "normal",
            "--attack",
            "attack",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(dir.path().join("e.html")).unwrap();
    check_self_contained(&html);
    assert!(html.contains("id=\"roc\""), "no ROC curve");
    assert!(html.contains("AUC"), "no AUC");
    check_in_browser(&dir.path().join("e.html"), &["roc"]);
}
