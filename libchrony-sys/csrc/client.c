/*
 * client.c: the session API (requests, responses, field getters).
 *
 * Written for this project from the published facts of libchrony 0.2's API
 * and chronyd's command protocol. SPDX-License-Identifier: MIT OR Apache-2.0
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "chrony.h"
#include "random_bytes.h"
#include "message.h"

/* Sequences of earlier attempts of the outstanding request that are still accepted. */
#define MAX_REMEMBERED_ATTEMPTS 8

enum state {
	STATE_IDLE,
	STATE_REQUEST_SENT,
	STATE_RESPONSE_ACCEPTED,
};

/* Which request of a record is outstanding. */
enum step {
	STEP_COUNT,  /* REQ_N_SOURCES */
	STEP_RECORD, /* the record request itself */
	STEP_LOOKUP, /* REQ_SOURCESTATS, to find the address of a chained record */
};

struct chrony_session_t {
	int fd;
	/* A SOCK_SEQPACKET or SOCK_STREAM fd: a 0-byte read means the peer is gone. */
	bool connection_oriented;
	enum state state;

	/* The request in flight (or the last one sent). */
	const struct report *report;
	int record; /* -1 for a count request */
	enum step step;
	const struct reply *expected;
	int n_expected;
	uint16_t command;
	uint16_t attempt;
	uint8_t sequences[MAX_REMEMBERED_ATTEMPTS][4];
	int n_sequences;
	uint8_t request[MAX_REQUEST_LEN];
	size_t request_len;

	/* The accepted reply and its field table. */
	uint8_t reply[MAX_REPLY_LEN];
	size_t reply_len;
	const struct field *fields;
	int n_fields;

	int num_records;

	/* Address strings are formatted here: one buffer per session. */
	char string[64];
};

static const char *const error_strings[] = {
	[CHRONY_OK] = "Success",
	[CHRONY_NO_MEMORY] = "Failed to allocate memory",
	[CHRONY_NO_RANDOM] = "Failed to open /dev/urandom",
	[CHRONY_UNKNOWN_REPORT] = "Unknown report",
	[CHRONY_RANDOM_FAILED] = "Failed to read /dev/urandom",
	[CHRONY_SEND_FAILED] = "Failed to send request",
	[CHRONY_RECV_FAILED] = "Failed to receive response",
	[CHRONY_INVALID_ARGUMENT] = "Invalid argument",
	[CHRONY_UNEXPECTED_CALL] = "Unexpected function call",
	[CHRONY_UNAUTHORIZED] = "Not authorized",
	[CHRONY_DISABLED] = "Disabled",
	[CHRONY_UNEXPECTED_STATUS] = "Unexpected status",
	[CHRONY_OLD_SERVER] = "Unsupported server version (too old)",
	[CHRONY_NEW_SERVER] = "Unsupported server version (too new)",
	[CHRONY_INVALID_RESPONSE] = "Invalid response",
	[CHRONY_NO_SUCH_SOURCE] = "No such source",
};

_Static_assert(CHRONY_INVALID_RESPONSE == 14, "error codes are fixed by the API");
_Static_assert(sizeof(error_strings) / sizeof(error_strings[0]) == 16, "one string per error");

unsigned int chrony_get_guarantees(void)
{
	return CHRONY_GUARANTEE_SESSION_STRINGS | CHRONY_GUARANTEE_RESEND |
	       CHRONY_GUARANTEE_SIGNED_INT16 | CHRONY_GUARANTEE_CHRONYC_TIMESPECS |
	       CHRONY_GUARANTEE_BAD_ARGUMENTS | CHRONY_GUARANTEE_REPORT_NAME_COPIED |
	       CHRONY_GUARANTEE_RECEIVE_ERRORS | CHRONY_GUARANTEE_STRICT_PORTS |
	       CHRONY_GUARANTEE_VERIFIED_CLIENT_SOCKET | CHRONY_GUARANTEE_NO_SUCH_SOURCE;
}

const char *chrony_get_error_string(chrony_err e)
{
	/* Compare as a wide signed value: the enum may hold anything a caller casts. */
	long long v = (long long)e;

	if (v < 0 || v >= (long long)(sizeof(error_strings) / sizeof(error_strings[0])))
		return "Unknown error";
	return error_strings[v];
}

chrony_err chrony_init_session(chrony_session **s, int fd)
{
	chrony_session *session;
	int type = SOCK_DGRAM;
	socklen_t len = sizeof(type);

	if (!s)
		return CHRONY_INVALID_ARGUMENT;
	*s = NULL;
	session = calloc(1, sizeof(*session));
	if (!session)
		return CHRONY_NO_MEMORY;
	session->fd = fd;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type != SOCK_DGRAM)
		session->connection_oriented = true;
	session->state = STATE_IDLE;
	*s = session;
	return CHRONY_OK;
}

void chrony_deinit_session(chrony_session *s)
{
	free(s);
}

int chrony_get_fd(chrony_session *s)
{
	return s->fd;
}

bool chrony_needs_response(chrony_session *s)
{
	return s->state == STATE_REQUEST_SENT;
}

int chrony_get_number_supported_reports(void)
{
	return N_REPORTS;
}

const char *chrony_get_report_name(int report)
{
	if (report < 0 || report >= N_REPORTS)
		return NULL;
	return REPORTS[report].name;
}

static void clear_record(chrony_session *s)
{
	s->fields = NULL;
	s->n_fields = 0;
	s->reply_len = 0;
}

/* getrandom's bytes for the sequences, drawn 16 sequences at a time: a
 * system call per request cost about as much as the rest of a request's
 * work on the client. Per thread, so no lock. A child forked between two
 * draws gets the next sequences its parent gets; they go out on different
 * sockets, so neither takes the other's replies. */
static _Thread_local uint8_t random_pool[64];
static _Thread_local size_t random_left;

static chrony_err random_sequence(uint8_t seq[4])
{
	ssize_t r;

	if (random_left < 4) {
		do
			r = random_bytes(random_pool, sizeof(random_pool));
		while (r < 0 && errno == EINTR);
		if (r < 4)
			return CHRONY_RANDOM_FAILED;
		random_left = (size_t)r;
	}
	random_left -= 4;
	memcpy(seq, random_pool + random_left, 4);
	/* A byte is never handed out twice. */
	memset(random_pool + random_left, 0, 4);
	return CHRONY_OK;
}

/* Writes a fresh random sequence into the request; remembers it as accepted. */
static chrony_err new_sequence(chrony_session *s)
{
	uint8_t seq[4];
	chrony_err err;

	err = random_sequence(seq);
	if (err != CHRONY_OK)
		return err;

	if (s->n_sequences == MAX_REMEMBERED_ATTEMPTS) {
		memmove(s->sequences[0], s->sequences[1], sizeof(s->sequences) - sizeof(s->sequences[0]));
		s->n_sequences--;
	}
	memcpy(s->sequences[s->n_sequences++], seq, sizeof(seq));
	memcpy(s->request + REQ_OFF_SEQUENCE, seq, sizeof(seq));
	return CHRONY_OK;
}

static chrony_err transmit(chrony_session *s)
{
	chrony_err err;
	ssize_t r;

	put_u16(s->request + REQ_OFF_ATTEMPT, s->attempt);
	err = new_sequence(s);
	if (err != CHRONY_OK) {
		s->state = STATE_IDLE;
		return err;
	}
	do
		r = send(s->fd, s->request, s->request_len, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		s->state = STATE_IDLE;
		return CHRONY_SEND_FAILED;
	}
	s->state = STATE_REQUEST_SENT;
	return CHRONY_OK;
}

/*
 * Builds a new request (attempt 0) and sends it. The request is padded to
 * its longest expected reply: chronyd answers nothing longer than the request.
 */
static chrony_err send_new(chrony_session *s, uint16_t command, const void *arg, size_t arg_len,
			   const struct reply *expected, int n_expected)
{
	size_t len = REQUEST_HEADER_LEN + arg_len;
	size_t reply_len = max_reply_length(expected, n_expected);

	if (reply_len > len)
		len = reply_len;
	if (len > sizeof(s->request))
		return CHRONY_INVALID_ARGUMENT;
	memset(s->request, 0, sizeof(s->request));
	s->request[REQ_OFF_VERSION] = PROTO_VERSION;
	s->request[REQ_OFF_PKT_TYPE] = PKT_TYPE_REQUEST;
	put_u16(s->request + REQ_OFF_COMMAND, command);
	if (arg_len)
		memcpy(s->request + REQUEST_HEADER_LEN, arg, arg_len);
	s->request_len = len;
	s->command = command;
	s->expected = expected;
	s->n_expected = n_expected;
	s->attempt = 0;
	s->n_sequences = 0;
	return transmit(s);
}

/* The same request again, as chronyc resends: new sequence, attempt + 1. */
static chrony_err resend(chrony_session *s)
{
	if (s->attempt < UINT16_MAX)
		s->attempt++;
	return transmit(s);
}

static bool is_resend(chrony_session *s, const struct report *report, int record)
{
	return s->state == STATE_REQUEST_SENT && s->report == report && s->record == record;
}

chrony_err chrony_request_report_number_records(chrony_session *s, const char *report_name)
{
	const struct report *report = find_report(report_name);

	if (!report)
		return CHRONY_UNKNOWN_REPORT;
	if (is_resend(s, report, -1))
		return resend(s);

	clear_record(s);
	s->report = report;
	s->record = -1;
	s->num_records = 0;
	if (report->arg == ARG_NONE) {
		s->state = STATE_IDLE;
		s->num_records = 1;
		return CHRONY_OK;
	}
	s->step = STEP_COUNT;
	if (report->arg == ARG_CLIENT) {
		/* Asking for no client gives the table size (in slots) alone. */
		uint8_t arg[CLIENTS_ARG_LEN] = {0};

		return send_new(s, report->command, arg, sizeof(arg), report->replies,
				report->n_replies);
	}
	return send_new(s, REQ_N_SOURCES, NULL, 0, &N_SOURCES_REPLY, 1);
}

int chrony_get_report_number_records(chrony_session *s)
{
	return s->num_records;
}

chrony_err chrony_request_record(chrony_session *s, const char *report_name, int record)
{
	const struct report *report = find_report(report_name);
	uint8_t index[4];

	if (!report)
		return CHRONY_UNKNOWN_REPORT;
	if (record < 0 || (report->arg == ARG_NONE && record != 0))
		return CHRONY_INVALID_ARGUMENT;
	if (is_resend(s, report, record))
		return resend(s);

	clear_record(s);
	s->report = report;
	s->record = record;
	put_u32(index, (uint32_t)record);
	switch (report->arg) {
	case ARG_NONE:
		s->step = STEP_RECORD;
		return send_new(s, report->command, NULL, 0, report->replies, report->n_replies);
	case ARG_INDEX:
		s->step = STEP_RECORD;
		return send_new(s, report->command, index, sizeof(index), report->replies,
				report->n_replies);
	case ARG_ADDRESS:
		s->step = STEP_LOOKUP;
		return send_new(s, REQ_SOURCESTATS, index, sizeof(index), &SOURCESTATS_REPLY, 1);
	case ARG_CLIENT: {
		/* From slot `record`, one client, any hits, never reset. */
		uint8_t arg[CLIENTS_ARG_LEN] = {0};

		memcpy(arg, index, sizeof(index));
		put_u32(arg + 4, 1);
		s->step = STEP_RECORD;
		return send_new(s, report->command, arg, sizeof(arg), report->replies,
				report->n_replies);
	}
	}
	return CHRONY_INVALID_ARGUMENT;
}

/* Is this datagram the answer to the outstanding request (any of its attempts)? */
static bool is_our_reply(const chrony_session *s, const uint8_t *msg, size_t len)
{
	if (len < REPLY_HEADER_LEN)
		return false;
	if (msg[RPY_OFF_VERSION] != PROTO_VERSION || msg[RPY_OFF_PKT_TYPE] != PKT_TYPE_REPLY ||
	    msg[RPY_OFF_RES1] != 0 || msg[RPY_OFF_RES2] != 0)
		return false;
	if (get_u16(msg + RPY_OFF_COMMAND) != s->command)
		return false;
	for (int i = 0; i < s->n_sequences; i++)
		if (memcmp(msg + RPY_OFF_SEQUENCE, s->sequences[i], 4) == 0)
			return true;
	return false;
}

/* Ends the exchange with an error: no record. */
static chrony_err fail(chrony_session *s, chrony_err err)
{
	s->state = STATE_IDLE;
	clear_record(s);
	return err;
}

chrony_err chrony_process_response(chrony_session *s)
{
	uint8_t msg[MAX_REPLY_LEN];
	ssize_t r;

	if (s->state != STATE_REQUEST_SENT)
		return CHRONY_UNEXPECTED_CALL;

	do
		r = recv(s->fd, msg, sizeof(msg), 0);
	while (r < 0 && errno == EINTR);
	if (r == 0 && s->connection_oriented) {
		errno = ECONNRESET;
		r = -1;
	}
	if (r < 0)
		return fail(s, CHRONY_RECV_FAILED);
	return chrony_process_datagram(s, msg, (size_t)r);
}

bool chrony_is_reply_to(chrony_session *s, const void *buf, size_t len)
{
	return s && buf && s->state == STATE_REQUEST_SENT && is_our_reply(s, buf, len);
}

chrony_err chrony_process_datagram(chrony_session *s, const void *buf, size_t len)
{
	const uint8_t *msg = buf;
	const struct reply *reply = NULL;
	chrony_err err;

	if (!s || !buf)
		return CHRONY_INVALID_ARGUMENT;
	if (s->state != STATE_REQUEST_SENT)
		return CHRONY_UNEXPECTED_CALL;
	/* As recv() into a MAX_REPLY_LEN buffer would: the excess is cut off. */
	if (len > MAX_REPLY_LEN)
		len = MAX_REPLY_LEN;
	/* Stale, duplicate or foreign datagrams are ignored: keep waiting. */
	if (!is_our_reply(s, msg, len))
		return CHRONY_OK;

	err = status_to_error(get_u16(msg + RPY_OFF_STATUS));
	if (err != CHRONY_OK)
		return fail(s, err);

	for (int i = 0; i < s->n_expected; i++)
		if (s->expected[i].code == get_u16(msg + RPY_OFF_REPLY))
			reply = &s->expected[i];
	/* chronyd after 4.8 answers an index it cannot report (a source removed
	 * meanwhile) with success and an empty reply. */
	if (!reply && get_u16(msg + RPY_OFF_REPLY) == RPY_NULL && s->report &&
	    s->report->arg != ARG_NONE && s->step != STEP_COUNT)
		return fail(s, CHRONY_NO_SUCH_SOURCE);
	if (!reply)
		return fail(s, CHRONY_NEW_SERVER);
	/* Every field lies inside the reply's length: check it before reading any. */
	if (len < reply->length)
		return fail(s, CHRONY_INVALID_RESPONSE);

	switch (s->step) {
	case STEP_COUNT:
		s->num_records = (int)(get_u32(msg + REPLY_HEADER_LEN) > (uint32_t)INT32_MAX
					       ? INT32_MAX
					       : get_u32(msg + REPLY_HEADER_LEN));
		s->state = STATE_RESPONSE_ACCEPTED;
		clear_record(s);
		return CHRONY_OK;
	case STEP_LOOKUP: {
		/* Second step of a chained record: ask by the source's address. */
		const uint8_t *addr = msg + SOURCESTATS_ADDRESS_OFFSET;

		if (get_u16(addr + IPADDR_OFF_FAMILY) == IPADDR_UNSPEC) {
			/* A reference clock has no address: the record has no fields. */
			s->state = STATE_RESPONSE_ACCEPTED;
			clear_record(s);
			return CHRONY_OK;
		}
		s->step = STEP_RECORD;
		err = send_new(s, s->report->command, addr, IPADDR_LEN, s->report->replies,
			       s->report->n_replies);
		if (err != CHRONY_OK)
			return fail(s, err);
		return CHRONY_OK;
	}
	case STEP_RECORD:
		if (s->report->arg == ARG_CLIENT) {
			uint32_t n = get_u32(msg + CLIENTS_N_CLIENTS_OFFSET);
			uint32_t next = get_u32(msg + CLIENTS_NEXT_INDEX_OFFSET);

			/* One client was asked for, and the walk must move past the slot
			 * asked for, or a caller following "next index" never ends. */
			if (n > 1 || (n == 1 && next <= (uint32_t)s->record))
				return fail(s, CHRONY_INVALID_RESPONSE);
			if (n == 0) {
				/* No client at or after this slot: no fields. */
				s->state = STATE_RESPONSE_ACCEPTED;
				clear_record(s);
				return CHRONY_OK;
			}
		}
		break;
	}
	if (!reply_values_valid(reply, msg))
		return fail(s, CHRONY_INVALID_RESPONSE);

	memcpy(s->reply, msg, len);
	s->reply_len = len;
	s->fields = reply_fields(reply, s->reply, &s->n_fields);
	s->state = STATE_RESPONSE_ACCEPTED;
	return CHRONY_OK;
}

/* ---- fields of the accepted record ---- */

/* The bytes of a field: in the accepted reply, or in the request it answered
 * (which stays as sent until the next request clears the record). */
static const uint8_t *field_data(const chrony_session *s, const struct field *f)
{
	return (f->origin == IN_REQUEST ? s->request : s->reply) + f->offset;
}

static const struct field *get_field(chrony_session *s, int field)
{
	if (!s->fields || field < 0 || field >= s->n_fields)
		return NULL;
	return &s->fields[field];
}

int chrony_get_record_number_fields(chrony_session *s)
{
	return s->n_fields;
}

const char *chrony_get_field_name(chrony_session *s, int field)
{
	const struct field *f = get_field(s, field);

	return f ? f->name : NULL;
}

int chrony_get_field_index(chrony_session *s, const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < s->n_fields; i++)
		if (strcmp(s->fields[i].name, name) == 0)
			return i;
	return -1;
}

chrony_field_type chrony_get_field_type(chrony_session *s, int field)
{
	const struct field *f = get_field(s, field);

	if (!f)
		return CHRONY_TYPE_NONE;
	switch (f->wire) {
	case WIRE_U8:
	case WIRE_U16:
	case WIRE_U32:
	case WIRE_U64:
		return CHRONY_TYPE_UINTEGER;
	case WIRE_I8:
	case WIRE_I16:
		return CHRONY_TYPE_INTEGER;
	case WIRE_FLOAT:
		return CHRONY_TYPE_FLOAT;
	case WIRE_TIMESPEC:
		return CHRONY_TYPE_TIMESPEC;
	case WIRE_ADDRESS:
	case WIRE_NAME:
		return CHRONY_TYPE_STRING;
	}
	return CHRONY_TYPE_NONE;
}

static uint16_t address_family(const chrony_session *s, const struct field *f)
{
	return get_u16(field_data(s, f) + IPADDR_OFF_FAMILY);
}

chrony_field_content chrony_get_field_content(chrony_session *s, int field)
{
	const struct field *f = get_field(s, field);

	if (!f)
		return CHRONY_CONTENT_NONE;
	/* An empty address has no content (its type stays STRING). */
	if (f->wire == WIRE_ADDRESS && address_family(s, f) == IPADDR_UNSPEC)
		return CHRONY_CONTENT_NONE;
	return f->content;
}

uint64_t chrony_get_field_uinteger(chrony_session *s, int field)
{
	const struct field *f = get_field(s, field);
	const uint8_t *p;

	if (!f)
		return 0;
	p = field_data(s, f);
	switch (f->wire) {
	case WIRE_U8:
		return p[0];
	case WIRE_U16:
		return get_u16(p);
	case WIRE_U32:
		return get_u32(p);
	case WIRE_U64:
		return (uint64_t)get_u32(p) << 32 | get_u32(p + 4);
	default:
		return 0;
	}
}

int64_t chrony_get_field_integer(chrony_session *s, int field)
{
	const struct field *f = get_field(s, field);
	const uint8_t *p;

	if (!f)
		return 0;
	p = field_data(s, f);
	switch (f->wire) {
	case WIRE_I8:
		return (int8_t)p[0];
	case WIRE_I16:
		/* Sign-extended (libchrony 0.2 returns e.g. 65532 for -4). */
		return (int16_t)get_u16(p);
	default:
		return 0;
	}
}

double chrony_get_field_float(chrony_session *s, int field)
{
	const struct field *f = get_field(s, field);

	/* The error value is 0.0, as libchrony 0.2 returns. */
	if (!f || f->wire != WIRE_FLOAT)
		return 0.0;
	return decode_float(get_u32(field_data(s, f)));
}

struct timespec chrony_get_field_timespec(chrony_session *s, int field)
{
	const struct field *f = get_field(s, field);
	struct timespec zero = {0, 0};

	if (!f || f->wire != WIRE_TIMESPEC)
		return zero;
	return decode_timespec(field_data(s, f));
}

/* Dotted-quad text, as inet_ntop(AF_INET) writes it: glibc's goes through
 * sprintf, a quarter of the instructions of decoding a tracking record.
 * `out` has room for the 16 bytes of the longest text. */
static void format_ipv4(const uint8_t *p, char *out)
{
	for (int i = 0; i < 4; i++) {
		unsigned int v = p[i];

		if (v >= 100)
			*out++ = (char)('0' + v / 100);
		if (v >= 10)
			*out++ = (char)('0' + v / 10 % 10);
		*out++ = (char)('0' + v % 10);
		*out++ = i < 3 ? '.' : '\0';
	}
}

const char *chrony_get_field_string(chrony_session *s, int field)
{
	const struct field *f = get_field(s, field);
	const uint8_t *p;

	if (!f)
		return NULL;
	p = field_data(s, f);
	/* A name was checked for its NUL on receipt: it is the string itself. */
	if (f->wire == WIRE_NAME)
		return (const char *)p;
	if (f->wire != WIRE_ADDRESS)
		return NULL;
	switch (address_family(s, f)) {
	case IPADDR_UNSPEC:
		return NULL;
	case IPADDR_INET4:
		format_ipv4(p, s->string);
		return s->string;
	case IPADDR_INET6:
		if (!inet_ntop(AF_INET6, p, s->string, sizeof(s->string)))
			return NULL;
		return s->string;
	case IPADDR_ID:
		snprintf(s->string, sizeof(s->string), "ID#%010u", (unsigned int)get_u32(p));
		return s->string;
	default:
		return "?";
	}
}

const char *chrony_get_field_constant_name(chrony_session *s, int field, uint64_t value)
{
	const struct field *f = get_field(s, field);

	if (!f || !f->constants)
		return NULL;
	for (const struct constant *c = f->constants; c->name; c++)
		if (c->value == value)
			return c->name;
	return NULL;
}
