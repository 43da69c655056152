//! The field tables of the fact sheet (§5), re-typed by hand: the tests
//! compare the library's records against these, never against its own tables.

use libchrony_sys::*;

/// (name, type, content) of one field.
pub type Spec = (&'static str, chrony_field_type, chrony_field_content);

const U: chrony_field_type = CHRONY_TYPE_UINTEGER;
const I: chrony_field_type = CHRONY_TYPE_INTEGER;
const F: chrony_field_type = CHRONY_TYPE_FLOAT;
const T: chrony_field_type = CHRONY_TYPE_TIMESPEC;
const S: chrony_field_type = CHRONY_TYPE_STRING;

const NONE: chrony_field_content = CHRONY_CONTENT_NONE;
const COUNT: chrony_field_content = CHRONY_CONTENT_COUNT;
const TIME: chrony_field_content = CHRONY_CONTENT_TIME;
const LOG2: chrony_field_content = CHRONY_CONTENT_INTERVAL_LOG2_SECONDS;
const INTERVAL: chrony_field_content = CHRONY_CONTENT_INTERVAL_SECONDS;
const OFFSET: chrony_field_content = CHRONY_CONTENT_OFFSET_SECONDS;
const MEASURE: chrony_field_content = CHRONY_CONTENT_MEASURE_SECONDS;
const OFFSET_PPM: chrony_field_content = CHRONY_CONTENT_OFFSET_PPM;
const MEASURE_PPM: chrony_field_content = CHRONY_CONTENT_MEASURE_PPM;
const PPM_PER_S: chrony_field_content = CHRONY_CONTENT_OFFSET_PPM_PER_SECOND;
const RATIO: chrony_field_content = CHRONY_CONTENT_RATIO;
const REFID: chrony_field_content = CHRONY_CONTENT_REFERENCE_ID;
const ENUM: chrony_field_content = CHRONY_CONTENT_ENUM;
const BITS: chrony_field_content = CHRONY_CONTENT_BITS;
const FLAGS: chrony_field_content = CHRONY_CONTENT_FLAGS;
const ADDRESS: chrony_field_content = CHRONY_CONTENT_ADDRESS;
const PORT: chrony_field_content = CHRONY_CONTENT_PORT;
const INDEX: chrony_field_content = CHRONY_CONTENT_INDEX;
const BITS_LEN: chrony_field_content = CHRONY_CONTENT_LENGTH_BITS;
const BYTES_LEN: chrony_field_content = CHRONY_CONTENT_LENGTH_BYTES;
const BOOLEAN: chrony_field_content = CHRONY_CONTENT_BOOLEAN;

pub const REPORT_NAMES: [&str; 10] = [
    "tracking",
    "sources",
    "sourcestats",
    "selectdata",
    "activity",
    "authdata",
    "ntpdata",
    "serverstats",
    "rtcdata",
    "smoothing",
];

/// The reports this crate's C library has beyond libchrony 0.2's, after them.
pub const EXTENSION_REPORT_NAMES: [&str; 2] = ["sourcename", "clients"];

/// One client of chronyd's access log, then the slot to ask for next.
pub const CLIENTS: &[Spec] = &[
    ("address", S, ADDRESS),
    ("NTP hits", U, COUNT),
    ("NTS-KE hits", U, COUNT),
    ("command hits", U, COUNT),
    ("NTP drops", U, COUNT),
    ("NTS-KE drops", U, COUNT),
    ("command drops", U, COUNT),
    ("NTP interval", I, LOG2),
    ("NTS-KE interval", I, LOG2),
    ("command interval", I, LOG2),
    ("NTP timeout interval", I, LOG2),
    ("last NTP hit ago", U, INTERVAL),
    ("last NTS-KE hit ago", U, INTERVAL),
    ("last command hit ago", U, INTERVAL),
    ("next index", U, NONE),
];

/// The name has no content code; the address is the one the library asked
/// chronyd about (the reply does not carry it).
pub const SOURCENAME: &[Spec] = &[("name", S, NONE), ("address", S, ADDRESS)];

pub const TRACKING: &[Spec] = &[
    ("reference ID", U, REFID),
    ("address", S, ADDRESS),
    ("stratum", U, COUNT),
    ("leap status", U, ENUM),
    ("reference time", T, TIME),
    ("current correction", F, OFFSET),
    ("last offset", F, OFFSET),
    ("RMS offset", F, MEASURE),
    ("frequency offset", F, OFFSET_PPM),
    ("residual frequency", F, OFFSET_PPM),
    ("skew", F, MEASURE_PPM),
    ("root delay", F, MEASURE),
    ("root dispersion", F, MEASURE),
    ("last update interval", F, INTERVAL),
];

/// sources with an address (mode client or peer).
pub const SOURCES: &[Spec] = &[
    ("address", S, ADDRESS),
    ("poll", I, LOG2),
    ("stratum", U, COUNT),
    ("state", U, ENUM),
    ("mode", U, ENUM),
    ("flags", U, NONE),
    ("reachability", U, BITS),
    ("last sample ago", U, INTERVAL),
    ("original last sample offset", F, OFFSET),
    ("adjusted last sample offset", F, OFFSET),
    ("last sample error", F, MEASURE),
];

pub const SOURCESTATS: &[Spec] = &[
    ("reference ID", U, REFID),
    ("address", S, ADDRESS),
    ("samples", U, COUNT),
    ("runs", U, COUNT),
    ("span", U, INTERVAL),
    ("standard deviation", F, MEASURE),
    ("residual frequency", F, OFFSET_PPM),
    ("skew", F, MEASURE_PPM),
    ("offset", F, OFFSET),
    ("offset error", F, MEASURE),
];

pub const SELECTDATA: &[Spec] = &[
    ("reference ID", U, REFID),
    ("address", S, ADDRESS),
    ("state", U, ENUM),
    ("authentication", U, BOOLEAN),
    ("leap status", U, ENUM),
    ("reserved #1", U, NONE),
    ("configured options", U, FLAGS),
    ("effective options", U, FLAGS),
    ("last sample ago", U, INTERVAL),
    ("score", F, RATIO),
    ("low limit", F, INTERVAL),
    ("high limit", F, INTERVAL),
];

pub const ACTIVITY: &[Spec] = &[
    ("online sources", U, COUNT),
    ("offline sources", U, COUNT),
    ("burst online-return sources", U, COUNT),
    ("burst offline-return sources", U, COUNT),
    ("unresolved sources", U, COUNT),
];

pub const AUTHDATA: &[Spec] = &[
    ("mode", U, ENUM),
    ("key type", U, ENUM),
    ("key ID", U, INDEX),
    ("key length", U, BITS_LEN),
    ("key establishment attempts", U, COUNT),
    ("last key establishment ago", U, INTERVAL),
    ("cookies", U, COUNT),
    ("cookie length", U, BYTES_LEN),
    ("NAK", U, BOOLEAN),
    ("reserved #1", U, NONE),
];

const NTPDATA_COMMON: &[Spec] = &[
    ("remote address", S, ADDRESS),
    ("local address", S, ADDRESS),
    ("remote port", U, PORT),
    ("leap status", U, ENUM),
    ("version", U, COUNT),
    ("mode", U, ENUM),
    ("stratum", U, COUNT),
    ("poll", I, LOG2),
    ("precision", I, LOG2),
    ("root delay", F, MEASURE),
    ("root dispersion", F, MEASURE),
    ("reference ID", U, REFID),
    ("reference time", T, TIME),
    ("offset", F, OFFSET),
    ("peer delay", F, MEASURE),
    ("peer dispersion", F, MEASURE),
    ("response time", F, MEASURE),
    ("jitter asymmetry", F, RATIO),
    ("flags", U, FLAGS),
    ("transmit timestamping", U, ENUM),
    ("receive timestamping", U, ENUM),
    ("transmitted messages", U, COUNT),
    ("received messages", U, COUNT),
    ("received valid messages", U, COUNT),
    ("received good messages", U, COUNT),
];

/// ntpdata, reply 16 (RPY_NTP_DATA): what chronyd 4.3 sends.
pub fn ntpdata16() -> Vec<Spec> {
    let mut v = NTPDATA_COMMON.to_vec();
    v.extend_from_slice(&[
        ("reserved #1", U, NONE),
        ("reserved #2", U, NONE),
        ("reserved #3", U, NONE),
    ]);
    v
}

/// ntpdata, reply 26 (RPY_NTP_DATA2).
pub fn ntpdata26() -> Vec<Spec> {
    let mut v = NTPDATA_COMMON.to_vec();
    v.extend_from_slice(&[
        ("kernel transmit timestamps", U, COUNT),
        ("kernel receive timestamps", U, COUNT),
        ("hardware transmit timestamps", U, COUNT),
        ("hardware receive timestamps", U, COUNT),
        ("reserved #1", U, NONE),
        ("reserved #2", U, NONE),
        ("reserved #3", U, NONE),
        ("reserved #4", U, NONE),
    ]);
    v
}

pub const SERVERSTATS14: &[Spec] = &[
    ("received NTP requests", U, COUNT),
    ("received command requests", U, COUNT),
    ("dropped NTP requests", U, COUNT),
    ("dropped command requests", U, COUNT),
    ("dropped client log records", U, COUNT),
];

pub const SERVERSTATS22: &[Spec] = &[
    ("received NTP requests", U, COUNT),
    ("accepted NTS-KE connections", U, COUNT),
    ("received command requests", U, COUNT),
    ("dropped NTP requests", U, COUNT),
    ("dropped NTS-KE connections", U, COUNT),
    ("dropped command requests", U, COUNT),
    ("dropped client log records", U, COUNT),
    ("received authenticated NTP requests", U, COUNT),
];

/// serverstats, reply 24 (what chronyd 4.3 sends).
pub fn serverstats24() -> Vec<Spec> {
    let mut v = SERVERSTATS22.to_vec();
    v.extend_from_slice(&[
        ("received interleaved NTP requests", U, COUNT),
        ("held NTP timestamps", U, COUNT),
        ("NTP timestamp span", U, INTERVAL),
    ]);
    v
}

/// serverstats, reply 25 (64-bit counters).
pub fn serverstats25() -> Vec<Spec> {
    let mut v = serverstats24();
    v.extend_from_slice(&[
        ("served daemon RX timestamps", U, COUNT),
        ("served daemon TX timestamps", U, COUNT),
        ("served kernel RX timestamps", U, COUNT),
        ("served kernel TX timestamps", U, COUNT),
        ("served hardware RX timestamps", U, COUNT),
        ("served hardware TX timestamps", U, COUNT),
        ("reserved #1", U, NONE),
        ("reserved #2", U, NONE),
        ("reserved #3", U, NONE),
        ("reserved #4", U, NONE),
    ]);
    v
}

pub const RTCDATA: &[Spec] = &[
    ("reference time", T, TIME),
    ("samples", U, COUNT),
    ("runs", U, COUNT),
    ("span", U, INTERVAL),
    ("offset", F, OFFSET),
    ("frequency offset", F, OFFSET_PPM),
];

pub const SMOOTHING: &[Spec] = &[
    ("flags", U, FLAGS),
    ("offset", F, OFFSET),
    ("frequency offset", F, OFFSET_PPM),
    ("wander", F, PPM_PER_S),
    ("last update ago", F, INTERVAL),
    ("remaining time", F, INTERVAL),
];

/// A record's layout must equal `spec`, except that an address field whose
/// address is unspecified reports content NONE (its type stays STRING).
pub fn assert_layout(record: &super::Record, spec: &[Spec], what: &str) {
    let got = record.layout();
    let want: Vec<(String, chrony_field_type, chrony_field_content)> = spec
        .iter()
        .zip(record.0.iter().map(Some).chain(std::iter::repeat(None)))
        .map(|(&(name, ty, content), field)| {
            let empty_address =
                content == ADDRESS && matches!(field, Some(f) if f.value == super::Value::S(None));
            (
                name.to_string(),
                ty,
                if empty_address { NONE } else { content },
            )
        })
        .collect();
    assert_eq!(got, want, "field layout of {what}");
}

/// Enum and flag names of the fact sheet: (field, value, name).
pub const TRACKING_CONSTANTS: &[(&str, u64, &str)] = &[
    ("leap status", 0, "normal"),
    ("leap status", 1, "insert second"),
    ("leap status", 2, "delete second"),
    ("leap status", 3, "not synchronized"),
];

pub const SOURCES_CONSTANTS: &[(&str, u64, &str)] = &[
    ("state", 0, "selected"),
    ("state", 1, "nonselectable"),
    ("state", 2, "falseticker"),
    ("state", 3, "jittery"),
    ("state", 4, "unselected"),
    ("state", 5, "selectable"),
    ("mode", 0, "client"),
    ("mode", 1, "peer"),
    ("mode", 2, "reference clock"),
];

pub const SELECTDATA_CONSTANTS: &[(&str, u64, &str)] = &[
    ("state", b'N' as u64, "ignored"),
    ("state", b's' as u64, "not synchronized"),
    ("state", b'M' as u64, "missing samples"),
    ("state", b'd' as u64, "unacceptable distance"),
    ("state", b'D' as u64, "large distance"),
    ("state", b'~' as u64, "jittery"),
    ("state", b'w' as u64, "waiting for others"),
    ("state", b'W' as u64, "missing selectable sources"),
    ("state", b'S' as u64, "stale"),
    ("state", b'O' as u64, "orphan"),
    ("state", b'T' as u64, "not trusted"),
    ("state", b'P' as u64, "not preferred"),
    ("state", b'U' as u64, "waiting for update"),
    ("state", b'x' as u64, "falseticker"),
    ("state", b'+' as u64, "combined"),
    ("state", b'*' as u64, "best"),
    ("leap status", 0, "normal"),
    ("leap status", 3, "not synchronized"),
    ("configured options", 0x1, "noselect"),
    ("configured options", 0x2, "prefer"),
    ("configured options", 0x4, "trust"),
    ("configured options", 0x8, "require"),
    ("effective options", 0x1, "noselect"),
    ("effective options", 0x8, "require"),
];

pub const AUTHDATA_CONSTANTS: &[(&str, u64, &str)] = &[
    ("mode", 0, "none"),
    ("mode", 1, "symmetric key"),
    ("mode", 2, "NTS"),
    ("key type", 1, "MD5"),
    ("key type", 2, "SHA1"),
    ("key type", 3, "SHA256"),
    ("key type", 4, "SHA384"),
    ("key type", 5, "SHA512"),
    ("key type", 6, "SHA3-224"),
    ("key type", 7, "SHA3-256"),
    ("key type", 8, "SHA3-384"),
    ("key type", 9, "SHA3-512"),
    ("key type", 10, "TIGER"),
    ("key type", 11, "WHIRLPOOL"),
    ("key type", 13, "AES128"),
    ("key type", 14, "AES256"),
    ("key type", 15, "AEAD-AES-SIV-CMAC-256"),
    ("key type", 30, "AEAD-AES-128-GCM-SIV"),
];

pub const NTPDATA_CONSTANTS: &[(&str, u64, &str)] = &[
    ("leap status", 1, "insert second"),
    ("mode", 1, "active symmetric"),
    ("mode", 2, "passive symmetric"),
    ("mode", 4, "server"),
    ("flags", 0x200, "test1"),
    ("flags", 0x100, "test2"),
    ("flags", 0x80, "test3"),
    ("flags", 0x40, "test5"),
    ("flags", 0x20, "test6"),
    ("flags", 0x10, "test7"),
    ("flags", 0x8, "testA"),
    ("flags", 0x4, "testC"),
    ("flags", 0x2, "testB"),
    ("flags", 0x1, "testD"),
    ("flags", 0x4000, "interleaved"),
    ("flags", 0x8000, "authenticated"),
    ("transmit timestamping", b'D' as u64, "daemon"),
    ("transmit timestamping", b'K' as u64, "kernel"),
    ("transmit timestamping", b'H' as u64, "hardware"),
    ("receive timestamping", b'D' as u64, "daemon"),
    ("receive timestamping", b'K' as u64, "kernel"),
    ("receive timestamping", b'H' as u64, "hardware"),
];

pub const SMOOTHING_CONSTANTS: &[(&str, u64, &str)] =
    &[("flags", 0x1, "active"), ("flags", 0x2, "leaponly")];

/// Values that name nothing, per field: the lookup must give NULL.
pub const UNNAMED: &[(&str, &str, u64)] = &[
    ("tracking", "leap status", 4),
    ("sources", "state", 6),
    ("sources", "mode", 3),
    ("authdata", "key type", 12),
    ("ntpdata", "mode", 3),
    ("ntpdata", "flags", 0x3),
    ("smoothing", "flags", 0x4),
];
