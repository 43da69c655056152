//! Times the Rust side against a chronyd (for information; nothing is
//! asserted). Run in release mode:
//!
//! ```text
//! cargo run --release -p chrony-core --example bench [CALLS]
//! bench --socket PATH --udp ADDR [--chronyc PATH] [--many ADDR,...] [--many-lan ADDR,...] [--samples N] [--spawn-samples N] [--blocks N] [--json FILE]
//! ```
//!
//! Without `--socket` it starts a fixture chronyd of its own. The chronyc case
//! runs `--chronyc PATH` (with the environment as given), else the fixture's
//! chronyc (`chronyd_fixture::Chrony::find`: `CHRONY_DIR`, an installed one, or
//! the one `cargo xtask chrony` unpacked). `cargo xtask bench` runs it with
//! `--socket`/`--udp`/`--chronyc` (pinned to one CPU with the daemon)
//! next to the Python cases and the peer library, and merges the `--json`
//! output, which holds every sample in nanoseconds.
//!
//! Cases, over the unix socket and over UDP:
//! - the floor: a raw persistent socket (std only), a hand-built 104-byte
//!   REQ_TRACKING request with a random sequence, one `recv`, the sequence
//!   checked; no parsing (what any client must pay at least);
//! - `chrony_core::tracking(Some(path))`, the one-call API (unix only);
//! - `Connection` open + query + drop (a fresh client socket each time);
//! - a reused `Connection`, and a reused `SharedConnection` (what pychrony's
//!   `ChronyConnection` is built on);
//! - `chronyc -c tracking` as a subprocess;
//! - built with `--features tokio` (as `cargo xtask bench` builds it): a reused
//!   `AsyncConnection` on a current-thread runtime, and with `--many ADDR,ADDR,...` (UDP
//!   command ports of other daemons: xtask starts 16) every one's tracking, one after another
//!   with blocking `Connection`s or all at once with `AsyncConnection`s (one sample is all of them);
//!   with `--many-lan ADDR,...` the same again through latency relays (xtask puts one in front of
//!   each of the 16, holding each datagram as a LAN would);
//! - with the daemon's sources (8 in `cargo xtask bench`'s fixture, `Mode::EightSources`):
//!   `Connection::sources()` (both transports), `Connection::snapshot()` and the same
//!   reports read one by one (unix: over UDP chronyd refuses some), and chronyc as a script
//!   runs it: `chronyc -n sources`, `sourcestats`, `tracking` and `activity`, one process each
//!   (one sample is the four runs);
//! - what a textfile script runs for a Prometheus scrape of tracking, sources and serverstats:
//!   `chronyc -c tracking`, `sources`, `serverstats` (one sample is the three runs).
//!
//! The cases take turns in blocks, so a change of machine load hits them all
//! alike; each block starts with a few unmeasured calls.

use std::fs::File;
use std::io::{Read, Write};
use std::net::UdpSocket;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use chrony_core::{Connection, SharedConnection, Snapshot};
use chronyd_fixture::{Chrony, Fixture, Mode, wire};

#[cfg(feature = "tokio")]
#[path = "bench/tokio_cases.rs"]
mod tokio_cases;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// REQ_TRACKING request and reply length (protocol version 6: the request is
/// padded to the reply's length).
const TRACKING_LEN: usize = wire::TRACKING_REPLY_LEN;

struct Args {
    socket: Option<PathBuf>,
    udp: Option<String>,
    chronyc: Option<PathBuf>,
    /// UDP addresses of the daemons the many-daemon cases poll.
    many: Vec<String>,
    /// The same daemons behind latency relays (the `.lan` many-daemon cases).
    many_lan: Vec<String>,
    samples: usize,
    spawn_samples: usize,
    blocks: usize,
    json: Option<PathBuf>,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        socket: None,
        udp: None,
        chronyc: None,
        many: Vec::new(),
        many_lan: Vec::new(),
        samples: 2000,
        spawn_samples: 200,
        blocks: 10,
        json: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--socket" => args.socket = Some(value()?.into()),
            "--udp" => args.udp = Some(value()?),
            "--chronyc" => args.chronyc = Some(value()?.into()),
            "--many" => args.many = value()?.split(',').map(String::from).collect(),
            "--many-lan" => args.many_lan = value()?.split(',').map(String::from).collect(),
            "--samples" => args.samples = value()?.parse()?,
            "--spawn-samples" => args.spawn_samples = value()?.parse()?,
            "--blocks" => args.blocks = value()?.parse()?,
            "--json" => args.json = Some(value()?.into()),
            "-h" | "--help" => {
                println!(
                    "usage: bench [CALLS] | bench --socket PATH --udp ADDR [--chronyc PATH] \
                     [--many ADDR,...] [--many-lan ADDR,...] [--samples N] [--spawn-samples N] [--blocks N] [--json FILE]"
                );
                std::process::exit(0);
            }
            n if n.parse::<usize>().is_ok() => args.samples = n.parse()?,
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    args.blocks = args.blocks.max(1);
    Ok(args)
}

/// xorshift64*, seeded from the OS: the request sequences are random, as a
/// real client's are, without a dependency.
struct Rng(u64);

impl Rng {
    fn new() -> Result<Rng> {
        let mut seed = [0u8; 8];
        File::open("/dev/urandom")?.read_exact(&mut seed)?;
        Ok(Rng(u64::from_ne_bytes(seed) | 1))
    }

    fn next_u32(&mut self) -> u32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as u32
    }
}

/// A REQ_TRACKING request with `sequence`, padded to the reply's length (the
/// bytes come from chronyd-fixture's `wire`, the workspace's one encoding).
fn tracking_request(sequence: u32) -> Vec<u8> {
    wire::request(
        wire::command::TRACKING,
        TRACKING_LEN,
        0,
        sequence.to_be_bytes(),
    )
}

/// The reply must be a tracking reply with status 0 echoing `sequence`.
fn check_reply(reply: &[u8], sequence: u32) {
    assert_eq!(reply.len(), TRACKING_LEN, "reply length");
    assert_eq!(reply[1], wire::PKT_TYPE_REPLY, "packet type");
    assert_eq!(
        wire::get_u16(reply, 6),
        wire::reply_code::TRACKING,
        "reply code"
    );
    assert_eq!(wire::get_u16(reply, 8), wire::status::SUCCESS, "status");
    assert_eq!(wire::get_u32(reply, 16), sequence, "sequence");
}

/// The floor: one persistent datagram socket, one request, one reply.
enum Raw {
    Unix(UnixDatagram, PathBuf),
    Udp(UdpSocket),
}

impl Raw {
    /// A unix datagram socket bound next to chronyd's (chronyd replies to the
    /// client's address, so the client must be bound), world-writable so a
    /// daemon running as another user can reply.
    fn unix(server: &Path) -> Result<Raw> {
        let dir = server.parent().ok_or("socket path has no directory")?;
        let path = dir.join(format!("bench-raw.{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let sock = UnixDatagram::bind(&path)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666))?;
        sock.connect(server)?;
        Ok(Raw::Unix(sock, path))
    }

    fn udp(server: &str) -> Result<Raw> {
        let local = if server.starts_with('[') {
            "[::1]:0"
        } else {
            "127.0.0.1:0"
        };
        let sock = UdpSocket::bind(local)?;
        sock.connect(server)?;
        Ok(Raw::Udp(sock))
    }

    fn round_trip(&self, sequence: u32, buf: &mut [u8]) {
        let req = tracking_request(sequence);
        let n = match self {
            Raw::Unix(s, _) => {
                s.send(&req).expect("send");
                s.recv(buf).expect("recv")
            }
            Raw::Udp(s) => {
                s.send(&req).expect("send");
                s.recv(buf).expect("recv")
            }
        };
        check_reply(&buf[..n], sequence);
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        if let Raw::Unix(_, path) = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// One measured case: an id (`impl.api.transport`, the key `cargo xtask
/// bench` merges on), a label, and the call.
struct Case<'a> {
    id: &'static str,
    label: &'static str,
    spawn: bool,
    call: Box<dyn FnMut() + 'a>,
    samples: Vec<u64>,
}

/// The reports of a snapshot, by the sequential `Connection` methods.
fn sequential_all(c: &mut Connection) {
    c.tracking().expect("tracking");
    c.activity().expect("activity");
    c.server_stats().expect("serverstats");
    c.smoothing().expect("smoothing");
    c.rtc_data().expect("rtcdata");
    c.sources().expect("sources");
    c.source_stats().expect("sourcestats");
    c.select_data().expect("selectdata");
    c.ntp_data_all().expect("ntpdata");
    c.auth_data().expect("authdata");
    c.source_names().expect("sourcename");
}

fn case<'a>(
    id: &'static str,
    label: &'static str,
    spawn: bool,
    call: impl FnMut() + 'a,
) -> Case<'a> {
    Case {
        id,
        label,
        spawn,
        call: Box::new(call),
        samples: Vec::new(),
    }
}

/// How to start chronyc: `--chronyc PATH` as given, or the fixture's (with the library path it may need).
fn chronyc_command(args: &Args) -> Result<Box<dyn Fn() -> Command>> {
    Ok(match &args.chronyc {
        Some(path) => {
            let path = path.clone();
            Box::new(move || Command::new(&path))
        }
        None => {
            let chrony = Chrony::find()?;
            Box::new(move || chrony.chronyc_command())
        }
    })
}

fn chronyc<'a>(command: &'a dyn Fn() -> Command, args: Vec<String>) -> impl FnMut() + 'a {
    chronyc_script(command, vec![args])
}

/// One process per entry of `runs`, one after the other, as a shell script would run them.
fn chronyc_script<'a>(
    command: &'a dyn Fn() -> Command,
    runs: Vec<Vec<String>>,
) -> impl FnMut() + 'a {
    move || {
        for args in &runs {
            let out = command()
                .args(args)
                .stdin(Stdio::null())
                .stderr(Stdio::inherit())
                .output()
                .expect("chronyc");
            assert!(out.status.success(), "chronyc {args:?}: {}", out.status);
            assert!(!out.stdout.is_empty());
        }
    }
}

/// A snapshot in which every report was read, with `sources` sources: the cases time the whole
/// work, never an early error (over the unix socket chronyd refuses none of them).
fn check_snapshot(snapshot: &Snapshot, sources: usize) -> Result<()> {
    let reports = [
        snapshot.tracking.as_ref().err(),
        snapshot.activity.as_ref().err(),
        snapshot.server_stats.as_ref().err(),
        snapshot.smoothing.as_ref().err(),
        snapshot.rtc_data.as_ref().err(),
    ];
    if let Some(e) = reports.into_iter().flatten().next() {
        return Err(format!("snapshot: a report failed: {e}").into());
    }
    let list = snapshot
        .sources
        .as_ref()
        .map_err(|e| format!("snapshot: sources: {e}"))?;
    if list.len() != sources {
        return Err(format!("snapshot: {} sources, sources() has {sources}", list.len()).into());
    }
    for s in list {
        let errors = [
            s.stats.as_ref().err(),
            s.select_data.as_ref().err(),
            s.ntp_data.as_ref().err(),
            s.auth_data.as_ref().err(),
            s.name.as_ref().err(),
        ];
        if let Some(e) = errors.into_iter().flatten().next() {
            return Err(format!("snapshot: source {}: {e}", s.source.address).into());
        }
    }
    Ok(())
}

fn run_cases(cases: &mut [Case<'_>], args: &Args) {
    for c in cases.iter_mut() {
        let warm = if c.spawn {
            5
        } else {
            (args.samples / 10).max(20)
        };
        for _ in 0..warm {
            (c.call)();
        }
    }
    for block in 0..args.blocks {
        for c in cases.iter_mut() {
            let total = if c.spawn {
                args.spawn_samples
            } else {
                args.samples
            };
            // Spread `total` over the blocks (the first ones take the remainder).
            let n = total / args.blocks + usize::from(block < total % args.blocks);
            for _ in 0..if c.spawn { 1 } else { 5 } {
                (c.call)();
            }
            for _ in 0..n {
                let t = Instant::now();
                (c.call)();
                c.samples.push(t.elapsed().as_nanos() as u64);
            }
        }
    }
}

fn median_us(samples: &[u64]) -> f64 {
    let mut s = samples.to_vec();
    s.sort_unstable();
    s.get(s.len() / 2).map_or(f64::NAN, |&v| v as f64 / 1000.0)
}

fn write_json(path: &Path, cases: &[Case<'_>]) -> Result<()> {
    let mut out = String::from("{\"runner\": \"rust\", \"cases\": [\n");
    for (i, c) in cases.iter().enumerate() {
        let samples: Vec<String> = c.samples.iter().map(u64::to_string).collect();
        out.push_str(&format!(
            "{{\"id\": \"{}\", \"label\": \"{}\", \"samples_ns\": [{}]}}{}\n",
            c.id,
            c.label,
            samples.join(","),
            if i + 1 < cases.len() { "," } else { "" }
        ));
    }
    out.push_str("]}\n");
    File::create(path)?.write_all(out.as_bytes())?;
    Ok(())
}

fn main() -> Result<()> {
    let args = parse_args()?;
    // Standalone: a fixture of our own, stopped when `_fixture` drops.
    let mut _fixture = None;
    let (socket, udp) = match (&args.socket, &args.udp) {
        (Some(s), Some(u)) => (s.clone(), u.clone()),
        (None, None) => {
            let fx = Fixture::start(Mode::Synced)?;
            let pair = (fx.socket_path(), fx.udp_v4());
            _fixture = Some(fx);
            pair
        }
        _ => return Err("give both --socket and --udp, or neither".into()),
    };
    let socket_text = socket.to_str().ok_or("non-UTF-8 socket path")?.to_string();
    let chronyc_cmd = chronyc_command(&args)?;
    let (udp_host, udp_port) = udp.rsplit_once(':').ok_or("--udp must be HOST:PORT")?;
    let udp_host = udp_host.trim_start_matches('[').trim_end_matches(']');

    let raw_unix = Raw::unix(&socket)?;
    let raw_udp = Raw::udp(&udp)?;
    let mut rng = Rng::new()?;
    let mut rng2 = Rng::new()?;
    let mut buf = [0u8; 1024];
    let mut buf2 = [0u8; 1024];
    let mut unix = Connection::open(&socket_text)?;
    let mut udp_conn = Connection::open(&udp)?;
    let mut snap_conn = Connection::open(&socket_text)?;
    let mut seq_conn = Connection::open(&socket_text)?;
    let shared = SharedConnection::new(Some(&socket_text), &chrony_core::Options::new());
    let mut sources_unix = Connection::open(&socket_text)?;
    let mut sources_udp = Connection::open(&udp)?;
    #[cfg(feature = "tokio")]
    let mut tokio_state = tokio_cases::State::open(&socket_text, &udp, &args.many, &args.many_lan)?;
    #[cfg(not(feature = "tokio"))]
    if !args.many.is_empty() || !args.many_lan.is_empty() {
        return Err(
            "--many and --many-lan need the async cases: build the example with `--features tokio`"
                .into(),
        );
    }
    let sources = sources_unix.sources()?.len();
    check_snapshot(&snap_conn.snapshot()?, sources)?;
    println!("the daemon has {sources} sources");

    let mut cases = vec![
        case("floor.raw.unix", "raw socket (floor)", false, || {
            raw_unix.round_trip(rng.next_u32(), &mut buf)
        }),
        case("floor.raw.udp", "raw socket (floor)", false, || {
            raw_udp.round_trip(rng2.next_u32(), &mut buf2)
        }),
        case(
            "core.one_call.unix",
            "chrony_core::tracking(path)",
            false,
            || {
                chrony_core::tracking(Some(&socket)).expect("one-call");
            },
        ),
        case(
            "core.open_close.unix",
            "Connection::open + tracking + drop",
            false,
            || {
                Connection::open(&socket_text)
                    .and_then(|mut c| c.tracking())
                    .expect("open+query unix");
            },
        ),
        case(
            "core.open_close.udp",
            "Connection::open + tracking + drop",
            false,
            || {
                Connection::open(&udp)
                    .and_then(|mut c| c.tracking())
                    .expect("open+query udp");
            },
        ),
        case(
            "core.reused.unix",
            "Connection reused: tracking()",
            false,
            || {
                unix.tracking().expect("unix");
            },
        ),
        case(
            "core.reused.udp",
            "Connection reused: tracking()",
            false,
            || {
                udp_conn.tracking().expect("udp");
            },
        ),
        // What pychrony's ChronyConnection runs on: threads take turns, a fork opens anew.
        case(
            "core.shared.unix",
            "SharedConnection reused: tracking()",
            false,
            || {
                shared.tracking().expect("shared");
            },
        ),
        // Every report: pipelined (two round trips) vs one exchange per record.
        case(
            "core.snapshot.unix",
            "Connection::snapshot() (all reports)",
            false,
            || {
                snap_conn.snapshot().expect("snapshot");
            },
        ),
        case(
            "core.sequential_all.unix",
            "the same reports read one by one",
            false,
            || sequential_all(&mut seq_conn),
        ),
        case(
            "core.sources.unix",
            "Connection reused: sources()",
            false,
            || {
                sources_unix.sources().expect("sources unix");
            },
        ),
        case(
            "core.sources.udp",
            "Connection reused: sources()",
            false,
            || {
                sources_udp.sources().expect("sources udp");
            },
        ),
    ];
    #[cfg(feature = "tokio")]
    cases.extend(tokio_state.cases());
    if args.spawn_samples > 0 {
        cases.push(case(
            "chronyc.subprocess.unix",
            "chronyc -c tracking (subprocess)",
            true,
            chronyc(
                &*chronyc_cmd,
                vec![
                    "-h".into(),
                    socket_text.clone(),
                    "-c".into(),
                    "tracking".into(),
                ],
            ),
        ));
        cases.push(case(
            "chronyc.subprocess.udp",
            "chronyc -c tracking (subprocess)",
            true,
            chronyc(
                &*chronyc_cmd,
                vec![
                    "-h".into(),
                    udp_host.into(),
                    "-p".into(),
                    udp_port.into(),
                    "-c".into(),
                    "tracking".into(),
                ],
            ),
        ));
        // As a script would: the human tables, one chronyc per report.
        let script = ["sources", "sourcestats", "tracking", "activity"]
            .map(|report| vec!["-h".into(), socket_text.clone(), "-n".into(), report.into()]);
        cases.push(case(
            "chronyc.script.unix",
            "chronyc -n sources; sourcestats; tracking; activity (4 subprocesses)",
            true,
            chronyc_script(&*chronyc_cmd, script.to_vec()),
        ));
        // What a node_exporter textfile script runs for the exporter's collectors tracking,
        // sources and serverstats (beside pychrony's exporter.scrape.unix).
        let exporter = ["tracking", "sources", "serverstats"]
            .map(|report| vec!["-h".into(), socket_text.clone(), "-c".into(), report.into()]);
        cases.push(case(
            "chronyc.exporter_script.unix",
            "chronyc -c tracking; sources; serverstats (3 subprocesses)",
            true,
            chronyc_script(&*chronyc_cmd, exporter.to_vec()),
        ));
    }

    run_cases(&mut cases, &args);

    println!("median per call (µs), {} samples per case:", args.samples);
    for c in &cases {
        println!(
            "  {:<26} {:<36.36} {:9.1}",
            c.id,
            c.label,
            median_us(&c.samples)
        );
    }
    if let Some(path) = &args.json {
        write_json(path, &cases)?;
    }
    Ok(())
}
