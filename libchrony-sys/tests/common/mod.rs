//! Helpers shared by the test binaries: a session owner that drives the
//! request/poll/process loop with a bounded timeout, and a snapshot of a
//! record's fields.
#![allow(dead_code)]

pub mod tables;

use std::ffi::{CStr, CString};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use libchrony_sys as sys;

/// How long one exchange may take before the test fails (never an unbounded wait).
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// Whether the linked library gives `g`, for a test that checks it; if not,
/// the test says on stderr what it did not check
/// (`chronyd_fixture::check_guarantee`; chrony-core's tests do the same).
pub fn given(g: sys::Guarantee) -> bool {
    chronyd_fixture::check_guarantee(g.is_given(), &format!("{g:?}: {}", g.description()))
}

/// Whether the linked library knows the sourcename report (this crate's
/// extension; libchrony 0.2 lacks it), for a test that reads it; if not,
/// the test says so on stderr as for a guarantee (a failure with
/// `CHRONY_TEST_REQUIRE_GUARANTEES=1`, as in CI's system stage against our
/// own library).
pub fn knows_sourcename() -> bool {
    chronyd_fixture::check_guarantee(
        sys::knows_report(sys::SOURCENAME),
        "the sourcename report (an extension of this crate's C library)",
    )
}

/// Whether the linked library has the clients report (bundled: always).
#[allow(dead_code)]
pub fn knows_clients() -> bool {
    chronyd_fixture::check_guarantee(
        sys::knows_report(sys::CLIENTS),
        "the clients report (an extension of this crate's C library)",
    )
}

/// `name` as a C string that lives as long as the process. libchrony 0.2
/// keeps the report name passed to a request and reads it again for the
/// second step of a chained record (`ntpdata`, `authdata`), so a temporary
/// would dangle there. (That the bundled library needs no such thing,
/// `Guarantee::ReportNameCopied`, has its own test in fake_server.rs.)
pub fn report_name(name: &str) -> &'static CStr {
    static NAMES: Mutex<Vec<&'static CStr>> = Mutex::new(Vec::new());
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(n) = names.iter().find(|n| n.to_bytes() == name.as_bytes()) {
        return n;
    }
    let leaked: &'static CStr = Box::leak(CString::new(name).unwrap().into_boxed_c_str());
    names.push(leaked);
    leaked
}

/// Both ends of an AF_UNIX SOCK_SEQPACKET pair: the client's, the fake chronyd's.
pub fn socket_pair() -> (std::os::fd::OwnedFd, std::os::fd::OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid out-array of two ints.
    let r = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    assert_eq!(r, 0, "socketpair: errno {}", errno());
    // SAFETY: both fds are fresh and owned only here.
    unsafe {
        (
            std::os::fd::FromRawFd::from_raw_fd(fds[0]),
            std::os::fd::FromRawFd::from_raw_fd(fds[1]),
        )
    }
}

pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// `chrony_open_socket(address)`: the fd, or the errno.
pub fn open(address: &str) -> Result<i32, i32> {
    let c = CString::new(address).expect("no NUL in address");
    // SAFETY: `c` is NUL-terminated and outlives the call.
    let fd = unsafe { sys::chrony_open_socket(c.as_ptr()) };
    if fd < 0 { Err(errno()) } else { Ok(fd) }
}

pub fn close(fd: i32) {
    // SAFETY: the caller passes an fd from chrony_open_socket, closed once.
    unsafe { sys::chrony_close_socket(fd) };
}

pub fn error_string(e: sys::chrony_err) -> String {
    // SAFETY: chrony_get_error_string returns a static NUL-terminated string for any value.
    unsafe { CStr::from_ptr(sys::chrony_get_error_string(e)) }
        .to_string_lossy()
        .into_owned()
}

/// Polls `fd` for input for at most `timeout`; true if readable.
pub fn poll_in(fd: i32, timeout: Duration) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: `p` is one valid pollfd.
    let r = unsafe { libc::poll(&mut p, 1, ms) };
    assert!(r >= 0, "poll failed: errno {}", errno());
    r > 0
}

/// A field's value, read with the getter its type calls for.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    None,
    U(u64),
    I(i64),
    F(f64),
    T(i64, i64),
    S(Option<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub ty: sys::chrony_field_type,
    pub content: sys::chrony_field_content,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Record(pub Vec<Field>);

impl Record {
    pub fn get(&self, name: &str) -> &Field {
        self.0
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("no field {name:?} in {self:?}"))
    }
    pub fn u(&self, name: &str) -> u64 {
        match self.get(name).value {
            Value::U(v) => v,
            ref v => panic!("{name}: not an unsigned integer: {v:?}"),
        }
    }
    pub fn i(&self, name: &str) -> i64 {
        match self.get(name).value {
            Value::I(v) => v,
            ref v => panic!("{name}: not an integer: {v:?}"),
        }
    }
    pub fn f(&self, name: &str) -> f64 {
        match self.get(name).value {
            Value::F(v) => v,
            ref v => panic!("{name}: not a float: {v:?}"),
        }
    }
    pub fn t(&self, name: &str) -> (i64, i64) {
        match self.get(name).value {
            Value::T(s, n) => (s, n),
            ref v => panic!("{name}: not a timespec: {v:?}"),
        }
    }
    pub fn s(&self, name: &str) -> Option<String> {
        match &self.get(name).value {
            Value::S(v) => v.clone(),
            v => panic!("{name}: not a string: {v:?}"),
        }
    }
    /// (name, type, content) of every field, in order.
    pub fn layout(&self) -> Vec<(String, sys::chrony_field_type, sys::chrony_field_content)> {
        self.0
            .iter()
            .map(|f| (f.name.clone(), f.ty, f.content))
            .collect()
    }
}

/// Owns a session (and, if opened here, its socket).
pub struct Conn {
    pub fd: i32,
    pub s: *mut sys::chrony_session,
    owns_fd: bool,
}

impl Conn {
    /// Opens `address` and starts a session; panics with the errno on failure.
    pub fn open(address: &str) -> Conn {
        let fd = open(address).unwrap_or_else(|e| panic!("open {address:?}: errno {e}"));
        let mut c = Conn::on_fd(fd);
        c.owns_fd = true;
        c
    }

    /// A session on an fd the caller keeps (e.g. one end of a socketpair).
    pub fn on_fd(fd: i32) -> Conn {
        let mut s = std::ptr::null_mut();
        // SAFETY: `s` is a valid out-pointer.
        let r = unsafe { sys::chrony_init_session(&mut s, fd) };
        assert_eq!(r, sys::CHRONY_OK, "init_session");
        assert!(!s.is_null());
        Conn {
            fd,
            s,
            owns_fd: false,
        }
    }

    pub fn needs_response(&self) -> bool {
        // SAFETY: self.s is a live session.
        unsafe { sys::chrony_needs_response(self.s) }
    }

    /// One `chrony_process_response` call.
    pub fn process(&self) -> sys::chrony_err {
        // SAFETY: self.s is a live session.
        unsafe { sys::chrony_process_response(self.s) }
    }

    /// Poll then process until no response is needed; Err(code) on a library
    /// error, Err(u32::MAX) on timeout (the request stays outstanding).
    pub fn wait_for(&self, timeout: Duration) -> Result<(), sys::chrony_err> {
        let deadline = Instant::now() + timeout;
        while self.needs_response() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || !poll_in(self.fd, left) {
                return Err(u32::MAX);
            }
            let r = self.process();
            if r != sys::CHRONY_OK {
                return Err(r);
            }
        }
        Ok(())
    }

    /// Like `wait_for(TIMEOUT)`, but a timeout fails the test.
    pub fn wait(&self) -> Result<(), sys::chrony_err> {
        let r = self.wait_for(TIMEOUT);
        assert_ne!(r, Err(u32::MAX), "no response within {TIMEOUT:?}");
        r
    }

    pub fn request_count(&self, report: &str) -> sys::chrony_err {
        // SAFETY: live session, NUL-terminated name that is never freed.
        unsafe { sys::chrony_request_report_number_records(self.s, report_name(report).as_ptr()) }
    }

    pub fn request_record(&self, report: &str, record: i32) -> sys::chrony_err {
        // SAFETY: live session, NUL-terminated name that is never freed.
        unsafe { sys::chrony_request_record(self.s, report_name(report).as_ptr(), record) }
    }

    pub fn number_records(&self) -> i32 {
        // SAFETY: live session.
        unsafe { sys::chrony_get_report_number_records(self.s) }
    }

    /// The number of records of `report` (the full loop).
    pub fn count(&self, report: &str) -> Result<i32, sys::chrony_err> {
        let r = self.request_count(report);
        if r != sys::CHRONY_OK {
            return Err(r);
        }
        self.wait()?;
        Ok(self.number_records())
    }

    /// Record `i` of `report` (the full loop).
    pub fn record(&self, report: &str, i: i32) -> Result<Record, sys::chrony_err> {
        let r = self.request_record(report, i);
        if r != sys::CHRONY_OK {
            return Err(r);
        }
        self.wait()?;
        Ok(self.fields())
    }

    pub fn number_fields(&self) -> i32 {
        // SAFETY: live session.
        unsafe { sys::chrony_get_record_number_fields(self.s) }
    }

    pub fn field_index(&self, name: &str) -> i32 {
        let c = CString::new(name).unwrap();
        // SAFETY: live session, NUL-terminated name.
        unsafe { sys::chrony_get_field_index(self.s, c.as_ptr()) }
    }

    pub fn field_name(&self, i: i32) -> Option<String> {
        // SAFETY: live session; the name is NULL or a static string.
        let p = unsafe { sys::chrony_get_field_name(self.s, i) };
        // SAFETY: non-NULL names are NUL-terminated.
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }

    pub fn field_type(&self, i: i32) -> sys::chrony_field_type {
        // SAFETY: live session.
        unsafe { sys::chrony_get_field_type(self.s, i) }
    }

    pub fn field_content(&self, i: i32) -> sys::chrony_field_content {
        // SAFETY: live session.
        unsafe { sys::chrony_get_field_content(self.s, i) }
    }

    pub fn uinteger(&self, i: i32) -> u64 {
        // SAFETY: live session.
        unsafe { sys::chrony_get_field_uinteger(self.s, i) }
    }

    pub fn integer(&self, i: i32) -> i64 {
        // SAFETY: live session.
        unsafe { sys::chrony_get_field_integer(self.s, i) }
    }

    pub fn float(&self, i: i32) -> f64 {
        // SAFETY: live session.
        unsafe { sys::chrony_get_field_float(self.s, i) }
    }

    pub fn timespec(&self, i: i32) -> (i64, i64) {
        // SAFETY: live session.
        let t = unsafe { sys::chrony_get_field_timespec(self.s, i) };
        (t.tv_sec, t.tv_nsec)
    }

    /// The raw pointer of an address string (to check where it lives).
    pub fn string_ptr(&self, i: i32) -> *const libc::c_char {
        // SAFETY: live session.
        unsafe { sys::chrony_get_field_string(self.s, i) }
    }

    pub fn string(&self, i: i32) -> Option<String> {
        let p = self.string_ptr(i);
        // SAFETY: non-NULL strings are NUL-terminated and valid until the next call on the session.
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }

    pub fn constant_name(&self, i: i32, value: u64) -> Option<String> {
        // SAFETY: live session; the name is NULL or a static string.
        let p = unsafe { sys::chrony_get_field_constant_name(self.s, i, value) };
        // SAFETY: non-NULL names are NUL-terminated.
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }

    /// A snapshot of the current record, each field read with the getter of its type.
    pub fn fields(&self) -> Record {
        let n = self.number_fields();
        let mut out = Vec::new();
        for i in 0..n {
            let ty = self.field_type(i);
            let value = match ty {
                sys::CHRONY_TYPE_UINTEGER => Value::U(self.uinteger(i)),
                sys::CHRONY_TYPE_INTEGER => Value::I(self.integer(i)),
                sys::CHRONY_TYPE_FLOAT => Value::F(self.float(i)),
                sys::CHRONY_TYPE_TIMESPEC => {
                    let (s, n) = self.timespec(i);
                    Value::T(s, n)
                }
                sys::CHRONY_TYPE_STRING => Value::S(self.string(i)),
                _ => Value::None,
            };
            out.push(Field {
                name: self.field_name(i).expect("every field has a name"),
                ty,
                content: self.field_content(i),
                value,
            });
        }
        Record(out)
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // SAFETY: self.s is live and freed once here.
        unsafe { sys::chrony_deinit_session(self.s) };
        if self.owns_fd {
            close(self.fd);
        }
    }
}

/// The names in a directory, sorted.
pub fn list_dir(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read_dir {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A fresh socket directory with a bound "server" socket in it.
pub fn server_dir(tag: &str) -> (std::path::PathBuf, std::os::unix::net::UnixDatagram) {
    let dir = std::path::PathBuf::from(format!("/tmp/lcsec{tag}.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    let server = std::os::unix::net::UnixDatagram::bind(dir.join("chronyd.sock")).unwrap();
    (dir, server)
}

/// The path `fd` is bound to.
pub fn bound_path(fd: i32) -> std::path::PathBuf {
    // SAFETY: fd is an open socket; it is handed back with into_raw_fd.
    let socket =
        unsafe { <std::os::unix::net::UnixDatagram as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let path = socket
        .local_addr()
        .unwrap()
        .as_pathname()
        .expect("a bound client socket")
        .to_path_buf();
    let _ = std::os::fd::IntoRawFd::into_raw_fd(socket);
    path
}
