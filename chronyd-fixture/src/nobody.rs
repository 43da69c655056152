//! Running a program as `nobody`, for tests of non-root clients.

use std::io;
use std::path::Path;
use std::process::Command;

use crate::tmpdir;

/// Copy `program` into a fresh world-readable directory (`/tmp/chrnb.XXXXXX`, 0755; the copy 0755) and return a
/// `Command` that runs the copy as `nobody:nogroup` without supplementary groups:
/// `setpriv --reuid=nobody --regid=nogroup --clear-groups <copy>`.
///
/// The copy is needed because a checkout or `target/` under a private home directory is not searchable by
/// `nobody`. The directory is left behind (the `Command` cannot own it); it holds one binary.
pub fn nobody_command(program: &Path) -> io::Result<Command> {
    let name = program.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a file: {}", program.display()),
        )
    })?;
    let dir = tmpdir::make("chrnb", 0o755)?;
    let copy = dir.join(name);
    // Copy in a child process: a write fd to an executable held in this (multi-threaded) process would leak into
    // children forked concurrently by other threads and make exec of the copy fail with ETXTBSY.
    let status = Command::new("cp")
        .arg("--")
        .arg(program)
        .arg(&copy)
        .status()?;
    if !status.success() {
        return Err(io::Error::other(format!(
            "cp {} {} failed: {status}",
            program.display(),
            copy.display()
        )));
    }
    tmpdir::set_mode(&copy, 0o755)?;
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(&copy);
    Ok(cmd)
}
