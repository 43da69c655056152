//! chronyd's command protocol on the wire, written once for every Rust fake and hand-built client in
//! this workspace: the request and reply headers, the encodings (chrony's 32-bit float, IP addresses,
//! timespecs) and a tracking reply with every field settable. Offsets are those of chronyd's
//! `candm.h` for protocol version 6 (chrony 4.3 to 4.9).
//!
//! Only for what a real chronyd cannot be made to send (corrupt values, short replies, error
//! statuses, other address families, late or foreign datagrams); everything else is tested against
//! a real chronyd.

/// The protocol version of every request and reply.
pub const PROTO_VERSION: u8 = 6;
/// Packet types (offset 1).
pub const PKT_TYPE_REQUEST: u8 = 1;
/// Packet type of a reply.
pub const PKT_TYPE_REPLY: u8 = 2;
/// A request's header; its data (an index, an address) follows.
pub const REQUEST_HEADER_LEN: usize = 20;
/// A reply's header; the report's fields follow.
pub const REPLY_HEADER_LEN: usize = 28;

/// Request commands (offset 4 of a request, echoed at offset 4 of its reply).
pub mod command {
    /// REQ_N_SOURCES.
    pub const N_SOURCES: u16 = 14;
    /// REQ_SOURCE_DATA (the sources report).
    pub const SOURCE_DATA: u16 = 15;
    /// REQ_TRACKING.
    pub const TRACKING: u16 = 33;
    /// REQ_SOURCESTATS.
    pub const SOURCESTATS: u16 = 34;
    /// REQ_RTCREPORT.
    pub const RTCREPORT: u16 = 35;
    /// REQ_ACTIVITY.
    pub const ACTIVITY: u16 = 44;
    /// REQ_SMOOTHING.
    pub const SMOOTHING: u16 = 51;
    /// REQ_SERVER_STATS.
    pub const SERVER_STATS: u16 = 54;
    /// REQ_NTP_DATA.
    pub const NTP_DATA: u16 = 57;
    /// REQ_AUTH_DATA.
    pub const AUTH_DATA: u16 = 67;
    /// REQ_SELECT_DATA.
    pub const SELECT_DATA: u16 = 69;
}

/// What a report's request carries after its header (offset 20).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload {
    /// Nothing.
    None,
    /// A record index (u32; int32 for sources), after `N_SOURCES`.
    Index,
    /// A source's IPAddr (20 bytes), as sourcestats reports it.
    Address,
}

/// One report's request as chronyd 4.3 to 4.9 all answer it.
#[derive(Clone, Copy, Debug)]
pub struct ReportRequest {
    /// The report's name (as the C library and chronyc name it).
    pub name: &'static str,
    /// The request command.
    pub command: u16,
    /// What follows the header.
    pub payload: Payload,
    /// The request's length: padded to the longest reply of any of those versions (chronyd answers
    /// a request only when it is at least as long as its reply, and serves longer ones).
    pub len: usize,
}

/// The reports of the C library, with their requests (ntpdata replies are 152 bytes up to 4.5 and
/// 172 from 4.6; serverstats replies 72 bytes in 4.3 and 196 from 4.4).
#[rustfmt::skip]
pub const REPORTS: &[ReportRequest] = &[
    ReportRequest { name: "tracking", command: command::TRACKING, payload: Payload::None, len: 104 },
    ReportRequest { name: "sources", command: command::SOURCE_DATA, payload: Payload::Index, len: 76 },
    ReportRequest { name: "sourcestats", command: command::SOURCESTATS, payload: Payload::Index, len: 84 },
    ReportRequest { name: "selectdata", command: command::SELECT_DATA, payload: Payload::Index, len: 76 },
    ReportRequest { name: "activity", command: command::ACTIVITY, payload: Payload::None, len: 48 },
    ReportRequest { name: "authdata", command: command::AUTH_DATA, payload: Payload::Address, len: 52 },
    ReportRequest { name: "ntpdata", command: command::NTP_DATA, payload: Payload::Address, len: 172 },
    ReportRequest { name: "serverstats", command: command::SERVER_STATS, payload: Payload::None, len: 196 },
    ReportRequest { name: "rtcdata", command: command::RTCREPORT, payload: Payload::None, len: 56 },
    ReportRequest { name: "smoothing", command: command::SMOOTHING, payload: Payload::None, len: 52 },
];

/// The length of an `N_SOURCES` request and reply.
pub const N_SOURCES_LEN: usize = 32;
/// Where a sourcestats reply holds the source's IPAddr (20 bytes; its family at +16).
pub const SOURCESTATS_IP_ADDR: usize = 32;

/// Reply codes (offset 6 of a reply).
pub mod reply_code {
    /// RPY_NULL: no data (errors).
    pub const NULL: u16 = 1;
    /// RPY_N_SOURCES.
    pub const N_SOURCES: u16 = 2;
    /// RPY_SOURCE_DATA (the sources report).
    pub const SOURCE_DATA: u16 = 3;
    /// RPY_TRACKING.
    pub const TRACKING: u16 = 5;
    /// RPY_SOURCESTATS.
    pub const SOURCESTATS: u16 = 6;
}

/// Reply statuses (offset 8 of a reply).
pub mod status {
    /// STT_SUCCESS.
    pub const SUCCESS: u16 = 0;
    /// STT_FAILED.
    pub const FAILED: u16 = 1;
    /// STT_UNAUTH: "not authorised".
    pub const UNAUTH: u16 = 2;
    /// STT_INVALID: a command chronyd does not know.
    pub const INVALID: u16 = 3;
    /// STT_NOSUCHSOURCE: no source at that index or address.
    pub const NO_SUCH_SOURCE: u16 = 4;
}

/// IP address families (offset 16 of an IPAddr).
pub mod family {
    /// No address (refclocks, unsynchronised).
    pub const UNSPEC: u16 = 0;
    /// IPv4.
    pub const INET4: u16 = 1;
    /// IPv6.
    pub const INET6: u16 = 2;
    /// An unresolved source, known by an ID.
    pub const ID: u16 = 3;
}

/// The length of a tracking reply.
pub const TRACKING_REPLY_LEN: usize = 104;

/// A big-endian u16 at `off`.
pub fn get_u16(b: &[u8], off: usize) -> u16 {
    u16::from_be_bytes([b[off], b[off + 1]])
}

/// A big-endian u32 at `off`.
pub fn get_u32(b: &[u8], off: usize) -> u32 {
    u32::from_be_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

/// Writes a big-endian u16 at `off`.
pub fn put_u16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_be_bytes());
}

/// Writes a big-endian u32 at `off`.
pub fn put_u32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_be_bytes());
}

/// Writes an IPAddr (20 bytes: 16 of address, u16 family, u16 padding) at `off`.
pub fn put_ip(b: &mut [u8], off: usize, addr: &[u8], family: u16) {
    b[off..off + 20].fill(0);
    b[off..off + addr.len()].copy_from_slice(addr);
    put_u16(b, off + 16, family);
}

/// A timespec (u32 high seconds, u32 low seconds, u32 nanoseconds) at `off`.
pub fn put_timespec(b: &mut [u8], off: usize, (high, low, nsec): (u32, u32, u32)) {
    put_u32(b, off, high);
    put_u32(b, off + 4, low);
    put_u32(b, off + 8, nsec);
}

/// chrony's 32-bit Float for `x`: a 7-bit signed exponent and a 25-bit signed coefficient,
/// `x = coefficient * 2^(exponent - 25)`.
pub fn float(x: f64) -> u32 {
    if x == 0.0 {
        return 0;
    }
    let exp = x.abs().log2().floor() as i32 + 2;
    let coef = (x * 2f64.powi(25 - exp)).round() as i32;
    (((exp as u32) & 0x7f) << 25) | (coef as u32 & 0x1ff_ffff)
}

/// A request for `command`, `len` bytes long (chronyd wants requests padded to the length of
/// their reply), with `attempt` and `sequence`.
pub fn request(command: u16, len: usize, attempt: u16, sequence: [u8; 4]) -> Vec<u8> {
    let mut r = vec![0u8; len.max(REQUEST_HEADER_LEN)];
    r[0] = PROTO_VERSION;
    r[1] = PKT_TYPE_REQUEST;
    put_u16(&mut r, 4, command);
    put_u16(&mut r, 6, attempt);
    r[8..12].copy_from_slice(&sequence);
    r
}

/// A request as received.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a>(pub &'a [u8]);

impl Request<'_> {
    /// The command (offset 4).
    pub fn command(&self) -> u16 {
        get_u16(self.0, 4)
    }

    /// The attempt counter (offset 6): 0, then 1, 2... for resends.
    pub fn attempt(&self) -> u16 {
        get_u16(self.0, 6)
    }

    /// The sequence (offset 8), which a reply echoes.
    pub fn sequence(&self) -> [u8; 4] {
        [self.0[8], self.0[9], self.0[10], self.0[11]]
    }
}

/// The start of a reply to `request`: its command and sequence echoed, `code` and `status`,
/// zero-filled to `len` bytes (which may be shorter than the header, for malformed replies).
pub fn reply(request: &[u8], code: u16, status: u16, len: usize) -> Vec<u8> {
    let mut r = vec![0u8; len.max(REPLY_HEADER_LEN)];
    r[0] = PROTO_VERSION;
    r[1] = PKT_TYPE_REPLY;
    r[4..6].copy_from_slice(&request[4..6]);
    put_u16(&mut r, 6, code);
    put_u16(&mut r, 8, status);
    r[16..20].copy_from_slice(&request[8..12]);
    r.truncate(len);
    r
}

/// A tracking reply (RPY_TRACKING) with every field settable; `Default` is a synchronised
/// stratum-3 chronyd following 10.0.0.1.
#[derive(Clone, Debug)]
pub struct Tracking {
    /// The reply's status.
    pub status: u16,
    /// The reply code.
    pub code: u16,
    /// The reference ID.
    pub ref_id: u32,
    /// The reference address's family.
    pub family: u16,
    /// The reference address's 16 bytes.
    pub addr: [u8; 16],
    /// The stratum.
    pub stratum: u16,
    /// The leap status.
    pub leap: u16,
    /// The reference time: high seconds, low seconds, nanoseconds.
    pub ref_time: (u32, u32, u32),
    /// current correction, last offset, RMS offset, frequency, residual frequency, skew, root
    /// delay, root dispersion, last update interval.
    pub floats: [f64; 9],
    /// The datagram's length (shorter: a truncated reply).
    pub len: usize,
}

impl Default for Tracking {
    fn default() -> Self {
        Tracking {
            status: status::SUCCESS,
            code: reply_code::TRACKING,
            ref_id: 0x0A00_0001,
            family: family::INET4,
            addr: [10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            stratum: 3,
            leap: 0,
            ref_time: (0, 1_795_959_909, 214_976_262),
            floats: [0.5, -0.25, 0.125, -1.5, 0.0, 2.0, -1.0, 0.75, 64.0],
            len: TRACKING_REPLY_LEN,
        }
    }
}

impl Tracking {
    /// The reply to `request`.
    pub fn bytes(&self, request: &[u8]) -> Vec<u8> {
        let mut r = reply(request, self.code, self.status, TRACKING_REPLY_LEN);
        put_u32(&mut r, 28, self.ref_id);
        put_ip(&mut r, 32, &self.addr, self.family);
        put_u16(&mut r, 52, self.stratum);
        put_u16(&mut r, 54, self.leap);
        put_timespec(&mut r, 56, self.ref_time);
        for (i, f) in self.floats.iter().enumerate() {
            put_u32(&mut r, 68 + 4 * i, float(*f));
        }
        r.truncate(self.len);
        r
    }
}

/// The length of a sources (RPY_SOURCE_DATA) reply.
pub const SOURCE_DATA_REPLY_LEN: usize = 76;

/// The reply to an `N_SOURCES` request: `n` sources.
pub fn n_sources(request: &[u8], n: u32) -> Vec<u8> {
    let mut r = reply(
        request,
        reply_code::N_SOURCES,
        status::SUCCESS,
        N_SOURCES_LEN,
    );
    put_u32(&mut r, 28, n);
    r
}

/// The record index of a sources, sourcestats or selectdata request (offset 20).
pub fn request_index(request: &[u8]) -> u32 {
    get_u32(request, REQUEST_HEADER_LEN)
}

/// A sources reply (RPY_SOURCE_DATA) with every field settable; `Default` is the selected NTP
/// server 10.0.0.1 at stratum 2, reached by all of the last 8 polls.
#[derive(Clone, Debug)]
pub struct SourceData {
    /// The address's family (a refclock's is INET4, with its refid as the address).
    pub family: u16,
    /// The address's 16 bytes.
    pub addr: [u8; 16],
    /// The polling interval, log2 seconds.
    pub poll: i16,
    /// The stratum.
    pub stratum: u16,
    /// The state (0 selected ... 5 selectable).
    pub state: u16,
    /// The mode (0 client, 1 peer, 2 refclock).
    pub mode: u16,
    /// The reachability register.
    pub reach: u16,
    /// Seconds since the last sample (0xFFFFFFFF: none).
    pub since_sample: u32,
    /// Adjusted offset, measured offset, error (seconds).
    pub floats: [f64; 3],
}

impl Default for SourceData {
    fn default() -> Self {
        SourceData {
            family: family::INET4,
            addr: [10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            poll: 6,
            stratum: 2,
            state: 0,
            mode: 0,
            reach: 0o377,
            since_sample: 12,
            floats: [-0.5e-6, -0.75e-6, 25e-6],
        }
    }
}

impl SourceData {
    /// The reply to `request`.
    pub fn bytes(&self, request: &[u8]) -> Vec<u8> {
        let mut r = reply(
            request,
            reply_code::SOURCE_DATA,
            status::SUCCESS,
            SOURCE_DATA_REPLY_LEN,
        );
        put_ip(&mut r, 28, &self.addr, self.family);
        put_u16(&mut r, 48, self.poll as u16);
        put_u16(&mut r, 50, self.stratum);
        put_u16(&mut r, 52, self.state);
        put_u16(&mut r, 54, self.mode);
        put_u16(&mut r, 58, self.reach);
        put_u32(&mut r, 60, self.since_sample);
        put_u32(&mut r, 64, float(self.floats[1]));
        put_u32(&mut r, 68, float(self.floats[0]));
        put_u32(&mut r, 72, float(self.floats[2]));
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_as_chrony_encodes_them() {
        assert_eq!(float(0.0), 0);
        // 1.0 = 2^23 * 2^(2 - 25): exponent 2, coefficient 2^23.
        assert_eq!(float(1.0), (2 << 25) | (1 << 23));
        assert_eq!(
            float(-1.0),
            (2 << 25) | ((-(1i32 << 23)) as u32 & 0x1ff_ffff)
        );
    }

    #[test]
    fn a_reply_echoes_command_and_sequence() {
        let req = request(command::TRACKING, 104, 2, [1, 2, 3, 4]);
        assert_eq!(Request(&req).attempt(), 2);
        let r = Tracking::default().bytes(&req);
        assert_eq!(r.len(), TRACKING_REPLY_LEN);
        assert_eq!(get_u16(&r, 4), command::TRACKING);
        assert_eq!(&r[16..20], &[1, 2, 3, 4]);
        assert_eq!(get_u16(&r, 6), reply_code::TRACKING);
    }
}
