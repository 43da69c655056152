//! `cargo xtask <command>`: the project's automation, one binary, std only (plus bindgen for
//! `bindgen`). The commands live in the library (src/lib.rs), so that xtask/tests can test them.
#![forbid(unsafe_code)]

use xtask::*;

use std::process::ExitCode;

type Run = fn(&[String]) -> util::Result;

/// Each command's name, function and line in the usage; its options are in its own `--help`, what
/// it does in docs/building.md (The xtask commands).
macro_rules! commands {
    ($($name:literal => $run:path, $about:literal;)*) => {
        &[$(($name, $run as Run, $about)),*]
    };
}

const COMMANDS: &[(&str, Run, &str)] = commands! {
    "ci" => ci::run_cli, "everything CI checks, stage by stage (`ci --help` lists them)";
    "fresh" => fresh::run_cli, "`bash .ci/run` as root on a brand-new Debian 12 root";
    "bench" => bench::run_cli, "every way of reading chronyd, timed side by side";
    "bindgen" => bindgen_cmd::run, "regenerate (--check: check) libchrony-sys/src/bindings.rs";
    "chrony" => chronyd_fixture::unpack::run_cli, "unpack (or build) chrony under target/chrony";
    "prometheus" => chronyd_fixture::prometheus::run_cli, "unpack prometheus under target/";
    "chronyd" => chronyd_fixture::cli::run, "a sandboxed chronyd pair on loopback for tests";
    "system-lib" => system_lib::run_cli, "install the bundled C library as a libchrony.so.0";
    "demo" => demo::run_cli, "ask a chronyd through the Python API, the CLI and the Rust API";
    "build-wheels" => wheels::build_cli, "the release wheel and sdist into target/wheels";
    "test-wheels" => wheels::test_cli, "the Python suite against the installed wheel, the sdist";
    "fuzz" => fuzz::run_cli, "libFuzzer on the bundled C library's reply parser";
    "valgrind" => valgrind::run_cli, "the sys and core test binaries under valgrind memcheck";
    "soak" => soak::run_cli, "chrony-core's soak test: restarts and SIGSTOPs of chronyd";
    "actionlint" => actionlint::run_cli, "check .github/workflows (and ci.yml's stages)";
    "test-socket-discovery" => socket_discovery::run_cli, "discovery tests in a mount namespace";
    "third-party" => third_party::run_cli, "write (or check) pychrony-py/LICENSES-THIRD-PARTY.md";
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().map_or("help", String::as_str);
    let mut usage = String::from("usage: cargo xtask COMMAND [--help]\n\ncommands:\n");
    for (name, _, about) in COMMANDS {
        usage.push_str(&format!("  {name:<22} {about}\n"));
    }
    usage.push_str("\nIts options: cargo xtask COMMAND --help; more: docs/building.md\n");
    let result = match COMMANDS.iter().find(|(name, ..)| *name == command) {
        Some((_, run, _)) => run(&args[1..]),
        None if ["-h", "--help", "help"].contains(&command) => {
            print!("{usage}");
            Ok(())
        }
        None => Err(format!("unknown command `{command}`\n\n{usage}").into()),
    };
    if let Err(err) = result {
        eprintln!("xtask: {err}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
