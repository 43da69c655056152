//! `cargo xtask fresh`: `bash .ci/run` on a pristine Debian 12, to prove the install stage installs
//! everything (the steps: [`USAGE`] and docs/building.md).
//!
//! The root comes from `debootstrap --variant=minbase --unpack-tarball` (the packages are fetched
//! once with `--make-tarball` into target/fresh/). `unshare --mount --pid --fork --kill-child`
//! gives a private mount namespace, in which every mount below vanishes with it, and a pid
//! namespace whose pid 1 is a bash that reaps orphans. Inside: the root bind-mounted onto itself
//! (so `/` is a mount point, as on a real machine), /proc, /sys (read-only), a small /dev, and the
//! host's rustup home read-only: cargo and rustc run from the toolchain's bin directory (not the
//! rustup proxies, so rustup needs no writable home), with an empty CARGO_HOME in the root. Then
//! `chroot` with a clean environment (CI=true, XTASK_FRESH=inside so the run does not recurse).
//! Nothing outside target/ changes (debootstrap is installed on the host when missing).

use crate::util::{Result, cmd, describe, display_rel, output, root};
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::symlink;
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
/// A clean Debian 12's apt sources.
const SOURCES_LIST: &str = "\
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
";
/// Where the clone goes inside the root, and the toolchain's rustup home there.
const CLONE_PARENT: &str = "root/src";
const RUSTUP_INSIDE: &str = "/root/.rustup";
/// What runs in the clone.
const DEFAULT_COMMAND: &str = "bash .ci/run";
/// The host's network setup that a root on its network needs besides resolv.conf: local CA
/// certificates (a network that intercepts TLS, as this project's CI machines' does, signs with
/// one) and the proxy and CA-bundle variables (pip trusts its own bundle unless told otherwise).
const NETWORK_ENV: &str = "http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY \
    SSL_CERT_FILE SSL_CERT_DIR CURL_CA_BUNDLE REQUESTS_CA_BUNDLE PIP_CERT PIP_INDEX_URL \
    PIP_EXTRA_INDEX_URL CARGO_HTTP_CAINFO";
const LOCAL_CAS: &str = "/usr/local/share/ca-certificates";

const USAGE: &str = "\
usage: cargo xtask fresh [--run COMMAND]

Proves `bash .ci/run` passes on a pristine Debian 12: a new debootstrap --variant=minbase
root (plus gcc, libc6-dev, ca-certificates: the README's prerequisites; the packages are
cached once in target/fresh/ as a debootstrap tarball), a git clone of HEAD (uncommitted
changes are not included), the host's Rust toolchain bind-mounted read-only, then, as
root in a chroot with private mount and pid namespaces (pids start at 1) and the host's
network, `bash .ci/run`. Everything else must come from the install stage. Output goes
to the terminal and to target/fresh/log/; the root and its mounts are removed afterwards,
also on failure. Needs root (debootstrap, chroot, mounts); installs debootstrap on the
host when missing.

  --run COMMAND   run this bash command in the clone instead of `bash .ci/run`
                  (to debug one stage: --run 'cargo xtask ci --stage install')
";

pub fn run_cli(args: &[String]) -> Result {
    if let [flag, root_dir, host_ns, rustup] = args {
        if flag == "--mount-root" {
            return mount_root(Path::new(root_dir), host_ns, Path::new(rustup));
        }
    }
    let Some(args) = crate::util::Args::parse(args, USAGE, "--run=")? else {
        return Ok(());
    };
    outer(args.value("--run").unwrap_or(DEFAULT_COMMAND))
}

/// Whether this process runs inside a `fresh` root (set for `bash .ci/run` there).
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
struct Tee {
    log: Mutex<fs::File>,
    path: PathBuf,
}

impl Tee {
    fn line(&self, text: &str) {
        println!("{text}");
        if let Ok(mut f) = self.log.lock() {
            let _ = writeln!(f, "{text}");
        }
    }

    /// Echoes and runs `cmd` with stdout and stderr merged into this output; fails unless it exits 0.
    fn run(&self, cmd: &mut Command) -> Result {
        self.line(&format!("$ {}", describe(cmd)));
        let mut merged = Command::new("sh");
        merged
            .args(["-c", "exec \"$@\" 2>&1", "sh"])
            .arg(cmd.get_program())
            .args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => merged.env(k, v),
                None => merged.env_remove(k),
            };
        }
        if let Some(dir) = cmd.get_current_dir() {
            merged.current_dir(dir);
        }
        let status = self.stream(&mut merged)?;
        if !status.success() {
            let program = Path::new(cmd.get_program()).display();
            return Err(format!("`{program}` failed ({status})").into());
        }
        Ok(())
    }

    /// Runs `cmd` (stdout piped, stdin null) and copies its output line by line.
    fn stream(&self, cmd: &mut Command) -> Result<std::process::ExitStatus> {
        let child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).spawn();
        let mut child = child.map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
        let mut reader = BufReader::new(child.stdout.take().expect("piped"));
        let mut buf = Vec::new();
        while reader.read_until(b'\n', &mut buf)? > 0 {
            self.line(String::from_utf8_lossy(&buf).trim_end_matches(['\n', '\r']));
            buf.clear();
        }
        Ok(child.wait()?)
    }
}

fn outer(command: &str) -> Result {
    let started = Instant::now();
    if inside() {
        return Err(format!("already inside a fresh root ({INSIDE_ENV} is set)").into());
    }
    if !chronyd_fixture::unpack::is_root() {
        let why = "debootstrap, chroot and the mounts need it";
        return Err(format!("cargo xtask fresh must run as root: {why}").into());
    }
    let dir = root().join("target/fresh");
    let root_dir = dir.join("root");
    fs::create_dir_all(dir.join("log"))?;
    let stamp = output(cmd("date -u +%Y%m%dT%H%M%SZ"))?;
    let path = dir.join("log").join(format!("{}.log", stamp.trim()));
    let tee = Tee {
        log: Mutex::new(fs::File::create(&path)?),
        path,
    };
    let log = display_rel(&tee.path);
    tee.line(&format!(
        "==== fresh: `{command}` on a new Debian 12 root (log: {log})"
    ));

    let result = build_and_run(&tee, &dir, &root_dir, command);
    let cleanup = remove_root(&tee, &root_dir);
    let took = minutes(started.elapsed());
    tee.line(&match (&result, &cleanup) {
        (Ok(phases), Ok(())) => format!(
            "==== fresh: `{command}` passed in a new Debian 12 root; total {took} ({phases}); log {log}"
        ),
        (Err(e), _) => format!("==== fresh FAILED after {took}: {e}; log {log}"),
        (Ok(_), Err(e)) => format!("==== fresh: cleaning up failed: {e}"),
    });
    result?;
    cleanup
}

fn minutes(d: Duration) -> String {
    format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
}

/// Everything but the cleanup; returns the phase times.
fn build_and_run(tee: &Tee, dir: &Path, root_dir: &Path, command: &str) -> Result<String> {
    let repo = root();
    // Host tools (debootstrap and Debian's keyring, on Ubuntu too, are build tools: installed when missing).
    let mut host_packages = Vec::new();
    if !on_path("debootstrap") {
        host_packages.push("debootstrap");
    }
    if !Path::new(KEYRING).exists() {
        host_packages.push("debian-archive-keyring");
    }
    if !host_packages.is_empty() {
        tee.run(&mut cmd("apt-get update -q"))?;
        let mut install = cmd("apt-get install -y -q --no-install-recommends");
        tee.run(
            install
                .env("DEBIAN_FRONTEND", "noninteractive")
                .args(&host_packages),
        )?;
    }
    if let Some(tool) = ["git", "unshare", "chroot", "bash", "mount"]
        .iter()
        .find(|t| !on_path(t))
    {
        return Err(format!("`{tool}` is needed on the host").into());
    }
    let sysroot = PathBuf::from(output(cmd("rustc --print sysroot"))?.trim());
    let toolchains = sysroot.parent().filter(|p| p.ends_with("toolchains"));
    let Some(rustup_home) = toolchains.and_then(Path::parent) else {
        let sysroot = sysroot.display();
        let why = "is not a rustup toolchain (RUSTUP_HOME/toolchains/NAME)";
        return Err(format!("the Rust toolchain {sysroot} {why}").into());
    };
    let toolchain_bin_inside = Path::new(RUSTUP_INSIDE)
        .join(sysroot.strip_prefix(rustup_home)?)
        .join("bin");
    let tools = [
        "cargo",
        "rustc",
        "cargo-clippy",
        "cargo-fmt",
        "rustfmt",
        "rustdoc",
    ];
    if let Some(tool) = tools
        .iter()
        .find(|t| !sysroot.join("bin").join(t).is_file())
    {
        let sysroot = sysroot.display();
        let fix = "rustup component add clippy rustfmt";
        return Err(format!("the toolchain {sysroot} has no {tool} ({fix})").into());
    }
    let git = |dir: &Path, args: &[&str]| output(Command::new("git").arg("-C").arg(dir).args(args));
    if !git(&repo, &["status", "--porcelain"])?.trim().is_empty() {
        tee.line(
            "note: the working tree has uncommitted changes; the fresh root gets HEAD without them",
        );
    }

    // 1. A new root from the cached packages.
    let t = Instant::now();
    remove_root(tee, root_dir)?;
    let tarball = dir.join(format!("debootstrap-{SUITE}-minbase-{PREREQUISITES}.tgz"));
    let debootstrap = |tarball_arg: String, target: &Path| {
        let mut cmd = cmd("debootstrap --variant=minbase");
        cmd.arg(format!("--include={PREREQUISITES}"))
            .arg(format!("--keyring={KEYRING}"));
        cmd.arg(tarball_arg).arg(SUITE).arg(target).arg(MIRROR);
        tee.run(&mut cmd)
    };
    if !tarball.exists() {
        let (work, partial) = (dir.join("tarball-work"), dir.join("tarball.partial.tgz"));
        if work.exists() {
            fs::remove_dir_all(&work)?;
        }
        tee.line("downloading the packages once (debootstrap --make-tarball)");
        debootstrap(format!("--make-tarball={}", partial.display()), &work)?;
        fs::rename(&partial, &tarball)?;
        // debootstrap --make-tarball deletes its work directory itself ("Deleting target directory").
        match fs::remove_dir_all(&work) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    debootstrap(format!("--unpack-tarball={}", tarball.display()), root_dir)?;
    fs::write(root_dir.join("etc/apt/sources.list"), SOURCES_LIST)?;
    fs::copy("/etc/resolv.conf", root_dir.join("etc/resolv.conf"))?;
    trust_local_cas(tee, root_dir)?;
    if !root_dir.join("etc/hosts").exists() {
        let hosts = "127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n";
        fs::write(root_dir.join("etc/hosts"), hosts)?;
    }
    let debootstrap_took = minutes(t.elapsed());

    // 2. The clone.
    let t = Instant::now();
    let name = repo
        .file_name()
        .map_or("project".into(), |n| n.to_string_lossy());
    let clone_rel = Path::new(CLONE_PARENT).join(&*name);
    let clone = root_dir.join(&clone_rel);
    fs::create_dir_all(clone.parent().expect("a parent"))?;
    tee.run(
        cmd("git clone --quiet --no-hardlinks")
            .arg(&repo)
            .arg(&clone),
    )?;
    let head = git(&clone, &["log", "-1", "--format=%h %s"])?;
    tee.line(&format!(
        "cloned HEAD {} into /{}",
        head.trim(),
        clone_rel.display()
    ));
    let clone_took = minutes(t.elapsed());

    // 3. + 4. The namespaces, the mounts, the chroot, the run.
    let t = Instant::now();
    let path = format!(
        "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        toolchain_bin_inside.display()
    );
    // `env -i` inside: the host's network variables are passed as `NAME=VALUE` words.
    let network: Vec<String> = NETWORK_ENV
        .split_whitespace()
        .filter_map(|k| std::env::var(k).ok().map(|v| format!("{k}={v}")))
        .collect();
    if !network.is_empty() {
        tee.line(&format!("passed into the root: {}", network.join(" ")));
    }
    // pid 1 of the new pid namespace is this bash: it runs the chroot in the foreground and reaps every orphan
    // (daemonised chronyd ends up with it); when it exits, the kernel ends whatever is left in the namespace.
    const PID1: &str = "set -eu\nexec 2>&1\n\
        \"$XTASK\" fresh --mount-root \"$ROOT\" \"$HOST_NS\" \"$RUSTUP\"\n\
        echo \"==== inside: pid $$ of a new pid namespace, $INNER as $(id -un) in a chroot\"\n\
        chroot \"$ROOT\" /usr/bin/env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/bash \
        LANG=C.UTF-8 TERM=dumb CI=true \"XTASK_FRESH=inside\" CARGO_HOME=/root/.cargo \
        \"PATH=$INNER_PATH\" \"$@\" /bin/bash -c \"$INNER\"\n";
    let mut unshare = cmd("unshare --mount --propagation private --pid --fork --kill-child --");
    unshare.args(["bash", "-c", PID1, "pid1"]).args(&network);
    unshare
        .env("XTASK", crate::util::xtask_bin()?)
        .env("ROOT", root_dir)
        .env("HOST_NS", fs::read_link("/proc/self/ns/mnt")?)
        .env("RUSTUP", rustup_home)
        .env("INNER_PATH", &path)
        .env("INNER", format!("cd /{} && {command}", clone_rel.display()));
    tee.line(&format!("$ {}", describe(&unshare)));
    let status = tee.stream(&mut unshare)?;
    if !status.success() {
        return Err(format!("`{command}` failed inside the fresh root ({status})").into());
    }
    let run_took = minutes(t.elapsed());
    Ok(format!(
        "root {debootstrap_took}, clone {clone_took}, {command} {run_took}"
    ))
}

/// Copies the host's local CA certificates into the root and runs its update-ca-certificates.
fn trust_local_cas(tee: &Tee, root_dir: &Path) -> Result {
    let Ok(entries) = fs::read_dir(LOCAL_CAS) else {
        return Ok(());
    };
    let certs: Vec<PathBuf> = entries
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "crt"))
        .collect();
    if certs.is_empty() {
        return Ok(());
    }
    let dest = root_dir.join(LOCAL_CAS.trim_start_matches('/'));
    fs::create_dir_all(&dest)?;
    for cert in &certs {
        fs::copy(cert, dest.join(cert.file_name().expect("a file")))?;
    }
    let n = certs.len();
    tee.line(&format!(
        "the host trusts {n} local CA certificate(s) in {LOCAL_CAS}: the root does too"
    ));
    tee.run(
        Command::new("chroot")
            .arg(root_dir)
            .arg("update-ca-certificates"),
    )
}

/// Removes `root_dir` after checking that nothing is mounted below it (the mounts live in a private namespace,
/// so none should be; if one were, `rm -rf` could reach through it).
fn remove_root(tee: &Tee, root_dir: &Path) -> Result {
    if !root_dir.exists() {
        return Ok(());
    }
    let (dir, prefix) = (
        root_dir.display().to_string(),
        format!("{}/", root_dir.display()),
    );
    let mountinfo = fs::read_to_string("/proc/self/mountinfo")?;
    let mounts: Vec<&str> = mountinfo
        .lines()
        .filter_map(|l| l.split_whitespace().nth(4))
        .filter(|m| *m == dir || m.starts_with(&prefix))
        .collect();
    if !mounts.is_empty() {
        let mounts = mounts.join(" ");
        return Err(format!(
            "mounts are left under {dir} (unmount them, then remove it): {mounts}"
        )
        .into());
    }
    tee.run(cmd("rm -rf --one-file-system").arg(root_dir))
}

/// Inside the namespaces, before the chroot: mounts /proc, /sys, /dev and the rustup home inside
/// `root_dir`, in this private mount namespace.
fn mount_root(root_dir: &Path, host_ns: &str, rustup: &Path) -> Result {
    if fs::read_link("/proc/self/ns/mnt")?.as_os_str() == host_ns {
        let why = "must run in a private mount namespace (use `cargo xtask fresh`)";
        return Err(format!("--mount-root {why}").into());
    }
    if !root_dir.join("etc/debian_version").exists() || !root_dir.ends_with("target/fresh/root") {
        return Err(format!("{} is not a fresh root", root_dir.display()).into());
    }
    let r = |p: &str| root_dir.join(p);
    let mount =
        |args: &str, target: &Path| crate::util::run(cmd(&format!("mount {args}")).arg(target));
    // The root a mount point of its own, as `/` is on a real machine: inside the chroot, `unshare --mount
    // --propagation private` (the discovery stage) changes the propagation of `/`, which fails with EINVAL on
    // a plain directory.
    crate::util::run(cmd("mount --bind").arg(root_dir).arg(root_dir))?;
    mount("-t proc -o nosuid,nodev,noexec proc", &r("proc"))?;
    mount("-t sysfs -o ro,nosuid,nodev,noexec sysfs", &r("sys"))?;
    mount("-t tmpfs -o nosuid,mode=0755,size=16m dev", &r("dev"))?;
    for node in ["null", "zero", "full", "random", "urandom", "tty"] {
        let target = r("dev").join(node);
        fs::write(&target, "")?;
        mount(&format!("--bind /dev/{node}"), &target)?;
    }
    fs::create_dir(r("dev/pts"))?;
    mount(
        "-t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts",
        &r("dev/pts"),
    )?;
    symlink("pts/ptmx", r("dev/ptmx"))?;
    fs::create_dir(r("dev/shm"))?;
    mount("-t tmpfs -o nosuid,nodev,mode=1777 shm", &r("dev/shm"))?;
    let fds = [
        ("fd", ""),
        ("stdin", "/0"),
        ("stdout", "/1"),
        ("stderr", "/2"),
    ];
    for (link, fd) in fds {
        symlink(format!("/proc/self/fd{fd}"), r("dev").join(link))?;
    }
    let rustup_inside = r(RUSTUP_INSIDE.trim_start_matches('/'));
    fs::create_dir_all(&rustup_inside)?;
    crate::util::run(cmd("mount --bind").arg(rustup).arg(&rustup_inside))?;
    mount("-o remount,bind,ro", &rustup_inside)
}

fn on_path(program: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).any(|dir| dir.join(program).is_file())
}
