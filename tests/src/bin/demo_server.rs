//! `demo-server DIR`: the backup server of `cargo xtask demo`, a private OpenSSH server on
//! loopback (the same [`Sshd`] the sync tests use) that lets this machine's user in with a
//! key made for the demo.
//!
//! It prints one JSON line, `{"port", "user", "host_key", "client_key"}`, for the demo to
//! write into the station's settings, then serves until its standard input closes (the
//! demo holds the pipe, so the server ends with it, whichever way it ends).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use burnstation_tests::sshd::Sshd;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: demo-server DIR");
        return ExitCode::from(2);
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("demo-server: cannot create {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let sshd = match Sshd::start(&dir) {
        Ok(sshd) => sshd,
        Err(e) => {
            eprintln!("demo-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let facts = serde_json::json!({
        "port": sshd.port(),
        "user": sshd.user(),
        "host_key": sshd.host_public_key(),
        "client_key": sshd.client_key(),
    });
    println!("{facts}");
    let mut rest = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut rest);
    drop(sshd);
    ExitCode::SUCCESS
}
