// The bundled C library's sources in csrc/: sorted, explicit, written once. A new file is a
// deliberate change here. Included by build.rs and by xtask (system-lib, fuzz).
pub const C_SOURCES: &[&str] = &["client.c", "message.c", "socket.c"];
