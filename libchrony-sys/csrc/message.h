/*
 * message.h: internal wire format of chronyd's command protocol (version 6)
 * and the descriptions of the reports this library knows.
 *
 * Written for this project from the published protocol facts (offsets,
 * codes, field names). SPDX-License-Identifier: MIT OR Apache-2.0
 */
#ifndef CHRONY_MESSAGE_H
#define CHRONY_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "chrony.h"

/* Header constants. */
#define PROTO_VERSION 6
#define PKT_TYPE_REQUEST 1
#define PKT_TYPE_REPLY 2
#define REQUEST_HEADER_LEN 20
#define REPLY_HEADER_LEN 28

/* Byte offsets in the request header. */
#define REQ_OFF_VERSION 0
#define REQ_OFF_PKT_TYPE 1
#define REQ_OFF_COMMAND 4
#define REQ_OFF_ATTEMPT 6
#define REQ_OFF_SEQUENCE 8

/* Byte offsets in the reply header. */
#define RPY_OFF_VERSION 0
#define RPY_OFF_PKT_TYPE 1
#define RPY_OFF_RES1 2
#define RPY_OFF_RES2 3
#define RPY_OFF_COMMAND 4
#define RPY_OFF_REPLY 6
#define RPY_OFF_STATUS 8
#define RPY_OFF_SEQUENCE 16

/* A datagram larger than any reply chronyd sends; longer ones are truncated. */
#define MAX_REPLY_LEN 1024
/* Room for the longest request (it is padded to its longest reply, 520 bytes:
 * the clients reply). */
#define MAX_REQUEST_LEN 520

/* Size of an IPAddr on the wire: 16 address bytes, u16 family, u16 padding. */
#define IPADDR_LEN 20
#define IPADDR_OFF_FAMILY 16
#define IPADDR_UNSPEC 0
#define IPADDR_INET4 1
#define IPADDR_INET6 2
#define IPADDR_ID 3

/* Status codes of replies. */
#define STT_SUCCESS 0
#define STT_UNAUTH 2
#define STT_INVALID 3
#define STT_NOSUCHSOURCE 4
#define STT_NOTENABLED 6
#define STT_NORTC 13
#define STT_INACTIVE 15
#define STT_BADPKTVERSION 18
#define STT_BADPKTLENGTH 19

/* Request commands and reply codes used here. */
#define REQ_N_SOURCES 14
#define REQ_SOURCESTATS 34
#define REQ_NTP_SOURCE_NAME 65
#define REQ_CLIENT_ACCESSES_BY_INDEX3 68
#define RPY_NULL 1
#define RPY_N_SOURCES 2
#define RPY_SOURCE_DATA 3
#define RPY_SOURCESTATS 6
#define RPY_NTP_SOURCE_NAME 19
#define RPY_CLIENT_ACCESSES_BY_INDEX3 21

/* Offset of the source address in a sourcestats reply (for chained records). */
#define SOURCESTATS_ADDRESS_OFFSET 32

/* The name in a sourcename reply: NUL-terminated within these bytes. chronyd
 * sends a name of 256 bytes or more cut to 256 with no NUL (chronyc rejects
 * it); it is then no name at all, and the reply is invalid. */
#define SOURCE_NAME_LEN 256

/* The clients request (after the header): first_index, n_clients, min_hits,
 * reset, u32 each. reset stays 0 always: it zeroes chronyd's counters. */
#define CLIENTS_ARG_LEN 16
/* The clients reply header: the table size in slots, one past the last slot
 * examined, the number of records that follow (one at most, as asked). */
#define CLIENTS_N_INDICES_OFFSET 28
#define CLIENTS_NEXT_INDEX_OFFSET 32
#define CLIENTS_N_CLIENTS_OFFSET 36
#define CLIENTS_REPLY_LEN 520

/* The high word of a timespec from a server with a 32-bit time_t. */
#define TV_NOHIGHSEC 0x7fffffffU

/* How a field is laid out on the wire. */
enum wire_type {
	WIRE_U8,
	WIRE_U16,
	WIRE_U32,
	WIRE_U64,
	WIRE_I8,
	WIRE_I16,
	WIRE_FLOAT,
	WIRE_TIMESPEC,
	WIRE_ADDRESS,
	WIRE_NAME, /* char[SOURCE_NAME_LEN], NUL-terminated (checked on receipt) */
};

/* Where a field's bytes are: in the reply, or in the request that was answered
 * (the address a chained record was asked for, which its reply does not repeat). */
enum field_origin {
	IN_REPLY,
	IN_REQUEST,
};

/* A named value of an enum field, or a named bit of a flags field. */
struct constant {
	uint64_t value;
	const char *name; /* NULL ends a table */
};

struct field {
	const char *name;
	enum wire_type wire;
	chrony_field_content content;
	uint16_t offset; /* from the start of the reply (or request, see origin) */
	const struct constant *constants; /* NULL if none */
	enum field_origin origin;
};

/* One reply format: its code, its length up to EOR, and its fields. */
struct reply {
	uint16_t code;
	uint16_t length;
	const struct field *fields;
	int n_fields;
};

/* What a record request carries after the header. */
enum record_arg {
	ARG_NONE,    /* single-record report */
	ARG_INDEX,   /* u32 source index */
	ARG_ADDRESS, /* IPAddr of the source, found with a sourcestats request first */
	ARG_CLIENT,  /* the clients request from a slot of chronyd's client table */
};

struct report {
	const char *name;
	enum record_arg arg;
	uint16_t command;
	const struct reply *replies;
	int n_replies;
};

/* The known reports, in libchrony's index order. */
extern const struct report REPORTS[];
extern const int N_REPORTS;
/* The replies to REQ_N_SOURCES and to REQ_SOURCESTATS (first step of a chained record). */
extern const struct reply N_SOURCES_REPLY;
extern const struct reply SOURCESTATS_REPLY;

const struct report *find_report(const char *name);

/* The field table of an accepted reply; sources names field 0 by mode. */
const struct field *reply_fields(const struct reply *r, const uint8_t *msg, int *n_fields);

/* Whether a reply of format r (at least r->length bytes, checked by the
 * caller) holds valid values: every WIRE_NAME field is NUL-terminated. */
bool reply_values_valid(const struct reply *r, const uint8_t *msg);

/* Big-endian accessors; the caller has checked the length. */
uint16_t get_u16(const uint8_t *p);
uint32_t get_u32(const uint8_t *p);
void put_u16(uint8_t *p, uint16_t v);
void put_u32(uint8_t *p, uint32_t v);

/* Decoders of chronyd's Float and Timespec. */
double decode_float(uint32_t word);
struct timespec decode_timespec(const uint8_t *p);

/* Longest reply in a list: the request is padded to at least this. */
size_t max_reply_length(const struct reply *replies, int n);

/* Maps a non-success status to the library's error code. */
chrony_err status_to_error(uint16_t status);

#endif
