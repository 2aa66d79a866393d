//! Helpers for the library's own tests.

/// A test that cannot run here (a tool or data set is missing) says why and
/// passes, unless `HONK_REQUIRE_ALL` is set (to anything but `0` or nothing),
/// as `.ci/run` does: then a skip is a failure, so that CI cannot pass on
/// tests that did not run. The integration tests' twin is
/// `tests/common/mod.rs`.
pub(crate) fn skip(why: &str) {
    if std::env::var_os("HONK_REQUIRE_ALL").is_some_and(|v| !v.is_empty() && v != "0") {
        panic!("HONK_REQUIRE_ALL is set, and this test cannot run: {why}");
    }
    eprintln!("skipping: {why}");
}
