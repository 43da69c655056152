//! pychrony native module (stub).
#![forbid(unsafe_code)]
