//! Prints chronyd's tracking status, like `chronyc -n tracking`.
//!
//! Usage: `tracking [ADDRESS] [--timeout MS]`
//!
//! ADDRESS is a unix socket path (queried with the one-call API), or
//! chronyd's UDP command port such as `127.0.0.1:323` or `[::1]:323`
//! (queried with a `Connection`). Without it, the default socket is used.
//! On error the message goes to stderr and the exit status is the absolute
//! value of the error code (1 to 6).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, UNIX_EPOCH};

use chrony_core::{Connection, Options, TrackingStatus};

fn main() -> ExitCode {
    let mut address = None;
    let mut options = Options::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--timeout" => {
                let Some(ms) = args.next().and_then(|v| v.parse().ok()) else {
                    eprintln!("--timeout needs a number of milliseconds");
                    return ExitCode::from(64);
                };
                options = options.with_timeout(Duration::from_millis(ms));
            }
            "-h" | "--help" => {
                println!("usage: tracking [ADDRESS] [--timeout MS]");
                return ExitCode::SUCCESS;
            }
            _ => address = Some(arg),
        }
    }
    let result = match address.as_deref() {
        None => chrony_core::tracking_with(None, &options),
        Some(a) if a.contains('/') || a.ends_with(".sock") => {
            chrony_core::tracking_with(Some(Path::new(a)), &options)
        }
        Some(a) => Connection::open_with(Some(a), &options).and_then(|mut c| c.tracking()),
    };
    match result {
        Ok(status) => match std::io::stdout()
            .lock()
            .write_all(report(&status).as_bytes())
        {
            // A reader that stopped early (`| head -3`) is not an error.
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                eprintln!("cannot write the report: {e}");
                ExitCode::from(74)
            }
            _ => ExitCode::SUCCESS,
        },
        Err(e) => {
            eprintln!("error {}: {e}", e.code());
            ExitCode::from(e.code().unsigned_abs().min(255) as u8)
        }
    }
}

/// The report as text (written at once, so a closed pipe is one error to handle, not a panic).
fn report(t: &TrackingStatus) -> String {
    let ref_time = t.ref_time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Reference ID    : {:08X} ({})",
        t.reference_id, t.reference_id_name
    );
    let _ = writeln!(s, "Stratum         : {}", t.stratum);
    let _ = writeln!(
        s,
        "Ref time (UTC)  : {}.{:09}",
        ref_time.as_secs(),
        ref_time.subsec_nanos()
    );
    let _ = writeln!(s, "System time     : {:.9} seconds", t.offset);
    let _ = writeln!(s, "Last offset     : {:+.9} seconds", t.last_offset);
    let _ = writeln!(s, "RMS offset      : {:.9} seconds", t.rms_offset);
    let _ = writeln!(s, "Frequency       : {:.3} ppm", t.frequency);
    let _ = writeln!(s, "Residual freq   : {:+.3} ppm", t.residual_freq);
    let _ = writeln!(s, "Skew            : {:.3} ppm", t.skew);
    let _ = writeln!(s, "Root delay      : {:.9} seconds", t.root_delay);
    let _ = writeln!(s, "Root dispersion : {:.9} seconds", t.root_dispersion);
    let _ = writeln!(s, "Update interval : {:.1} seconds", t.update_interval);
    let _ = writeln!(s, "Leap status     : {}", t.leap_status);
    let _ = writeln!(
        s,
        "Synchronised    : {}",
        if t.is_synchronized() { "yes" } else { "no" }
    );
    s
}
