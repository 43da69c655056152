//! The ntpdata report (`chronyc ntpdata`): the last NTP packet exchanged
//! with each NTP source, and its counters. Asked for by the source's
//! address; reference clocks and unresolved sources have none.

use std::ffi::CStr;
use std::fmt;
use std::net::IpAddr;
use std::time::SystemTime;

use super::Keyed;
use super::decode::{Fields, invalid};
use super::tracking::LeapStatus;
use crate::session::CSession;
use crate::{Result, SourceAddress};

/// The NTP mode of the source's last packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NtpMode {
    /// 1: symmetric active (a `peer`).
    SymmetricActive,
    /// 2: symmetric passive.
    SymmetricPassive,
    /// 4: a server's reply.
    Server,
    /// Any other value (0 before the first packet); chronyc shows "Invalid".
    Unknown(u8),
}

impl From<u8> for NtpMode {
    fn from(v: u8) -> NtpMode {
        match v {
            1 => NtpMode::SymmetricActive,
            2 => NtpMode::SymmetricPassive,
            4 => NtpMode::Server,
            v => NtpMode::Unknown(v),
        }
    }
}

impl fmt::Display for NtpMode {
    /// chronyc's words: "Symmetric active", "Symmetric passive", "Server", "Invalid".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NtpMode::SymmetricActive => "Symmetric active",
            NtpMode::SymmetricPassive => "Symmetric passive",
            NtpMode::Server => "Server",
            NtpMode::Unknown(_) => "Invalid",
        })
    }
}

/// Where a packet's timestamp was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timestamping {
    /// `D`: by chronyd, in user space.
    Daemon,
    /// `K`: by the kernel.
    Kernel,
    /// `H`: by the network hardware.
    Hardware,
    /// Another character (0 before the first packet); chronyc shows "Invalid".
    Unknown(u8),
}

impl From<u8> for Timestamping {
    fn from(c: u8) -> Timestamping {
        match c {
            b'D' => Timestamping::Daemon,
            b'K' => Timestamping::Kernel,
            b'H' => Timestamping::Hardware,
            c => Timestamping::Unknown(c),
        }
    }
}

impl fmt::Display for Timestamping {
    /// chronyc's words: "Daemon", "Kernel", "Hardware", "Invalid".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Timestamping::Daemon => "Daemon",
            Timestamping::Kernel => "Kernel",
            Timestamping::Hardware => "Hardware",
            Timestamping::Unknown(_) => "Invalid",
        })
    }
}

/// The flags of the last packet: the NTP tests it passed (a bit is 1 when
/// the test passed), interleaved mode and authentication.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct NtpFlags(pub u16);

impl NtpFlags {
    /// Test bits in chronyc's order: 1, 2, 3 | 5, 6, 7 | A, B, C, D. (B, the
    /// delay-ratio test, is 0x4 and C 0x2, as chronyd defines them;
    /// libchrony 0.2 names the two the other way round.)
    const TESTS: [u16; 10] = [0x200, 0x100, 0x80, 0x40, 0x20, 0x10, 0x8, 0x4, 0x2, 0x1];

    /// Whether the test at `index` of chronyc's order (0 = test 1 … 9 =
    /// test D) passed.
    pub fn test_passed(self, index: usize) -> bool {
        Self::TESTS.get(index).is_some_and(|&bit| self.0 & bit != 0)
    }

    /// The packet was in interleaved mode.
    pub fn interleaved(self) -> bool {
        self.0 & 0x4000 != 0
    }

    /// The packet was authenticated (NTS or a symmetric key).
    pub fn authenticated(self) -> bool {
        self.0 & 0x8000 != 0
    }

    /// chronyc's `NTP tests` line: the three groups of test bits, e.g.
    /// "111 111 1111".
    pub fn tests_text(self) -> String {
        let bit = |i: usize| if self.test_passed(i) { '1' } else { '0' };
        let mut s = String::with_capacity(12);
        for i in 0..10 {
            if i == 3 || i == 6 {
                s.push(' ');
            }
            s.push(bit(i));
        }
        s
    }
}

/// The last NTP exchange with one source (`chronyc ntpdata ADDRESS`).
/// Times in seconds; `poll` and `precision` as powers of 2 seconds.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct NtpData {
    /// The source's address.
    pub remote_address: IpAddr,
    /// The local address chronyd used (`None` before the first response).
    pub local_address: Option<IpAddr>,
    /// The source's port.
    pub remote_port: u16,
    /// The leap status in the source's last packet.
    pub leap_status: LeapStatus,
    /// The NTP version of the packet.
    pub version: u8,
    /// The NTP mode of the packet.
    pub mode: NtpMode,
    /// The source's stratum.
    pub stratum: u8,
    /// The poll interval in the packet, log2 seconds.
    pub poll: i8,
    /// The source's clock precision, log2 seconds.
    pub precision: i8,
    /// The source's root delay.
    pub root_delay: f64,
    /// The source's root dispersion.
    pub root_dispersion: f64,
    /// The source's reference ID.
    pub reference_id: u32,
    /// The source's reference time.
    pub ref_time: SystemTime,
    /// The offset measured from the packet (positive: the local clock is ahead).
    pub offset: f64,
    /// The round-trip delay of the exchange.
    pub peer_delay: f64,
    /// The dispersion of the measurement.
    pub peer_dispersion: f64,
    /// How long the source took to answer.
    pub response_time: f64,
    /// The estimated asymmetry of the network jitter, -0.5 to 0.5.
    pub jitter_asymmetry: f64,
    /// Tests passed, interleaved, authenticated.
    pub flags: NtpFlags,
    /// Where the transmit timestamp was taken.
    pub tx_timestamping: Timestamping,
    /// Where the receive timestamp was taken.
    pub rx_timestamping: Timestamping,
    /// Packets sent to the source (`Total TX`).
    pub total_tx: u32,
    /// Packets received from it (`Total RX`).
    pub total_rx: u32,
    /// Packets that passed the first two groups of tests (`Total valid RX`).
    pub total_valid_rx: u32,
    /// Packets accepted (`Total good RX`).
    pub total_good_rx: u32,
    /// Kernel transmit timestamps (chrony 4.6+).
    pub total_kernel_tx: Option<u32>,
    /// Kernel receive timestamps (chrony 4.6+).
    pub total_kernel_rx: Option<u32>,
    /// Hardware transmit timestamps (chrony 4.6+).
    pub total_hw_tx: Option<u32>,
    /// Hardware receive timestamps (chrony 4.6+).
    pub total_hw_rx: Option<u32>,
}

impl NtpData {
    fn read(s: &CSession) -> Result<NtpData> {
        let f = Fields::new(s);
        let newer = |hint, name: &'static CStr| -> Result<Option<u32>> {
            f.newer_uinteger(hint, name)?
                .map(|v| u32::try_from(v).map_err(|_| invalid(name.to_str().unwrap_or(""), v)))
                .transpose()
        };
        Ok(NtpData {
            remote_address: f
                .ip(0, c"remote address")?
                .ok_or_else(|| invalid("remote address", "an unspecified address"))?,
            local_address: f.ip(1, c"local address")?,
            remote_port: f.uint(2, c"remote port")?,
            leap_status: LeapStatus::try_from(f.uinteger(3, c"leap status")?)?,
            version: f.uint(4, c"version")?,
            mode: NtpMode::from(f.uint::<u8>(5, c"mode")?),
            stratum: f.uint(6, c"stratum")?,
            poll: f.integer8(7, c"poll")?,
            precision: f.integer8(8, c"precision")?,
            root_delay: f.float(9, c"root delay")?,
            root_dispersion: f.float(10, c"root dispersion")?,
            reference_id: f.uint(11, c"reference ID")?,
            ref_time: f.time(12, c"reference time")?,
            offset: f.float(13, c"offset")?,
            peer_delay: f.float(14, c"peer delay")?,
            peer_dispersion: f.float(15, c"peer dispersion")?,
            response_time: f.float(16, c"response time")?,
            jitter_asymmetry: f.float(17, c"jitter asymmetry")?,
            flags: NtpFlags(f.uint(18, c"flags")?),
            tx_timestamping: Timestamping::from(f.uint::<u8>(19, c"transmit timestamping")?),
            rx_timestamping: Timestamping::from(f.uint::<u8>(20, c"receive timestamping")?),
            total_tx: f.uint(21, c"transmitted messages")?,
            total_rx: f.uint(22, c"received messages")?,
            total_valid_rx: f.uint(23, c"received valid messages")?,
            total_good_rx: f.uint(24, c"received good messages")?,
            total_kernel_tx: newer(25, c"kernel transmit timestamps")?,
            total_kernel_rx: newer(26, c"kernel receive timestamps")?,
            total_hw_tx: newer(27, c"hardware transmit timestamps")?,
            total_hw_rx: newer(28, c"hardware receive timestamps")?,
        })
    }
}

impl Keyed for NtpData {
    const NAME: &'static CStr = c"ntpdata";
    const UNRESOLVED_TOO: bool = false;

    fn read_for(session: &CSession, address: SourceAddress) -> Result<Option<NtpData>> {
        let data = NtpData::read(session)?;
        // The record is of the source asked for, unless the list changed
        // between reading it and asking.
        Ok((SourceAddress::Ip(data.remote_address) == address).then_some(data))
    }
}

super::query!(Vec<NtpData>, keyed_records);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tests_text_as_chronyc_prints_it() {
        assert_eq!(NtpFlags(0x3ff).tests_text(), "111 111 1111");
        assert_eq!(NtpFlags(0).tests_text(), "000 000 0000");
        // Test B (delay ratio) is chronyd's 0x4, the 8th in chronyc's order.
        assert_eq!(NtpFlags(0x4).tests_text(), "000 000 0100");
        assert!(NtpFlags(0x4).test_passed(7));
        assert!(NtpFlags(0xc000).interleaved() && NtpFlags(0xc000).authenticated());
    }

    #[test]
    fn unknown_modes_and_timestamping_are_kept() {
        assert_eq!(NtpMode::from(0), NtpMode::Unknown(0));
        assert_eq!(NtpMode::from(4).to_string(), "Server");
        assert_eq!(Timestamping::from(b'K'), Timestamping::Kernel);
        assert_eq!(Timestamping::from(0).to_string(), "Invalid");
    }
}
