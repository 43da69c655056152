/*
 * fuzz_replies.c: libFuzzer harness for the bundled library's reply parser.
 *
 * Each input drives one exchange over a datagram socketpair: the harness plays
 * chronyd, the fuzzer's bytes are its replies. Input layout:
 *
 *   byte 0   low nibble: report index (modulo the number of reports);
 *            high nibble: extra resends with flag 0x04
 *   byte 1   flags:
 *              0x01  ask for the number of records instead of a record
 *              0x02  patch each reply's command echo and sequence to match the
 *                    outstanding request (so the parser goes past is_our_reply)
 *              0x04  resend the request 1 + (byte 0 >> 4) times before the
 *                    first reply (more than 8 attempts: the oldest forgotten)
 *              0x08  a SOCK_SEQPACKET pair instead of SOCK_DGRAM
 *              0x70  record index (0..7; 0 for single-record reports)
 *   then     datagrams, each a big-endian u16 length and that many bytes
 *            (a short last one is sent as it is)
 *
 * After every processed datagram, and when the exchange has ended, every
 * getter is called for every field (and out-of-range indexes). The corpus in
 * fuzz/corpus/ holds real chronyd 4.3 replies in this layout, captured with
 * `cargo xtask fuzz --capture` (synced-*, refclock-*; the fixture's daemons
 * have no RTC and no smoothing, so those two are "disabled" replies),
 * synthetic ones for what it does not send (synthetic-*: serverstats reply 25,
 * ntpdata reply 26, successful rtcdata and smoothing replies), and inputs the
 * fuzzer found (named by their SHA-1).
 *
 * Built with `clang -fsanitize=fuzzer,address,undefined` by `cargo xtask fuzz`,
 * or with replay_main.c as a plain program that runs the corpus (the
 * libchrony-sys test `fuzz_corpus`). SPDX-License-Identifier: MIT OR Apache-2.0
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chrony.h"

#define FLAG_COUNT 0x01
#define FLAG_PATCH 0x02
#define FLAG_RESEND 0x04
#define FLAG_SEQPACKET 0x08
#define RECORD_SHIFT 4
#define RECORD_MASK 0x7

/* Reply header offsets (chronyd protocol 6). */
#define OFF_COMMAND 4
#define OFF_REQ_SEQUENCE 8
#define OFF_RPY_SEQUENCE 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Keeps the compiler from dropping the getters' results. */
static volatile uint64_t sink;

/* The last request the library sent (drains every queued one). */
static bool read_request(int fd, uint8_t cmd[2], uint8_t seq[4])
{
	uint8_t buf[1024];
	bool got = false;
	ssize_t r;

	while ((r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
		if (r >= 12) {
			memcpy(cmd, buf + OFF_COMMAND, 2);
			memcpy(seq, buf + OFF_REQ_SEQUENCE, 4);
			got = true;
		}
	}
	return got;
}

static void read_all_fields(chrony_session *s, chrony_err last)
{
	int n = chrony_get_record_number_fields(s);

	sink += strlen(chrony_get_error_string(last));
	sink += (uint64_t)chrony_get_fd(s);
	sink += (uint64_t)chrony_get_report_number_records(s);
	sink += (uint64_t)chrony_needs_response(s);
	for (int i = -1; i <= n; i++) {
		const char *name = chrony_get_field_name(s, i);
		const char *str;
		struct timespec ts;
		uint64_t u;

		if (name) {
			sink += strlen(name);
			sink += (uint64_t)chrony_get_field_index(s, name);
		}
		sink += (uint64_t)chrony_get_field_type(s, i);
		sink += (uint64_t)chrony_get_field_content(s, i);
		u = chrony_get_field_uinteger(s, i);
		sink += u;
		sink += (uint64_t)chrony_get_field_integer(s, i);
		sink += (uint64_t)(int64_t)(chrony_get_field_float(s, i) * 0.0 == 0.0);
		ts = chrony_get_field_timespec(s, i);
		sink += (uint64_t)ts.tv_sec + (uint64_t)ts.tv_nsec;
		str = chrony_get_field_string(s, i);
		if (str)
			sink += strlen(str);
		/* The field's own value, every single bit, and a few others. */
		str = chrony_get_field_constant_name(s, i, u);
		if (str)
			sink += strlen(str);
		for (int bit = 0; bit < 64; bit++) {
			str = chrony_get_field_constant_name(s, i, (uint64_t)1 << bit);
			if (str)
				sink += strlen(str);
		}
		str = chrony_get_field_constant_name(s, i, UINT64_MAX);
		if (str)
			sink += strlen(str);
	}
	sink += (uint64_t)chrony_get_field_index(s, "no such field");
	sink += (uint64_t)chrony_get_field_index(s, NULL);
}

static chrony_err request(chrony_session *s, const char *report, bool count, int record)
{
	return count ? chrony_request_report_number_records(s, report)
		     : chrony_request_record(s, report, record);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fds[2], n_reports = chrony_get_number_supported_reports();
	chrony_session *s = NULL;
	const char *report;
	uint8_t flags, cmd[2] = {0}, seq[4] = {0};
	bool count, have_request = false;
	chrony_err last = CHRONY_OK;
	int record;
	size_t pos = 2;

	if (size < 2 || n_reports <= 0)
		return 0;
	report = chrony_get_report_name((data[0] & 0x0f) % n_reports);
	flags = data[1];
	count = flags & FLAG_COUNT;
	record = (flags >> RECORD_SHIFT) & RECORD_MASK;

	if (socketpair(AF_UNIX, ((flags & FLAG_SEQPACKET) ? SOCK_SEQPACKET : SOCK_DGRAM) | SOCK_CLOEXEC,
		       0, fds) < 0)
		return 0;
	if (chrony_init_session(&s, fds[0]) != CHRONY_OK)
		goto out;

	if (request(s, report, count, record) != CHRONY_OK && !chrony_needs_response(s)) {
		/* A single-record report asked for record > 0: invalid argument. */
		record = 0;
		if (request(s, report, count, record) != CHRONY_OK)
			goto done;
	}
	if (flags & FLAG_RESEND)
		for (int i = 0; i <= data[0] >> 4 && chrony_needs_response(s); i++)
			request(s, report, count, record);

	while (chrony_needs_response(s)) {
		uint8_t msg[2048];
		size_t len;
		struct pollfd pfd = {.fd = fds[0], .events = POLLIN};

		if (read_request(fds[1], cmd, seq))
			have_request = true;
		if (pos >= size) {
			/* Out of replies: the peer goes away (EOF on seqpacket). */
			if (!(flags & FLAG_SEQPACKET))
				break;
			shutdown(fds[1], SHUT_RDWR);
		} else {
			if (size - pos >= 2) {
				len = (size_t)data[pos] << 8 | data[pos + 1];
				pos += 2;
			} else {
				len = size - pos;
			}
			if (len > size - pos)
				len = size - pos;
			if (len > sizeof(msg))
				len = sizeof(msg);
			memcpy(msg, data + pos, len);
			pos += len;
			if ((flags & FLAG_PATCH) && have_request) {
				if (len >= OFF_COMMAND + 2)
					memcpy(msg + OFF_COMMAND, cmd, 2);
				if (len >= OFF_RPY_SEQUENCE + 4)
					memcpy(msg + OFF_RPY_SEQUENCE, seq, 4);
			}
			if (send(fds[1], msg, len, MSG_DONTWAIT) < 0)
				break;
		}
		/* Never block: process only what is there. */
		if (poll(&pfd, 1, 0) != 1)
			break;
		last = chrony_process_response(s);
		read_all_fields(s, last);
	}
	read_all_fields(s, last);
	/* A second exchange on the same session must start clean. */
	if (!chrony_needs_response(s) && chrony_request_record(s, "tracking", 0) == CHRONY_OK)
		read_all_fields(s, CHRONY_OK);
done:
	chrony_deinit_session(s);
out:
	close(fds[0]);
	close(fds[1]);
	return 0;
}
