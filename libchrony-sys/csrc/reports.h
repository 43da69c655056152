/*
 * reports.h: the report, reply and field tables. Included by message.c only.
 *
 * Field names, types, contents and constant names follow the published
 * libchrony 0.2 facts (sourcename, this library's extension, follows their
 * style); offsets follow chronyd's reply layouts (protocol 6).
 * SPDX-License-Identifier: MIT OR Apache-2.0
 */
#ifndef CHRONY_REPORTS_H
#define CHRONY_REPORTS_H

#include "message.h"

#define N_ELEMS(a) ((int)(sizeof(a) / sizeof((a)[0])))

#define F(name, wire, content, offset) \
	{name, WIRE_##wire, CHRONY_CONTENT_##content, offset, NULL, IN_REPLY}
#define FC(name, wire, content, offset, consts) \
	{name, WIRE_##wire, CHRONY_CONTENT_##content, offset, consts, IN_REPLY}
/* A field read from the request that was answered. */
#define FQ(name, wire, content, offset) \
	{name, WIRE_##wire, CHRONY_CONTENT_##content, offset, NULL, IN_REQUEST}

/* ---- constants ---- */

static const struct constant leap_constants[] = {
	{0, "normal"},
	{1, "insert second"},
	{2, "delete second"},
	{3, "not synchronized"},
	{0, NULL},
};

static const struct constant source_state_constants[] = {
	{0, "selected"},
	{1, "nonselectable"},
	{2, "falseticker"},
	{3, "jittery"},
	{4, "unselected"},
	{5, "selectable"},
	{0, NULL},
};

static const struct constant source_mode_constants[] = {
	{0, "client"},
	{1, "peer"},
	{2, "reference clock"},
	{0, NULL},
};

static const struct constant select_state_constants[] = {
	{'N', "ignored"},
	{'s', "not synchronized"},
	{'M', "missing samples"},
	{'d', "unacceptable distance"},
	{'D', "large distance"},
	{'~', "jittery"},
	{'w', "waiting for others"},
	{'W', "missing selectable sources"},
	{'S', "stale"},
	{'O', "orphan"},
	{'T', "not trusted"},
	{'P', "not preferred"},
	{'U', "waiting for update"},
	{'x', "falseticker"},
	{'+', "combined"},
	{'*', "best"},
	{0, NULL},
};

static const struct constant select_option_constants[] = {
	{0x1, "noselect"},
	{0x2, "prefer"},
	{0x4, "trust"},
	{0x8, "require"},
	{0, NULL},
};

static const struct constant auth_mode_constants[] = {
	{0, "none"},
	{1, "symmetric key"},
	{2, "NTS"},
	{0, NULL},
};

static const struct constant key_type_constants[] = {
	{1, "MD5"},
	{2, "SHA1"},
	{3, "SHA256"},
	{4, "SHA384"},
	{5, "SHA512"},
	{6, "SHA3-224"},
	{7, "SHA3-256"},
	{8, "SHA3-384"},
	{9, "SHA3-512"},
	{10, "TIGER"},
	{11, "WHIRLPOOL"},
	{13, "AES128"},
	{14, "AES256"},
	{15, "AEAD-AES-SIV-CMAC-256"},
	{30, "AEAD-AES-128-GCM-SIV"},
	{0, NULL},
};

static const struct constant ntp_mode_constants[] = {
	{1, "active symmetric"},
	{2, "passive symmetric"},
	{4, "server"},
	{0, NULL},
};

static const struct constant ntp_flag_constants[] = {
	{0x200, "test1"},
	{0x100, "test2"},
	{0x80, "test3"},
	{0x40, "test5"},
	{0x20, "test6"},
	{0x10, "test7"},
	{0x8, "testA"},
	{0x4, "testC"},
	{0x2, "testB"},
	{0x1, "testD"},
	{0x4000, "interleaved"},
	{0x8000, "authenticated"},
	{0, NULL},
};

static const struct constant timestamping_constants[] = {
	{'D', "daemon"},
	{'K', "kernel"},
	{'H', "hardware"},
	{0, NULL},
};

static const struct constant smoothing_flag_constants[] = {
	{0x1, "active"},
	{0x2, "leaponly"},
	{0, NULL},
};

/* ---- replies ---- */

static const struct field n_sources_fields[] = {
	F("sources", U32, COUNT, 28),
};

static const struct field tracking_fields[] = {
	F("reference ID", U32, REFERENCE_ID, 28),
	F("address", ADDRESS, ADDRESS, 32),
	F("stratum", U16, COUNT, 52),
	FC("leap status", U16, ENUM, 54, leap_constants),
	F("reference time", TIMESPEC, TIME, 56),
	F("current correction", FLOAT, OFFSET_SECONDS, 68),
	F("last offset", FLOAT, OFFSET_SECONDS, 72),
	F("RMS offset", FLOAT, MEASURE_SECONDS, 76),
	F("frequency offset", FLOAT, OFFSET_PPM, 80),
	F("residual frequency", FLOAT, OFFSET_PPM, 84),
	F("skew", FLOAT, MEASURE_PPM, 88),
	F("root delay", FLOAT, MEASURE_SECONDS, 92),
	F("root dispersion", FLOAT, MEASURE_SECONDS, 96),
	F("last update interval", FLOAT, INTERVAL_SECONDS, 100),
};

#define SOURCES_COMMON_FIELDS                                                      \
	F("poll", I16, INTERVAL_LOG2_SECONDS, 48),                                 \
	F("stratum", U16, COUNT, 50),                                              \
	FC("state", U16, ENUM, 52, source_state_constants),                        \
	FC("mode", U16, ENUM, 54, source_mode_constants),                          \
	F("flags", U16, NONE, 56),                                                 \
	F("reachability", U16, BITS, 58),                                          \
	F("last sample ago", U32, INTERVAL_SECONDS, 60),                           \
	F("original last sample offset", FLOAT, OFFSET_SECONDS, 64),               \
	F("adjusted last sample offset", FLOAT, OFFSET_SECONDS, 68),               \
	F("last sample error", FLOAT, MEASURE_SECONDS, 72)

static const struct field sources_fields[] = {
	F("address", ADDRESS, ADDRESS, 28),
	SOURCES_COMMON_FIELDS,
};

/* A reference clock: chronyd puts its refid in the first 4 bytes of the address. */
static const struct field sources_refclock_fields[] = {
	F("reference ID", U32, REFERENCE_ID, 28),
	SOURCES_COMMON_FIELDS,
};

#define SOURCES_MODE_OFFSET 54
#define SOURCES_MODE_REFCLOCK 2

static const struct field sourcestats_fields[] = {
	F("reference ID", U32, REFERENCE_ID, 28),
	F("address", ADDRESS, ADDRESS, 32),
	F("samples", U32, COUNT, 52),
	F("runs", U32, COUNT, 56),
	F("span", U32, INTERVAL_SECONDS, 60),
	F("standard deviation", FLOAT, MEASURE_SECONDS, 64),
	F("residual frequency", FLOAT, OFFSET_PPM, 68),
	F("skew", FLOAT, MEASURE_PPM, 72),
	F("offset", FLOAT, OFFSET_SECONDS, 76),
	F("offset error", FLOAT, MEASURE_SECONDS, 80),
};

static const struct field selectdata_fields[] = {
	F("reference ID", U32, REFERENCE_ID, 28),
	F("address", ADDRESS, ADDRESS, 32),
	FC("state", U8, ENUM, 52, select_state_constants),
	F("authentication", U8, BOOLEAN, 53),
	FC("leap status", U8, ENUM, 54, leap_constants),
	F("reserved #1", U8, NONE, 55),
	FC("configured options", U16, FLAGS, 56, select_option_constants),
	FC("effective options", U16, FLAGS, 58, select_option_constants),
	F("last sample ago", U32, INTERVAL_SECONDS, 60),
	F("score", FLOAT, RATIO, 64),
	F("low limit", FLOAT, INTERVAL_SECONDS, 68),
	F("high limit", FLOAT, INTERVAL_SECONDS, 72),
};

static const struct field activity_fields[] = {
	F("online sources", U32, COUNT, 28),
	F("offline sources", U32, COUNT, 32),
	F("burst online-return sources", U32, COUNT, 36),
	F("burst offline-return sources", U32, COUNT, 40),
	F("unresolved sources", U32, COUNT, 44),
};

static const struct field authdata_fields[] = {
	FC("mode", U16, ENUM, 28, auth_mode_constants),
	FC("key type", U16, ENUM, 30, key_type_constants),
	F("key ID", U32, INDEX, 32),
	F("key length", U16, LENGTH_BITS, 36),
	F("key establishment attempts", U16, COUNT, 38),
	F("last key establishment ago", U32, INTERVAL_SECONDS, 40),
	F("cookies", U16, COUNT, 44),
	F("cookie length", U16, LENGTH_BYTES, 46),
	F("NAK", U16, BOOLEAN, 48),
	F("reserved #1", U16, NONE, 50),
};

#define NTPDATA_COMMON_FIELDS                                                      \
	F("remote address", ADDRESS, ADDRESS, 28),                                 \
	F("local address", ADDRESS, ADDRESS, 48),                                  \
	F("remote port", U16, PORT, 68),                                           \
	FC("leap status", U8, ENUM, 70, leap_constants),                           \
	F("version", U8, COUNT, 71),                                               \
	FC("mode", U8, ENUM, 72, ntp_mode_constants),                              \
	F("stratum", U8, COUNT, 73),                                               \
	F("poll", I8, INTERVAL_LOG2_SECONDS, 74),                                  \
	F("precision", I8, INTERVAL_LOG2_SECONDS, 75),                             \
	F("root delay", FLOAT, MEASURE_SECONDS, 76),                               \
	F("root dispersion", FLOAT, MEASURE_SECONDS, 80),                          \
	F("reference ID", U32, REFERENCE_ID, 84),                                  \
	F("reference time", TIMESPEC, TIME, 88),                                   \
	F("offset", FLOAT, OFFSET_SECONDS, 100),                                   \
	F("peer delay", FLOAT, MEASURE_SECONDS, 104),                              \
	F("peer dispersion", FLOAT, MEASURE_SECONDS, 108),                         \
	F("response time", FLOAT, MEASURE_SECONDS, 112),                           \
	F("jitter asymmetry", FLOAT, RATIO, 116),                                  \
	FC("flags", U16, FLAGS, 120, ntp_flag_constants),                          \
	FC("transmit timestamping", U8, ENUM, 122, timestamping_constants),        \
	FC("receive timestamping", U8, ENUM, 123, timestamping_constants),         \
	F("transmitted messages", U32, COUNT, 124),                                \
	F("received messages", U32, COUNT, 128),                                   \
	F("received valid messages", U32, COUNT, 132),                             \
	F("received good messages", U32, COUNT, 136)

static const struct field ntpdata_fields[] = {
	NTPDATA_COMMON_FIELDS,
	F("reserved #1", U32, NONE, 140),
	F("reserved #2", U32, NONE, 144),
	F("reserved #3", U32, NONE, 148),
};

static const struct field ntpdata2_fields[] = {
	NTPDATA_COMMON_FIELDS,
	F("kernel transmit timestamps", U32, COUNT, 140),
	F("kernel receive timestamps", U32, COUNT, 144),
	F("hardware transmit timestamps", U32, COUNT, 148),
	F("hardware receive timestamps", U32, COUNT, 152),
	F("reserved #1", U32, NONE, 156),
	F("reserved #2", U32, NONE, 160),
	F("reserved #3", U32, NONE, 164),
	F("reserved #4", U32, NONE, 168),
};

static const struct field serverstats_fields[] = {
	F("received NTP requests", U32, COUNT, 28),
	F("received command requests", U32, COUNT, 32),
	F("dropped NTP requests", U32, COUNT, 36),
	F("dropped command requests", U32, COUNT, 40),
	F("dropped client log records", U32, COUNT, 44),
};

/* The 32-bit counters of serverstats2, which serverstats3 extends. */
#define SERVERSTATS2_FIELDS                                                        \
	F("received NTP requests", U32, COUNT, 28),                                \
	F("accepted NTS-KE connections", U32, COUNT, 32),                          \
	F("received command requests", U32, COUNT, 36),                            \
	F("dropped NTP requests", U32, COUNT, 40),                                 \
	F("dropped NTS-KE connections", U32, COUNT, 44),                           \
	F("dropped command requests", U32, COUNT, 48),                             \
	F("dropped client log records", U32, COUNT, 52),                           \
	F("received authenticated NTP requests", U32, COUNT, 56)

static const struct field serverstats2_fields[] = {
	SERVERSTATS2_FIELDS,
};

static const struct field serverstats3_fields[] = {
	SERVERSTATS2_FIELDS,
	F("received interleaved NTP requests", U32, COUNT, 60),
	F("held NTP timestamps", U32, COUNT, 64),
	F("NTP timestamp span", U32, INTERVAL_SECONDS, 68),
};

static const struct field serverstats4_fields[] = {
	F("received NTP requests", U64, COUNT, 28),
	F("accepted NTS-KE connections", U64, COUNT, 36),
	F("received command requests", U64, COUNT, 44),
	F("dropped NTP requests", U64, COUNT, 52),
	F("dropped NTS-KE connections", U64, COUNT, 60),
	F("dropped command requests", U64, COUNT, 68),
	F("dropped client log records", U64, COUNT, 76),
	F("received authenticated NTP requests", U64, COUNT, 84),
	F("received interleaved NTP requests", U64, COUNT, 92),
	F("held NTP timestamps", U64, COUNT, 100),
	F("NTP timestamp span", U64, INTERVAL_SECONDS, 108),
	F("served daemon RX timestamps", U64, COUNT, 116),
	F("served daemon TX timestamps", U64, COUNT, 124),
	F("served kernel RX timestamps", U64, COUNT, 132),
	F("served kernel TX timestamps", U64, COUNT, 140),
	F("served hardware RX timestamps", U64, COUNT, 148),
	F("served hardware TX timestamps", U64, COUNT, 156),
	F("reserved #1", U64, NONE, 164),
	F("reserved #2", U64, NONE, 172),
	F("reserved #3", U64, NONE, 180),
	F("reserved #4", U64, NONE, 188),
};

static const struct field rtcdata_fields[] = {
	F("reference time", TIMESPEC, TIME, 28),
	F("samples", U16, COUNT, 40),
	F("runs", U16, COUNT, 42),
	F("span", U32, INTERVAL_SECONDS, 44),
	F("offset", FLOAT, OFFSET_SECONDS, 48),
	F("frequency offset", FLOAT, OFFSET_PPM, 52),
};

static const struct field smoothing_fields[] = {
	FC("flags", U32, FLAGS, 28, smoothing_flag_constants),
	F("offset", FLOAT, OFFSET_SECONDS, 32),
	F("frequency offset", FLOAT, OFFSET_PPM, 36),
	F("wander", FLOAT, OFFSET_PPM_PER_SECOND, 40),
	F("last update ago", FLOAT, INTERVAL_SECONDS, 44),
	F("remaining time", FLOAT, INTERVAL_SECONDS, 48),
};

/* The name has no content code of its own. The address is the one asked for:
 * the reply does not repeat it, the library fills it in from the request. */
static const struct field sourcename_fields[] = {
	F("name", NAME, NONE, 28),
	FQ("address", ADDRESS, ADDRESS, REQUEST_HEADER_LEN),
};

/* The one record a clients reply carries (we ask for one). Intervals are
 * log2 seconds, 127 for no data; "ago" values are seconds, 0xFFFFFFFF for
 * never. "next index" is the slot to ask for next (one past this client's). */
static const struct field clients_fields[] = {
	F("address", ADDRESS, ADDRESS, 40),
	F("NTP hits", U32, COUNT, 60),
	F("NTS-KE hits", U32, COUNT, 64),
	F("command hits", U32, COUNT, 68),
	F("NTP drops", U32, COUNT, 72),
	F("NTS-KE drops", U32, COUNT, 76),
	F("command drops", U32, COUNT, 80),
	F("NTP interval", I8, INTERVAL_LOG2_SECONDS, 84),
	F("NTS-KE interval", I8, INTERVAL_LOG2_SECONDS, 85),
	F("command interval", I8, INTERVAL_LOG2_SECONDS, 86),
	F("NTP timeout interval", I8, INTERVAL_LOG2_SECONDS, 87),
	F("last NTP hit ago", U32, INTERVAL_SECONDS, 88),
	F("last NTS-KE hit ago", U32, INTERVAL_SECONDS, 92),
	F("last command hit ago", U32, INTERVAL_SECONDS, 96),
	F("next index", U32, NONE, CLIENTS_NEXT_INDEX_OFFSET),
};

#define REPLY(code, length, fields) {code, length, fields, N_ELEMS(fields)}

const struct reply N_SOURCES_REPLY = REPLY(RPY_N_SOURCES, 32, n_sources_fields);
const struct reply SOURCESTATS_REPLY = REPLY(RPY_SOURCESTATS, 84, sourcestats_fields);

static const struct reply tracking_replies[] = {REPLY(5, 104, tracking_fields)};
static const struct reply sources_replies[] = {REPLY(RPY_SOURCE_DATA, 76, sources_fields)};
static const struct reply sourcestats_replies[] = {REPLY(RPY_SOURCESTATS, 84, sourcestats_fields)};
static const struct reply selectdata_replies[] = {REPLY(23, 76, selectdata_fields)};
static const struct reply activity_replies[] = {REPLY(12, 48, activity_fields)};
static const struct reply authdata_replies[] = {REPLY(20, 52, authdata_fields)};
static const struct reply ntpdata_replies[] = {
	REPLY(16, 152, ntpdata_fields),
	REPLY(26, 172, ntpdata2_fields),
};
static const struct reply serverstats_replies[] = {
	REPLY(14, 48, serverstats_fields),
	REPLY(22, 60, serverstats2_fields),
	REPLY(24, 72, serverstats3_fields),
	REPLY(25, 196, serverstats4_fields),
};
static const struct reply rtcdata_replies[] = {REPLY(7, 56, rtcdata_fields)};
static const struct reply smoothing_replies[] = {REPLY(13, 52, smoothing_fields)};
static const struct reply sourcename_replies[] = {
	REPLY(RPY_NTP_SOURCE_NAME, REPLY_HEADER_LEN + SOURCE_NAME_LEN, sourcename_fields),
};
static const struct reply clients_replies[] = {
	REPLY(RPY_CLIENT_ACCESSES_BY_INDEX3, CLIENTS_REPLY_LEN, clients_fields),
};

#define REPORT(name, arg, command, replies) {name, ARG_##arg, command, replies, N_ELEMS(replies)}

const struct report REPORTS[] = {
	REPORT("tracking", NONE, 33, tracking_replies),
	REPORT("sources", INDEX, 15, sources_replies),
	REPORT("sourcestats", INDEX, REQ_SOURCESTATS, sourcestats_replies),
	REPORT("selectdata", INDEX, 69, selectdata_replies),
	REPORT("activity", NONE, 44, activity_replies),
	REPORT("authdata", ADDRESS, 67, authdata_replies),
	REPORT("ntpdata", ADDRESS, 57, ntpdata_replies),
	REPORT("serverstats", NONE, 54, serverstats_replies),
	REPORT("rtcdata", NONE, 35, rtcdata_replies),
	REPORT("smoothing", NONE, 51, smoothing_replies),
	/* Extensions of this library, after libchrony 0.2's ten (never renumber those). */
	REPORT("sourcename", ADDRESS, REQ_NTP_SOURCE_NAME, sourcename_replies),
	REPORT("clients", CLIENT, REQ_CLIENT_ACCESSES_BY_INDEX3, clients_replies),
};

const int N_REPORTS = N_ELEMS(REPORTS);

#endif
