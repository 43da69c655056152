//! `chronyc -c tracking` as the reference client, and its CSV line.

use std::io;
use std::path::Path;

use crate::Chrony;

/// One `chronyc -c tracking` line, parsed (columns in chronyc's order; see the protocol reference §8).
#[derive(Debug, Clone, PartialEq)]
pub struct ChronycTracking {
    /// Reference ID (column 1, `%08X`).
    pub ref_id: u32,
    /// Reference name: IP address, printable refid bytes, or empty.
    pub name: String,
    /// Stratum (0 when unsynchronised).
    pub stratum: u32,
    /// Reference time, seconds since the epoch.
    pub ref_time: f64,
    /// Current correction, seconds (moves between reads).
    pub correction: f64,
    /// Last offset, seconds.
    pub last_offset: f64,
    /// RMS offset, seconds.
    pub rms_offset: f64,
    /// Frequency, ppm.
    pub freq_ppm: f64,
    /// Residual frequency, ppm.
    pub resid_freq_ppm: f64,
    /// Skew, ppm.
    pub skew_ppm: f64,
    /// Root delay, seconds.
    pub root_delay: f64,
    /// Root dispersion, seconds (computed per request, moves between reads).
    pub root_dispersion: f64,
    /// Last update interval, seconds.
    pub update_interval: f64,
    /// `Normal`, `Insert second`, `Delete second` or `Not synchronised`.
    pub leap: String,
    /// The line as chronyc printed it, without the newline.
    pub raw: String,
}

fn bad(line: &str, what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("unexpected chronyc -c tracking output ({what}): {line:?}"),
    )
}

impl ChronycTracking {
    /// Parse one CSV line of `chronyc -c tracking`.
    pub fn parse(line: &str) -> io::Result<ChronycTracking> {
        let line = line.trim_end_matches(['\r', '\n']);
        let cols: Vec<&str> = line.split(',').collect();
        if cols.len() != 14 {
            return Err(bad(line, "expected 14 columns"));
        }
        let f = |i: usize| -> io::Result<f64> {
            cols[i].parse::<f64>().map_err(|_| bad(line, "number"))
        };
        Ok(ChronycTracking {
            ref_id: u32::from_str_radix(cols[0], 16).map_err(|_| bad(line, "ref id"))?,
            name: cols[1].to_string(),
            stratum: cols[2].parse().map_err(|_| bad(line, "stratum"))?,
            ref_time: f(3)?,
            correction: f(4)?,
            last_offset: f(5)?,
            rms_offset: f(6)?,
            freq_ppm: f(7)?,
            resid_freq_ppm: f(8)?,
            skew_ppm: f(9)?,
            root_delay: f(10)?,
            root_dispersion: f(11)?,
            update_interval: f(12)?,
            leap: cols[13].to_string(),
            raw: line.to_string(),
        })
    }
}

/// Run `chronyc -h HOST [-p PORT] -c tracking` and parse its line.
pub(crate) fn chronyc_tracking(
    chrony: &Chrony,
    host: &str,
    port: Option<u16>,
) -> io::Result<ChronycTracking> {
    let mut cmd = chrony.chronyc_command();
    cmd.arg("-h").arg(host);
    if let Some(port) = port {
        cmd.arg("-p").arg(port.to_string());
    }
    cmd.args(["-c", "tracking"]);
    let out = cmd.output().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot run {}: {e}", chrony.chronyc.display()),
        )
    })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "chronyc -h {host} -c tracking failed ({}): {} {}",
            out.status,
            stdout.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let line = stdout.lines().next().unwrap_or("");
    ChronycTracking::parse(line)
}

/// `chronyc` over the unix socket (the path must be absolute, or chronyc takes it for a host name).
pub(crate) fn chronyc_tracking_unix(chrony: &Chrony, socket: &Path) -> io::Result<ChronycTracking> {
    if !socket.is_absolute() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "socket path must be absolute for chronyc: {}",
                socket.display()
            ),
        ));
    }
    chronyc_tracking(chrony, &socket.to_string_lossy(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_synced_line() {
        let t = ChronycTracking::parse(
            "7F000001,127.0.0.1,9,1795959909.214976262,-0.000001521,-0.000000010,0.000000071,-0.007,-0.000,0.029,0.000004063,0.000000873,0.3,Normal\n",
        )
        .unwrap();
        assert_eq!(t.ref_id, 0x7F00_0001);
        assert_eq!(t.name, "127.0.0.1");
        assert_eq!(t.stratum, 9);
        assert_eq!(t.leap, "Normal");
        assert!((t.ref_time - 1_795_959_909.214_976).abs() < 1e-3);
        assert!(!t.raw.ends_with('\n'));
    }

    #[test]
    fn parses_unsynced_line_and_rejects_garbage() {
        let t = ChronycTracking::parse(
            "00000000,,0,0.000000000,0.000000000,0.000000000,0.000000000,0.000,0.000,0.000,1.000000000,1.000000000,0.0,Not synchronised",
        )
        .unwrap();
        assert_eq!((t.ref_id, t.name.as_str(), t.stratum), (0, "", 0));
        assert_eq!(t.leap, "Not synchronised");
        assert!(ChronycTracking::parse("506 Cannot talk to daemon").is_err());
    }
}
