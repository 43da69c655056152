//! Mode::Sources' source configured by a name that never resolves: chronyd looks it up in /etc/hosts only
//! and sends nothing off loopback (no DNS query), shown with strace while chronyd resolves it again.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chronyd_fixture::{Fixture, Mode, UNRESOLVABLE_NAME};

/// The address of a traced `connect`/`sendto`/`sendmsg` line, if it names an IP one.
fn ip_of(line: &str) -> Option<&str> {
    let (_, rest) = line
        .split_once("inet_addr(\"")
        .or_else(|| line.split_once("inet_pton(AF_INET6, \""))?;
    rest.split('"').next()
}

fn is_loopback(ip: &str) -> bool {
    ip.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

#[test]
fn ip_addresses_of_traced_lines_are_found() {
    let v4 = r#"connect(7, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.1.2.3")}, 16) = 0"#;
    let v6 = r#"sendto(7, "x", 1, 0, {sa_family=AF_INET6, sin6_port=htons(53), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 1"#;
    assert_eq!(ip_of(v4), Some("10.1.2.3"));
    assert_eq!(ip_of(v6), Some("::1"));
    assert_eq!(
        ip_of(r#"connect(3, {sa_family=AF_UNIX, sun_path="/run/x"}, 110) = 0"#),
        None
    );
    assert!(!is_loopback("10.1.2.3") && is_loopback("127.0.0.3") && is_loopback("::1"));
}

#[test]
fn a_name_is_looked_up_in_etc_hosts_only_and_nothing_leaves_loopback() {
    assert!(
        Fixture::resolves_offline(),
        "needs root (a private mount namespace): run it as `cargo xtask ci` does"
    );
    let fx = Fixture::start(Mode::Sources).unwrap();
    let sources = fx.chronyc(&["-N", "-c", "sources", "-a"]).unwrap();
    assert!(
        sources.contains(&format!(",{UNRESOLVABLE_NAME},0,0,0,")),
        "{sources}"
    );
    let activity = fx.chronyc(&["-c", "activity"]).unwrap();
    assert!(
        activity.trim_end().ends_with(",1"),
        "one unresolved source: {activity}"
    );
    let nsswitch = format!("/proc/{}/root/etc/nsswitch.conf", fx.pid());
    let hosts = std::fs::read_to_string(&nsswitch).unwrap();
    assert!(hosts.lines().any(|l| l == "hosts: files"), "{hosts}");

    // Trace chronyd (every thread: its resolver runs in one) while `chronyc refresh` has it resolve again.
    let log = fx.dir().join("strace.log");
    let mut strace = Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-e",
            "trace=connect,sendto,sendmsg,sendmmsg,openat",
            "-o",
        ])
        .arg(&log)
        .arg("-p")
        .arg(fx.pid().to_string())
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("strace (Debian's strace package; the install stage provides it)");
    let deadline = Instant::now() + Duration::from_secs(10);
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    // strace has attached once chronyd's next poll of its sockets shows up.
    while !read().contains("(") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    fx.chronyc(&["refresh"]).unwrap();
    while !read().contains("\"/etc/hosts\"") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = strace.kill();
    let _ = strace.wait();
    let trace = read();
    assert!(
        trace.contains("\"/etc/hosts\""),
        "chronyd did not look the name up again within 10 s:\n{trace}"
    );
    let off_loopback: Vec<&str> = trace
        .lines()
        .filter(|l| ip_of(l).is_some_and(|ip| !is_loopback(ip)))
        .collect();
    assert!(off_loopback.is_empty(), "{off_loopback:#?}");
    assert!(!trace.contains("resolv.conf"), "{trace}");
    // Still unresolved afterwards.
    let sources = fx.chronyc(&["-N", "-c", "sources", "-a"]).unwrap();
    assert!(sources.contains(UNRESOLVABLE_NAME), "{sources}");
}
