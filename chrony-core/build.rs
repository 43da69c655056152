//! Sets `cfg(libchrony_shared_fd)` when the linked C library has the
//! shared-fd extension (libchrony-sys's bundled build says so through
//! `DEP_CHRONY_SHARED_FD`): requests are then pipelined on one socket; with
//! a system libchrony 0.2 they are read one after another.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(libchrony_shared_fd)");
    println!("cargo:rerun-if-env-changed=DEP_CHRONY_SHARED_FD");
    if std::env::var_os("DEP_CHRONY_SHARED_FD").is_some_and(|v| v == "1") {
        println!("cargo::rustc-cfg=libchrony_shared_fd");
    }
}
