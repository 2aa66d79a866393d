//! Small byte scanners the line parsers share.
//!
//! Every delimiter they look for is ASCII, so the offsets they return are char
//! boundaries of the line they scan. They do not allocate and never panic on
//! in-range positions.

/// End of the run of ASCII digits starting at `i`, not past `end`.
pub(crate) fn digits_end(b: &[u8], mut i: usize, end: usize) -> usize {
    while i < end && b[i].is_ascii_digit() {
        i += 1;
    }
    i
}

/// End of the run of `[A-Za-z0-9_]` starting at `i`, not past `end`.
pub(crate) fn word_end(b: &[u8], mut i: usize, end: usize) -> usize {
    while i < end && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
        i += 1;
    }
    i
}

/// `end` moved back over ASCII whitespace, not below `start`.
pub(crate) fn trim_end(b: &[u8], start: usize, mut end: usize) -> usize {
    while end > start && b[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    end
}

/// A decimal `u32` written with digits only (no sign, no spaces), or `None`.
pub(crate) fn parse_u32(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = digits.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
    u32::try_from(n).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanners_stop_where_they_should() {
        let b = b"12ab_9 x ";
        assert_eq!(digits_end(b, 0, b.len()), 2);
        assert_eq!(digits_end(b, 0, 1), 1);
        assert_eq!(word_end(b, 0, b.len()), 6);
        assert_eq!(word_end(b, 6, b.len()), 6);
        assert_eq!(trim_end(b, 0, b.len()), 8);
        assert_eq!(trim_end(b"   ", 1, 3), 1);
    }

    #[test]
    fn u32s_are_checked() {
        assert_eq!(parse_u32(b"4294967295"), Some(u32::MAX));
        assert_eq!(parse_u32(b"4294967296"), None);
        assert_eq!(parse_u32(b"99999999999"), None);
        assert_eq!(parse_u32(b""), None);
        assert_eq!(parse_u32(b"1a"), None);
    }
}
