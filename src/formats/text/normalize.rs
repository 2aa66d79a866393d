//! Text log lines: keep the words, drop what varies at random.
//!
//! A line is cut at white space and punctuation. Dates, times, numbers, hex,
//! UUIDs, hashes and IP addresses are dropped (see [`crate::normalize::keep_word`]); a
//! chunk that looks like a path or URL is kept whole with its random parts
//! masked, and its parts are kept as words. Case is kept. Nothing here knows
//! any particular log format.

use crate::normalize::{keep_word, mask_path, push_words, Tokens};

/// Tokens of one log line.
pub fn normalize(line: &str, out: &mut Tokens) {
    for chunk in line.split(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                ',' | ';' | '(' | ')' | '[' | ']' | '{' | '}' | '"' | '\'' | '<' | '>' | '|' | '='
            )
    }) {
        if out.full() {
            return;
        }
        if chunk.is_empty() {
            continue;
        }
        if let Some(path) = path_in(chunk) {
            push_text_path(path, out);
        } else if is_calendar_word(chunk) {
            // Part of a date (`Jul 27 14:41:59`, `Mon Nov 28`): it varies with time, not behaviour.
            continue;
        } else {
            push_words(chunk, usize::MAX, out);
        }
    }
}

/// A month or weekday abbreviation as timestamps write them.
fn is_calendar_word(chunk: &str) -> bool {
    matches!(
        chunk,
        "Jan"
            | "Feb"
            | "Mar"
            | "Apr"
            | "May"
            | "Jun"
            | "Jul"
            | "Aug"
            | "Sep"
            | "Oct"
            | "Nov"
            | "Dec"
            | "Mon"
            | "Tue"
            | "Wed"
            | "Thu"
            | "Fri"
            | "Sat"
            | "Sun"
    )
}

/// The path part of a chunk (`/var/log/x.log`, `http://host/a/b`), if it has one
/// with at least one word in it.
fn path_in(chunk: &str) -> Option<&str> {
    let start = chunk.find('/')?;
    let path = chunk[start..].trim_end_matches([':', '.']);
    path.split('/').any(keep_word).then_some(path)
}

fn push_text_path(path: &str, out: &mut Tokens) {
    let whole = mask_path(path);
    out.push(&whole);
    for component in path.split('/') {
        push_words(component, usize::MAX, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(line: &str) -> String {
        let mut key = String::new();
        normalize(line, &mut Tokens::new(&mut key));
        key
    }

    #[test]
    fn dates_numbers_ips_and_ids_are_dropped() {
        assert_eq!(
            key("081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_-1608999687919862906 terminating"),
            "INFO dfs DataNode PacketResponder PacketResponder for block blk terminating"
        );
        assert_eq!(
            key("2023-11-28T01:20:34.235Z 10.251.43.191 session 3f2a9c1e-8b7d-4e21-9a0f-1c2b3d4e5f60 ok"),
            "session ok"
        );
    }

    #[test]
    fn equal_lines_with_different_ids_share_a_key() {
        assert_eq!(
            key("Accepted password for alice from 10.0.0.7 port 51234 ssh2"),
            key("Accepted password for alice from 192.168.1.20 port 40022 ssh2")
        );
        assert_ne!(key("Accepted password for alice"), key("Failed password for alice"));
    }

    #[test]
    fn paths_are_kept_whole_and_in_parts() {
        assert_eq!(
            key("GET /admin/config.php HTTP/1.1 200"),
            "GET /admin/config.php admin config php HTTP"
        );
        assert_ne!(key("open /etc/shadow"), key("open /etc/hostname"));
    }

    #[test]
    fn syslog_dates_are_dropped() {
        assert_eq!(
            key("Jul 27 14:41:59 combo kernel: Real Time Clock Driver"),
            key("Jun  3 04:08:03 combo kernel: Real Time Clock Driver")
        );
    }

    #[test]
    fn short_words_stay() {
        assert_eq!(key("user ran sh -c id"), "user ran sh id");
    }
}
