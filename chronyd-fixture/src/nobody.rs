//! Running a program as `nobody`, for tests of non-root clients.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::tmpdir;

/// Copy `program` into a world-readable directory (0755; the copy 0755) and return a `Command` that runs the copy
/// as `nobody:nogroup` without supplementary groups: `setpriv --reuid=nobody --regid=nogroup --clear-groups <copy>`.
///
/// The copy is needed because a checkout or `target/` under a private home directory is not searchable by
/// `nobody`. The `Command` cannot own a directory, so copies are reused instead of removed: one directory per
/// build of a binary, `/tmp/chrnb-<key>`, where the key is the binary's device, inode, size and mtime. It is
/// made in a private staging directory and renamed into place, and reused only while it is ours and writable by
/// nobody else (its name is predictable: another user could make it first, and then a fresh one is used).
pub fn nobody_command(program: &Path) -> io::Result<Command> {
    nobody_command_with_libraries(program, &[])
}

/// [`nobody_command`] for a program that needs the shared libraries in `library_dirs` (as an unpacked chronyc
/// does: [`crate::Chrony::library_path`]): they are copied too, into `lib/` beside the copy, and the `Command`
/// sets `LD_LIBRARY_PATH` to it (a library directory under a private home is as unreadable for `nobody` as the
/// program is).
pub fn nobody_command_with_libraries(
    program: &Path,
    library_dirs: &[PathBuf],
) -> io::Result<Command> {
    let copy = match reusable_copy(program, library_dirs)? {
        Some(copy) => copy,
        None => fresh_copy(program, library_dirs, &tmpdir::make("chrnb", 0o755)?)?,
    };
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(&copy);
    if !library_dirs.is_empty() {
        cmd.env("LD_LIBRARY_PATH", copy.with_file_name("lib"));
    }
    Ok(cmd)
}

/// The shared copy of this build of `program`, made when missing; `None` when the name is taken by something
/// that is not ours.
fn reusable_copy(program: &Path, library_dirs: &[PathBuf]) -> io::Result<Option<PathBuf>> {
    let meta = std::fs::metadata(program)?;
    let mut key = format!(
        "{:x}-{:x}-{:x}-{:x}.{:x}",
        meta.dev(),
        meta.ino(),
        meta.size(),
        meta.mtime(),
        meta.mtime_nsec()
    );
    if !library_dirs.is_empty() {
        key.push_str("-lib");
    }
    let dir = PathBuf::from(format!("/tmp/chrnb-{key}"));
    let copy = dir.join(file_name(program)?);
    if !dir.exists() {
        let staging = tmpdir::make("chrnb", 0o755)?;
        fresh_copy(program, library_dirs, &staging)?;
        if std::fs::rename(&staging, &dir).is_err() {
            // Another process won the race (or the name is taken): use theirs if it checks out.
            let _ = std::fs::remove_dir_all(&staging);
        }
    }
    let lib = dir.join("lib");
    let libs_ok = library_dirs.is_empty() || trusted(&lib, &lib);
    Ok((trusted(&dir, &copy) && libs_ok).then_some(copy))
}

/// Owned by us and not writable by group or others: nobody else can have put or changed the binary.
fn trusted(dir: &Path, copy: &Path) -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    [dir, copy].iter().all(|p| {
        std::fs::symlink_metadata(p)
            .is_ok_and(|m| m.uid() == euid && m.mode() & 0o022 == 0 && !m.file_type().is_symlink())
    })
}

fn file_name(program: &Path) -> io::Result<&std::ffi::OsStr> {
    program.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a file: {}", program.display()),
        )
    })
}

/// Copies `program` into `dir` (0755), and the shared libraries of `library_dirs` into `dir/lib`; returns the
/// copy's path.
fn fresh_copy(program: &Path, library_dirs: &[PathBuf], dir: &Path) -> io::Result<PathBuf> {
    let copy = dir.join(file_name(program)?);
    // Copy in a child process: a write fd to an executable held in this (multi-threaded) process would leak into
    // children forked concurrently by other threads and make exec of the copy fail with ETXTBSY.
    cp(&[program.to_path_buf()], &copy)?;
    tmpdir::set_mode(&copy, 0o755)?;
    if !library_dirs.is_empty() {
        let lib = dir.join("lib");
        std::fs::create_dir(&lib)?;
        tmpdir::set_mode(&lib, 0o755)?;
        let mut libs = Vec::new();
        for d in library_dirs {
            for entry in std::fs::read_dir(d)?.filter_map(|e| e.ok()) {
                if entry.file_name().to_string_lossy().contains(".so") {
                    libs.push(entry.path());
                }
            }
        }
        if !libs.is_empty() {
            cp(&libs, &lib)?;
            for l in std::fs::read_dir(&lib)?.filter_map(|e| e.ok()) {
                tmpdir::set_mode(&l.path(), 0o644)?;
            }
        }
    }
    Ok(copy)
}

/// `cp -L -- FROM... TO` (symlinks followed: a library's soname link becomes a file).
fn cp(from: &[PathBuf], to: &Path) -> io::Result<()> {
    let status = Command::new("cp")
        .args(["-L", "--"])
        .args(from)
        .arg(to)
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "cp {} {} failed: {status}",
            from.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" "),
            to.display()
        )))
    }
}
