//! Prints chronyd's tracking status, like `chronyc -n tracking`.
//!
//! Usage: `tracking [ADDRESS] [--timeout MS]`
//!
//! ADDRESS is a unix socket path (queried with the one-call API), or
//! chronyd's UDP command port such as `127.0.0.1:323` or `[::1]:323`
//! (queried with a `Connection`). Without it, the default socket is used.
//! On error the message goes to stderr and the exit status is the absolute
//! value of the error code (1 to 6).

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
        Ok(status) => {
            print(&status);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error {}: {e}", e.code());
            ExitCode::from(e.code().unsigned_abs().min(255) as u8)
        }
    }
}

fn print(t: &TrackingStatus) {
    let ref_time = t.ref_time.duration_since(UNIX_EPOCH).unwrap_or_default();
    println!(
        "Reference ID    : {:08X} ({})",
        t.reference_id, t.reference_id_name
    );
    println!("Stratum         : {}", t.stratum);
    println!(
        "Ref time (UTC)  : {}.{:09}",
        ref_time.as_secs(),
        ref_time.subsec_nanos()
    );
    println!("System time     : {:.9} seconds", t.offset);
    println!("Last offset     : {:+.9} seconds", t.last_offset);
    println!("RMS offset      : {:.9} seconds", t.rms_offset);
    println!("Frequency       : {:.3} ppm", t.frequency);
    println!("Residual freq   : {:+.3} ppm", t.residual_freq);
    println!("Skew            : {:.3} ppm", t.skew);
    println!("Root delay      : {:.9} seconds", t.root_delay);
    println!("Root dispersion : {:.9} seconds", t.root_dispersion);
    println!("Update interval : {:.1} seconds", t.update_interval);
    println!("Leap status     : {}", t.leap_status);
    println!(
        "Synchronised    : {}",
        if t.is_synchronized() { "yes" } else { "no" }
    );
}
