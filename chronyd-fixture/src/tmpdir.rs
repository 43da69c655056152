//! Short private directories under /tmp (unix socket paths are limited to 108 bytes).

use std::ffi::{CString, OsString};
use std::io;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// `mkdtemp("/tmp/<prefix>.XXXXXX")`, then chmod to `mode`.
pub(crate) fn make(prefix: &str, mode: u32) -> io::Result<PathBuf> {
    let template = CString::new(format!("/tmp/{prefix}.XXXXXX"))
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let mut bytes = template.into_bytes_with_nul();
    // SAFETY: `bytes` is a writable NUL-terminated template ending in XXXXXX, as mkdtemp requires.
    let ret = unsafe { libc::mkdtemp(bytes.as_mut_ptr().cast()) };
    if ret.is_null() {
        return Err(io::Error::last_os_error());
    }
    bytes.pop();
    let path = PathBuf::from(OsString::from_vec(bytes));
    set_mode(&path, mode)?;
    Ok(path)
}

/// chmod, keeping the error readable.
pub(crate) fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("chmod {:o} {}: {e}", mode, path.display()),
        )
    })
}
