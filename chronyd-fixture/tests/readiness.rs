//! Readiness times per mode (ignored by default: a measurement, not a check).
//! `cargo test -p chronyd-fixture --test readiness -- --ignored --nocapture`

use std::time::{Duration, Instant};

use chronyd_fixture::{Fixture, Mode};

#[test]
#[ignore = "measurement; run with --ignored --nocapture"]
fn readiness_times() {
    let modes = [
        Mode::Unsynced,
        Mode::Local { stratum: 10 },
        Mode::Synced,
        Mode::Refclock { leap: 0 },
        Mode::Refclock { leap: 1 },
        Mode::Refclock { leap: 2 },
    ];
    for mode in modes {
        let mut times: Vec<Duration> = (0..7)
            .map(|_| {
                let t0 = Instant::now();
                let fx = Fixture::start(mode).unwrap();
                let took = t0.elapsed();
                drop(fx);
                took
            })
            .collect();
        times.sort();
        eprintln!(
            "{mode}: median {:?}, min {:?}, max {:?}",
            times[3], times[0], times[6]
        );
    }
}
