//! `cargo xtask <command>`: the project's automation, one binary, std only (plus bindgen for
//! `bindgen`). The commands live in the library (src/lib.rs), so that xtask/tests can test them.
#![forbid(unsafe_code)]

use xtask::*;

use std::process::ExitCode;

type Run = fn(&[String]) -> util::Result;

/// Each command's function and its lines in the usage, whose first word is its name (the `\`
/// drops the first line's indent: it is printed with the two spaces shown).
macro_rules! commands {
    ($($run:path => $usage:literal;)*) => {
        &[$(($run as Run, $usage)),*]
    };
}

const COMMANDS: &[(Run, &str)] = commands! {
    ci::run_cli => "\
  ci [--stage NAME]... [--skip-install]
                                everything CI checks, stage by stage (`ci --help` lists them)";
    fresh::run_cli => "\
  fresh [--run COMMAND]         `bash .ci/run` as root on a brand-new debootstrap minbase Debian 12
                                root (private mount and pid namespaces, host network): proves the
                                install stage installs everything (root; log in target/fresh/log/)";
    bench::run_cli => "\
  bench [--quick] [--cpu N]     time tracking queries side by side on one fixture chronyd: raw socket,
                                chrony-core, pychrony, pychrony 2.0.3 (PyPI), chronyc; memory, import
                                (target/bench/results.json; a full run updates docs/bench.png)";
    bindgen_cmd::run => "\
  bindgen [--check]             regenerate libchrony-sys/src/bindings.rs (--check: fail on drift)";
    chronyd_fixture::unpack::run_cli => "\
  chrony [--check | --build SUITE]
                                download Debian's chrony package and unpack it (with the libraries the
                                host lacks) into target/chrony/<version>/, or build chronyd and chronyc
                                from SUITE's source package (trixie, sid): installs nothing";
    chronyd_fixture::prometheus::run_cli => "\
  prometheus                    download Debian's prometheus package and unpack it into
                                target/prometheus/<version>/ for the exporter's test against a real
                                Prometheus (installs nothing, starts no service); prints PROMETHEUS=
                                the binary";
    chronyd_fixture::cli::run => "\
  chronyd start|start-unsync|status|stop DIR
                                run a sandboxed chronyd pair on loopback for tests (CHRONY_DIR=DIR:
                                that version directory's chronyd; else an installed one; else
                                target/chrony/default)";
    system_lib::run_cli => "\
  system-lib PREFIX             install the bundled C library as a shared libchrony.so.0
                                with chrony.h and libchrony.pc (tests the system build mode)";
    demo::run_cli => "\
  demo [--sandbox]              build pychrony, ask chronyd (the system's or a sandboxed one) through
                                the Python API, the CLI and the Rust API (no root needed; chronyd is
                                unpacked under target/chrony when none is installed)";
    wheels::build_cli => "\
  build-wheels                  release wheel (abi3, manylinux2014 x86_64, maturin --zig) and sdist
                                into target/wheels, checked with auditwheel and twine";
    wheels::test_cli => "\
  test-wheels                   the Python suite against the installed wheel; the sdist built
                                from source and smoke-tested";
    fuzz::run_cli => "\
  fuzz [--time SECONDS] [--replay-only] [--capture]
                                libFuzzer on the bundled C library's reply parser (default 60 s),
                                after replaying libchrony-sys/fuzz/corpus; --capture rewrites the corpus";
    valgrind::run_cli => "\
  valgrind [FILTER]             the sys and core test binaries under valgrind memcheck
                                (0 errors, 0 bytes definitely lost)";
    soak::run_cli => "\
  soak [--calls N] [--min-seconds S] [--timeout-ms MS]
                                tracking from 4 threads while chronyd restarts every 2 s and is
                                SIGSTOPped now and then: deadlines, errors, fds, RSS, files";
    actionlint::run_cli => "\
  actionlint                    check .github/workflows with actionlint (and ci.yml's stages)";
    socket_discovery::run_cli => "\
  test-socket-discovery         default socket discovery (/run, then /var/run) against real chronyd
                                in a private mount namespace, Rust and Python APIs (root)";
    third_party::run_cli => "\
  third-party [--check]         write (or check) pychrony-py/LICENSES-THIRD-PARTY.md: what the wheel
                                links statically, with licences and copyright lines";
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().map_or("help", String::as_str);
    let mut usage = String::from("usage: cargo xtask <command>\n\ncommands:\n");
    for (_, text) in COMMANDS {
        usage.push_str(&format!("  {text}\n"));
    }
    let name = |text: &str| text.split_whitespace().next() == Some(command);
    let result = match COMMANDS.iter().find(|(_, text)| name(text)) {
        Some((run, _)) => run(&args[1..]),
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
