//! `cargo xtask <command>`: the project's automation, one binary, std only
//! (plus bindgen for `bindgen`).
#![forbid(unsafe_code)]

mod actionlint;
mod bench;
mod bindgen_cmd;
mod ci;
mod demo;
mod fresh;
mod fuzz;
mod install;
mod pyenv;
mod python;
mod sanitize;
mod soak;
mod socket_discovery;
mod system_lib;
mod third_party;
mod util;
mod valgrind;
mod wheels;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  ci [--stage NAME]... [--skip-install]
                                everything CI checks, stage by stage (`ci --help` lists them)
  fresh [--run COMMAND]         `bash .ci/run` as root on a brand-new debootstrap minbase Debian 12
                                root (private mount and pid namespaces, host network): proves the
                                install stage installs everything (root; log in target/fresh/log/)
  bench [--quick] [--cpu N]     time tracking queries side by side on one fixture chronyd: raw socket,
                                chrony-core, pychrony, pychrony 2.0.3 (PyPI), chronyc; memory, import
                                (target/bench/results.json; a full run updates docs/bench.png)
  bindgen [--check]             regenerate libchrony-sys/src/bindings.rs (--check: fail on drift)
  chrony [--check]              download Debian's chrony package and unpack it (with the libraries the
                                host lacks) into target/chrony/<version>/: installs nothing
  chronyd start|start-unsync|status|stop DIR
                                run a sandboxed chronyd pair on loopback for tests (CHRONY_DIR=DIR:
                                that version directory's chronyd; else an installed one; else
                                target/chrony/default)
  system-lib PREFIX             install the bundled C library as a shared libchrony.so.0
                                with chrony.h and libchrony.pc (tests the system build mode)
  demo [--sandbox]              build pychrony, ask chronyd (the system's or a sandboxed one) through
                                the Python API, the CLI and the Rust API (no root needed; chronyd is
                                unpacked under target/chrony when none is installed)
  build-wheels                  release wheel (abi3, manylinux2014 x86_64, maturin --zig) and sdist
                                into target/wheels, checked with auditwheel and twine
  test-wheels                   the Python suite against the installed wheel; the sdist built
                                from source and smoke-tested
  fuzz [--time SECONDS] [--replay-only] [--capture]
                                libFuzzer on the bundled C library's reply parser (default 60 s),
                                after replaying libchrony-sys/fuzz/corpus; --capture rewrites the corpus
  valgrind [FILTER]             the sys and core test binaries under valgrind memcheck
                                (0 errors, 0 bytes definitely lost)
  soak [--calls N] [--min-seconds S] [--timeout-ms MS]
                                tracking from 4 threads while chronyd restarts every 2 s and is
                                SIGSTOPped now and then: deadlines, errors, fds, RSS, files
  actionlint                    check .github/workflows with actionlint (and ci.yml's stages)
  test-socket-discovery         default socket discovery (/run, then /var/run) against real chronyd
                                in a private mount namespace, Rust and Python APIs (root)
  third-party [--check]         write (or check) pychrony-py/LICENSES-THIRD-PARTY.md: what the wheel
                                links statically, with licences and copyright lines
";

/// A command's function, run with the rest of the command line.
type Run = fn(&[String]) -> util::Result;

const COMMANDS: &[(&str, Run)] = &[
    ("bindgen", bindgen_cmd::run),
    ("chronyd", chronyd_fixture::cli::run),
    ("chrony", chronyd_fixture::unpack::run_cli),
    ("ci", ci::run_cli),
    ("bench", bench::run_cli),
    ("system-lib", system_lib::run_cli),
    ("demo", demo::run_cli),
    ("fresh", fresh::run_cli),
    ("build-wheels", wheels::build_cli),
    ("test-wheels", wheels::test_cli),
    ("fuzz", fuzz::run_cli),
    ("valgrind", valgrind::run_cli),
    ("soak", soak::run_cli),
    ("actionlint", actionlint::run_cli),
    ("test-socket-discovery", socket_discovery::run_cli),
    ("third-party", third_party::run_cli),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().map_or("help", String::as_str);
    let result = match COMMANDS.iter().find(|(name, _)| *name == command) {
        Some((_, run)) => run(&args[1..]),
        None if ["-h", "--help", "help"].contains(&command) => {
            print!("{USAGE}");
            Ok(())
        }
        None => Err(format!("unknown command `{command}`\n\n{USAGE}").into()),
    };
    if let Err(err) = result {
        eprintln!("xtask: {err}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
