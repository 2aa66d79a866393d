//! Helpers shared by the integration tests.

/// A test that cannot run here (a tool or data set is missing) says why and
/// passes, unless `HONK_REQUIRE_ALL` is set (to anything but `0` or nothing),
/// as `.ci/run` does, or `CI` is (as CI services do): then a skip is a
/// failure, so that CI cannot pass on tests that did not run. The library's twin is `src/testing.rs`.
pub fn skip(why: &str) {
    if ["HONK_REQUIRE_ALL", "CI"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0" && v != "false"))
    {
        panic!("HONK_REQUIRE_ALL or CI is set, and this test cannot run: {why}");
    }
    eprintln!("skipping: {why}");
}

/// Whether `program ARGS...` runs here and succeeds.
#[allow(dead_code)] // Not every test crate that includes this module asks.
pub fn works(program: &str, args: &[&str]) -> bool {
    std::process::Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether strace can trace here (installed, and ptrace allowed).
#[allow(dead_code)] // Not every test crate that includes this module asks.
pub fn strace_works() -> bool {
    works("strace", &["-f", "-o", "/dev/null", "true"])
}

pub mod bgl;

/// `honk learn -q -o MODEL INPUT`, which must succeed.
#[allow(dead_code)] // Not every test crate that includes this module asks.
pub fn learn(model: &std::path::Path, input: &std::path::Path) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_honk"))
        .args(["learn", "-q", "-o"])
        .arg(model)
        .arg(input)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "honk learn {}: {}",
        input.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `GET path` on `address` (HTTP/1.1, the connection closed after): the
/// status line and the body.
#[allow(dead_code)] // Not every test crate that includes this module asks.
pub fn http_get(address: &str, path: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut socket = std::net::TcpStream::connect(address).unwrap();
    write!(
        socket,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    socket.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_owned(), body.to_owned())
}
