//! `cargo xtask fresh`: `bash .ci/run` on a pristine Debian 12, to prove the install stage installs everything.
//!
//! 1. A brand-new root: `debootstrap --variant=minbase` with only the README's prerequisites added (`gcc`,
//!    `libc6-dev`, `ca-certificates`), from a tarball of the packages made once (`--make-tarball` into
//!    target/fresh/, then `--unpack-tarball`: a rerun downloads nothing, but every run unpacks a new root).
//!    A clean Debian 12's apt sources (bookworm, -updates, -security) and the host's /etc/resolv.conf.
//! 2. `git clone` of this repository's HEAD into it (uncommitted changes are not included).
//! 3. `unshare --mount --pid --fork --kill-child`: a private mount namespace (every mount below vanishes with
//!    it) and a pid namespace whose pid 1 is a bash that reaps orphans (pids inside start at 1). In it: /proc
//!    (of that pid namespace; the root is first bind-mounted onto itself, so that `/` is a mount point inside,
//!    as on a real machine), /sys (read-only), a small /dev (null, zero, full, random, urandom, tty; a new
//!    devpts; /dev/shm), and the host's rustup home read-only at /root/.rustup: cargo and rustc run straight
//!    from the toolchain's bin directory (the rustup proxies are not used, so rustup needs no writable home),
//!    with an empty, writable CARGO_HOME=/root/.cargo inside the root. The network is the host's, so Debian's
//!    mirror, crates.io and PyPI are reachable.
//! 4. `chroot` and, with a clean environment (CI=true, XTASK_FRESH=inside so the run does not recurse, no
//!    stdin), `bash .ci/run` as root.
//!
//! Output goes to the terminal and to `target/fresh/log/<time>.log`. Afterwards (also on failure) the root is
//! removed, once no mount is left below it. Nothing outside target/ changes (debootstrap itself is installed on
//! the host with apt-get when missing, as a build tool).

use crate::util::{Result, display_rel, output, root};
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
const PREREQUISITES: &[&str] = &["ca-certificates", "gcc", "libc6-dev"];
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
    match args.first().map(String::as_str) {
        None => outer(DEFAULT_COMMAND),
        Some("--run") => match &args[1..] {
            [command] => outer(command),
            _ => Err(format!("--run needs one COMMAND\n\n{USAGE}").into()),
        },
        Some("--mount-root") => match &args[1..] {
            [root_dir, host_ns, rustup] => {
                mount_root(Path::new(root_dir), host_ns, Path::new(rustup))
            }
            _ => Err("--mount-root ROOT HOST_MNT_NS RUSTUP_HOME".into()),
        },
        Some("-h" | "--help") => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown argument `{other}`\n\n{USAGE}").into()),
    }
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

// ---- the output: terminal and log -------------------------------------------

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

    /// Runs `cmd` with stdout and stderr merged into this output; fails unless it exits 0.
    fn run(&self, cmd: &mut Command) -> Result {
        self.line(&format!("$ {}", crate::util::describe(cmd)));
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
        if status.success() {
            Ok(())
        } else {
            Err(format!(
                "`{}` failed ({status})",
                Path::new(cmd.get_program()).display()
            )
            .into())
        }
    }

    /// Runs `cmd` (stdout piped, stdin null) and copies its output line by line.
    fn stream(&self, cmd: &mut Command) -> Result<std::process::ExitStatus> {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
        let stdout = child.stdout.take().expect("piped");
        let mut reader = BufReader::new(stdout);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            if reader.read_until(b'\n', &mut buf)? == 0 {
                break;
            }
            let text = String::from_utf8_lossy(&buf);
            self.line(text.trim_end_matches(['\n', '\r']));
        }
        Ok(child.wait()?)
    }
}

// ---- outside: root, clone, namespaces -----------------------------------------

fn outer(command: &str) -> Result {
    let started = Instant::now();
    if inside() {
        return Err(format!("already inside a fresh root ({INSIDE_ENV} is set)").into());
    }
    if output(Command::new("id").arg("-u"))?.trim() != "0" {
        return Err(
            "cargo xtask fresh must run as root: debootstrap, chroot and the mounts need it".into(),
        );
    }
    let repo = root();
    let dir = repo.join("target/fresh");
    let root_dir = dir.join("root");
    fs::create_dir_all(dir.join("log"))?;
    let stamp = output(Command::new("date").args(["-u", "+%Y%m%dT%H%M%SZ"]))?;
    let log_path = dir.join("log").join(format!("{}.log", stamp.trim()));
    let tee = Tee {
        log: Mutex::new(fs::File::create(&log_path)?),
        path: log_path.clone(),
    };
    tee.line(&format!(
        "==== fresh: `{command}` on a new Debian 12 root (log: {})",
        display_rel(&log_path)
    ));

    let result = build_and_run(&tee, &repo, &dir, &root_dir, command);
    let cleanup = remove_root(&tee, &root_dir);
    let took = started.elapsed();
    match (&result, &cleanup) {
        (Ok(phases), Ok(())) => {
            tee.line(&format!(
                "==== fresh: `{command}` passed in a new Debian 12 root; total {} ({}); log {}",
                minutes(took),
                phases,
                display_rel(&tee.path)
            ));
        }
        (Err(e), _) => tee.line(&format!(
            "==== fresh FAILED after {}: {e}; log {}",
            minutes(took),
            display_rel(&tee.path)
        )),
        (Ok(_), Err(e)) => tee.line(&format!("==== fresh: cleaning up failed: {e}")),
    }
    result?;
    cleanup
}

fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}m{:02}s", s / 60, s % 60)
}

/// Everything but the cleanup; returns the phase times.
fn build_and_run(
    tee: &Tee,
    repo: &Path,
    dir: &Path,
    root_dir: &Path,
    command: &str,
) -> Result<String> {
    // Host tools (debootstrap and Debian's keyring, on Ubuntu too, are build tools: installed when missing).
    let mut host_packages = Vec::new();
    if !on_path("debootstrap") {
        host_packages.push("debootstrap");
    }
    if !Path::new(KEYRING).exists() {
        host_packages.push("debian-archive-keyring");
    }
    if !host_packages.is_empty() {
        tee.run(Command::new("apt-get").args(["update", "-q"]))?;
        tee.run(
            Command::new("apt-get")
                .env("DEBIAN_FRONTEND", "noninteractive")
                .args(["install", "-y", "-q", "--no-install-recommends"])
                .args(&host_packages),
        )?;
    }
    for tool in ["git", "unshare", "chroot", "bash", "mount"] {
        if !on_path(tool) {
            return Err(format!("`{tool}` is needed on the host").into());
        }
    }
    let sysroot = PathBuf::from(output(Command::new("rustc").args(["--print", "sysroot"]))?.trim());
    let rustup_home = sysroot
        .parent()
        .and_then(Path::parent)
        .filter(|_| sysroot.parent().is_some_and(|p| p.ends_with("toolchains")))
        .ok_or_else(|| {
            format!(
                "the Rust toolchain {} is not a rustup toolchain (RUSTUP_HOME/toolchains/NAME)",
                sysroot.display()
            )
        })?
        .to_path_buf();
    let toolchain_bin_inside = Path::new(RUSTUP_INSIDE)
        .join(sysroot.strip_prefix(&rustup_home)?)
        .join("bin");
    for tool in [
        "cargo",
        "rustc",
        "cargo-clippy",
        "cargo-fmt",
        "rustfmt",
        "rustdoc",
    ] {
        if !sysroot.join("bin").join(tool).is_file() {
            return Err(format!(
                "the toolchain {} has no {tool} (rustup component add clippy rustfmt)",
                sysroot.display()
            )
            .into());
        }
    }
    let dirty = output(
        Command::new("git")
            .arg("-C")
            .arg(repo)
            .args(["status", "--porcelain"]),
    )?;
    if !dirty.trim().is_empty() {
        tee.line(
            "note: the working tree has uncommitted changes; the fresh root gets HEAD without them",
        );
    }

    // 1. A new root from the cached packages.
    let t = Instant::now();
    remove_root(tee, root_dir)?;
    let tarball = dir.join(format!(
        "debootstrap-{SUITE}-minbase-{}.tgz",
        PREREQUISITES.join(",")
    ));
    let include = format!("--include={}", PREREQUISITES.join(","));
    let keyring = format!("--keyring={KEYRING}");
    if !tarball.exists() {
        let work = dir.join("tarball-work");
        if work.exists() {
            fs::remove_dir_all(&work)?;
        }
        let partial = dir.join("tarball.partial.tgz");
        tee.line("downloading the packages once (debootstrap --make-tarball)");
        tee.run(
            Command::new("debootstrap")
                .args(["--variant=minbase", &include, &keyring])
                .arg(format!("--make-tarball={}", partial.display()))
                .arg(SUITE)
                .arg(&work)
                .arg(MIRROR),
        )?;
        fs::rename(&partial, &tarball)?;
        // debootstrap --make-tarball deletes its work directory itself ("Deleting target directory").
        match fs::remove_dir_all(&work) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    tee.run(
        Command::new("debootstrap")
            .args(["--variant=minbase", &include, &keyring])
            .arg(format!("--unpack-tarball={}", tarball.display()))
            .arg(SUITE)
            .arg(root_dir)
            .arg(MIRROR),
    )?;
    fs::write(root_dir.join("etc/apt/sources.list"), SOURCES_LIST)?;
    fs::copy("/etc/resolv.conf", root_dir.join("etc/resolv.conf"))?;
    trust_local_cas(tee, root_dir)?;
    if !root_dir.join("etc/hosts").exists() {
        fs::write(
            root_dir.join("etc/hosts"),
            "127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n",
        )?;
    }
    let debootstrap_took = t.elapsed();

    // 2. The clone.
    let t = Instant::now();
    let name = repo
        .file_name()
        .map_or("project".into(), |n| n.to_string_lossy().into_owned());
    let clone_rel = Path::new(CLONE_PARENT).join(&name);
    let clone = root_dir.join(&clone_rel);
    fs::create_dir_all(clone.parent().expect("a parent"))?;
    tee.run(
        Command::new("git")
            .args(["clone", "--quiet", "--no-hardlinks"])
            .arg(repo)
            .arg(&clone),
    )?;
    let head =
        output(
            Command::new("git")
                .arg("-C")
                .arg(&clone)
                .args(["log", "-1", "--format=%h %s"]),
        )?;
    tee.line(&format!(
        "cloned HEAD {} into /{}",
        head.trim(),
        clone_rel.display()
    ));
    let clone_took = t.elapsed();

    // 3. + 4. The namespaces, the mounts, the chroot, the run.
    let t = Instant::now();
    let host_ns = fs::read_link("/proc/self/ns/mnt")?;
    let xtask = crate::util::xtask_bin()?;
    let path = format!(
        "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        toolchain_bin_inside.display()
    );
    let inner = format!("cd /{} && {command}", clone_rel.display());
    // `env -i` inside: the host's network variables are passed as `NAME=VALUE` words.
    let network: Vec<String> = NETWORK_ENV
        .iter()
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
    let mut unshare = Command::new("unshare");
    unshare
        .args([
            "--mount",
            "--propagation",
            "private",
            "--pid",
            "--fork",
            "--kill-child",
            "--",
        ])
        .args(["bash", "-c", PID1, "pid1"])
        .args(&network)
        .env("XTASK", &xtask)
        .env("ROOT", root_dir)
        .env("HOST_NS", &host_ns)
        .env("RUSTUP", &rustup_home)
        .env("INNER_PATH", &path)
        .env("INNER", &inner);
    tee.line(&format!("$ {}", crate::util::describe(&unshare)));
    let status = tee.stream(&mut unshare)?;
    let run_took = t.elapsed();
    if !status.success() {
        return Err(format!("`{command}` failed inside the fresh root ({status})").into());
    }
    Ok(format!(
        "root {}, clone {}, {command} {}",
        minutes(debootstrap_took),
        minutes(clone_took),
        minutes(run_took)
    ))
}

/// The host's network setup that a root on its network needs besides resolv.conf: local CA certificates
/// (a network that intercepts TLS, as this project's CI machines' does, signs with one) and the proxy and
/// CA-bundle variables (pip trusts its own bundle unless told otherwise).
const NETWORK_ENV: &[&str] = &[
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "CURL_CA_BUNDLE",
    "REQUESTS_CA_BUNDLE",
    "PIP_CERT",
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "CARGO_HTTP_CAINFO",
];
const LOCAL_CAS: &str = "/usr/local/share/ca-certificates";

/// Copies the host's local CA certificates into the root and runs its update-ca-certificates.
fn trust_local_cas(tee: &Tee, root_dir: &Path) -> Result {
    let Ok(entries) = fs::read_dir(LOCAL_CAS) else {
        return Ok(());
    };
    let certs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
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
    tee.line(&format!(
        "the host trusts {} local CA certificate(s) in {LOCAL_CAS}: the root does too",
        certs.len()
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
    let prefix = format!("{}/", root_dir.display());
    let mounts: Vec<String> = fs::read_to_string("/proc/self/mountinfo")?
        .lines()
        .filter_map(|l| l.split_whitespace().nth(4).map(str::to_string))
        .filter(|m| m == &root_dir.display().to_string() || m.starts_with(&prefix))
        .collect();
    if !mounts.is_empty() {
        return Err(format!(
            "mounts are left under {} (unmount them, then remove it): {}",
            root_dir.display(),
            mounts.join(" ")
        )
        .into());
    }
    tee.run(
        Command::new("rm")
            .args(["-rf", "--one-file-system"])
            .arg(root_dir),
    )?;
    Ok(())
}

// ---- inside the namespaces, before the chroot -----------------------------------

/// Mounts /proc, /sys, /dev and the rustup home inside `root_dir`, in this private mount namespace.
fn mount_root(root_dir: &Path, host_ns: &str, rustup: &Path) -> Result {
    let mine = fs::read_link("/proc/self/ns/mnt")?;
    if mine.as_os_str() == host_ns {
        return Err(
            "--mount-root must run in a private mount namespace (use `cargo xtask fresh`)".into(),
        );
    }
    if !root_dir.join("etc/debian_version").exists() || !root_dir.ends_with("target/fresh/root") {
        return Err(format!("{} is not a fresh root", root_dir.display()).into());
    }
    let mount = |args: &[&str], target: &Path| -> Result {
        crate::util::run(Command::new("mount").args(args).arg(target))
    };
    let r = |p: &str| root_dir.join(p);
    // The root a mount point of its own, as `/` is on a real machine: inside the chroot, `unshare --mount
    // --propagation private` (the discovery stage) changes the propagation of `/`, which fails with EINVAL on
    // a plain directory.
    mount(&["--bind", &root_dir.display().to_string()], root_dir)?;
    mount(
        &["-t", "proc", "-o", "nosuid,nodev,noexec", "proc"],
        &r("proc"),
    )?;
    mount(
        &["-t", "sysfs", "-o", "ro,nosuid,nodev,noexec", "sysfs"],
        &r("sys"),
    )?;
    mount(
        &["-t", "tmpfs", "-o", "nosuid,mode=0755,size=16m", "dev"],
        &r("dev"),
    )?;
    for node in ["null", "zero", "full", "random", "urandom", "tty"] {
        let target = r("dev").join(node);
        fs::write(&target, "")?;
        mount(&["--bind", &format!("/dev/{node}")], &target)?;
    }
    fs::create_dir(r("dev/pts"))?;
    mount(
        &[
            "-t",
            "devpts",
            "-o",
            "newinstance,ptmxmode=0666,mode=0620,gid=5",
            "devpts",
        ],
        &r("dev/pts"),
    )?;
    std::os::unix::fs::symlink("pts/ptmx", r("dev/ptmx"))?;
    fs::create_dir(r("dev/shm"))?;
    mount(
        &["-t", "tmpfs", "-o", "nosuid,nodev,mode=1777", "shm"],
        &r("dev/shm"),
    )?;
    for (link, to) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        std::os::unix::fs::symlink(to, r("dev").join(link))?;
    }
    let rustup_inside = root_dir.join(RUSTUP_INSIDE.trim_start_matches('/'));
    fs::create_dir_all(&rustup_inside)?;
    mount(&["--bind", &rustup.display().to_string()], &rustup_inside)?;
    mount(&["-o", "remount,bind,ro"], &rustup_inside)?;
    Ok(())
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}
