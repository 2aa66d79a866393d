//! How text and numbers read on the page, and the one HTML escaper.
//!
//! Log text is untrusted: before it reaches the page it is cut to a size
//! ([`shown`], [`one_line`]) and its control characters and bidirectional
//! overrides are escaped as the terminal printer escapes them
//! ([`crate::report::human::escape`]). Then it is HTML-escaped once, by
//! minijinja's [`HtmlEscape`]: the template's auto-escaping for every value
//! it prints, [`push_escaped`] for the text of the SVG plots.

use std::fmt::{self, Write as _};

use minijinja::HtmlEscape;

use crate::report::human::escape as neutralise;

/// Characters of a line shown when hovering over a point or bar.
pub const HOVER_CHARS: usize = 300;
/// Characters of an anomaly's text (and its nearest baseline record) shown in the list.
pub const TEXT_CHARS: usize = 4_000;
/// Characters of a context line shown in the list.
pub const CONTEXT_CHARS: usize = 1_000;
/// Characters of a file or process name.
pub(super) const NAME_CHARS: usize = 1_000;

/// `text` cut to `max` characters (an ellipsis marks the cut).
fn cut(text: &str, max: usize) -> (&str, bool) {
    match text.char_indices().nth(max) {
        Some((i, _)) => (&text[..i], true),
        None => (text, false),
    }
}

/// Text made safe to show, keeping its lines: at most `max` characters,
/// control characters and bidirectional overrides escaped as the terminal
/// printer does, a carriage return ending a line dropped.
pub(super) fn shown(text: &str, max: usize) -> String {
    let (head, was_cut) = cut(text, max);
    let mut out = String::with_capacity(head.len() + 4);
    for (i, line) in head.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&neutralise(line.strip_suffix('\r').unwrap_or(line)));
    }
    if was_cut {
        out.push('…');
    }
    out
}

/// Like [`shown`] for a name: line breaks are escaped too.
pub(super) fn one_line(text: &str, max: usize) -> String {
    let (head, was_cut) = cut(text, max);
    let mut out = neutralise(head).into_owned();
    if was_cut {
        out.push('…');
    }
    out
}

/// Appends `text` escaped for HTML and SVG text and attribute values: the one
/// escaper of the page. The template's auto-escaping escapes every value it
/// prints with minijinja's [`HtmlEscape`], and this is that same function, for
/// the plots' SVG, which the template inserts as it is: `&`, `<`, `>`, `"`, `'`
/// and `/` (the last so that no URL appears in the page as such).
pub(super) fn push_escaped(out: &mut String, text: &str) -> fmt::Result {
    write!(out, "{}", HtmlEscape(text))
}

/// `x`, or 0 when it is not a number or infinite.
pub(super) fn finite(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

pub(super) fn score_text(score: f64) -> String {
    format!("{:.2}", finite(score))
}

/// A threshold: at least two decimals, more when it has them (0.30, 0.325).
pub(super) fn threshold_text(threshold: f64) -> String {
    let mut out = format!("{:.4}", finite(threshold));
    while out.ends_with('0') && out.len() > out.find('.').map_or(0, |dot| dot + 3) {
        out.pop();
    }
    out
}

/// A share as a percentage: 43%, 4.2%.
pub(super) fn percent(share: f64) -> String {
    let p = finite(share) * 100.0;
    if p.abs() < 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::{AutoEscape, Environment};

    #[test]
    fn the_plots_escape_text_exactly_as_the_template_does() {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| AutoEscape::Html);
        for text in [
            "<script>alert(1)</script>",
            "\"><img src=x onerror=alert(1)>",
            "a & b 'c' /d",
            "http://evil.example/x",
            "<!-- ]]> -->",
            "plain words, ünïcödé",
        ] {
            let by_template = env.render_str("{{ text }}", minijinja::context! { text }).unwrap();
            let mut by_plots = String::new();
            push_escaped(&mut by_plots, text).unwrap();
            assert_eq!(by_plots, by_template, "{text}");
            assert!(!by_plots.contains('<') && !by_plots.contains("://"), "{by_plots}");
        }
    }
}
