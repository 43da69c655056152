//! The `sanitize` stage: libchrony-sys's tests with its C code built under
//! AddressSanitizer and UndefinedBehaviorSanitizer (stable Rust: only the C is
//! instrumented; the Rust binaries are linked with the sanitizer runtimes).

use crate::util::{Result, cargo, root, run};

pub fn stage() -> Result {
    run(cargo()
        .env("CARGO_TARGET_DIR", root().join("target/sanitize"))
        .env(
            "CFLAGS",
            "-fsanitize=address,undefined -fno-omit-frame-pointer",
        )
        .args(["test", "-p", "libchrony-sys"]))
}
