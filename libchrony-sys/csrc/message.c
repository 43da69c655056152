/*
 * message.c: encoding and decoding of chronyd's command protocol values.
 *
 * Written for this project from the published protocol facts.
 * SPDX-License-Identifier: MIT OR Apache-2.0
 */
#include <string.h>

#include "message.h"
#include "reports.h"

uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

const struct report *find_report(const char *name)
{
	if (!name)
		return NULL;
	for (int i = 0; i < N_REPORTS; i++)
		if (strcmp(REPORTS[i].name, name) == 0)
			return &REPORTS[i];
	return NULL;
}

const struct field *reply_fields(const struct reply *r, const uint8_t *msg, int *n_fields)
{
	*n_fields = r->n_fields;
	if (r->fields == sources_fields &&
	    get_u16(msg + SOURCES_MODE_OFFSET) == SOURCES_MODE_REFCLOCK) {
		*n_fields = N_ELEMS(sources_refclock_fields);
		return sources_refclock_fields;
	}
	return r->fields;
}

bool reply_values_valid(const struct reply *r, const uint8_t *msg)
{
	for (int i = 0; i < r->n_fields; i++) {
		const struct field *f = &r->fields[i];

		if (f->wire == WIRE_NAME && f->origin == IN_REPLY &&
		    !memchr(msg + f->offset, '\0', SOURCE_NAME_LEN))
			return false;
	}
	return true;
}

/*
 * A Float is a 7-bit signed exponent over a 25-bit signed coefficient (both
 * two's complement, no hidden bit): value = coef * 2^(exp - 25).
 */
/* 2^e for e in [-1022, 1023], from its bits: a Float's e (-89 to 38) always
 * gives a normal double, and coef * 2^e is then exact (|coef| < 2^25), as
 * ldexp's result is; ldexp's general path cost as much as the rest of
 * reading a float field. */
static double power_of_two(int32_t e)
{
	uint64_t bits = (uint64_t)(e + 1023) << 52;
	double d;

	memcpy(&d, &bits, sizeof(d));
	return d;
}

double decode_float(uint32_t word)
{
	int32_t exp = (int32_t)(word >> 25);
	int32_t coef = (int32_t)(word & 0x1ffffffU);

	if (exp >= 64)
		exp -= 128;
	if (coef >= (1 << 24))
		coef -= 1 << 25;
	return (double)coef * power_of_two(exp - 25);
}

/* Three u32: high and low words of the seconds, then nanoseconds. */
struct timespec decode_timespec(const uint8_t *p)
{
	uint32_t high = get_u32(p), low = get_u32(p + 4), nsec = get_u32(p + 8);
	struct timespec ts;

	/* A server with a 32-bit time_t marks the high word as absent. */
	if (high == TV_NOHIGHSEC)
		high = 0;
	ts.tv_sec = (time_t)((uint64_t)high << 32 | low);
	ts.tv_nsec = nsec > 999999999U ? 999999999L : (long)nsec;
	return ts;
}

size_t max_reply_length(const struct reply *replies, int n)
{
	size_t max = 0;

	for (int i = 0; i < n; i++)
		if (replies[i].length > max)
			max = replies[i].length;
	return max;
}

chrony_err status_to_error(uint16_t status)
{
	switch (status) {
	case STT_SUCCESS:
		return CHRONY_OK;
	case STT_UNAUTH:
		return CHRONY_UNAUTHORIZED;
	case STT_NOSUCHSOURCE:
		return CHRONY_NO_SUCH_SOURCE;
	case STT_NOTENABLED:
	case STT_NORTC:
	case STT_INACTIVE: /* clients with noclientlog */
		return CHRONY_DISABLED;
	case STT_INVALID:
		return CHRONY_OLD_SERVER;
	case STT_BADPKTVERSION:
	case STT_BADPKTLENGTH:
		return CHRONY_NEW_SERVER;
	default:
		return CHRONY_UNEXPECTED_STATUS;
	}
}
