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

/// A venv at `rel` (relative to the workspace root) with `tools` installed:
/// created when missing, topped up when a pinned tool is missing. Returns its
/// interpreter.
pub fn venv(rel: &str, tools: &[&str]) -> Result<PathBuf> {
    let venv = root().join(rel);
    let python = venv.join("bin/python");
    if !python.exists() {
        let base = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        run(Command::new(base).args(["-m", "venv"]).arg(&venv))?;
    }
    if tools.is_empty() {
        return Ok(python);
    }
    let frozen = output(Command::new(&python).args([
        "-m",
        "pip",
        "freeze",
        "--all",
        "--disable-pip-version-check",
    ]))?;
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|tool| !frozen.lines().any(|line| line.eq_ignore_ascii_case(tool)))
        .collect();
    if missing.is_empty() {
        println!("{rel} has {}", tools.join(" "));
    } else {
        run(Command::new(&python)
            .args(["-m", "pip", "install", "--disable-pip-version-check", "-q"])
            .args(&missing))?;
    }
    Ok(python)
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
}
