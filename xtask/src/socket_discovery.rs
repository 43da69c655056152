//! `cargo xtask test-socket-discovery` ([`USAGE`]): runs itself again (`--inside`) under `unshare
//! --mount --propagation private`, mounts a tmpfs named `discovery` over the [`COVERED`]
//! directories (the tests check for it and [`NAMESPACE_ENV`]), runs the tests, then checks that no
//! process is left.

use crate::util::{Result, bail, build_executables, cmd, display_rel, pychrony_version, root, run};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Venvs with the wheel installed, preferred first: the `python` stage's, tests/run.sh's.
const VENVS: &[&str] = &["target/ci-venv", "target/py-venv"];
const NAMESPACE_ENV: &str = "CHRONY_DISCOVERY_NAMESPACE";
/// The directories the namespace covers with a tmpfs, and their modes.
const COVERED: [(&str, &str); 3] = [("/run", "0755"), ("/var", "0755"), ("/tmp", "1777")];

const USAGE: &str = "usage: cargo xtask test-socket-discovery

Runs chrony-core/tests/discovery.rs and pychrony-py/tests/test_discovery.py (real chronyd
daemons at /run/chrony/chronyd.sock and /var/run/chrony/chronyd.sock) inside a private
mount namespace with tmpfs over /run, /var and /tmp: the host is untouched. The Python
tests use the venv of the `python` stage. Must run as root.
";

pub fn run_cli(args: &[String]) -> Result {
    if args.first().is_some_and(|a| a == "--inside") {
        return inside(&args[1..]);
    }
    crate::util::Args::parse(args, USAGE, "")?;
    stage()
}

/// The `discovery` stage: builds what runs inside, then runs this command in the namespace.
pub fn stage() -> Result {
    let start = Instant::now();
    if !chronyd_fixture::unpack::is_root() {
        let why = "it mounts tmpfs over /run and /var in a private mount namespace (unshare \
                   --mount) and runs clients as `nobody`";
        bail!("test-socket-discovery must run as root: {why}");
    }
    let chrony = chronyd_fixture::Chrony::find()?;
    // The client the test runs (tests/common finds it beside the test binary), then the test.
    crate::util::build_example("tracking", false, &[])?;
    let tests = build_executables("test --no-run -p chrony-core --test discovery")?;
    let rust = tests.into_iter().find(|e| e.test).map(|e| e.path);
    let rust = rust.ok_or("cargo did not report chrony-core's `discovery` test executable")?;
    let python = find_venv_python()?;
    // A copy: an earlier stage may have relinked target/debug/xtask (see xtask_bin).
    let exe = crate::util::xtask_bin()?;
    let mut unshare = cmd("unshare --mount --propagation private --");
    // The same chronyd inside, by its path in the namespace.
    if let Some(dir) = &chrony.dir {
        unshare.env(chronyd_fixture::CHRONY_DIR_ENV, visible_inside(dir)?);
    }
    println!("chronyd: {}", chrony.describe());
    let inside = ["test-socket-discovery", "--inside"];
    unshare.arg(&exe).args(inside);
    for (option, path) in [("--rust", &rust), ("--python", &python), ("--xtask", &exe)] {
        unshare.arg(option).arg(visible_inside(path)?);
    }
    run(unshare).map_err(|e| format!("socket discovery: {e}"))?;
    let took = start.elapsed().as_secs_f64();
    println!("socket discovery checked in {took:.1} s");
    Ok(())
}

/// The interpreter of the first venv whose `pychrony` is this checkout's version.
fn find_venv_python() -> Result<PathBuf> {
    let wanted = pychrony_version()?;
    for venv in VENVS {
        let python = root().join(venv).join("bin/python");
        let mut version = Command::new(&python);
        let print = "import pychrony; print(pychrony.__version__)";
        let version = version.args(["-c", print]).stderr(Stdio::null()).output();
        let wanted_line = format!("{wanted}\n");
        if version.is_ok_and(|o| o.status.success() && o.stdout == wanted_line.as_bytes()) {
            println!("Python API: {}", display_rel(&python));
            return Ok(python);
        }
    }
    let venvs = VENVS.join(", ");
    let how = "`cargo xtask ci --stage python`, or pychrony-py/tests/run.sh";
    let missing = format!("no venv with this project's pychrony {wanted} installed ({venvs})");
    bail!("{missing}: run the python stage first ({how})")
}

/// The checkout is bound to /mnt inside when under a [`COVERED`] directory (CI clones anywhere).
fn checkout_moves_to_mnt() -> bool {
    COVERED.iter().any(|(dir, _)| root().starts_with(dir))
}

/// Where `path` is seen inside the namespace; an error when a tmpfs would hide it.
fn visible_inside(path: &Path) -> Result<PathBuf> {
    match path.strip_prefix(root()) {
        Ok(rel) if checkout_moves_to_mnt() => return Ok(Path::new("/mnt").join(rel)),
        _ if COVERED.iter().any(|(dir, _)| path.starts_with(dir)) => {}
        _ => return Ok(path.to_path_buf()),
    }
    let why = "which the namespace covers with a tmpfs: use one elsewhere";
    bail!("{} is under /run, /var or /tmp, {why}", path.display())
}

/// Inside the namespace: the tmpfs mounts, then both tests, then the check for processes left.
fn inside(args: &[String]) -> Result {
    let args = crate::util::Args::parse(args, "", "--rust= --python= --xtask=")?;
    let paths = ["--rust", "--python", "--xtask"].map(|o| args.value(o));
    let [Some(rust), Some(python), Some(xtask)] = paths else {
        bail!("--inside needs --rust PATH, --python PATH and --xtask PATH");
    };
    check_private_namespace()?;
    let checkout = keep_checkout_visible()?;
    for (dir, mode) in COVERED {
        let mount = format!("mount -t tmpfs -o mode={mode},size=64m discovery {dir}");
        run(cmd(&mount))?;
    }
    fs::create_dir("/var/run")?;
    fs::set_permissions("/var/run", fs::Permissions::from_mode(0o755))?;

    let mut rust = Command::new(rust);
    rust.args("--ignored --nocapture --test-threads=1".split(' '));
    rust.current_dir(checkout.join("chrony-core"));
    let rust = run(rust.env(NAMESPACE_ENV, "1"));
    let mut python = Command::new(python);
    python.args("-m pytest -p no:cacheprovider -v pychrony-py/tests/test_discovery.py".split(' '));
    python.env(NAMESPACE_ENV, "1").env("XTASK_BIN", xtask);
    let python = run(python.current_dir(&checkout));
    // Every daemon is stopped by now; nothing may be left in this namespace.
    let results = [
        rust.map_err(|e| format!("the Rust discovery test: {e}")),
        python.map_err(|e| format!("the Python discovery tests: {e}")),
        processes_left().map_err(|e| e.to_string()),
    ];
    let errors: Vec<String> = results.into_iter().filter_map(|r| r.err()).collect();
    if !errors.is_empty() {
        bail!("{}", errors.join("\n"));
    }
    Ok(())
}

/// Where the checkout is seen in the namespace: at /mnt if a tmpfs would hide it (a venv works
/// from there too: its interpreter finds `pyvenv.cfg` by the path it is started by).
fn keep_checkout_visible() -> Result<PathBuf> {
    let checkout = root();
    if !checkout_moves_to_mnt() {
        return Ok(checkout);
    }
    let shown = checkout.display();
    if !Path::new("/mnt").is_dir() {
        let covered = "is under /run, /var or /tmp";
        bail!("the checkout {shown} {covered}, and there is no /mnt to bind it to");
    }
    run(cmd("mount --bind").arg(&checkout).arg("/mnt"))?;
    println!("checkout {shown} bind-mounted at /mnt inside the namespace");
    Ok(PathBuf::from("/mnt"))
}

/// Refuses to mount anything unless this process has a mount namespace of its own.
fn check_private_namespace() -> Result {
    let ns = |pid: &str| fs::read_link(format!("/proc/{pid}/ns/mnt")).ok();
    let mine = ns("self").ok_or("cannot read /proc/self/ns/mnt")?;
    let stat = fs::read_to_string("/proc/self/stat")?;
    let after_comm = stat.rsplit(')').next();
    let ppid = after_comm.and_then(|rest| rest.split_whitespace().nth(1));
    let ppid = ppid.ok_or("cannot read the parent pid")?;
    if ns("1").as_ref() == Some(&mine) || ns(ppid).as_ref() == Some(&mine) {
        let how = "use `cargo xtask test-socket-discovery`";
        bail!("--inside must run in a private mount namespace ({how})");
    }
    Ok(())
}

/// Fails if any other process is left in this mount namespace (a daemon not stopped); kills them.
fn processes_left() -> Result {
    let mine = fs::read_link("/proc/self/ns/mnt")?;
    let me = std::process::id();
    let find = || -> Vec<(u32, String)> {
        let pids = fs::read_dir("/proc").into_iter().flatten();
        let pids = pids.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok());
        let ns = |pid: &u32| fs::read_link(format!("/proc/{pid}/ns/mnt")).ok();
        let pids = pids.filter(|&pid| pid != me && ns(&pid).as_ref() == Some(&mine));
        let comm = |pid| fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        let pids = pids.map(|pid| (pid, comm(pid).trim().to_string()));
        pids.collect()
    };
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut left = find();
    while !left.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        left = find();
    }
    if left.is_empty() {
        println!("no process left in the private mount namespace");
        return Ok(());
    }
    for (pid, _) in &left {
        let _ = cmd(&format!("kill -KILL {pid}")).status();
    }
    let left: Vec<String> = left.iter().map(|(pid, c)| format!("{c} {pid}")).collect();
    let left = left.join(", ");
    bail!("processes were left running in the private namespace (now killed): {left}")
}
