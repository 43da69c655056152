//! The commands of `cargo xtask` (src/main.rs dispatches), a library so that xtask/tests can test
//! their parsers and tables. Tooling only: what it checks of the project runs as the crates' tests.
#![forbid(unsafe_code)]
// Internal tooling, not an API: its types need no Debug, and its docs name private items (read them
// with `cargo doc -p xtask --document-private-items`).
#![allow(missing_debug_implementations, rustdoc::private_intra_doc_links)]

pub mod actionlint;
pub mod bench;
pub mod bindgen_cmd;
pub mod ci;
pub mod demo;
pub mod fresh;
pub mod fuzz;
pub mod install;
pub mod pyenv;
pub mod python;
pub mod sanitize;
pub mod soak;
pub mod socket_discovery;
pub mod system_lib;
pub mod third_party;
pub mod util;
pub mod valgrind;
pub mod versions;
pub mod wheels;
