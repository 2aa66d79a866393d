//! Helpers for the library's own tests.

/// A test that cannot run here (a tool or data set is missing) says why and
/// passes, unless `HONK_REQUIRE_ALL` is set (to anything but `0` or nothing),
/// as `.ci/run` does, or `CI` is (as CI services do): then a skip is a
/// failure, so that CI cannot pass on tests that did not run. The integration tests' twin is
/// `tests/common/mod.rs`.
pub(crate) fn skip(why: &str) {
    let required = ["HONK_REQUIRE_ALL", "CI"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0" && v != "false"));
    skip_unless_required(required, why);
}

fn skip_unless_required(required: bool, why: &str) {
    if required {
        panic!("HONK_REQUIRE_ALL or CI is set, and this test cannot run: {why}");
    }
    eprintln!("skipping: {why}");
}

#[cfg(test)]
mod tests {
    #[test]
    #[should_panic(expected = "HONK_REQUIRE_ALL or CI is set, and this test cannot run: no frobnicator")]
    fn a_skip_fails_when_every_test_must_run() {
        super::skip_unless_required(true, "no frobnicator");
    }

    #[test]
    fn a_skip_passes_otherwise() {
        super::skip_unless_required(false, "no frobnicator");
    }
}
