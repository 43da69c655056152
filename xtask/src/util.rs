//! Small helpers shared by the xtask commands.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The error type of every xtask command: a message for the terminal.
pub type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The workspace root (xtask lives one level below it).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is inside the workspace")
        .to_path_buf()
}

/// `cargo`, the same one that runs xtask (cargo sets `CARGO` for `cargo run`).
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// The command line as a shell user would type it: changed env vars, program, args.
pub fn describe(cmd: &Command) -> String {
    let mut words = Vec::new();
    let mut envs: Vec<_> = cmd.get_envs().collect();
    envs.sort();
    for (key, value) in envs {
        match value {
            Some(v) => words.push(format!("{}={}", key.to_string_lossy(), show_env(key, v))),
            None => words.push(format!("-u {}", key.to_string_lossy())),
        }
    }
    let program = Path::new(cmd.get_program());
    if std::env::var_os("CARGO").is_some_and(|c| Path::new(&c) == program) {
        words.push("cargo".into()); // the full toolchain path is noise
    } else {
        words.push(quote(program.as_os_str()));
    }
    words.extend(cmd.get_args().map(quote));
    let line = words.join(" ");
    match cmd.get_current_dir() {
        Some(dir) if dir != root() => format!("(cd {} && {line})", display_rel(dir)),
        _ => line,
    }
}

/// A path-list value that extends the current one prints as `new:$VAR`.
fn show_env(key: &OsStr, value: &OsStr) -> String {
    let (Some(value), Some(old)) = (value.to_str(), std::env::var_os(key)) else {
        return quote(value);
    };
    let old = old.to_string_lossy();
    match value.strip_suffix(&*old) {
        Some(new) if !old.is_empty() && new.ends_with(':') => {
            format!("{}${}", quote(OsStr::new(new)), key.to_string_lossy())
        }
        _ => quote(OsStr::new(value)),
    }
}

fn quote(word: &OsStr) -> String {
    let s = word.to_string_lossy();
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// A path relative to the workspace root when it is inside it.
pub fn display_rel(path: &Path) -> String {
    path.strip_prefix(root())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.display().to_string())
}

/// The program's file name and its arguments, for error messages (the full
/// command line, env included, was echoed before it ran).
fn short(cmd: &Command) -> String {
    let program = Path::new(cmd.get_program());
    let mut words = vec![quote(program.file_name().unwrap_or(program.as_os_str()))];
    words.extend(cmd.get_args().map(quote));
    words.join(" ")
}

/// Runs a command with its output going straight to the terminal; fails unless it exits 0.
pub fn run(cmd: &mut Command) -> Result {
    let line = describe(cmd);
    println!("$ {line}");
    let status = cmd
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("cannot start `{line}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", short(cmd)).into())
    }
}

/// Runs a command and returns its standard output; its standard error goes to the terminal.
pub fn output(cmd: &mut Command) -> Result<String> {
    let line = describe(cmd);
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start `{line}`: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("`{}` failed ({})", short(cmd), out.status).into())
    }
}

/// A copy of this xtask binary that stays valid for the whole run, for
/// children that run it (XTASK_BIN for the Python tests, `unshare … xtask`):
/// a stage that runs `cargo test --workspace` or `cargo build` may relink
/// target/debug/xtask (edited sources, other unified features), after which
/// `current_exe()` names a deleted file. `cargo xtask ci` makes the copy first.
pub fn xtask_bin() -> Result<PathBuf> {
    static COPY: OnceLock<PathBuf> = OnceLock::new();
    if let Some(copy) = COPY.get() {
        return Ok(copy.clone());
    }
    let exe = std::env::current_exe()?;
    let dir = root().join("target/ci-xtask");
    fs::create_dir_all(&dir)?;
    // Copy, then rename: a run already using an earlier copy keeps its inode.
    let tmp = dir.join(format!("xtask.{}.tmp", std::process::id()));
    fs::copy(&exe, &tmp).map_err(|e| {
        format!(
            "cannot copy the running xtask binary {} ({e}); was it rebuilt meanwhile?",
            exe.display()
        )
    })?;
    let copy = dir.join("xtask");
    fs::rename(&tmp, &copy)?;
    Ok(COPY.get_or_init(|| copy).clone())
}

/// An absolute form of `path` (relative paths are taken from the current directory).
pub fn absolute(path: &Path) -> Result<PathBuf> {
    Ok(std::path::absolute(path)?)
}

/// One `compiler-artifact` with an executable in cargo's JSON messages
/// (`--message-format=json...`; read with std only, no serde).
#[derive(Debug, PartialEq)]
pub struct Executable {
    pub path: PathBuf,
    /// The package's Cargo.toml.
    pub manifest: PathBuf,
    /// A test target (`cargo test --no-run`), not an example or binary.
    pub test: bool,
}

/// The executables cargo reported in `json`, in its order.
pub fn executables(json: &str) -> Vec<Executable> {
    let field = |line: &str, key: &str| -> Option<PathBuf> {
        let key = format!("\"{key}\":\"");
        let start = line.find(&key)? + key.len();
        let end = start + line[start..].find('"')?;
        Some(PathBuf::from(&line[start..end]))
    };
    json.lines()
        .filter_map(|line| {
            Some(Executable {
                path: field(line, "executable")?,
                manifest: field(line, "manifest_path")?,
                test: line.contains("\"test\":true"),
            })
        })
        .collect()
}

/// Builds chrony-core's example `name` (dev profile, or `--release`); returns its executable,
/// wherever CARGO_TARGET_DIR puts it.
pub fn build_example(name: &str, release: bool) -> Result<PathBuf> {
    let mut build = cargo();
    build.args(["build", "-p", "chrony-core", "--example", name]);
    if release {
        build.arg("--release");
    }
    let json = output(build.arg("--message-format=json-render-diagnostics"))?;
    executables(&json)
        .into_iter()
        .map(|e| e.path)
        .find(|p| p.parent().is_some_and(|d| d.ends_with("examples")) && p.ends_with(name))
        .ok_or_else(|| format!("cargo did not report the `{name}` example's executable").into())
}

/// The version of pychrony-py (its Cargo.toml, the one place it is written).
pub fn pychrony_version() -> Result<String> {
    let manifest = fs::read_to_string(root().join("pychrony-py/Cargo.toml"))?;
    manifest
        .lines()
        .find_map(|l| l.strip_prefix("version = \"")?.strip_suffix('"'))
        .map(str::to_string)
        .ok_or_else(|| "pychrony-py/Cargo.toml has no `version = \"...\"` line".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_commands_can_be_pasted_into_a_shell() {
        let mut cmd = Command::new("gcc");
        cmd.env("CFLAGS", "-fsanitize=address -g")
            .args(["-o", "out file", "it's.c"]);
        assert_eq!(
            describe(&cmd),
            r"CFLAGS='-fsanitize=address -g' gcc -o 'out file' 'it'\''s.c'"
        );
    }

    #[test]
    fn errors_name_the_program_without_its_directory() {
        let mut cmd = Command::new("/usr/bin/false");
        cmd.arg("x");
        assert_eq!(short(&cmd), "false x");
    }

    #[test]
    fn executables_are_read_from_cargo_json() {
        let json = r#"{"reason":"compiler-artifact","manifest_path":"/w/c/Cargo.toml","profile":{"test":true},"executable":"/w/t/deps/fork-1"}
{"reason":"compiler-artifact","manifest_path":"/w/c/Cargo.toml","profile":{"test":false},"executable":"/w/t/examples/x"}
{"reason":"compiler-artifact","manifest_path":"/w/c/Cargo.toml","profile":{"test":false},"executable":null}
{"reason":"build-finished","success":true}"#;
        let found = executables(json);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].path, PathBuf::from("/w/t/deps/fork-1"));
        assert_eq!(found[0].manifest, PathBuf::from("/w/c/Cargo.toml"));
        assert!(found[0].test && !found[1].test);
    }

    #[test]
    fn pychrony_version_is_read() {
        assert!(pychrony_version().unwrap().split('.').count() >= 3);
    }
}
