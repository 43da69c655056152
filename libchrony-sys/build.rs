//! Chooses how libchrony is provided, in this order:
//! 1. `LIBCHRONY_NO_VENDOR=1` (any value but `0`): the system library, found with pkg-config;
//! 2. feature `bundled` (the default): compile `csrc/` with `cc`;
//! 3. otherwise: the system library, found with pkg-config.
//!
//! A failure says what was tried and what to install or set.

use std::env;
use std::path::PathBuf;

/// The oldest libchrony release with the API the bindings describe.
const MIN_SYSTEM_VERSION: &str = "0.1";

include!("c_sources.rs");

fn main() {
    let no_vendor = env_var("LIBCHRONY_NO_VENDOR").is_some_and(|v| v != "0");
    let bundled = env::var_os("CARGO_FEATURE_BUNDLED").is_some();
    println!("cargo::rustc-check-cfg=cfg(libchrony_bundled)");
    if bundled && !no_vendor {
        build_bundled();
        println!("cargo::rustc-cfg=libchrony_bundled");
    } else {
        let why = if no_vendor {
            "LIBCHRONY_NO_VENDOR is set"
        } else {
            "feature `bundled` is off"
        };
        link_system(why);
    }
}

/// Reads an env var and tells cargo to rebuild when it changes.
fn env_var(name: &str) -> Option<String> {
    println!("cargo:rerun-if-env-changed={name}");
    let value = env::var(name).ok();
    if let Some(v) = &value {
        println!("cargo:warning=libchrony-sys: {name}={v}");
    }
    value
}

#[cfg(feature = "bundled")]
fn build_bundled() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let csrc = manifest.join("csrc");
    println!("cargo:rerun-if-changed=csrc");
    println!("cargo:rerun-if-changed=c_sources.rs");
    let mut build = cc::Build::new();
    build
        .std("c11")
        .include(&csrc)
        .warnings(true)
        .extra_warnings(true);
    // The sanitizer and strict-warning builds in CI pass their flags through CFLAGS,
    // which cc reads itself; we only add what every build needs.
    build.define("_GNU_SOURCE", None);
    for file in C_SOURCES {
        build.file(csrc.join(file));
    }
    build.compile("chrony");
    // The include directory, for dependents' build scripts (DEP_CHRONY_INCLUDE).
    println!("cargo:include={}", csrc.display());
    // Dependents' build scripts read DEP_CHRONY_SHARED_FD: this library has the
    // shared-fd extension (chrony_is_reply_to, chrony_process_datagram), which
    // a system libchrony 0.2 lacks.
    println!("cargo:shared_fd=1");
    println!("cargo:rustc-link-lib=m");
}

#[cfg(not(feature = "bundled"))]
fn build_bundled() {
    unreachable!("only called with feature `bundled`");
}

fn link_system(why: &str) {
    // pkg-config reads these itself; naming them makes cargo rebuild when they change.
    for var in [
        "PKG_CONFIG_PATH",
        "PKG_CONFIG_LIBDIR",
        "PKG_CONFIG_SYSROOT_DIR",
        "LIBCHRONY_STATIC",
    ] {
        env_var(var);
    }
    let statik = env_var("LIBCHRONY_STATIC").is_some_and(|v| v != "0");
    match pkg_config::Config::new()
        .atleast_version(MIN_SYSTEM_VERSION)
        .statik(statik)
        .probe("libchrony")
    {
        Ok(lib) => {
            if let Some(dir) = lib.include_paths.first() {
                println!("cargo:include={}", dir.display());
            }
            if statik {
                // libchrony's own .pc file omits Libs.private: -lm.
                println!("cargo:rustc-link-lib=m");
            }
        }
        Err(err) => {
            eprintln!(
                "\nlibchrony-sys: cannot link the system libchrony ({why}).\n\
                 pkg-config could not find `libchrony` >= {MIN_SYSTEM_VERSION}: {err}\n\n\
                 Do one of these:\n\
                 - install it: `dnf install libchrony-devel` (Fedora 42+, EPEL 9);\n\
                 - point pkg-config at a local install: PKG_CONFIG_PATH=<prefix>/lib/pkgconfig;\n\
                 - use the bundled C implementation: unset LIBCHRONY_NO_VENDOR and keep the\n\
                   default feature `bundled`.\n"
            );
            std::process::exit(1);
        }
    }
}
