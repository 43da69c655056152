//! The serverstats report (`chronyc serverstats`): what chronyd's NTP,
//! NTS-KE and command servers have handled. Its layout grew with chrony's
//! versions; counters an older chronyd does not send are `None`.

use std::ffi::CStr;

use super::Report;
use super::decode::Fields;
use crate::Result;
use crate::session::CSession;

/// chronyd's server counters (`chronyc serverstats`), since it started.
/// The counters chrony 4.3 sends are 32-bit and wrap to 0; from 4.4 they
/// are 64-bit. Counters added after chrony 4.0 are `None` when this
/// chronyd does not send them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ServerStats {
    /// NTP requests received (`NTP packets received`).
    pub ntp_hits: u64,
    /// NTP requests dropped by rate limiting (`NTP packets dropped`).
    pub ntp_drops: u64,
    /// Command requests received (`Command packets received`).
    pub cmd_hits: u64,
    /// Command requests dropped by rate limiting (`Command packets dropped`).
    pub cmd_drops: u64,
    /// Client log records dropped for lack of memory (`clientloglimit`).
    pub log_drops: u64,
    /// NTS-KE connections accepted (chrony 4.0+).
    pub nke_hits: Option<u64>,
    /// NTS-KE connections dropped by rate limiting (chrony 4.0+).
    pub nke_drops: Option<u64>,
    /// Authenticated NTP requests received (chrony 4.0+).
    pub ntp_auth_hits: Option<u64>,
    /// Interleaved NTP requests received (chrony 4.2+).
    pub ntp_interleaved_hits: Option<u64>,
    /// Timestamps held for interleaved mode (a gauge, chrony 4.2+).
    pub ntp_timestamps: Option<u64>,
    /// Seconds between the oldest and newest held timestamp (a gauge, 4.2+).
    pub ntp_span_seconds: Option<u64>,
    /// Daemon receive timestamps served (chrony 4.4+).
    pub ntp_daemon_rx_timestamps: Option<u64>,
    /// Daemon transmit timestamps served (chrony 4.4+).
    pub ntp_daemon_tx_timestamps: Option<u64>,
    /// Kernel receive timestamps served (chrony 4.4+).
    pub ntp_kernel_rx_timestamps: Option<u64>,
    /// Kernel transmit timestamps served (interleaved mode only; 4.4+).
    pub ntp_kernel_tx_timestamps: Option<u64>,
    /// Hardware receive timestamps served (chrony 4.4+).
    pub ntp_hw_rx_timestamps: Option<u64>,
    /// Hardware transmit timestamps served (interleaved mode only; 4.4+).
    pub ntp_hw_tx_timestamps: Option<u64>,
}

impl Report for ServerStats {
    const NAME: &'static CStr = c"serverstats";

    fn read(s: &CSession) -> Result<ServerStats> {
        let f = Fields::new(s);
        // The hints are the field indexes of chrony 4.4's layout; older
        // layouts are found by name.
        Ok(ServerStats {
            ntp_hits: f.uinteger(0, c"received NTP requests")?,
            nke_hits: f.newer_uinteger(1, c"accepted NTS-KE connections")?,
            cmd_hits: f.uinteger(2, c"received command requests")?,
            ntp_drops: f.uinteger(3, c"dropped NTP requests")?,
            nke_drops: f.newer_uinteger(4, c"dropped NTS-KE connections")?,
            cmd_drops: f.uinteger(5, c"dropped command requests")?,
            log_drops: f.uinteger(6, c"dropped client log records")?,
            ntp_auth_hits: f.newer_uinteger(7, c"received authenticated NTP requests")?,
            ntp_interleaved_hits: f.newer_uinteger(8, c"received interleaved NTP requests")?,
            ntp_timestamps: f.newer_uinteger(9, c"held NTP timestamps")?,
            ntp_span_seconds: f.newer_uinteger(10, c"NTP timestamp span")?,
            ntp_daemon_rx_timestamps: f.newer_uinteger(11, c"served daemon RX timestamps")?,
            ntp_daemon_tx_timestamps: f.newer_uinteger(12, c"served daemon TX timestamps")?,
            ntp_kernel_rx_timestamps: f.newer_uinteger(13, c"served kernel RX timestamps")?,
            ntp_kernel_tx_timestamps: f.newer_uinteger(14, c"served kernel TX timestamps")?,
            ntp_hw_rx_timestamps: f.newer_uinteger(15, c"served hardware RX timestamps")?,
            ntp_hw_tx_timestamps: f.newer_uinteger(16, c"served hardware TX timestamps")?,
        })
    }
}

super::query!(ServerStats, report);
