//! Calls `chrony_open_socket(argv[1])` and prints the outcome: `open_probe: ok`
//! (the socket is closed again, removing what it created) or
//! `open_probe: errno=N` (exit status 1).
//!
//! The tests run it as `nobody` to see the errno a non-root user gets.

use std::ffi::CString;

fn main() {
    let address = std::env::args().nth(1).expect("usage: open_probe ADDRESS");
    let address = CString::new(address).expect("an address has no NUL byte");
    // SAFETY: `address` is a NUL-terminated string that outlives the call.
    let fd = unsafe { libchrony_sys::chrony_open_socket(address.as_ptr()) };
    if fd < 0 {
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        println!("open_probe: errno={errno}");
        std::process::exit(1);
    }
    // SAFETY: `fd` came from chrony_open_socket and is closed exactly once.
    unsafe { libchrony_sys::chrony_close_socket(fd) };
    println!("open_probe: ok");
}
