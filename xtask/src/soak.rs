//! `cargo xtask soak`: runs chrony-core's soak test (tests/soak.rs, `#[ignore]`d
//! in a plain `cargo test` because it takes 10 s or more) with its parameters.

use crate::util::{Args, Result, cargo, run};

const USAGE: &str = "\
usage: cargo xtask soak [--calls N] [--min-seconds S] [--timeout-ms MS]

  --calls N        tracking calls in all (default 2000)
  --min-seconds S  pace the calls over at least this long (default 10)
  --timeout-ms MS  deadline of each call (default 500)

Runs chrony-core/tests/soak.rs: 4 threads while chronyd restarts every 2 s and is
SIGSTOPped now and then; checks deadlines, errors, fds, RSS and leftover files.
";

pub fn run_cli(args: &[String]) -> Result {
    let args = Args::parse(args, USAGE, "--calls= --min-seconds= --timeout-ms=")?;
    let mut soak = cargo("test -p chrony-core --test soak -- --ignored --nocapture");
    for (option, var, default) in [
        ("--calls", "CHRONY_SOAK_CALLS", 2000),
        ("--min-seconds", "CHRONY_SOAK_MIN_SECONDS", 10),
        ("--timeout-ms", "CHRONY_SOAK_TIMEOUT_MS", 500),
    ] {
        soak.env(var, args.number::<u64>(option, default)?.to_string());
    }
    run(soak)
}
