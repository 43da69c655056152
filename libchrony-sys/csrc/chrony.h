/*
 * chrony.h: public API of the bundled libchrony-compatible client library.
 *
 * This header is written for this project from the published facts of
 * libchrony 0.2's API: the same functions, signatures, enum values and
 * report/field names, so code written for libchrony compiles and behaves the
 * same against it. SPDX-License-Identifier: MIT OR Apache-2.0
 */
#ifndef CHRONY_H
#define CHRONY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Open a socket connected to chronyd. address: NULL or "" for the defaults
 * (/var/run/chrony/chronyd.sock, then 127.0.0.1:323, then [::1]:323), an
 * absolute unix socket path, "IPv4[:port]", "IPv6" or "[IPv6]:port".
 * Returns a file descriptor, or -1 with errno set.
 */
int chrony_open_socket(const char *address);

/*
 * Close a socket from chrony_open_socket() and remove the files it created:
 * through directory fds, only what it verifies as its own, and only in the
 * process that opened it (a forked child's close leaves the parent's files).
 */
void chrony_close_socket(int fd);

typedef enum {
	CHRONY_OK = 0,
	CHRONY_NO_MEMORY = 1,
	CHRONY_NO_RANDOM = 2,
	CHRONY_UNKNOWN_REPORT = 3,
	CHRONY_RANDOM_FAILED = 4,
	CHRONY_SEND_FAILED = 5,
	CHRONY_RECV_FAILED = 6,
	CHRONY_INVALID_ARGUMENT = 7,
	CHRONY_UNEXPECTED_CALL = 8,
	CHRONY_UNAUTHORIZED = 9,
	CHRONY_DISABLED = 10,
	CHRONY_UNEXPECTED_STATUS = 11,
	CHRONY_OLD_SERVER = 12,
	CHRONY_NEW_SERVER = 13,
	CHRONY_INVALID_RESPONSE = 14,
	/*
	 * Extension of this library (libchrony 0.2 returns CHRONY_UNEXPECTED_STATUS):
	 * chronyd has no source at that index or address (status 4, or a 4.9
	 * chronyd's empty success reply), e.g. because the list changed meanwhile.
	 */
	CHRONY_NO_SUCH_SOURCE = 15,
} chrony_err;

/* A static description of an error code ("Unknown error" if out of range). */
const char *chrony_get_error_string(chrony_err e);

/* One request/response exchange with chronyd over a connected datagram fd. */
typedef struct chrony_session_t chrony_session;

/* Create a session on fd (not taken over: the caller closes it). */
chrony_err chrony_init_session(chrony_session **s, int fd);

/* Free a session. The fd stays open. */
void chrony_deinit_session(chrony_session *s);

/* The fd the session talks on, to poll() for POLLIN. */
int chrony_get_fd(chrony_session *s);

/* True while a request is outstanding: poll the fd, then process a response. */
bool chrony_needs_response(chrony_session *s);

/* Receive and process one datagram; ignores stale or foreign ones. */
chrony_err chrony_process_response(chrony_session *s);

/*
 * Extensions beyond libchrony 0.2 (absent there): several sessions may share
 * one fd, each with its own request outstanding. The caller receives each
 * datagram itself and hands it to the session it answers.
 */

/* True if the datagram answers the session's outstanding request (any of its
 * attempts: the sequence number and command match). False when idle. */
bool chrony_is_reply_to(chrony_session *s, const void *buf, size_t len);

/* As chrony_process_response, on a datagram already received: ignores one
 * that does not answer the session; a chained request (ntpdata, authdata,
 * sourcename) sends its follow-up on the session's fd. */
chrony_err chrony_process_datagram(chrony_session *s, const void *buf, size_t len);

/*
 * The number of reports and their names, by index: libchrony 0.2's ten, then
 * this library's extension "sourcename" (index 10): the name a source was
 * configured with (chronyc -N), fields "name" (a string) and "address" (the
 * source's, filled in by the library: it asks chronyd by that address, found
 * with a sourcestats request for the record's index, as for ntpdata); and
 * "clients" (index 11): chronyd's client access log (chronyc clients). Its
 * number of records is the size of chronyd's client table in slots, not
 * clients; record i is the first client in a slot at or after i, with the
 * field "next index", the record to ask for next. A record with no fields
 * means no client at or after slot i: the walk is over. The library never
 * asks chronyd to reset its counters. chronyd with noclientlog answers
 * CHRONY_DISABLED. A program that may be linked to libchrony 0.2 looks a
 * report's name up here first.
 */
int chrony_get_number_supported_reports(void);
const char *chrony_get_report_name(int report);

/* Ask for the number of records of a report (sends nothing for single-record reports). */
chrony_err chrony_request_report_number_records(chrony_session *s, const char *report_name);
int chrony_get_report_number_records(chrony_session *s);

/* Request one record of a report. */
chrony_err chrony_request_record(chrony_session *s, const char *report_name, int record);

typedef enum {
	CHRONY_TYPE_NONE = 0,
	CHRONY_TYPE_UINTEGER = 1,
	CHRONY_TYPE_INTEGER = 2,
	CHRONY_TYPE_FLOAT = 3,
	CHRONY_TYPE_TIMESPEC = 4,
	CHRONY_TYPE_STRING = 5,
} chrony_field_type;

typedef enum {
	CHRONY_CONTENT_NONE = 0,
	CHRONY_CONTENT_COUNT = 1,
	CHRONY_CONTENT_TIME = 2,
	CHRONY_CONTENT_INTERVAL_LOG2_SECONDS = 3,
	CHRONY_CONTENT_INTERVAL_SECONDS = 4,
	CHRONY_CONTENT_OFFSET_SECONDS = 5,
	CHRONY_CONTENT_MEASURE_SECONDS = 6,
	CHRONY_CONTENT_OFFSET_PPM = 7,
	CHRONY_CONTENT_MEASURE_PPM = 8,
	CHRONY_CONTENT_OFFSET_PPM_PER_SECOND = 9,
	CHRONY_CONTENT_RATIO = 10,
	CHRONY_CONTENT_REFERENCE_ID = 11,
	CHRONY_CONTENT_ENUM = 12,
	CHRONY_CONTENT_BITS = 13,
	CHRONY_CONTENT_FLAGS = 14,
	CHRONY_CONTENT_ADDRESS = 15,
	CHRONY_CONTENT_PORT = 16,
	CHRONY_CONTENT_INDEX = 17,
	CHRONY_CONTENT_LENGTH_BITS = 18,
	CHRONY_CONTENT_LENGTH_BYTES = 19,
	CHRONY_CONTENT_BOOLEAN = 20,
} chrony_field_content;

/* Fields of the record received last. Bad indexes give NULL/NONE/0. */
int chrony_get_record_number_fields(chrony_session *s);
const char *chrony_get_field_name(chrony_session *s, int field);
int chrony_get_field_index(chrony_session *s, const char *name);
chrony_field_type chrony_get_field_type(chrony_session *s, int field);
chrony_field_content chrony_get_field_content(chrony_session *s, int field);
uint64_t chrony_get_field_uinteger(chrony_session *s, int field);
int64_t chrony_get_field_integer(chrony_session *s, int field);
double chrony_get_field_float(chrony_session *s, int field);
struct timespec chrony_get_field_timespec(chrony_session *s, int field);

/*
 * An address field as text. Unlike libchrony 0.2 the string lives in the
 * session (not a process-wide buffer): valid until the next call on s.
 */
const char *chrony_get_field_string(chrony_session *s, int field);

/* The name of an enum value or of one flag bit of a field, or NULL. */
const char *chrony_get_field_constant_name(chrony_session *s, int field, uint64_t value);

/*
 * Extension of this implementation, not in libchrony 0.2: what it
 * guarantees beyond libchrony 0.2, one bit each (libchrony-sys's README has
 * the details). A program that may be linked to another libchrony must not
 * call chrony_get_guarantees() directly (the symbol would be missing): look
 * it up with dlsym(RTLD_DEFAULT, "chrony_get_guarantees") and take a
 * missing symbol as 0, no guarantees.
 */
typedef enum {
	/* chrony_get_field_string formats into the session, not one static buffer. */
	CHRONY_GUARANTEE_SESSION_STRINGS = 1 << 0,
	/* Requesting the outstanding record again resends it (attempt + 1), and
	 * a reply to any of its last 8 attempts is accepted. */
	CHRONY_GUARANTEE_RESEND = 1 << 1,
	/* INT16 fields are sign-extended (a poll of -4 reads -4, not 65532). */
	CHRONY_GUARANTEE_SIGNED_INT16 = 1 << 2,
	/* Timespecs as chronyc reads them: TV_NOHIGHSEC, nanoseconds clamped. */
	CHRONY_GUARANTEE_CHRONYC_TIMESPECS = 1 << 3,
	/* NULL names and session pointers, negative records: errors, not crashes. */
	CHRONY_GUARANTEE_BAD_ARGUMENTS = 1 << 4,
	/* A report name need not outlive the request call (chained records). */
	CHRONY_GUARANTEE_REPORT_NAME_COPIED = 1 << 5,
	/* A receive error ends the exchange; a 0-byte read on a connection-
	 * oriented fd is CHRONY_RECV_FAILED; send never raises SIGPIPE. */
	CHRONY_GUARANTEE_RECEIVE_ERRORS = 1 << 6,
	/* A port is decimal digits, 1..65535, else EINVAL. */
	CHRONY_GUARANTEE_STRICT_PORTS = 1 << 7,
	/* chrony_close_socket removes only its own files, verified through
	 * directory fds, and not in a forked child. */
	CHRONY_GUARANTEE_VERIFIED_CLIENT_SOCKET = 1 << 8,
	/* "No such source" is CHRONY_NO_SUCH_SOURCE, not CHRONY_UNEXPECTED_STATUS. */
	CHRONY_GUARANTEE_NO_SUCH_SOURCE = 1 << 9,
} chrony_guarantee;

/* The CHRONY_GUARANTEE_* bits this library gives (all of them). */
unsigned int chrony_get_guarantees(void);

#ifdef __cplusplus
}
#endif

#endif
