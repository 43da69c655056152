/*
 * socket.c: opening and closing the client socket to chronyd.
 *
 * Written for this project from the published facts of libchrony 0.2's
 * behaviour. SPDX-License-Identifier: MIT OR Apache-2.0
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include "chrony.h"
#include "random_bytes.h"

#define DEFAULT_UNIX_PATH "/var/run/chrony/chronyd.sock"
#define DEFAULT_INET4 "127.0.0.1:323"
#define DEFAULT_INET6 "[::1]:323"
#define DEFAULT_PORT 323

/* The client socket is <dir0>/libchrony.<12 chars>/<16 chars>/sock. */
#define DIR1_PREFIX "libchrony."
#define DIR1_RANDOM_LEN 12
#define DIR2_RANDOM_LEN 16
#define SOCKET_NAME "sock"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
#define ALPHABET_LEN 62

static bool is_alnum_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* n random [A-Za-z0-9] characters (unbiased: bytes >= 248 are redrawn), NUL-terminated. */
static int random_name(char *out, size_t n)
{
	unsigned char bytes[32];
	size_t done = 0;

	while (done < n) {
		ssize_t r = random_bytes(bytes, sizeof(bytes));

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (ssize_t i = 0; i < r && done < n; i++)
			if (bytes[i] < 4 * ALPHABET_LEN)
				out[done++] = alphabet[bytes[i] % ALPHABET_LEN];
	}
	out[n] = '\0';
	return 0;
}

/*
 * Our own fresh private directory: a directory, owned by us, with no
 * permission bits beyond 0700. (A set-group-ID bit inherited from a setgid
 * socket directory grants nothing and is accepted.)
 */
static int check_private_dir(int dfd)
{
	struct stat st;

	if (fstat(dfd, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0777 & ~0700U)) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

static void close_keep_errno(int fd)
{
	int saved = errno;

	close(fd);
	errno = saved;
}

static int open_unix_socket(const char *path)
{
	struct sockaddr_un server = {.sun_family = AF_UNIX}, client = {.sun_family = AF_UNIX};
	char dir1[sizeof(client.sun_path)], rand1[DIR1_RANDOM_LEN + 1], rand2[DIR2_RANDOM_LEN + 1];
	size_t len = strlen(path);
	const char *slash;
	int fd, dfd1 = -1, dfd2 = -1, saved, n;
	bool made1 = false, made2 = false, bound = false;

	if (len >= sizeof(server.sun_path)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(server.sun_path, path, len + 1);

	/* Probe first, so a missing, dead or forbidden server shows up as its errno. */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&server, sizeof(server)) < 0) {
		close_keep_errno(fd);
		return -1;
	}
	close(fd);
	fd = -1;

	/* The client socket goes next to the server's, in private directories. */
	slash = strrchr(path, '/');
	if (!slash || slash == path) {
		errno = EINVAL;
		return -1;
	}
	if (random_name(rand1, DIR1_RANDOM_LEN) < 0 || random_name(rand2, DIR2_RANDOM_LEN) < 0)
		return -1;
	n = snprintf(dir1, sizeof(dir1), "%.*s/" DIR1_PREFIX "%s", (int)(slash - path), path, rand1);
	if (n < 0 || (size_t)n >= sizeof(dir1)) {
		errno = EINVAL;
		return -1;
	}
	n = snprintf(client.sun_path, sizeof(client.sun_path), "%s/%s/" SOCKET_NAME, dir1, rand2);
	if (n < 0 || (size_t)n >= sizeof(client.sun_path)) {
		errno = EINVAL;
		return -1;
	}

	if (mkdir(dir1, 0700) < 0)
		return -1;
	made1 = true;
	dfd1 = open(dir1, O_RDONLY | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
	if (dfd1 < 0 || check_private_dir(dfd1) < 0)
		goto error;
	if (mkdirat(dfd1, rand2, 0700) < 0)
		goto error;
	made2 = true;
	dfd2 = openat(dfd1, rand2, O_RDONLY | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
	if (dfd2 < 0 || check_private_dir(dfd2) < 0)
		goto error;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto error;
	if (bind(fd, (struct sockaddr *)&client, sizeof(client)) < 0)
		goto error;
	bound = true;
	/*
	 * Connected before anyone else can write to it: from here on the kernel
	 * accepts datagrams from chronyd's socket only (others get EPERM).
	 */
	if (connect(fd, (struct sockaddr *)&server, sizeof(server)) < 0)
		goto error;
	/*
	 * Let a chronyd running as another user reach the socket, and only it:
	 * the socket is chmod'ed through the verified directory, and the
	 * directories become searchable but not listable.
	 */
	if (fchmodat(dfd2, SOCKET_NAME, 0666, 0) < 0 || fchmod(dfd2, 0711) < 0 ||
	    fchmod(dfd1, 0711) < 0)
		goto error;

	close(dfd2);
	close(dfd1);
	return fd;

error:
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (bound && dfd2 >= 0)
		unlinkat(dfd2, SOCKET_NAME, 0);
	if (dfd2 >= 0)
		close(dfd2);
	if (made2 && dfd1 >= 0)
		unlinkat(dfd1, rand2, AT_REMOVEDIR);
	if (dfd1 >= 0)
		close(dfd1);
	if (made1)
		rmdir(dir1);
	errno = saved;
	return -1;
}

/* Digits only, 1..65535. */
static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			return -1;
	}
	if (v == 0)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/*
 * "IPv4", "IPv4:port", "IPv6" or "[IPv6]:port". One colon means host:port;
 * three or more with a leading '[' mean [v6]:port; otherwise the whole string
 * is the address (so "::1:323" is an IPv6 address). No name resolution.
 */
static int open_inet_socket(const char *address)
{
	char buf[256], *host = buf, *colon;
	size_t len = strlen(address), colons = 0;
	uint16_t port = DEFAULT_PORT;
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} sa;
	socklen_t sa_len;
	int fd;

	if (len >= sizeof(buf)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(buf, address, len + 1);
	for (size_t i = 0; i < len; i++)
		colons += buf[i] == ':';

	if (colons == 1) {
		colon = strchr(buf, ':');
		if (!colon || parse_port(colon + 1, &port) < 0) {
			errno = EINVAL;
			return -1;
		}
		*colon = '\0';
	} else if (colons >= 3 && buf[0] == '[') {
		colon = strrchr(buf, ':');
		if (!colon || colon == buf || colon[-1] != ']' || parse_port(colon + 1, &port) < 0) {
			errno = EINVAL;
			return -1;
		}
		colon[-1] = '\0';
		host = buf + 1;
	}

	memset(&sa, 0, sizeof(sa));
	if (inet_pton(AF_INET, host, &sa.in4.sin_addr) == 1) {
		sa.in4.sin_family = AF_INET;
		sa.in4.sin_port = htons(port);
		sa_len = sizeof(sa.in4);
	} else if (inet_pton(AF_INET6, host, &sa.in6.sin6_addr) == 1) {
		sa.in6.sin6_family = AF_INET6;
		sa.in6.sin6_port = htons(port);
		sa_len = sizeof(sa.in6);
	} else {
		errno = EINVAL;
		return -1;
	}

	fd = socket(sa.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, &sa.sa, sa_len) < 0) {
		close_keep_errno(fd);
		return -1;
	}
	return fd;
}

int chrony_open_socket(const char *address)
{
	int fd;

	if (!address || !*address) {
		fd = open_unix_socket(DEFAULT_UNIX_PATH);
		if (fd < 0)
			fd = open_inet_socket(DEFAULT_INET4);
		if (fd < 0)
			fd = open_inet_socket(DEFAULT_INET6);
		return fd;
	}
	if (address[0] == '/')
		return open_unix_socket(address);
	return open_inet_socket(address);
}

static bool is_random_component(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_alnum_char(s[i]))
			return false;
	return true;
}

/*
 * Is path ".../libchrony.<12>/<16>/sock"? On success, *dir2_end and
 * *dir1_end point at the '/' ending each directory.
 */
static bool is_client_path(char *path, char **dir2_end, char **dir1_end)
{
	size_t len = strlen(path);
	const size_t tail = 1 + DIR2_RANDOM_LEN + 1 + strlen(SOCKET_NAME);
	const size_t dir1_len = strlen(DIR1_PREFIX) + DIR1_RANDOM_LEN;
	char *p;

	if (len < tail + dir1_len + 1)
		return false;
	p = path + len - tail; /* "/<16>/sock" */
	if (p[0] != '/' || !is_random_component(p + 1, DIR2_RANDOM_LEN) ||
	    p[1 + DIR2_RANDOM_LEN] != '/' || strcmp(p + 2 + DIR2_RANDOM_LEN, SOCKET_NAME) != 0)
		return false;
	*dir2_end = p + 1 + DIR2_RANDOM_LEN;
	*dir1_end = p;
	p -= dir1_len; /* "libchrony.<12>" */
	if (p[-1] != '/' || strncmp(p, DIR1_PREFIX, strlen(DIR1_PREFIX)) != 0 ||
	    !is_random_component(p + strlen(DIR1_PREFIX), DIR1_RANDOM_LEN))
		return false;
	return true;
}

void chrony_close_socket(int fd)
{
	union {
		struct sockaddr_storage ss;
		struct sockaddr_un un;
	} sa;
	socklen_t len = sizeof(sa);
	char path[sizeof(sa.un.sun_path) + 1], *dir2_end, *dir1_end;

	if (fd < 0)
		return;
	memset(&sa, 0, sizeof(sa));
	if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0 && sa.un.sun_family == AF_UNIX &&
	    len > offsetof(struct sockaddr_un, sun_path) && sa.un.sun_path[0] == '/') {
		size_t n = len - offsetof(struct sockaddr_un, sun_path);

		if (n > sizeof(sa.un.sun_path))
			n = sizeof(sa.un.sun_path);
		memcpy(path, sa.un.sun_path, n);
		path[n] = '\0';
		/* Remove only what chrony_open_socket() creates. */
		if (is_client_path(path, &dir2_end, &dir1_end)) {
			unlink(path);
			*dir2_end = '\0';
			rmdir(path);
			*dir1_end = '\0';
			rmdir(path);
		}
	}
	close(fd);
}
