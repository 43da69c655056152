//! The `sanitize` stage: libchrony-sys's tests with its C (only: stable Rust cannot instrument
//! Rust) built under ASan and UBSan through CFLAGS. rustc links with `-nodefaultlibs`, so the
//! runtimes are named in RUSTFLAGS, which puts them ahead of libc as ASan insists (no LD_PRELOAD:
//! it would leak into the chronyd the tests start). `--target <host>` keeps RUSTFLAGS off build
//! scripts and proc macros; doctests are skipped: rustdoc links them without these flags.

use crate::util::{Result, cargo, env_or, hint, output, root, run};
use std::process::Command;

/// `-fno-sanitize-recover` makes every UBSan report fatal, whatever UBSAN_OPTIONS says.
pub const CFLAGS: &str =
    "-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g";

pub fn stage() -> Result {
    let info = output(Command::new(env_or("RUSTC", "rustc")).arg("-vV"))?;
    let host = info.lines().find_map(|l| l.strip_prefix("host: "));
    let host = host.ok_or("`rustc -vV` printed no host triple")?;
    let sanitized_cargo = |args: &str| {
        let mut cmd = cargo(&format!("{args} -p libchrony-sys --target {host}"));
        let asan = "detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1";
        cmd.env("CARGO_TARGET_DIR", root().join("target/sanitize"));
        cmd.env("CFLAGS", CFLAGS).env("ASAN_OPTIONS", asan);
        cmd.env("RUSTFLAGS", "-l dylib=asan -l dylib=ubsan");
        cmd.env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1");
        cmd
    };
    // The examples as plain binaries (tests run examples/open_probe), then the tests.
    run(sanitized_cargo("build --examples"))?;
    let look = "look above for an AddressSanitizer, LeakSanitizer or `runtime error` report";
    hint(run(sanitized_cargo("test --tests")), look)
}
