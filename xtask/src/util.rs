//! Helpers shared by the xtask commands: commands echoed and run, paths, arguments.

use std::borrow::BorrowMut;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

pub type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

macro_rules! bail {
    ($($message:tt)*) => {
        return Err(format!($($message)*).into())
    };
}
pub(crate) use bail;

/// `result`, with `hint` on a line after its error.
pub fn hint<T>(result: Result<T>, hint: &str) -> Result<T> {
    result.map_err(|e| format!("{e}\n{hint}").into())
}

pub fn root() -> PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().expect("in the workspace").into()
}

/// `cargo ARGS` (split at spaces) in the workspace root, with the cargo that runs xtask.
pub fn cargo(args: &str) -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root()).args(args.split_whitespace());
    cmd
}

/// `PROGRAM ARGS...` from one line split at spaces (add paths with `.arg`).
pub fn cmd(line: &str) -> Command {
    let mut words = line.split_whitespace();
    let mut cmd = Command::new(words.next().expect("a program"));
    cmd.args(words);
    cmd
}

/// Whether `PROGRAM ARGS...` (one line, as [`cmd`]) starts and exits 0; its output is dropped.
pub fn succeeds(line: &str) -> bool {
    let status = cmd(line)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    status.is_ok_and(|s| s.success())
}

/// `apt-get install` of what the caller adds, without recommends or questions.
pub fn apt_install() -> Command {
    let mut install = cmd("apt-get install -y -q --no-install-recommends");
    install.env("DEBIAN_FRONTEND", "noninteractive");
    install
}

pub fn env_or(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.into())
}

/// The directory `$var` names, else `$HOME/dot_dir` (as cargo finds CARGO_HOME, pyenv PYENV_ROOT).
pub fn home_dir(var: &str, dot_dir: &str) -> Option<PathBuf> {
    let home = || Some(Path::new(&std::env::var_os("HOME")?).join(dot_dir));
    std::env::var_os(var).map(PathBuf::from).or_else(home)
}

/// `dir` first, then the current value of the path-list variable `var`.
pub fn prepend_env(var: &str, dir: &Path) -> OsString {
    let old = std::env::var_os(var);
    let dirs = std::iter::once(dir.into()).chain(old.iter().flat_map(std::env::split_paths));
    std::env::join_paths(dirs).expect("paths without ':'")
}

/// The command line as a shell user would type it: changed env vars, program, args.
pub fn describe(cmd: &Command) -> String {
    let mut envs: Vec<_> = cmd.get_envs().collect();
    envs.sort();
    let mut words: Vec<String> = Vec::new();
    for (key, value) in envs {
        let key_text = key.to_string_lossy();
        let word = value.map(|v| format!("{key_text}={}", show_env(key, v)));
        words.push(word.unwrap_or(format!("-u {key_text}")));
    }
    let program = Path::new(cmd.get_program());
    // The full path of the toolchain's cargo is noise.
    let is_cargo = std::env::var_os("CARGO").is_some_and(|c| Path::new(&c) == program);
    let quoted = quote(program.as_os_str());
    words.push(if is_cargo { "cargo".into() } else { quoted });
    words.extend(cmd.get_args().map(quote));
    let line = words.join(" ");
    match cmd.get_current_dir() {
        Some(dir) if dir != root() => format!("(cd {} && {line})", display_rel(dir)),
        _ => line,
    }
}

/// A path-list value that extends the current one prints as `new:$VAR`.
fn show_env(key: &OsStr, value: &OsStr) -> String {
    let old = std::env::var_os(key).unwrap_or_default();
    let old = old.to_string_lossy();
    match value.to_str().and_then(|v| v.strip_suffix(&*old)) {
        Some(new) if !old.is_empty() && new.ends_with(':') => {
            format!("{}${}", quote(new.as_ref()), key.to_string_lossy())
        }
        _ => quote(value),
    }
}

fn quote(word: &OsStr) -> String {
    let s = word.to_string_lossy();
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c);
    match !s.is_empty() && s.chars().all(plain) {
        true => s.into_owned(),
        false => format!("'{}'", s.replace('\'', r"'\''")),
    }
}

/// The program's file name and arguments, for errors (the full line was echoed before).
pub fn short(cmd: &Command) -> String {
    let program = Path::new(cmd.get_program());
    let name = program.file_name().unwrap_or(program.as_os_str());
    let words = std::iter::once(name).chain(cmd.get_args());
    words.map(quote).collect::<Vec<_>>().join(" ")
}

pub fn display_rel(path: &Path) -> String {
    let rel = path.strip_prefix(root()).unwrap_or(path);
    rel.display().to_string()
}

/// The generated file at `rel` written, or with `check` compared: when it differs, an error says
/// what changed (`changed`) and which xtask `command` regenerates it.
pub fn write_or_check(rel: &str, text: &str, check: bool, command: &str, changed: &str) -> Result {
    let path = root().join(rel);
    if !check {
        fs::write(&path, text)?;
        println!("wrote {rel}");
    } else if fs::read_to_string(&path).unwrap_or_default() != text {
        bail!("{rel} is out of date ({changed}): run `cargo xtask {command}` and commit");
    } else {
        println!("{rel} is up to date");
    }
    Ok(())
}

/// Removes the directory tree at `path`, if there is one.
pub fn remove_dir(path: &Path) -> Result {
    match fs::remove_dir_all(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

pub fn files(dir: &Path) -> Result<Vec<PathBuf>> {
    let cannot = |e| format!("cannot read {}: {e}", display_rel(dir));
    let entries = fs::read_dir(dir).map_err(cannot)?;
    let mut files: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
    files.sort();
    Ok(files)
}

pub fn only_file(dir: &Path, suffix: &str) -> Result<PathBuf> {
    let mut found = files(dir)?;
    found.retain(|p| p.to_string_lossy().ends_with(suffix));
    match &found[..] {
        [one] => Ok(one.clone()),
        _ => {
            let (dir, n) = (display_rel(dir), found.len());
            bail!("expected one *{suffix} in {dir}, found {n}")
        }
    }
}

/// Echoes and runs a command, its output going straight to the terminal; fails unless it exits 0.
pub fn run(mut cmd: impl BorrowMut<Command>) -> Result {
    let cmd = cmd.borrow_mut();
    let line = describe(cmd);
    println!("$ {line}");
    let status = cmd.stdin(Stdio::null()).status();
    let status = status.map_err(|e| format!("cannot start `{line}`: {e}"))?;
    if !status.success() {
        bail!("`{}` failed ({status})", short(cmd));
    }
    Ok(())
}

/// What `python -c CODE` prints, trimmed.
pub fn python_prints(python: impl AsRef<OsStr>, code: &str) -> Result<String> {
    let printed = output(Command::new(python).args(["-c", code]))?;
    Ok(printed.trim().to_string())
}

/// Runs a command and returns its standard output; its standard error goes to the terminal.
pub fn output(mut cmd: impl BorrowMut<Command>) -> Result<String> {
    let cmd = cmd.borrow_mut();
    let out = cmd.stdin(Stdio::null()).stderr(Stdio::inherit()).output();
    let out = out.map_err(|e| format!("cannot start `{}`: {e}", describe(cmd)))?;
    if !out.status.success() {
        bail!("`{}` failed ({})", short(cmd), out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `rows` under `header` (the column names, split at `|`) in columns two spaces apart, each as
/// wide as its widest cell: left-aligned, but the columns in `right` (numbers) right-aligned.
pub fn table<const N: usize>(header: &str, rows: &[[String; N]], right: &[usize]) -> String {
    let header: Vec<String> = header.split('|').map(String::from).collect();
    let header: [String; N] = header.try_into().expect("a name for each column");
    let rows: Vec<&[String; N]> = std::iter::once(&header).chain(rows).collect();
    let width = |k: usize| rows.iter().map(|r| r[k].chars().count()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..N).map(width).collect();
    let mut out = String::new();
    for row in &rows {
        let cells = row.iter().enumerate().map(|(k, cell)| {
            let pad = " ".repeat(widths[k] - cell.chars().count());
            match right.contains(&k) {
                true => pad + cell,
                false => format!("{cell}{pad}"),
            }
        });
        out.push_str(cells.collect::<Vec<_>>().join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// A command's arguments, checked against a spec like `"--quick --cpu= FILTER"`: flags, options
/// that take a value (`--cpu N` or `--cpu=N`), and how many plain words it takes.
#[derive(Debug)]
pub struct Args {
    given: Vec<(String, String)>,
    pub words: Vec<String>,
}

impl Args {
    /// `-h`/`--help` prints `usage` and exits (usage is also shown with an unknown argument).
    pub fn parse(args: &[String], usage: &str, spec: &str) -> Result<Args> {
        let spec: Vec<&str> = spec.split_whitespace().collect();
        let max_words = spec.iter().filter(|s| !s.starts_with('-')).count();
        let (mut given, mut words) = (Vec::new(), Vec::new());
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) if name.starts_with("--") => (name, Some(value)),
                _ => (arg.as_str(), None),
            };
            if name == "-h" || name == "--help" {
                print!("{usage}");
                std::process::exit(0);
            } else if spec.contains(&format!("{name}=").as_str()) {
                let value = inline.or_else(|| it.next().map(String::as_str));
                let value = value.ok_or(format!("{name} needs a value\n\n{usage}"))?;
                given.push((name.to_string(), value.to_string()));
            } else if name.starts_with("--") && spec.contains(&name) && inline.is_none() {
                given.push((name.to_string(), String::new()));
            } else if arg.starts_with('-') || words.len() == max_words {
                bail!("unknown argument `{arg}`\n\n{usage}");
            } else {
                words.push(arg.clone());
            }
        }
        Ok(Args { given, words })
    }

    pub fn flag(&self, name: &str) -> bool {
        self.given.iter().any(|(n, _)| n == name)
    }

    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        let given = self.given.iter().filter(move |(n, _)| n == name);
        given.map(|(_, v)| v.as_str())
    }

    pub fn value<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.values(name).last()
    }

    pub fn number<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T> {
        let not = |v: &str| format!("{name}: `{v}` is not a number").into();
        let parse = |v: &str| v.parse().map_err(|_| not(v));
        self.value(name).map_or(Ok(default), parse)
    }
}

/// A copy of this binary for children that run it (XTASK_BIN, `unshare … xtask`), valid all run
/// long: a stage's `cargo test` or `cargo build` may relink target/debug/xtask, after which
/// `current_exe()` names a deleted file. `cargo xtask ci` makes the copy first.
pub fn xtask_bin() -> Result<PathBuf> {
    static COPY: OnceLock<PathBuf> = OnceLock::new();
    if let Some(copy) = COPY.get() {
        return Ok(copy.clone());
    }
    let (exe, dir) = (std::env::current_exe()?, root().join("target/ci-xtask"));
    fs::create_dir_all(&dir)?;
    // Copy, then rename: a run already using an earlier copy keeps its inode.
    let tmp = dir.join(format!("xtask.{}.tmp", std::process::id()));
    let rebuilt = "was it rebuilt meanwhile?";
    fs::copy(&exe, &tmp).map_err(|e| {
        let exe = exe.display();
        format!("cannot copy the running xtask binary {exe} ({e}); {rebuilt}")
    })?;
    fs::rename(&tmp, dir.join("xtask"))?;
    Ok(COPY.get_or_init(|| dir.join("xtask")).clone())
}

/// An executable in cargo's `--message-format=json` messages (read with std only).
#[derive(Debug)]
pub struct Executable {
    pub path: PathBuf,
    pub manifest: PathBuf,
    /// A test target (`cargo test --no-run`), not an example or binary.
    pub test: bool,
}

pub fn executables(json: &str) -> Vec<Executable> {
    let field = |line: &str, key: &str| -> Option<PathBuf> {
        let (_, rest) = line.split_once(&format!("\"{key}\":\""))?;
        Some(rest.split_once('"')?.0.into())
    };
    let artifact = |line: &str| {
        let (path, manifest) = (field(line, "executable")?, field(line, "manifest_path")?);
        let test = line.contains("\"test\":true");
        Some(Executable {
            path,
            manifest,
            test,
        })
    };
    json.lines().filter_map(artifact).collect()
}

/// The executables that `cargo ARGS --message-format=json-render-diagnostics` builds.
pub fn build_executables(args: &str) -> Result<Vec<Executable>> {
    let json = output(cargo(args).arg("--message-format=json-render-diagnostics"))?;
    Ok(executables(&json))
}

/// Builds chrony-core's example `name` with its `features` on (the default build's dependencies
/// stay as they are: the features are asked for here only); its executable, wherever
/// CARGO_TARGET_DIR puts it.
pub fn build_example(name: &str, release: bool, features: &[&str]) -> Result<PathBuf> {
    let release = if release { "--release" } else { "" };
    let features = match features {
        [] => String::new(),
        list => format!("--features {}", list.join(",")),
    };
    let build = format!("build -p chrony-core --example {name} {release} {features}");
    let built = build_executables(&build)?;
    let example = |p: &&PathBuf| p.ends_with(format!("examples/{name}"));
    let found = built.iter().map(|e| &e.path).find(example).cloned();
    found.ok_or_else(|| format!("cargo did not report the `{name}` example's executable").into())
}

pub fn pychrony_version() -> Result<String> {
    quoted_value("pychrony-py/Cargo.toml", "version")
}

/// The Python distribution's name (pyproject.toml): `chrony-monitor`.
pub fn distribution() -> Result<String> {
    quoted_value("pychrony-py/pyproject.toml", "name")
}

/// `VALUE` of the first `KEY = "VALUE"` line of the file at `rel`.
fn quoted_value(rel: &str, key: &str) -> Result<String> {
    let text = fs::read_to_string(root().join(rel))?;
    let prefix = format!("{key} = \"");
    let line = text.lines().find(|l| l.starts_with(&prefix));
    let value = line.and_then(|l| l[prefix.len()..].strip_suffix('"'));
    Ok(value
        .ok_or(format!("{rel} has no `{key} = \"...\"` line"))?
        .into())
}
