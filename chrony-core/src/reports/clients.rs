//! The clients report (`chronyc clients`): chronyd's access log, one entry
//! per client address that sent it NTP, NTS-KE or command (UDP) packets.
//! It is an extension of this crate's C library: a system libchrony 0.2
//! lacks it. chronyd serves it over its unix socket only.

use std::ffi::{CStr, c_int};
use std::net::IpAddr;

use libchrony_sys as ffi;

use super::Report;
use super::decode::{Fields, invalid};
use crate::Result;
use crate::session::CSession;

/// One client in chronyd's access log, as `chronyc -c clients` (and `-k`
/// for the NTS-KE columns) shows it. Intervals are log2 seconds (`-5` is
/// 1/32 s), `None` when chronyd has no data (it sends 127); "ago" values
/// are whole seconds, `None` for never.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Client {
    /// The client's address (`Hostname`, with `-n`).
    pub address: IpAddr,
    /// NTP packets received (`NTP`).
    pub ntp_hits: u32,
    /// NTS-KE connections accepted (`NTS-KE`, with `-k`).
    pub nke_hits: u32,
    /// Command packets received (`Cmd`).
    pub cmd_hits: u32,
    /// NTP packets dropped by rate limiting (`Drop`).
    pub ntp_drops: u32,
    /// NTS-KE connections dropped (`Drop`, with `-k`).
    pub nke_drops: u32,
    /// Command packets dropped (`Drop` after `Cmd`).
    pub cmd_drops: u32,
    /// Mean interval between NTP packets, log2 s (`Int`).
    pub ntp_interval: Option<i8>,
    /// Mean interval between NTS-KE connections, log2 s (`Int`, with `-k`).
    pub nke_interval: Option<i8>,
    /// Mean interval between command packets, log2 s (`Int` after `Cmd`).
    pub cmd_interval: Option<i8>,
    /// Mean interval between NTP packets in rate-limit timeouts, log2 s
    /// (`IntL`).
    pub ntp_timeout_interval: Option<i8>,
    /// Seconds since the last NTP packet (`Last`).
    pub last_ntp_hit_ago: Option<u32>,
    /// Seconds since the last NTS-KE connection (`Last`, with `-k`).
    pub last_nke_hit_ago: Option<u32>,
    /// Seconds since the last command packet (`Last` after `Cmd`).
    pub last_cmd_hit_ago: Option<u32>,
}

/// A record of the walk: a client and the slot to ask for next; `None`
/// (no fields) when no client is at or after the slot asked for.
pub(crate) struct ClientSlot {
    pub(crate) client: Client,
    pub(crate) next_index: u32,
}

impl ClientSlot {
    /// The slot to ask for after `index`, the one this record answered:
    /// past it, so that a walk ends within the table's slots whatever
    /// chronyd answers.
    pub(crate) fn next_after(&self, index: u32) -> Result<u32> {
        if self.next_index <= index {
            return Err(invalid(
                "next index",
                format_args!("{} after slot {index}", self.next_index),
            ));
        }
        Ok(self.next_index)
    }
}

/// chronyd's 127: no data for that interval.
fn interval(f: &Fields<'_>, hint: c_int, name: &'static CStr) -> Result<Option<i8>> {
    Ok(match f.integer8(hint, name)? {
        127 => None,
        v => Some(v),
    })
}

impl Report for Option<ClientSlot> {
    const NAME: &'static CStr = ffi::CLIENTS;

    fn read(s: &CSession) -> Result<Option<ClientSlot>> {
        if s.number_of_fields() == 0 {
            return Ok(None);
        }
        let f = Fields::new(s);
        let address = f
            .ip(0, c"address")?
            .ok_or_else(|| invalid("address", "an unspecified address"))?;
        Ok(Some(ClientSlot {
            client: Client {
                address,
                ntp_hits: f.uint(1, c"NTP hits")?,
                nke_hits: f.uint(2, c"NTS-KE hits")?,
                cmd_hits: f.uint(3, c"command hits")?,
                ntp_drops: f.uint(4, c"NTP drops")?,
                nke_drops: f.uint(5, c"NTS-KE drops")?,
                cmd_drops: f.uint(6, c"command drops")?,
                ntp_interval: interval(&f, 7, c"NTP interval")?,
                nke_interval: interval(&f, 8, c"NTS-KE interval")?,
                cmd_interval: interval(&f, 9, c"command interval")?,
                ntp_timeout_interval: interval(&f, 10, c"NTP timeout interval")?,
                last_ntp_hit_ago: f.seconds_ago(11, c"last NTP hit ago")?,
                last_nke_hit_ago: f.seconds_ago(12, c"last NTS-KE hit ago")?,
                last_cmd_hit_ago: f.seconds_ago(13, c"last command hit ago")?,
            },
            next_index: f.uint(14, c"next index")?,
        }))
    }
}

super::query!(Option<Vec<Client>>, client_records);
