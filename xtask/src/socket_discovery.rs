//! `cargo xtask test-socket-discovery`: the default socket discovery (`/run/chrony/chronyd.sock`, then
//! `/var/run/chrony/chronyd.sock`) against real chronyd daemons at those very paths, through the Rust API
//! (chrony-core's `tracking` example, which calls `tracking(None)`) and the Python API (`get_tracking()` and
//! `ChronyConnection()` from the venv the `python` stage installs the wheel into).
//!
//! The host is never touched: the command re-executes itself as
//! `unshare --mount --propagation private -- xtask test-socket-discovery --inside ...`, and the inner process
//! mounts a tmpfs over `/run`, `/var` and `/tmp` of that private mount namespace (on Debian `/var/run` is a
//! symlink to `/run`; under the new `/var` it is a real directory). Every daemon is stopped before the inner
//! process ends, and it checks that no process is left in its namespace. Needs root (for the mounts and to
//! run clients as `nobody`).

use crate::util::{Result, cargo, display_rel, output, root, run};
use chronyd_fixture::{Fixture, Mode};
use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const RUN_SOCK: &str = "/run/chrony/chronyd.sock";
const VAR_SOCK: &str = "/var/run/chrony/chronyd.sock";
/// The daemon at `/run/chrony` and the one at `/var/run/chrony` report different references, so a result
/// shows which socket was used.
const RUN_MODE: Mode = Mode::Synced;
const VAR_MODE: Mode = Mode::Local { stratum: 9 };
/// Venvs with the pychrony wheel installed, in order of preference: the `python` stage's, then
/// `pychrony-py/tests/run.sh`'s.
const VENVS: &[&str] = &["target/ci-venv", "target/py-venv"];

const USAGE: &str = "usage: cargo xtask test-socket-discovery

Starts real chronyd daemons with their sockets at /run/chrony/chronyd.sock and
/var/run/chrony/chronyd.sock inside a private mount namespace (tmpfs over /run, /var
and /tmp; the host is untouched) and checks the default discovery of the Rust API
(chrony-core's `tracking` example) and the Python API (the venv of the `python` stage):
only /run -> used; only /var/run -> used; both -> /run wins; neither -> -2 naming both
paths; /run/chrony not searchable (as nobody) -> -3. Must run as root.";

pub fn run_cli(args: &[String]) -> Result {
    match args.first().map(String::as_str) {
        None => outer(),
        Some("--inside") => inside(&args[1..]),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown argument `{other}`\n\n{USAGE}").into()),
    }
}

/// The `discovery` stage of `cargo xtask ci`.
pub fn stage() -> Result {
    outer()
}

// ---- outside the namespace --------------------------------------------------

fn outer() -> Result {
    let start = Instant::now();
    if output(Command::new("id").arg("-u"))?.trim() != "0" {
        return Err(
            "test-socket-discovery must run as root: it mounts tmpfs over /run and /var in a \
                    private mount namespace (unshare --mount) and runs clients as `nobody`"
                .into(),
        );
    }
    let chrony = chronyd_fixture::Chrony::find()?;
    let rust = build_example()?;
    let python = find_venv_python()?;
    // A copy made when `cargo xtask ci` started: a stage before this one may have
    // relinked target/debug/xtask, leaving current_exe() pointing at a deleted file.
    let exe = crate::util::xtask_bin()?;
    let mut unshare = Command::new("unshare");
    // The same chronyd inside: a version directory (unpacked under target/chrony, or CHRONY_DIR) by the path
    // it has in the namespace, where a checkout under /tmp, /run or /var is seen at /mnt.
    if let Some(dir) = &chrony.dir {
        unshare.env(chronyd_fixture::CHRONY_DIR_ENV, visible_inside(dir)?);
    }
    println!("chronyd: {}", chrony.describe());
    run(unshare
        .args(["--mount", "--propagation", "private", "--"])
        .arg(exe)
        .args(["test-socket-discovery", "--inside", "--rust"])
        .arg(&rust)
        .arg("--python")
        .arg(&python))
    .map_err(|e| format!("socket discovery: {e}"))?;
    println!(
        "socket discovery checked in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Builds chrony-core's `tracking` example (`tracking(None)` without an argument; exit status = |code|).
fn build_example() -> Result<PathBuf> {
    let json = output(cargo().args([
        "build",
        "-p",
        "chrony-core",
        "--example",
        "tracking",
        "--message-format=json-render-diagnostics",
    ]))?;
    const KEY: &str = "\"executable\":\"";
    json.lines()
        .filter_map(|line| {
            let start = line.find(KEY)? + KEY.len();
            let end = start + line[start..].find('"')?;
            Some(PathBuf::from(&line[start..end]))
        })
        .find(|p| p.ends_with("examples/tracking"))
        .ok_or_else(|| "cargo did not report the `tracking` example's executable".into())
}

/// The interpreter of the first venv whose `pychrony` is this project's (1.0.0).
fn find_venv_python() -> Result<PathBuf> {
    for venv in VENVS {
        let python = root().join(venv).join("bin/python");
        if !python.exists() {
            continue;
        }
        let version = Command::new(&python)
            .args(["-c", "import pychrony; print(pychrony.__version__)"])
            .stderr(Stdio::null())
            .output();
        if version.is_ok_and(|o| o.status.success() && o.stdout == b"1.0.0\n") {
            println!("Python API: {}", display_rel(&python));
            return Ok(python);
        }
    }
    Err(format!(
        "no venv with this project's pychrony 1.0.0 installed ({}): run the python stage first \
         (`cargo xtask ci --stage python`, or pychrony-py/tests/run.sh)",
        VENVS.join(", ")
    )
    .into())
}

// ---- inside the namespace ---------------------------------------------------

struct Clients {
    rust: PathBuf,
    python: PathBuf,
    /// How `nobody` runs Python: the interpreter and the PYTHONPATH (a world-readable copy of the package).
    nobody_python: Option<(PathBuf, Option<PathBuf>)>,
}

fn inside(args: &[String]) -> Result {
    let (mut rust, mut python) = (None, None);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--rust" => rust = it.next().map(PathBuf::from),
            "--python" => python = it.next().map(PathBuf::from),
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    let (Some(mut rust), Some(mut python)) = (rust, python) else {
        return Err("--inside needs --rust PATH and --python PATH".into());
    };
    check_private_namespace()?;
    keep_checkout_visible(&mut rust, &mut python)?;
    for (dir, mode) in COVERED {
        run(Command::new("mount").args([
            "-t",
            "tmpfs",
            "-o",
            &format!("mode={mode},size=64m"),
            "discovery",
            dir,
        ]))?;
    }
    fs::create_dir("/var/run")?;
    fs::set_permissions("/var/run", fs::Permissions::from_mode(0o755))?;

    let mut clients = Clients {
        rust,
        python,
        nobody_python: None,
    };
    let result = scenarios(&mut clients);
    // Every fixture is dropped (stopped) by now; nothing may be left in this namespace.
    let leftovers = processes_left();
    match (result, leftovers) {
        (Ok(()), Ok(())) => Ok(()),
        (Err(e), Ok(())) | (Ok(()), Err(e)) => Err(e),
        (Err(e), Err(l)) => Err(format!("{e}\n{l}").into()),
    }
}

/// The directories this namespace covers with a tmpfs, and their modes.
const COVERED: [(&str, &str); 3] = [("/run", "0755"), ("/var", "0755"), ("/tmp", "1777")];

/// The checkout is bind-mounted at /mnt inside the namespace when it is under a [`COVERED`] directory.
fn checkout_moves_to_mnt() -> bool {
    let checkout = root();
    COVERED.iter().any(|(dir, _)| checkout.starts_with(dir))
}

/// Where `path` (outside) is seen inside the namespace: under /mnt when it is in a checkout that moves
/// there; an error when a tmpfs would hide it.
fn visible_inside(path: &Path) -> Result<PathBuf> {
    let checkout = root();
    match path.strip_prefix(&checkout) {
        Ok(rel) if checkout_moves_to_mnt() => return Ok(Path::new("/mnt").join(rel)),
        _ => {}
    }
    if COVERED.iter().any(|(dir, _)| path.starts_with(dir)) {
        return Err(format!(
            "{} is under /run, /var or /tmp, which the namespace covers with a tmpfs: use a chronyd elsewhere",
            path.display()
        )
        .into());
    }
    Ok(path.to_path_buf())
}

/// A checkout may sit under one of the [`COVERED`] directories (CI clones
/// wherever it likes, /tmp included): the tmpfs would hide the clients built
/// in it. So the checkout is first bind-mounted at `/mnt` of this namespace
/// (the host's /mnt is untouched) and the clients run from there; a venv's
/// interpreter finds its `pyvenv.cfg` next to the path it is started by.
fn keep_checkout_visible(rust: &mut PathBuf, python: &mut PathBuf) -> Result {
    let checkout = root();
    if !checkout_moves_to_mnt() {
        return Ok(());
    }
    let mnt = Path::new("/mnt");
    if !mnt.is_dir() {
        return Err(format!(
            "the checkout {} is under /run, /var or /tmp, and there is no /mnt to bind it to",
            checkout.display()
        )
        .into());
    }
    run(Command::new("mount").arg("--bind").arg(&checkout).arg(mnt))?;
    for path in [rust, python] {
        if let Ok(rel) = path.strip_prefix(&checkout) {
            *path = mnt.join(rel);
        }
    }
    println!(
        "checkout {} bind-mounted at /mnt inside the namespace",
        checkout.display()
    );
    Ok(())
}

/// Refuses to mount anything unless this process has a mount namespace of its own (never the host's).
fn check_private_namespace() -> Result {
    let ns = |pid: &str| fs::read_link(format!("/proc/{pid}/ns/mnt")).ok();
    let mine = ns("self").ok_or("cannot read /proc/self/ns/mnt")?;
    let stat = fs::read_to_string("/proc/self/stat")?;
    let ppid = stat
        .rsplit(')')
        .next()
        .and_then(|rest| rest.split_whitespace().nth(1))
        .ok_or("cannot read the parent pid")?
        .to_string();
    if ns("1").as_ref() == Some(&mine) || ns(&ppid).as_ref() == Some(&mine) {
        return Err("--inside must run in a private mount namespace \
                    (use `cargo xtask test-socket-discovery`)"
            .into());
    }
    Ok(())
}

/// What a scenario must give.
#[derive(Clone)]
enum Expect {
    /// The report of the daemon whose socket is `path`.
    Used {
        path: &'static str,
        refid: u32,
        stratum: u32,
    },
    /// An error with this code (and, in Python, this class) whose message names every path.
    Fails {
        code: i64,
        class: &'static str,
        names: &'static [&'static str],
    },
}

impl Expect {
    fn used(path: &'static str, fx: &Fixture) -> Result<Expect> {
        let t = fx.chronyc_tracking()?;
        let (refid, stratum) = fx.mode().expected_ref();
        if (t.ref_id, t.stratum) != (refid, stratum) {
            return Err(
                format!("the daemon at {path} is not ready: chronyc shows {}", t.raw).into(),
            );
        }
        Ok(Expect::Used {
            path,
            refid,
            stratum,
        })
    }

    fn show(&self, api: &str) -> String {
        match self {
            Expect::Used {
                path,
                refid,
                stratum,
            } => format!("{refid:08X}/{stratum} of {path}"),
            Expect::Fails { code, class, names } => {
                let what = if names.len() > 1 {
                    "both paths".to_string()
                } else {
                    names.join(", ")
                };
                if api == "Python" {
                    format!("{class} {code} naming {what}")
                } else {
                    format!("error {code} naming {what}")
                }
            }
        }
    }
}

/// What a client gave.
enum Got {
    Report {
        refid: u32,
        stratum: u32,
        /// Python's `ChronyConnection().address` once open.
        address: Option<String>,
    },
    Error {
        code: i64,
        /// The Python exception class.
        class: Option<String>,
        message: String,
    },
    /// The client did not run, or printed something unexpected.
    Broken(String),
}

impl Got {
    fn message(&self) -> Option<String> {
        match self {
            Got::Error { message, .. } => Some(message.clone()),
            _ => None,
        }
    }

    fn show(&self) -> String {
        match self {
            Got::Report {
                refid,
                stratum,
                address,
            } => match address {
                Some(a) => format!("{refid:08X}/{stratum} via {a}"),
                None => format!("{refid:08X}/{stratum}"),
            },
            Got::Error { code, class, .. } => match class {
                Some(c) => format!("{c} {code}"),
                None => format!("error {code}"),
            },
            Got::Broken(_) => "client failed".into(),
        }
    }

    /// None if `self` is what `expect` says; otherwise why not.
    fn mismatch(&self, expect: &Expect) -> Option<String> {
        match (expect, self) {
            (
                Expect::Used {
                    path,
                    refid,
                    stratum,
                },
                Got::Report {
                    refid: r,
                    stratum: s,
                    address,
                },
            ) => {
                if (r, s) != (refid, stratum) {
                    Some(format!(
                        "got the report {r:08X}/{s}, expected {refid:08X}/{stratum} from {path}"
                    ))
                } else if address.as_deref().is_some_and(|a| a != *path) {
                    Some(format!(
                        "ChronyConnection().address is {}, expected {path}",
                        address.as_deref().unwrap_or_default()
                    ))
                } else {
                    None
                }
            }
            (
                Expect::Fails { code, class, names },
                Got::Error {
                    code: c,
                    class: cl,
                    message,
                },
            ) => {
                let missing: Vec<&str> = names
                    .iter()
                    .copied()
                    .filter(|n| !message.contains(n))
                    .collect();
                if c != code || cl.as_deref().is_some_and(|cl| cl != *class) {
                    Some(format!("expected {class} {code}; message: {message}"))
                } else if !missing.is_empty() {
                    Some(format!(
                        "the message does not name {}: {message}",
                        missing.join(", ")
                    ))
                } else {
                    None
                }
            }
            (_, Got::Broken(why)) => Some(why.clone()),
            (_, Got::Report { .. }) => Some("got a report, expected an error".into()),
            (_, Got::Error { message, .. }) => Some(format!("got an error: {message}")),
        }
    }
}

struct Row {
    scenario: &'static str,
    api: &'static str,
    expected: String,
    got: String,
    /// The error message, if the client failed as expected or not.
    message: Option<String>,
    problem: Option<String>,
}

fn scenarios(clients: &mut Clients) -> Result {
    let mut rows = Vec::new();
    let started = Instant::now();

    // 1. Only /run/chrony/chronyd.sock.
    let run_fx = start(RUN_SOCK, RUN_MODE)?;
    let expect = Expect::used(RUN_SOCK, &run_fx)?;
    check(clients, &mut rows, "only /run", &expect, false)?;
    stop(run_fx, RUN_SOCK)?;

    // 2. Only /var/run/chrony/chronyd.sock (/run/chrony exists, without a socket).
    let var_fx = start(VAR_SOCK, VAR_MODE)?;
    let expect = Expect::used(VAR_SOCK, &var_fx)?;
    check(clients, &mut rows, "only /var/run", &expect, false)?;

    // 3. Both: /run wins.
    let run_fx = start(RUN_SOCK, RUN_MODE)?;
    let expect = Expect::used(RUN_SOCK, &run_fx)?;
    check(clients, &mut rows, "both", &expect, false)?;
    stop(run_fx, RUN_SOCK)?;
    stop(var_fx, VAR_SOCK)?;

    // 4. Neither (both directories exist, no socket in them).
    let expect = Expect::Fails {
        code: -2,
        class: "ChronyConnectionError",
        names: &[RUN_SOCK, VAR_SOCK],
    };
    check(clients, &mut rows, "neither", &expect, false)?;

    // 5. As nobody: /run/chrony (0750 root) cannot be searched. /var/run/chrony is made searchable and
    //    empty, so falling through to it would give -2 instead of -3.
    let run_fx = start(RUN_SOCK, RUN_MODE)?;
    fs::set_permissions("/var/run/chrony", fs::Permissions::from_mode(0o755))?;
    let expect = Expect::Fails {
        code: -3,
        class: "ChronyPermissionError",
        names: &[RUN_SOCK],
    };
    check(
        clients,
        &mut rows,
        "nobody, /run/chrony 0750",
        &expect,
        true,
    )?;
    stop(run_fx, RUN_SOCK)?;

    print_table(&rows);
    println!(
        "{} checks in {:.1} s",
        rows.len(),
        started.elapsed().as_secs_f64()
    );
    let problems: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            r.problem
                .as_ref()
                .map(|p| format!("{} / {}: {p}", r.scenario, r.api))
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "default socket discovery is wrong in {} case(s):\n{}",
            problems.len(),
            problems.join("\n")
        )
        .into())
    }
}

/// A fixture daemon whose socket is `socket` (its directory: 0750, root).
fn start(socket: &str, mode: Mode) -> Result<Fixture> {
    let dir = Path::new(socket).parent().expect("a directory");
    let fx = Fixture::start_in(dir, mode)
        .map_err(|e| format!("cannot start chronyd ({mode}) in {}: {e}", dir.display()))?;
    if fx.socket_path() != Path::new(socket) {
        return Err(format!(
            "the fixture's socket is {}, not {socket}",
            fx.socket_path().display()
        )
        .into());
    }
    println!(
        "chronyd ({mode}) pid {} at {socket}: {}",
        fx.pid(),
        fx.chronyc_tracking()?.raw
    );
    Ok(fx)
}

/// Stops a fixture; its socket must be gone afterwards (else the next scenario would see a stale one).
fn stop(mut fx: Fixture, socket: &str) -> Result {
    fx.stop()?;
    drop(fx);
    if Path::new(socket).exists() {
        return Err(format!("{socket} is still there after stopping its chronyd").into());
    }
    println!("stopped the chronyd at {socket}");
    Ok(())
}

fn check(
    clients: &mut Clients,
    rows: &mut Vec<Row>,
    scenario: &'static str,
    expect: &Expect,
    as_nobody: bool,
) -> Result {
    let rust = rust_client(clients, as_nobody)?;
    let python = python_client(clients, as_nobody)?;
    for (api, got) in [("Rust", rust), ("Python", python)] {
        rows.push(Row {
            scenario,
            api,
            expected: expect.show(api),
            message: got.message(),
            got: got.show(),
            problem: got.mismatch(expect),
        });
    }
    Ok(())
}

fn print_table(rows: &[Row]) {
    let w =
        |f: fn(&Row) -> usize, title: &str| rows.iter().map(f).max().unwrap_or(0).max(title.len());
    let ws = w(|r| r.scenario.len(), "scenario");
    let wa = w(|r| r.api.len(), "API");
    let we = w(|r| r.expected.len(), "expected");
    let wg = w(|r| r.got.len(), "got");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n{:<ws$}  {:<wa$}  {:<we$}  {:<wg$}  result",
        "scenario", "API", "expected", "got"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:<ws$}  {:<wa$}  {:<we$}  {:<wg$}  {}",
            r.scenario,
            r.api,
            r.expected,
            r.got,
            if r.problem.is_some() {
                "MISMATCH"
            } else {
                "ok"
            }
        );
    }
    for r in rows {
        if let Some(m) = &r.message {
            let _ = writeln!(out, "{} / {}: {m}", r.scenario, r.api);
        }
    }
    print!("{out}");
}

/// Runs `cmd` from `/` and returns its output, or why it could not run.
fn capture(cmd: &mut Command) -> std::result::Result<Output, String> {
    cmd.current_dir("/")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_string()
}

/// chrony-core's `tracking` example without an argument: `tracking(None)`.
fn rust_client(clients: &Clients, as_nobody: bool) -> Result<Got> {
    let mut cmd = if as_nobody {
        // A copy in a world-readable directory under this namespace's /tmp.
        chronyd_fixture::nobody_command(&clients.rust)?
    } else {
        Command::new(&clients.rust)
    };
    let out = match capture(&mut cmd) {
        Ok(out) => out,
        Err(e) => return Ok(Got::Broken(e)),
    };
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    let field = |label: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(label))
            .and_then(|rest| {
                rest.trim_start_matches([' ', ':'])
                    .split_whitespace()
                    .next()
            })
            .map(str::to_owned)
    };
    let got = match out.status.code() {
        Some(0) => match (field("Reference ID"), field("Stratum")) {
            (Some(refid), Some(stratum)) => {
                match (u32::from_str_radix(&refid, 16), stratum.parse()) {
                    (Ok(refid), Ok(stratum)) => Got::Report {
                        refid,
                        stratum,
                        address: None,
                    },
                    _ => Got::Broken(format!("unexpected output: {stdout}")),
                }
            }
            _ => Got::Broken(format!("unexpected output: {stdout}")),
        },
        Some(status) => {
            // `error -N: message`, and the exit status is N.
            let parsed = stderr
                .strip_prefix("error ")
                .and_then(|rest| rest.split_once(": "))
                .and_then(|(code, msg)| Some((code.parse::<i64>().ok()?, msg)));
            match parsed {
                Some((code, message))
                    if code.unsigned_abs() == u64::from(status.unsigned_abs()) =>
                {
                    Got::Error {
                        code,
                        class: None,
                        message: message.to_string(),
                    }
                }
                _ => Got::Broken(format!("exit status {status}, stderr: {stderr}")),
            }
        }
        None => Got::Broken(format!(
            "killed by a signal ({}); stderr: {stderr}",
            out.status
        )),
    };
    Ok(got)
}

/// The client script: `get_tracking()` and `ChronyConnection()` without an address.
const PY_CLIENT: &str = r#"
import pychrony
from pychrony import ChronyConnection, ChronyError, get_tracking
print("FROM", pychrony.__version__, pychrony.__file__)
try:
    s = get_tracking()
    with ChronyConnection() as c:
        c.get_tracking()
        address = c.address
    print("OK", f"{s.reference_id:08X}", s.stratum, address)
except ChronyError as e:
    print("ERR", type(e).__name__, e.error_code, " ".join(e.message.split()))
"#;

fn python_client(clients: &mut Clients, as_nobody: bool) -> Result<Got> {
    let mut cmd = if as_nobody {
        let (python, path) = nobody_python(clients)?;
        let mut cmd = nobody(&python);
        if let Some(p) = path {
            cmd.env("PYTHONPATH", p);
        }
        cmd
    } else {
        let mut cmd = Command::new(&clients.python);
        cmd.env_remove("PYTHONPATH");
        cmd
    };
    cmd.env_remove("PYTHONHOME")
        .args(["-s", "-B", "-c", PY_CLIENT]);
    let out = match capture(&mut cmd) {
        Ok(out) => out,
        Err(e) => return Ok(Got::Broken(e)),
    };
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    if !out.status.success() {
        return Ok(Got::Broken(format!(
            "python failed ({}): {stdout}\n{stderr}",
            out.status
        )));
    }
    let mut lines = stdout.lines();
    match lines.next().and_then(|l| l.strip_prefix("FROM ")) {
        Some(from) if from.starts_with("1.0.0 ") => {}
        _ => {
            return Ok(Got::Broken(format!(
                "not this project's pychrony: {stdout}"
            )));
        }
    }
    let line = lines.next().unwrap_or_default();
    let words: Vec<&str> = line.splitn(4, ' ').collect();
    let got = match words.as_slice() {
        ["OK", refid, stratum, address] => {
            match (u32::from_str_radix(refid, 16), stratum.parse()) {
                (Ok(refid), Ok(stratum)) => Got::Report {
                    refid,
                    stratum,
                    address: Some(address.to_string()),
                },
                _ => Got::Broken(format!("unexpected output: {line}")),
            }
        }
        ["ERR", class, code, message] => match code.parse() {
            Ok(code) => Got::Error {
                code,
                class: Some(class.to_string()),
                message: message.to_string(),
            },
            Err(_) => Got::Broken(format!("unexpected output: {line}")),
        },
        _ => Got::Broken(format!("unexpected output: {stdout}\n{stderr}")),
    };
    Ok(got)
}

/// `setpriv --reuid=nobody --regid=nogroup --clear-groups PROGRAM`.
fn nobody(program: &Path) -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(program);
    cmd
}

/// How `nobody` runs pychrony: the venv itself if `nobody` can use it; otherwise a system interpreter
/// (CPython >= 3.10, for the abi3 wheel) with a world-readable copy of the installed package.
fn nobody_python(clients: &mut Clients) -> Result<(PathBuf, Option<PathBuf>)> {
    if let Some(found) = &clients.nobody_python {
        return Ok(found.clone());
    }
    let imports = |python: &Path, path: Option<&Path>, code: &str| {
        let mut cmd = nobody(python);
        cmd.env_remove("PYTHONHOME")
            .env_remove("PYTHONPATH")
            .args(["-s", "-B", "-c", code]);
        if let Some(p) = path {
            cmd.env("PYTHONPATH", p);
        }
        capture(&mut cmd).is_ok_and(|o| o.status.success())
    };
    let found = if imports(&clients.python, None, "import pychrony") {
        println!("nobody can use {}", clients.python.display());
        (clients.python.clone(), None)
    } else {
        let package = output(Command::new(&clients.python).args([
            "-c",
            "import os, pychrony; print(os.path.dirname(pychrony.__file__))",
        ]))?;
        // This namespace's /tmp is a private tmpfs: a fixed name is safe, and it goes away with it.
        let copy = PathBuf::from("/tmp/discovery-py");
        fs::create_dir_all(&copy)?;
        run(Command::new("cp")
            .args(["-r", "--"])
            .arg(package.trim())
            .arg(&copy))?;
        run(Command::new("chmod").args(["-R", "a+rX"]).arg(&copy))?;
        let version = output(Command::new(&clients.python).args([
            "-c",
            "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')",
        ]))?;
        let names = [format!("python{}", version.trim()), "python3".to_string()];
        let candidates = names
            .iter()
            .flat_map(|n| ["/usr/bin", "/usr/local/bin"].map(|d| Path::new(d).join(n)));
        let check = "import sys, pychrony; assert sys.version_info >= (3, 10)";
        let python = candidates
            .filter(|p| p.exists())
            .find(|p| imports(p, Some(&copy), check))
            .ok_or(
                "`nobody` cannot run the venv's interpreter, and no system python3 (>= 3.10, in \
                 /usr/bin or /usr/local/bin) that `nobody` can run imports pychrony",
            )?;
        println!(
            "nobody cannot use {}: it runs {} with a copy of the package in {}",
            display_rel(&clients.python),
            python.display(),
            copy.display()
        );
        (python, Some(copy))
    };
    clients.nobody_python = Some(found.clone());
    Ok(found)
}

/// Fails if any process other than this one is left in this mount namespace (a daemon that was not
/// stopped would keep it alive); such processes are ours by construction and are killed.
fn processes_left() -> Result {
    let mine = fs::read_link("/proc/self/ns/mnt")?;
    let me = std::process::id();
    let find = || -> Vec<(u32, String)> {
        let Ok(entries) = fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|&pid| pid != me)
            .filter(|pid| fs::read_link(format!("/proc/{pid}/ns/mnt")).is_ok_and(|ns| ns == mine))
            .map(|pid| {
                let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
                (pid, comm.trim().to_string())
            })
            .collect()
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
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    Err(format!(
        "processes were left running in the private namespace (now killed): {}",
        left.iter()
            .map(|(pid, comm)| format!("{comm} {pid}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
    .into())
}
