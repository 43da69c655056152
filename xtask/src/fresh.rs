//! `cargo xtask fresh` ([`USAGE`], docs/building.md): proves the install stage installs
//! everything. cargo and rustc run from the host's toolchain directory, not the rustup proxies, so
//! rustup needs no writable home. Nothing outside target/ changes but debootstrap, installed when
//! missing.

use crate::util::{Result, apt_install, bail, cmd, describe, display_rel, output};
use crate::util::{remove_dir, root};
use chronyd_fixture::unpack::on_path;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Set inside the root, so `cargo xtask ci` there does not run `fresh` again.
pub const INSIDE_ENV: &str = "XTASK_FRESH";

const SUITE: &str = "bookworm";
const KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";
const MIRROR: &str = "http://deb.debian.org/debian";
/// What the README lists as prerequisites of `cargo xtask ci`, besides Rust (bind-mounted) and root.
const PREREQUISITES: &str = "ca-certificates,gcc,libc6-dev";
const SOURCES_LIST: &str = "\
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
";
/// Where the clone goes inside the root, and the toolchain's rustup home there.
const CLONE_PARENT: &str = "root/src";
const RUSTUP_INSIDE: &str = "/root/.rustup";
const DEFAULT_COMMAND: &str = "bash .ci/run";
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// pid 1 of the pid namespace (its header says what it does and which variables it reads).
const PID1: &str = include_str!("../scripts/fresh-pid1.sh");
/// What a root on the host's network needs besides resolv.conf: the proxy and CA-bundle variables
/// (pip trusts its own bundle) and local CA certificates (a network intercepting TLS signs with one).
const NETWORK_ENV: &str = "http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY \
    SSL_CERT_FILE SSL_CERT_DIR CURL_CA_BUNDLE REQUESTS_CA_BUNDLE PIP_CERT PIP_INDEX_URL \
    PIP_EXTRA_INDEX_URL CARGO_HTTP_CAINFO";
const LOCAL_CAS: &str = "/usr/local/share/ca-certificates";

const USAGE: &str = "\
usage: cargo xtask fresh [--run COMMAND]

`bash .ci/run` as root in a chroot on a new debootstrap minbase Debian 12 root with a clone of HEAD
(docs/building.md says what goes in); the log in target/fresh/log/. Needs root; installs
debootstrap on the host when missing.

  --run COMMAND   run this bash command in the clone instead of `bash .ci/run`
                  (to debug one stage: --run 'cargo xtask ci --stage install')
";

pub fn run_cli(args: &[String]) -> Result {
    let args = crate::util::Args::parse(args, USAGE, "--run=")?;
    outer(args.value("--run").unwrap_or(DEFAULT_COMMAND))
}

pub fn inside() -> bool {
    std::env::var_os(INSIDE_ENV).is_some()
}

/// The `fresh` stage of `cargo xtask ci`: skipped inside a fresh root (no recursion).
pub fn stage() -> Result {
    if inside() {
        println!("inside a `cargo xtask fresh` root ({INSIDE_ENV} is set): not recursing");
        return Ok(());
    }
    outer(DEFAULT_COMMAND)
}

/// The output: the terminal and the log.
struct Tee(Mutex<fs::File>);

impl Tee {
    fn line(&self, text: &str) {
        println!("{text}");
        if let Ok(mut log) = self.0.lock() {
            let _ = writeln!(log, "{text}");
        }
    }

    /// Echoes and runs `cmd` (program, arguments, environment), stdout and stderr merged in here.
    fn run(&self, cmd: &Command) -> Result {
        self.line(&format!("$ {}", describe(cmd)));
        let mut merged = Command::new("sh");
        let (program, envs) = (cmd.get_program(), cmd.get_envs());
        merged.args(["-c", "exec \"$@\" 2>&1", "sh"]).arg(program);
        let envs = envs.filter_map(|(k, v)| Some((k, v?)));
        merged.args(cmd.get_args()).envs(envs);
        let child = merged.stdin(Stdio::null()).stdout(Stdio::piped()).spawn();
        let mut child = child.map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
        let mut reader = BufReader::new(child.stdout.take().expect("piped"));
        let mut buf = Vec::new();
        while reader.read_until(b'\n', &mut buf)? > 0 {
            self.line(String::from_utf8_lossy(&buf).trim_end_matches(['\n', '\r']));
            buf.clear();
        }
        let status = child.wait()?;
        if !status.success() {
            bail!("`{}` failed ({status})", Path::new(program).display());
        }
        Ok(())
    }
}

fn outer(command: &str) -> Result {
    let started = Instant::now();
    if inside() {
        bail!("already inside a fresh root ({INSIDE_ENV} is set)");
    }
    if !chronyd_fixture::unpack::is_root() {
        let why = "debootstrap, chroot and the mounts need it";
        bail!("cargo xtask fresh must run as root: {why}");
    }
    let dir = root().join("target/fresh");
    fs::create_dir_all(dir.join("log"))?;
    let stamp = output(cmd("date -u +%Y%m%dT%H%M%SZ"))?;
    let log = dir.join("log").join(format!("{}.log", stamp.trim()));
    let tee = Tee(Mutex::new(fs::File::create(&log)?));
    let log = display_rel(&log);
    let what = format!("`{command}` on a new Debian 12 root");
    tee.line(&format!("==== fresh: {what} (log: {log})"));

    let result = build_and_run(&tee, &dir, command);
    let cleanup = remove_root(&tee, &dir.join("root"));
    let took = minutes(started.elapsed());
    tee.line(&match (&result, &cleanup) {
        (Ok(phases), Ok(())) => {
            let passed = format!("`{command}` passed in a new Debian 12 root");
            format!("==== fresh: {passed}; total {took} ({phases}); log {log}")
        }
        (Err(e), _) => format!("==== fresh FAILED after {took}: {e}; log {log}"),
        (Ok(_), Err(e)) => format!("==== fresh: cleaning up failed: {e}"),
    });
    result?;
    cleanup
}

fn minutes(d: Duration) -> String {
    format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
}

/// The host's tools (debootstrap and Debian's keyring installed when missing) and toolchain: its
/// sysroot and rustup home.
fn host(tee: &Tee) -> Result<(PathBuf, PathBuf)> {
    let mut missing = Vec::new();
    if !on_path("debootstrap") {
        missing.push("debootstrap");
    }
    if !Path::new(KEYRING).exists() {
        missing.push("debian-archive-keyring");
    }
    if !missing.is_empty() {
        tee.run(&cmd("apt-get update -q"))?;
        tee.run(apt_install().args(&missing))?;
    }
    let tools = ["git", "unshare", "chroot", "bash", "mount"];
    if let Some(tool) = tools.iter().find(|t| !on_path(t)) {
        bail!("`{tool}` is needed on the host");
    }
    let sysroot = PathBuf::from(output(cmd("rustc --print sysroot"))?.trim());
    let toolchains = sysroot.parent().filter(|p| p.ends_with("toolchains"));
    let Some(rustup_home) = toolchains.and_then(Path::parent).map(PathBuf::from) else {
        let why = "is not a rustup toolchain (RUSTUP_HOME/toolchains/NAME)";
        bail!("the Rust toolchain {} {why}", sysroot.display());
    };
    let mut tools = "cargo rustc cargo-clippy cargo-fmt rustfmt rustdoc".split(' ');
    if let Some(tool) = tools.find(|t| !sysroot.join("bin").join(t).is_file()) {
        let fix = "rustup component add clippy rustfmt";
        bail!("the toolchain {} has no {tool} ({fix})", sysroot.display());
    }
    Ok((sysroot, rustup_home))
}

/// Everything but the cleanup; returns the phase times.
fn build_and_run(tee: &Tee, dir: &Path, command: &str) -> Result<String> {
    let (repo, root_dir) = (root(), dir.join("root"));
    let (sysroot, rustup_home) = host(tee)?;
    let git = |dir: &Path, args: &[&str]| output(Command::new("git").arg("-C").arg(dir).args(args));
    if !git(&repo, &["status", "--porcelain"])?.trim().is_empty() {
        let note = "the working tree has uncommitted changes";
        let without = "the fresh root gets HEAD without them";
        tee.line(&format!("note: {note}; {without}"));
    }

    // How long each phase took.
    let mut started = Instant::now();
    let mut lap = || minutes(std::mem::replace(&mut started, Instant::now()).elapsed());

    // 1. A new root from the cached packages.
    remove_root(tee, &root_dir)?;
    let tarball = dir.join(format!("debootstrap-{SUITE}-minbase-{PREREQUISITES}.tgz"));
    let debootstrap = |tarball_arg: String, target: &Path| {
        let mut cmd = cmd("debootstrap --variant=minbase");
        cmd.arg(format!("--include={PREREQUISITES}"));
        cmd.arg(format!("--keyring={KEYRING}"));
        tee.run(cmd.arg(tarball_arg).arg(SUITE).arg(target).arg(MIRROR))
    };
    if !tarball.exists() {
        let (work, partial) = (dir.join("tarball-work"), dir.join("tarball.partial.tgz"));
        remove_dir(&work)?;
        tee.line("downloading the packages once (debootstrap --make-tarball)");
        debootstrap(format!("--make-tarball={}", partial.display()), &work)?;
        fs::rename(&partial, &tarball)?;
        // debootstrap --make-tarball deletes its work directory itself ("Deleting target directory").
        remove_dir(&work)?;
    }
    debootstrap(format!("--unpack-tarball={}", tarball.display()), &root_dir)?;
    fs::write(root_dir.join("etc/apt/sources.list"), SOURCES_LIST)?;
    fs::copy("/etc/resolv.conf", root_dir.join("etc/resolv.conf"))?;
    trust_local_cas(tee, &root_dir)?;
    if !root_dir.join("etc/hosts").exists() {
        let hosts = "127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n";
        fs::write(root_dir.join("etc/hosts"), hosts)?;
    }
    let debootstrap_took = lap();

    // 2. The clone.
    let name = repo.file_name().unwrap_or("project".as_ref());
    let clone_rel = Path::new(CLONE_PARENT).join(name);
    let clone = root_dir.join(&clone_rel);
    fs::create_dir_all(clone.parent().expect("a parent"))?;
    let mut git_clone = cmd("git clone --quiet --no-hardlinks");
    tee.run(git_clone.arg(&repo).arg(&clone))?;
    let head = git(&clone, &["log", "-1", "--format=%h %s"])?;
    let (head, clone_rel_shown) = (head.trim(), clone_rel.display());
    tee.line(&format!("cloned HEAD {head} into /{clone_rel_shown}"));
    let clone_took = lap();

    // 3. + 4. The namespaces, the mounts, the chroot, the run.
    let toolchain = sysroot.strip_prefix(&rustup_home)?;
    let bin_inside = Path::new(RUSTUP_INSIDE).join(toolchain).join("bin");
    let path = format!("{}:{PATH}", bin_inside.display());
    // `env -i` inside: the host's network variables are passed as `NAME=VALUE` words.
    let set = |k: &str| Some(format!("{k}={}", std::env::var(k).ok()?));
    let network: Vec<String> = NETWORK_ENV.split_whitespace().filter_map(set).collect();
    if !network.is_empty() {
        tee.line(&format!("passed into the root: {}", network.join(" ")));
    }
    let mut unshare = cmd("unshare --mount --propagation private --pid --fork --kill-child --");
    unshare.args(["bash", "-c", PID1, "pid1"]).args(&network);
    let inner = format!("cd /{} && {command}", clone_rel.display());
    unshare.env("ROOT", &root_dir).env("RUSTUP", &rustup_home);
    unshare.env("HOST_NS", fs::read_link("/proc/self/ns/mnt")?);
    unshare.env("INNER_PATH", &path).env("INNER", inner);
    let failed = |e| format!("`{command}` failed inside the fresh root: {e}");
    tee.run(&unshare).map_err(failed)?;
    let took = format!("root {debootstrap_took}, clone {clone_took}");
    Ok(format!("{took}, {command} {}", lap()))
}

fn trust_local_cas(tee: &Tee, root_dir: &Path) -> Result {
    let mut certs = crate::util::files(Path::new(LOCAL_CAS)).unwrap_or_default();
    certs.retain(|p| p.extension().is_some_and(|x| x == "crt"));
    if certs.is_empty() {
        return Ok(());
    }
    let dest = root_dir.join(LOCAL_CAS.trim_start_matches('/'));
    fs::create_dir_all(&dest)?;
    for cert in &certs {
        fs::copy(cert, dest.join(cert.file_name().expect("a file")))?;
    }
    let n = certs.len();
    let trusted = format!("{n} local CA certificate(s) in {LOCAL_CAS}");
    tee.line(&format!("the host trusts {trusted}: the root does too"));
    tee.run(cmd("chroot").arg(root_dir).arg("update-ca-certificates"))
}

/// Removes `root_dir` unless something is mounted below it, which `rm -rf` could reach through.
fn remove_root(tee: &Tee, root_dir: &Path) -> Result {
    if !root_dir.exists() {
        return Ok(());
    }
    let dir = root_dir.display().to_string();
    let mountinfo = fs::read_to_string("/proc/self/mountinfo")?;
    let below = |m: &&str| *m == dir || m.starts_with(&format!("{dir}/"));
    let mounts = mountinfo.lines().filter_map(|l| l.split(' ').nth(4));
    let mounts: Vec<&str> = mounts.filter(below).collect();
    if !mounts.is_empty() {
        let (why, mounts) = ("unmount them, then remove it", mounts.join(" "));
        bail!("mounts are left under {dir} ({why}): {mounts}");
    }
    tee.run(cmd("rm -rf --one-file-system").arg(root_dir))
}
