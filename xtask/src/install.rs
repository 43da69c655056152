//! The `install` stage of `cargo xtask ci`: what the stages need, as probes, not a package list:
//! a clean Debian 12 failed `fuzz` because `clang` came without its Recommends `libclang-rt-14-dev`.
//! Each probe runs what a stage runs and names what provides it: Debian packages (installed as
//! root for the failed probes, which then run again; else the apt-get command is printed), or
//! `cargo xtask chrony` (unpacked under target/, never installed). No probe can install what this
//! program needs to run (README): Debian 12 or Ubuntu, Rust, gcc, libc6-dev, ca-certificates.

use crate::util::{Result, bail, cmd, display_rel, env_or, root, run};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

/// Ok(what was found) or Err(why not), each one line.
type Found = std::result::Result<String, String>;

/// What provides a probe's subject.
pub enum Provider {
    Apt(&'static str),
    /// A Debian package whose name depends on the host (a compiler's major version).
    AptFor(fn() -> String),
    /// `cargo xtask chrony`: downloaded and unpacked under target/chrony, nothing installed.
    Chrony,
}

pub enum Check {
    /// A `sh -c` script run in target/probes: passes if it exits 0; prints what was found first.
    Sh(&'static str),
    Rust(fn() -> Found),
}

pub struct Probe {
    pub name: &'static str,
    pub needed_by: &'static str,
    pub provider: Provider,
    pub check: Check,
}

macro_rules! probes {
    ($($name:literal, $needed_by:literal, $provider:expr, $check:expr;)*) => {
        &[$(Probe { name: $name, needed_by: $needed_by, provider: $provider, check: $check }),*]
    };
}

use {Check::*, Provider::*};

/// In the order they run (and print). The C programs (fed to the compiler on stdin): `$CC` with
/// the sanitize stage's CFLAGS and linking the libpython pyo3's unit tests link, `$CLANG` with the
/// fuzz stage's flags (`-runs=1` runs the empty input once). `env kill`: procps's, not the shell's.
pub const PROBES: &[Probe] = probes! {
    "cc: compile, link, run C", "every build (cc crate, rustc's linker)", Apt("gcc libc6-dev"),
        Sh("echo 'int main(void) { return 0; }' | $CC -x c - -o probe-cc && ./probe-cc && $CC --version");
    "cc -fsanitize=address,undefined", "sanitize", AptFor(gcc_runtime),
        Sh("printf '%s\\n' '#include <stdlib.h>' 'int main(void) { char *p = malloc(4); p[0] = 1; \
            int r = p[0] - 1; free(p); return r; }' | $CC $SANITIZE_CFLAGS -x c - -o probe-asan && \
            ./probe-asan && echo 'libasan and libubsan link and run'");
    "clang: compile C", "fuzz", Apt("clang"),
        Sh("echo 'int main(void) { return 0; }' | $CLANG -x c - -o probe-clang && $CLANG --version");
    "clang -fsanitize=fuzzer,address,undefined", "fuzz", AptFor(clang_runtime),
        Sh("printf '%s\\n' '#include <stddef.h>' '#include <stdint.h>' 'int LLVMFuzzerTestOneInput(\
            const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' | $CLANG \
            -fsanitize=fuzzer,address,undefined -g -O1 -x c - -o probe-fuzzer && \
            ./probe-fuzzer -runs=1 && echo 'libFuzzer, ASan and UBSan runtimes link and run'");
    "libclang for bindgen (<stdbool.h> ...)", "bindgen", Apt("libclang-dev"), Rust(libclang);
    "valgrind", "valgrind", Apt("valgrind"), Sh("valgrind --version");
    "faketime -f +0s true", "test, python (leap-second fixtures)", Apt("faketime"),
        Sh("faketime -f +0s true && echo 'libfaketime works'");
    "pkg-config", "system, python (system-mode builds)", Apt("pkg-config"), Sh("pkg-config --version");
    "python3 >= 3.10", "python, actionlint, bench-smoke, test", Apt("python3"),
        Sh("$PYTHON -c 'import sys; assert sys.version_info >= (3, 10), sys.version; \
            print(sys.executable, sys.version.split()[0])'");
    "python3 -m venv (with ensurepip)", "install, python, actionlint, bench-smoke", Apt("python3-venv"),
        Sh("rm -rf venv; trap 'rm -rf venv' EXIT; $PYTHON -m venv venv && \
            v=$(venv/bin/python -m pip --version --disable-pip-version-check) && echo \"${v%% from *}\"");
    "libpython: link and load", "test (pychrony-py's Rust unit tests link libpython)", Apt("libpython3-dev"),
        Sh(include_str!("../scripts/probe-libpython.sh"));
    "system python3.X for nobody", "python, discovery (clients run as nobody)", Apt("python3"),
        Sh("v=$($PYTHON -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])') || exit; \
            for d in /usr/bin /usr/local/bin; do [ -f $d/python$v ] && echo $d/python$v && exit; done; \
            echo \"no python$v in /usr/bin or /usr/local/bin (the tests run it as nobody; the venv is made \
            with $PYTHON $v: installing python3 helps only if the distribution's version is $v)\" >&2; exit 1");
    "chronyd and chronyc", "test, system, sanitize, valgrind, soak, python, discovery, bench-smoke", Chrony,
        Rust(chrony);
    "chrony from source: dpkg-source, make, gnutls, nettle", "versions", AptFor(chrony_build_packages),
        Sh("runs dpkg-source make && pkg-config --print-errors --exists gnutls nettle && echo gnutls, nettle");
    "openssl", "test, python, versions (the NTS fixture's certificate)", Apt("openssl"),
        Sh("openssl version");
    "setpriv, unshare, taskset", "test, python, discovery, bench-smoke", Apt("util-linux"),
        Sh("runs setpriv unshare taskset");
    "mount", "discovery, test, python, versions (mode sources as root: its own /etc/nsswitch.conf)",
        Apt("mount"), Sh("mount --version");
    "strace", "test (nothing leaves loopback when chronyd resolves a name)", Apt("strace"),
        Sh("strace -V > probe-strace && head -n 1 probe-strace");
    "kill (procps)", "test, discovery", Apt("procps"), Sh("env kill -l >/dev/null && echo 'kill -l works'");
    "ldd, readelf", "system, python", Apt("libc-bin binutils"), Sh("runs ldd readelf");
    "cp, chmod, id, date, env, rm, tar", "every stage", Apt("coreutils tar"),
        Sh("runs cp chmod id date env rm tar");
};

/// Before each script: the compilers and interpreters the stages use, unless the environment
/// names others, and `runs PROGRAM...`: each runs `--version`; prints their names.
const PRELUDE: &str = r#": ${CC:=cc} ${CLANG:=clang} ${PYTHON:=python3} ${PYO3_PYTHON:=python3}
runs() { for p; do $p --version >/dev/null || exit; done; echo "$*" | sed 's/ /, /g'; }
"#;

impl Probe {
    pub fn check(&self, dir: &Path) -> Found {
        let script = match self.check {
            Rust(check) => return check(),
            Sh(script) => script,
        };
        let mut sh = Command::new("sh");
        sh.arg("-c").arg(format!("{PRELUDE}{script}"));
        sh.current_dir(dir)
            .env("SANITIZE_CFLAGS", crate::sanitize::CFLAGS);
        first_line(&mut sh)
    }

    fn provider(&self) -> String {
        match self.provider {
            Apt(packages) => packages.into(),
            AptFor(package) => package(),
            Chrony => "cargo xtask chrony (unpacked, not installed)".into(),
        }
    }
}

pub fn stage() -> Result {
    let dir = root().join("target/probes");
    std::fs::create_dir_all(&dir)?;
    let failed = probe("probes", &PROBES.iter().collect::<Vec<_>>(), &dir);
    if failed.is_empty() {
        println!("everything the stages need is here");
    } else {
        let again: Vec<&Probe> = failed.iter().map(|(p, _)| *p).collect();
        install(&again)?;
        let mut detail = String::new();
        for (p, why) in probe("the failed probes, again", &again, &dir) {
            detail.push_str(&format!("\n  {} ({}): {why}", p.name, p.provider()));
        }
        if !detail.is_empty() {
            bail!("still missing after the install:{detail}");
        }
    }
    crate::python::ensure_venv()?;
    Ok(())
}

/// Runs `probes` and prints a row each (what was found, or why not and which stages need it);
/// returns the failed ones and why.
fn probe<'a>(title: &str, probes: &[&'a Probe], dir: &Path) -> Vec<(&'a Probe, String)> {
    const DETAIL: usize = 72;
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    for p in probes {
        let (result, found) = match p.check(dir) {
            Ok(found) if found.chars().count() > DETAIL => {
                let cut: String = found.chars().take(DETAIL - 3).collect();
                ("ok", format!("{cut}..."))
            }
            Ok(found) => ("ok", found),
            Err(why) => {
                failed.push((*p, why.clone()));
                ("MISSING", format!("{why} (needed by {})", p.needed_by))
            }
        };
        rows.push([result.into(), p.name.into(), p.provider(), found]);
    }
    let columns = "result|probe|provided by|found";
    print!("\n{title}:\n{}", crate::util::table(columns, &rows, &[]));
    println!("{} probes, {} missing", probes.len(), failed.len());
    failed
}

/// chronyd and chronyc unpacked (no root needed); the rest's packages installed, as root.
fn install(failed: &[&Probe]) -> Result {
    let (chrony, apt): (Vec<&Probe>, _) = failed.iter().partition(|p| matches!(p.provider, Chrony));
    if !chrony.is_empty() {
        chronyd_fixture::unpack::provision()?;
    }
    if apt.is_empty() {
        return Ok(());
    }
    let install = "apt-get install -y --no-install-recommends";
    if !chronyd_fixture::unpack::is_root() {
        let names: Vec<&str> = apt.iter().map(|p| p.name).collect();
        let (names, packages) = (names.join("; "), packages_of(&apt).join(" "));
        let line = format!("apt-get update && DEBIAN_FRONTEND=noninteractive {install} {packages}");
        let or = "(or run `cargo xtask ci --stage install` as root)";
        bail!("missing: {names}\nrun as root:\n  {line}\n{or}");
    }
    run(cmd("apt-get update -q"))?;
    // Names that depend on the host resolve better once the lists are fresh.
    run(crate::util::apt_install().args(packages_of(&apt)))
}

pub fn packages_of(probes: &[&Probe]) -> Vec<String> {
    let mut packages = BTreeSet::new();
    for p in probes.iter().filter(|p| !matches!(p.provider, Chrony)) {
        packages.extend(p.provider().split_whitespace().map(String::from));
    }
    packages.into_iter().collect()
}

/// Ok(the first line `cmd` prints) when it exits 0, else Err(its last line, or why it could not start).
fn first_line(cmd: &mut Command) -> Found {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd.stdin(Stdio::null()).output();
    let out = out.map_err(|e| format!("{program}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines = |a: &str, b: &str| -> Vec<String> {
        let lines = a.lines().chain(b.lines()).map(str::trim);
        lines.filter(|l| !l.is_empty()).map(String::from).collect()
    };
    if out.status.success() {
        let first = lines(&stdout, &stderr).into_iter().next();
        return Ok(first.unwrap_or_default());
    }
    let last = lines(&stderr, &stdout).pop().unwrap_or_default();
    Err(format!("{program} failed ({}): {last}", out.status))
}

fn libclang() -> Found {
    // In a child: bindgen panics when it finds no libclang.
    let exe = crate::util::xtask_bin().map_err(|e| e.to_string())?;
    first_line(Command::new(exe).args(["bindgen", "--probe"]))
}

fn chrony() -> Found {
    let found = chronyd_fixture::Chrony::find().map_err(|e| {
        let text = e.to_string();
        text.split(". Run").next().unwrap_or(&text).to_string()
    })?;
    let version = chronyd_fixture::unpack::verify(&found).map_err(|e| e.to_string())?;
    // "chronyd (chrony) version 4.3 (+CMDMON ...)"
    let version = version.split_once("version ").map(|(_, v)| v);
    let version = version.and_then(|v| v.split_whitespace().next());
    let from = match (found.origin, &found.dir) {
        (chronyd_fixture::Origin::Installed, _) | (_, None) => {
            format!("installed: {}", found.chronyd.display())
        }
        (chronyd_fixture::Origin::Override, Some(d)) => format!("CHRONY_DIR={}", d.display()),
        (chronyd_fixture::Origin::Unpacked, Some(d)) => format!("unpacked in {}", display_rel(d)),
    };
    Ok(format!("{}, {from}", version.unwrap_or("?")))
}

/// What `cargo xtask chrony --build` needs (apt-get installs only the missing ones).
fn chrony_build_packages() -> String {
    chronyd_fixture::source_build::BUILD_PACKAGES.join(" ")
}

/// `libgcc-N-dev` (gcc's libasan.so and libubsan.so) for the gcc that `cc` is.
fn gcc_runtime() -> String {
    major("gcc", "gcc").map_or("gcc".into(), |n| format!("libgcc-{n}-dev"))
}

/// `libclang-rt-N-dev` (libFuzzer and clang's sanitizer runtimes) for clang N.
fn clang_runtime() -> String {
    let n = major(&env_or("CLANG", "clang"), "clang").unwrap_or_else(|| "14".into());
    format!("libclang-rt-{n}-dev")
}

/// The major version of `compiler -dumpversion`, else N of the `PKG-N` that the package `pkg`
/// depends on (clang -> clang-14 -> 14).
fn major(compiler: &str, pkg: &str) -> Option<String> {
    let from_apt = || {
        let show = format!("apt-cache show --no-all-versions {pkg} 2>/dev/null | grep '^Depends:'");
        let depends = first_line(Command::new("sh").args(["-c", &show])).ok()?;
        let prefix = format!("{pkg}-");
        let number = |n: &&str| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit());
        let words = depends.split([',', ' ', ':']);
        let mut versions = words.filter_map(|w| w.strip_prefix(&prefix));
        versions.find(number).map(String::from)
    };
    let dumped = first_line(Command::new(compiler).arg("-dumpversion")).ok();
    let major = dumped.or_else(from_apt)?.split('.').next()?.to_string();
    Some(major).filter(|n| !n.is_empty())
}
