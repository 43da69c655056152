//! The `install` stage of `cargo xtask ci`: what the stages need, as probes, not as a package list.
//!
//! Each probe runs the thing a stage runs (a tiny program compiled with the very flags of the `fuzz` stage, a
//! venv made the way `util::venv` makes one, libclang loaded the way bindgen loads it, ...) and names what
//! provides it: Debian packages, or `cargo xtask chrony` for chronyd and chronyc (downloaded and unpacked under
//! target/, never installed). The stage runs every probe and prints a table; then, as root, `apt-get update` once
//! and `apt-get install --no-install-recommends` of the packages of the failed probes, runs those probes again
//! and fails naming what is still missing. Not root: it prints the exact apt-get command and fails. A package
//! list alone is not enough: a clean Debian 12 failed `fuzz` because `clang` came without its Recommends
//! `libclang-rt-14-dev` (libFuzzer and the sanitizer runtimes), which a probe of the link catches.
//!
//! Prerequisites, which no probe can install because this program is already running when they are needed
//! (README, "Before the first command"): Debian 12 or Ubuntu, a Rust toolchain, gcc with libc6-dev (cargo's
//! linker), ca-certificates (crates.io over HTTPS), and root for the apt-get part.

use crate::util::{Result, display_rel, root};
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What provides a probe's subject.
enum Provider {
    /// Debian packages.
    Apt(&'static [&'static str]),
    /// Debian packages whose names depend on the host (a compiler's major version).
    AptFor(fn() -> Vec<String>),
    /// `cargo xtask chrony`: downloaded and unpacked under target/chrony, nothing installed.
    UnpackChrony,
}

struct Probe {
    name: &'static str,
    /// The stages (or commands) that need it.
    needed_by: &'static str,
    provider: Provider,
    /// Ok(what was found) or Err(why not), each one line.
    check: fn(&Path) -> std::result::Result<String, String>,
}

/// In the order they run (and print).
const PROBES: &[Probe] = &[
    Probe {
        name: "cc: compile, link, run C",
        needed_by: "every build (cc crate, rustc's linker)",
        provider: Provider::Apt(&["gcc", "libc6-dev"]),
        check: check_cc,
    },
    Probe {
        name: "cc -fsanitize=address,undefined",
        needed_by: "sanitize",
        provider: Provider::AptFor(gcc_runtime_packages),
        check: check_cc_sanitizers,
    },
    Probe {
        name: "clang: compile C",
        needed_by: "fuzz",
        provider: Provider::Apt(&["clang"]),
        check: check_clang,
    },
    Probe {
        name: "clang -fsanitize=fuzzer,address,undefined",
        needed_by: "fuzz",
        provider: Provider::AptFor(clang_runtime_packages),
        check: check_clang_fuzzer,
    },
    Probe {
        name: "libclang for bindgen (<stdbool.h> ...)",
        needed_by: "bindgen",
        provider: Provider::Apt(&["libclang-dev"]),
        check: check_libclang,
    },
    Probe {
        name: "valgrind",
        needed_by: "valgrind",
        provider: Provider::Apt(&["valgrind"]),
        check: |_| version_of("valgrind", &["--version"]),
    },
    Probe {
        name: "faketime -f +0s true",
        needed_by: "test, python (leap-second fixtures)",
        provider: Provider::Apt(&["faketime"]),
        check: |_| {
            version_of("faketime", &["-f", "+0s", "true"]).map(|_| "libfaketime works".into())
        },
    },
    Probe {
        name: "pkg-config",
        needed_by: "system, python (system-mode builds)",
        provider: Provider::Apt(&["pkg-config"]),
        check: |_| version_of("pkg-config", &["--version"]),
    },
    Probe {
        name: "python3 >= 3.10",
        needed_by: "python, actionlint, bench-smoke, test",
        provider: Provider::Apt(&["python3"]),
        check: check_python,
    },
    Probe {
        name: "python3 -m venv (with ensurepip)",
        needed_by: "install, python, actionlint, bench-smoke",
        provider: Provider::Apt(&["python3-venv"]),
        check: check_venv,
    },
    Probe {
        name: "libpython: link and load",
        needed_by: "test (pychrony-py's Rust unit tests link libpython)",
        provider: Provider::Apt(&["libpython3-dev"]),
        check: check_libpython,
    },
    Probe {
        name: "system python3.X for nobody",
        needed_by: "python, discovery (clients run as nobody)",
        provider: Provider::Apt(&["python3"]),
        check: check_system_python,
    },
    Probe {
        name: "chronyd and chronyc",
        needed_by: "test, system, sanitize, valgrind, soak, python, discovery, bench-smoke",
        provider: Provider::UnpackChrony,
        check: check_chrony,
    },
    Probe {
        name: "setpriv, unshare, taskset",
        needed_by: "test, python, discovery, bench-smoke",
        provider: Provider::Apt(&["util-linux"]),
        check: |_| {
            all_run(&[
                ("setpriv", "--version"),
                ("unshare", "--version"),
                ("taskset", "--version"),
            ])
        },
    },
    Probe {
        name: "mount",
        needed_by: "discovery",
        provider: Provider::Apt(&["mount"]),
        check: |_| version_of("mount", &["--version"]),
    },
    Probe {
        name: "kill (procps)",
        needed_by: "test, discovery",
        provider: Provider::Apt(&["procps"]),
        check: |_| version_of("kill", &["-l"]).map(|_| "kill -l works".into()),
    },
    Probe {
        name: "ldd, readelf",
        needed_by: "system, python",
        provider: Provider::Apt(&["libc-bin", "binutils"]),
        check: |_| all_run(&[("ldd", "--version"), ("readelf", "--version")]),
    },
    Probe {
        name: "cp, chmod, id, date, env, rm, tar",
        needed_by: "every stage",
        provider: Provider::Apt(&["coreutils", "tar"]),
        check: |_| {
            all_run(&[
                ("cp", "--version"),
                ("chmod", "--version"),
                ("id", "--version"),
                ("date", "--version"),
                ("env", "--version"),
                ("rm", "--version"),
                ("tar", "--version"),
            ])
        },
    },
];

/// The stage: probe, install what failed (root), probe again; then the Python venv.
pub fn stage() -> Result {
    let scratch = root().join("target/probes");
    fs::create_dir_all(&scratch)?;
    let results: Vec<(usize, std::result::Result<String, String>)> = PROBES
        .iter()
        .enumerate()
        .map(|(i, p)| (i, (p.check)(&scratch)))
        .collect();
    print_table("probes", &results);
    let failed: Vec<usize> = results
        .iter()
        .filter(|(_, r)| r.is_err())
        .map(|(i, _)| *i)
        .collect();
    if failed.is_empty() {
        println!("everything the stages need is here");
        crate::python::ensure_venv()?;
        return Ok(());
    }

    // chronyd and chronyc: unpacked, never installed, and no root needed.
    if failed
        .iter()
        .any(|&i| matches!(PROBES[i].provider, Provider::UnpackChrony))
    {
        chronyd_fixture::unpack::provision()?;
    }
    let apt_failed: Vec<usize> = failed
        .iter()
        .copied()
        .filter(|&i| !matches!(PROBES[i].provider, Provider::UnpackChrony))
        .collect();
    if !apt_failed.is_empty() {
        let packages = packages_of(&apt_failed);
        let line = format!(
            "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends {}",
            packages.join(" ")
        );
        if !chronyd_fixture::unpack::is_root() {
            return Err(format!(
                "missing: {}\nrun as root:\n  {line}\n(or run `cargo xtask ci --stage install` as root)",
                names(&apt_failed)
            )
            .into());
        }
        crate::util::run(Command::new("apt-get").args(["update", "-q"]))?;
        // Names that depend on the host resolve better once the lists are fresh.
        let packages = packages_of(&apt_failed);
        crate::util::run(
            Command::new("apt-get")
                .env("DEBIAN_FRONTEND", "noninteractive")
                .args(["install", "-y", "-q", "--no-install-recommends"])
                .args(&packages),
        )?;
    }

    let again: Vec<(usize, std::result::Result<String, String>)> = failed
        .iter()
        .map(|&i| (i, (PROBES[i].check)(&scratch)))
        .collect();
    print_table("the failed probes, again", &again);
    let still: Vec<usize> = again
        .iter()
        .filter(|(_, r)| r.is_err())
        .map(|(i, _)| *i)
        .collect();
    if !still.is_empty() {
        let detail: Vec<String> = still
            .iter()
            .map(|&i| {
                let why = again
                    .iter()
                    .find(|(j, _)| *j == i)
                    .and_then(|(_, r)| r.clone().err())
                    .unwrap_or_default();
                format!(
                    "  {} ({}): {why}",
                    PROBES[i].name,
                    provider_text(&PROBES[i].provider)
                )
            })
            .collect();
        return Err(format!("still missing after the install:\n{}", detail.join("\n")).into());
    }
    crate::python::ensure_venv()?;
    Ok(())
}

fn names(probes: &[usize]) -> String {
    probes
        .iter()
        .map(|&i| PROBES[i].name)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The Debian packages of these probes, each once, sorted.
fn packages_of(probes: &[usize]) -> Vec<String> {
    let set: BTreeSet<String> = probes
        .iter()
        .flat_map(|&i| match &PROBES[i].provider {
            Provider::Apt(list) => list.iter().map(|s| s.to_string()).collect(),
            Provider::AptFor(f) => f(),
            Provider::UnpackChrony => Vec::new(),
        })
        .collect();
    set.into_iter().collect()
}

fn provider_text(provider: &Provider) -> String {
    match provider {
        Provider::Apt(list) => list.join(" "),
        Provider::AptFor(f) => f().join(" "),
        Provider::UnpackChrony => "cargo xtask chrony (unpacked, not installed)".into(),
    }
}

/// One line per probe: result, name, provider, what was found (or why not, and which stages need it).
fn print_table(title: &str, results: &[(usize, std::result::Result<String, String>)]) {
    const DETAIL: usize = 72;
    let rows: Vec<[String; 4]> = results
        .iter()
        .map(|(i, r)| {
            let p = &PROBES[*i];
            let (result, detail) = match r {
                Ok(found) => ("ok", found.clone()),
                Err(why) => ("MISSING", format!("{why} (needed by {})", p.needed_by)),
            };
            let detail = if result == "ok" && detail.chars().count() > DETAIL {
                let cut: String = detail.chars().take(DETAIL - 3).collect();
                format!("{cut}...")
            } else {
                detail
            };
            [
                result.to_string(),
                p.name.to_string(),
                provider_text(&p.provider),
                detail,
            ]
        })
        .collect();
    let width = |k: usize, title: &str| {
        rows.iter()
            .map(|r| r[k].chars().count())
            .max()
            .unwrap_or(0)
            .max(title.len())
    };
    let (w0, w1, w2) = (
        width(0, "result"),
        width(1, "probe"),
        width(2, "provided by"),
    );
    println!("\n{title}:");
    println!(
        "{:<w0$}  {:<w1$}  {:<w2$}  found",
        "result", "probe", "provided by"
    );
    for r in &rows {
        println!("{:<w0$}  {:<w1$}  {:<w2$}  {}", r[0], r[1], r[2], r[3]);
    }
    let failed = results.iter().filter(|(_, r)| r.is_err()).count();
    println!("{} probes, {} missing", results.len(), failed);
}

// ---- running things ---------------------------------------------------------

/// Runs `cmd`; Ok(first line of its output) when it exits 0, else Err(its last line of stderr, or why it
/// could not start).
fn first_line(cmd: &mut Command) -> std::result::Result<String, String> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        let line = stdout
            .lines()
            .chain(stderr.lines())
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        Ok(line.to_string())
    } else {
        let last = stderr
            .lines()
            .chain(stdout.lines())
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        Err(format!("{program} failed ({}): {last}", out.status))
    }
}

fn version_of(program: &str, args: &[&str]) -> std::result::Result<String, String> {
    first_line(Command::new(program).args(args))
}

fn all_run(commands: &[(&str, &str)]) -> std::result::Result<String, String> {
    for (program, arg) in commands {
        version_of(program, &[arg])?;
    }
    Ok(commands
        .iter()
        .map(|(p, _)| *p)
        .collect::<Vec<_>>()
        .join(", "))
}

/// Writes `source` to `dir/name.c` and compiles it with `compiler flags... -o dir/name`; the binary.
fn compile(
    compiler: &str,
    flags: &[&str],
    dir: &Path,
    name: &str,
    source: &str,
    libs: &[String],
) -> std::result::Result<PathBuf, String> {
    let src = dir.join(format!("{name}.c"));
    let bin = dir.join(name);
    fs::write(&src, source).map_err(|e| format!("{}: {e}", display_rel(&src)))?;
    let _ = fs::remove_file(&bin);
    first_line(
        Command::new(compiler)
            .args(flags)
            .arg(&src)
            .arg("-o")
            .arg(&bin)
            .args(libs),
    )?;
    Ok(bin)
}

const MAIN_C: &str = "int main(void) { return 0; }\n";

// ---- the checks -------------------------------------------------------------

fn cc() -> String {
    std::env::var("CC").unwrap_or_else(|_| "cc".into())
}

fn clang() -> String {
    std::env::var("CLANG").unwrap_or_else(|_| "clang".into())
}

fn check_cc(dir: &Path) -> std::result::Result<String, String> {
    let bin = compile(&cc(), &[], dir, "probe-cc", MAIN_C, &[])?;
    first_line(&mut Command::new(&bin))?;
    version_of(&cc(), &["--version"])
}

fn check_cc_sanitizers(dir: &Path) -> std::result::Result<String, String> {
    // The sanitize stage's CFLAGS; its RUSTFLAGS link the same runtimes by name.
    let source = "#include <stdlib.h>\nint main(void) { char *p = malloc(4); p[0] = 1; \
                  int r = p[0] - 1; free(p); return r; }\n";
    let flags: Vec<&str> = crate::sanitize::CFLAGS.split_whitespace().collect();
    let bin = compile(&cc(), &flags, dir, "probe-asan", source, &[])?;
    first_line(&mut Command::new(&bin))?;
    Ok("libasan and libubsan link and run".into())
}

fn check_clang(dir: &Path) -> std::result::Result<String, String> {
    compile(&clang(), &[], dir, "probe-clang", MAIN_C, &[])?;
    version_of(&clang(), &["--version"])
}

fn check_clang_fuzzer(dir: &Path) -> std::result::Result<String, String> {
    // The fuzz stage's flags (fuzz.rs); -runs=1 runs the empty input once.
    let source = "#include <stddef.h>\n#include <stdint.h>\n\
                  int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) \
                  { (void)data; (void)size; return 0; }\n";
    let bin = compile(
        &clang(),
        &["-fsanitize=fuzzer,address,undefined", "-g", "-O1"],
        dir,
        "probe-fuzzer",
        source,
        &[],
    )?;
    first_line(Command::new(&bin).arg("-runs=1"))?;
    Ok("libFuzzer, ASan and UBSan runtimes link and run".into())
}

fn check_libclang(_dir: &Path) -> std::result::Result<String, String> {
    // In a child: bindgen panics when it finds no libclang.
    let exe = crate::util::xtask_bin().map_err(|e| e.to_string())?;
    first_line(Command::new(exe).args(["bindgen", "--probe"]))
}

/// The interpreter `util::venv` makes venvs with.
fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

/// The interpreter pyo3 builds against (the `test` stage links its libpython).
fn pyo3_python() -> String {
    std::env::var("PYO3_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn check_python(_dir: &Path) -> std::result::Result<String, String> {
    first_line(Command::new(python()).args([
        "-c",
        "import sys; assert sys.version_info >= (3, 10), sys.version; \
         print(sys.executable, sys.version.split()[0])",
    ]))
}

fn check_venv(dir: &Path) -> std::result::Result<String, String> {
    let venv = dir.join("venv");
    let _ = fs::remove_dir_all(&venv);
    let made = first_line(Command::new(python()).args(["-m", "venv"]).arg(&venv));
    let pip = made.and_then(|_| {
        first_line(Command::new(venv.join("bin/python")).args([
            "-m",
            "pip",
            "--version",
            "--disable-pip-version-check",
        ]))
    });
    let _ = fs::remove_dir_all(&venv);
    pip.map(|v| v.split(" from ").next().unwrap_or(&v).to_string())
}

fn check_libpython(dir: &Path) -> std::result::Result<String, String> {
    let vars = first_line(Command::new(pyo3_python()).args([
        "-c",
        "import sysconfig as s; print(s.get_config_var('LIBDIR'), s.get_config_var('LDLIBRARY'))",
    ]))?;
    let (libdir, ldlibrary) = vars
        .split_once(' ')
        .ok_or_else(|| format!("unexpected sysconfig output: {vars}"))?;
    let Some(name) = ldlibrary
        .strip_prefix("lib")
        .and_then(|n| n.strip_suffix(".so"))
    else {
        return Ok(format!(
            "{ldlibrary} (not a shared libpython: nothing to load)"
        ));
    };
    let source = "extern const char *Py_GetVersion(void);\n\
                  int main(void) { return Py_GetVersion()[0] == 0; }\n";
    let bin = compile(
        &cc(),
        &[],
        dir,
        "probe-libpython",
        source,
        &[format!("-L{libdir}"), format!("-l{name}")],
    )?;
    first_line(Command::new(&bin).env(
        "LD_LIBRARY_PATH",
        crate::ci::prepend_env("LD_LIBRARY_PATH", Path::new(libdir)),
    ))?;
    Ok(format!("{libdir}/{ldlibrary}"))
}

fn check_system_python(_dir: &Path) -> std::result::Result<String, String> {
    let version = first_line(Command::new(python()).args([
        "-c",
        "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')",
    ]))?;
    let name = format!("python{version}");
    ["/usr/bin", "/usr/local/bin"]
        .iter()
        .map(|d| Path::new(d).join(&name))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
        .ok_or_else(|| {
            format!(
                "no {name} in /usr/bin or /usr/local/bin (the tests run it as nobody; the venv is made with \
                 {} {version}: installing python3 helps only if the distribution's version is {version})",
                python()
            )
        })
}

fn check_chrony(_dir: &Path) -> std::result::Result<String, String> {
    let found = chronyd_fixture::Chrony::find().map_err(|e| {
        let text = e.to_string();
        text.split(". Run").next().unwrap_or(&text).to_string()
    })?;
    let version = chronyd_fixture::unpack::verify(&found).map_err(|e| e.to_string())?;
    // "chronyd (chrony) version 4.3 (+CMDMON ...)"
    let version = version
        .split_once("version ")
        .and_then(|(_, v)| v.split_whitespace().next())
        .unwrap_or("?");
    let from = match (found.origin, &found.dir) {
        (chronyd_fixture::Origin::Installed, _) | (_, None) => {
            format!("installed: {}", found.chronyd.display())
        }
        (chronyd_fixture::Origin::Override, Some(d)) => format!("CHRONY_DIR={}", d.display()),
        (chronyd_fixture::Origin::Unpacked, Some(d)) => format!("unpacked in {}", display_rel(d)),
    };
    Ok(format!("{version}, {from}"))
}

/// `libgcc-N-dev` (gcc's libasan.so and libubsan.so) for the gcc that `cc` is.
fn gcc_runtime_packages() -> Vec<String> {
    let major = first_line(Command::new("gcc").arg("-dumpversion"))
        .ok()
        .or_else(|| apt_depends_version("gcc", "gcc-"));
    match major.and_then(|v| v.split('.').next().map(str::to_string)) {
        Some(n) if !n.is_empty() => vec![format!("libgcc-{n}-dev")],
        _ => vec!["gcc".into()],
    }
}

/// `libclang-rt-N-dev` (libFuzzer and clang's sanitizer runtimes) for clang N.
fn clang_runtime_packages() -> Vec<String> {
    let major = first_line(Command::new(clang()).arg("-dumpversion"))
        .ok()
        .or_else(|| apt_depends_version("clang", "clang-"));
    let n = major
        .and_then(|v| v.split('.').next().map(str::to_string))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "14".into());
    vec![format!("libclang-rt-{n}-dev")]
}

/// The `N` of a `PREFIXN` dependency of `pkg` (e.g. clang -> clang-14 -> 14), from the package lists.
fn apt_depends_version(pkg: &str, prefix: &str) -> Option<String> {
    let out = first_line(Command::new("sh").args([
        "-c",
        &format!("apt-cache show --no-all-versions {pkg} 2>/dev/null | grep '^Depends:'"),
    ]))
    .ok()?;
    out.split([',', ' ', ':'])
        .filter_map(|w| w.strip_prefix(prefix))
        .find(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_names_are_unique_and_every_probe_names_a_provider() {
        for (i, a) in PROBES.iter().enumerate() {
            assert!(
                PROBES[i + 1..].iter().all(|b| b.name != a.name),
                "{}",
                a.name
            );
            if let Provider::Apt(list) = a.provider {
                assert!(!list.is_empty(), "{}", a.name);
            }
        }
    }

    #[test]
    fn failed_probes_give_each_package_once() {
        let i = |name: &str| PROBES.iter().position(|p| p.name == name).unwrap();
        let packages = packages_of(&[
            i("python3 >= 3.10"),
            i("system python3.X for nobody"),
            i("valgrind"),
            i("chronyd and chronyc"),
        ]);
        assert_eq!(packages, ["python3", "valgrind"]);
    }
}
