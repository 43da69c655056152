//! `cargo xtask soak`: runs chrony-core's soak test (tests/soak.rs, `#[ignore]`d
//! in a plain `cargo test` because it takes 10 s or more) with its parameters.

use crate::util::{Result, cargo, run};

const USAGE: &str = "\
usage: cargo xtask soak [--calls N] [--min-seconds S] [--timeout-ms MS]

  --calls N        tracking calls in all (default 2000)
  --min-seconds S  pace the calls over at least this long (default 10)
  --timeout-ms MS  deadline of each call (default 500)

Runs chrony-core/tests/soak.rs: 4 threads while chronyd restarts every 2 s and is
SIGSTOPped now and then; checks deadlines, errors, fds, RSS and leftover files.
";

pub fn run_cli(args: &[String]) -> Result {
    let mut env = vec![
        ("CHRONY_SOAK_CALLS", "2000".to_string()),
        ("CHRONY_SOAK_MIN_SECONDS", "10".to_string()),
        ("CHRONY_SOAK_TIMEOUT_MS", "500".to_string()),
    ];
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let slot = match arg.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(());
            }
            "--calls" => 0,
            "--min-seconds" => 1,
            "--timeout-ms" => 2,
            other => return Err(format!("unknown argument `{other}`\n\n{USAGE}").into()),
        };
        let value = it.next().ok_or(format!("{arg} needs a value"))?;
        if value.parse::<u64>().is_err() {
            return Err(format!("{arg}: `{value}` is not a number").into());
        }
        env[slot].1 = value.clone();
    }
    let mut cmd = cargo();
    cmd.args([
        "test",
        "-p",
        "chrony-core",
        "--test",
        "soak",
        "--",
        "--ignored",
        "--nocapture",
    ])
    .envs(env);
    run(&mut cmd)
}

/// The CI stage: 2000 calls over 10 s.
pub fn stage() -> Result {
    run_cli(&[])
}
