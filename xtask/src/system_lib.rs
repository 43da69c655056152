//! `cargo xtask system-lib PREFIX`: install the bundled C library the way a
//! distro package would (shared `libchrony.so.0`, `chrony.h`, `libchrony.pc`),
//! so that the "system libchrony" build mode can be tested without one.

use crate::util::{Result, bail, env_or, root, run};
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

// C_SOURCES: the one list, which libchrony-sys/build.rs includes too.
include!("../../libchrony-sys/c_sources.rs");
const SONAME: &str = "libchrony.so.0";
const REAL_NAME: &str = "libchrony.so.0.0.1";
/// The libchrony release whose API csrc implements.
pub const VERSION: &str = "0.2";
/// libchrony.pc, `@PREFIX@` and `@VERSION@` filled in here (`${prefix}` is pkg-config's own).
const PC: &str = include_str!("../templates/libchrony.pc.in");

pub fn run_cli(args: &[String]) -> Result {
    let usage = "usage: cargo xtask system-lib PREFIX\n";
    let args = crate::util::Args::parse(args, usage, "PREFIX")?;
    let Some(prefix) = args.words.first() else {
        bail!("a PREFIX is needed\n\n{usage}")
    };
    let prefix = install(Path::new(prefix))?;
    let (pc, lib) = (prefix.join("lib/pkgconfig"), prefix.join("lib"));
    let (pc, lib) = (pc.display(), lib.display());
    println!("installed libchrony {VERSION} into {}", prefix.display());
    println!("use it with: LIBCHRONY_NO_VENDOR=1 PKG_CONFIG_PATH={pc} LD_LIBRARY_PATH={lib}");
    Ok(())
}

pub fn install(prefix: &Path) -> Result<PathBuf> {
    let prefix = std::path::absolute(prefix)?;
    let csrc = root().join("libchrony-sys/csrc");
    let (lib, include) = (prefix.join("lib"), prefix.join("include"));
    for dir in [&lib.join("pkgconfig"), &include] {
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut cc = Command::new(env_or("CC", "gcc"));
    cc.args("-std=c11 -O2 -fPIC -D_GNU_SOURCE -Wall -Wextra -shared".split(' '));
    cc.arg(format!("-Wl,-soname,{SONAME}")).arg("-I").arg(&csrc);
    cc.arg("-o").arg(lib.join(REAL_NAME));
    cc.args(C_SOURCES.iter().map(|file| csrc.join(file)));
    run(cc.arg("-lm"))?;
    for (target, link) in [(REAL_NAME, SONAME), (SONAME, "libchrony.so")] {
        let link = lib.join(link);
        match fs::remove_file(&link) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                bail!("cannot replace {}: {e}", link.display());
            }
            _ => {}
        }
        symlink(target, &link).map_err(|e| format!("cannot create {}: {e}", link.display()))?;
    }
    fs::copy(csrc.join("chrony.h"), include.join("chrony.h"))?;
    fs::write(lib.join("pkgconfig/libchrony.pc"), pc_file(&prefix))?;
    Ok(prefix)
}

pub fn pc_file(prefix: &Path) -> String {
    let pc = PC.replace("@PREFIX@", &prefix.display().to_string());
    pc.replace("@VERSION@", VERSION)
}
