/*
 * random_bytes.h: getrandom(2) with any glibc.
 *
 * glibc declares getrandom() only from 2.25 on, and the Python wheels are
 * built against glibc 2.17 (manylinux2014). So the system call is made
 * through syscall(2) when the kernel headers name it, and /dev/urandom is
 * read when they do not, or when the kernel lacks the call (ENOSYS, Linux
 * before 3.17).
 *
 * SPDX-License-Identifier: MIT OR Apache-2.0
 */
#ifndef CHRONY_RANDOM_BYTES_H
#define CHRONY_RANDOM_BYTES_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/* As getrandom(buf, len, 0): the number of bytes written (possibly fewer
 * than len), or -1 with errno set. Interrupted calls are retried. */
static inline ssize_t random_bytes(void *buf, size_t len)
{
	ssize_t r;
	int fd, saved;

#ifdef SYS_getrandom
	do
		r = (ssize_t)syscall(SYS_getrandom, buf, len, 0);
	while (r < 0 && errno == EINTR);
	if (r >= 0 || errno != ENOSYS)
		return r;
#endif
	do
		fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return -1;
	do
		r = read(fd, buf, len);
	while (r < 0 && errno == EINTR);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

#endif
