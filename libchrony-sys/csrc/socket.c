/*
 * socket.c: opening and closing the client socket to chronyd.
 *
 * Written for this project from the published facts of libchrony 0.2's
 * behaviour. SPDX-License-Identifier: MIT OR Apache-2.0
 */
/* F_SETOWN_EX and struct f_owner_ex are Linux extensions (the build defines it too). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
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
 * Who can write where (the reasoning behind everything below):
 *
 * - The path up to chronyd's socket directory (/run/chrony, say) is the
 *   caller's: root's directories, trusted as much as the server path itself.
 * - chronyd's socket directory is writable by chronyd's user (and by anyone
 *   if it is misconfigured): that user can create, rename and remove any
 *   entry in it, our libchrony.<12> directory included (renaming within one
 *   directory needs no permission on the renamed directory itself), and put
 *   a symlink or a directory of its own in its place. Every entry of it is
 *   therefore opened with O_NOFOLLOW|O_DIRECTORY and checked through the fd,
 *   and re-checked by dev/ino right before it is removed.
 * - Our two directories are owned by our euid and never writable by anyone
 *   else (0700, then 0711): only we (or root) can create, rename or remove
 *   what is inside them. Once the outer one is verified through its fd, its
 *   <16> entry and the socket in that cannot be swapped by the attacker;
 *   they are checked anyway, for another process running with our
 *   privileges.
 * - So nothing is ever removed by a path that runs through an entry of the
 *   socket directory: only unlinkat()/rmdir through verified fds.
 *
 * An attacker who is not us cannot make a directory owned by our euid, so a
 * directory owned by us with our mode, named like ours, holding our random
 * <16> name, is ours.
 */

static void close_keep_errno(int fd)
{
	int saved = errno;

	close(fd);
	errno = saved;
}

/* The client socket's path, split: <sockdir>/<name1>/<name2>/sock. */
struct client_path {
	char sockdir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char name1[sizeof(DIR1_PREFIX) + DIR1_RANDOM_LEN];
	char name2[DIR2_RANDOM_LEN + 1];
};

/*
 * Our fresh private directory, just made by mkdirat(0700): a directory,
 * owned by us, with no permission bits beyond 0700. (A set-group-ID bit
 * inherited from a setgid socket directory grants nothing and is accepted.)
 */
static int check_private_dir(const struct stat *st)
{
	if (!S_ISDIR(st->st_mode) || st->st_uid != geteuid() || (st->st_mode & 0777 & ~0700U)) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/*
 * Opens the directory entry `name` of `dirfd` without following a symlink.
 * `mode` < 0: check it as freshly made (check_private_dir); else it must be
 * a directory owned by us with exactly that mode (what open_unix_socket
 * leaves behind: the chmod to 0711 also clears an inherited set-group-ID
 * bit). Returns the fd and fills *st, or -1 (EPROTO: not ours).
 */
static int open_our_dir(int dirfd, const char *name, int mode, struct stat *st)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int bad;

	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0)
		bad = -1;
	else if (mode < 0)
		bad = check_private_dir(st);
	else if (!S_ISDIR(st->st_mode) || st->st_uid != geteuid() ||
		 (st->st_mode & 07777) != (mode_t)mode) {
		errno = EPROTO;
		bad = -1;
	} else
		bad = 0;
	if (bad < 0) {
		close_keep_errno(fd);
		return -1;
	}
	return fd;
}

/* Is the entry `name` of `dirfd` a socket owned by us (not followed if a symlink)? */
static bool is_our_socket_at(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISSOCK(st.st_mode) &&
	       st.st_uid == geteuid();
}

/*
 * Removes the (empty) directory entry `name` of `dirfd` if it still is the
 * directory `expected` describes (dev/ino, not followed). Between that
 * check and the removal someone who can write `dirfd` could swap the entry
 * again; rmdir neither follows a symlink nor removes a non-empty directory,
 * so what could go instead is only an empty directory they put there, which
 * they could have removed themselves.
 */
static void remove_dir_at(int dirfd, const char *name, const struct stat *expected)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
	    st.st_dev == expected->st_dev && st.st_ino == expected->st_ino)
		unlinkat(dirfd, name, AT_REMOVEDIR);
}

/*
 * Records that this process made the socket: its pid as the fd's owner
 * (F_SETOWN_EX). The owner belongs to the open file description, which a
 * forked child shares, so there the pid is not the child's own: the child's
 * chrony_close_socket then leaves the files to the parent. Without O_ASYNC
 * the owner sends no signal; a caller who sets another owner (for SIGIO to
 * a thread, say) makes chrony_close_socket leave the files behind, never
 * remove someone else's.
 */
static int mark_owner(int fd)
{
	struct f_owner_ex owner = {.type = F_OWNER_PID, .pid = getpid()};

	return fcntl(fd, F_SETOWN_EX, &owner);
}

static bool made_by_this_process(int fd)
{
	struct f_owner_ex owner;

	return fcntl(fd, F_GETOWN_EX, &owner) == 0 && owner.type == F_OWNER_PID &&
	       owner.pid == getpid();
}

static int open_unix_socket(const char *path)
{
	struct sockaddr_un server = {.sun_family = AF_UNIX}, client = {.sun_family = AF_UNIX};
	struct client_path cp;
	char rand1[DIR1_RANDOM_LEN + 1];
	struct stat st1, st2;
	size_t len = strlen(path);
	const char *slash;
	int fd, sdfd = -1, dfd1 = -1, dfd2 = -1, saved, n;
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
	memcpy(cp.sockdir, path, (size_t)(slash - path));
	cp.sockdir[slash - path] = '\0';
	if (random_name(rand1, DIR1_RANDOM_LEN) < 0 || random_name(cp.name2, DIR2_RANDOM_LEN) < 0)
		return -1;
	snprintf(cp.name1, sizeof(cp.name1), DIR1_PREFIX "%s", rand1);
	n = snprintf(client.sun_path, sizeof(client.sun_path), "%s/%s/%s/" SOCKET_NAME, cp.sockdir,
		     cp.name1, cp.name2);
	if (n < 0 || (size_t)n >= sizeof(client.sun_path)) {
		errno = EINVAL;
		return -1;
	}

	sdfd = open(cp.sockdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sdfd < 0)
		return -1;
	/* mkdir never follows or reuses an existing entry: EEXIST is an error. */
	if (mkdirat(sdfd, cp.name1, 0700) < 0)
		goto error;
	made1 = true;
	dfd1 = open_our_dir(sdfd, cp.name1, -1, &st1);
	if (dfd1 < 0)
		goto error;
	if (mkdirat(dfd1, cp.name2, 0700) < 0)
		goto error;
	made2 = true;
	dfd2 = open_our_dir(dfd1, cp.name2, -1, &st2);
	if (dfd2 < 0)
		goto error;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto error;
	/*
	 * bind() takes a path (Linux has no bindat), and chronyd replies to
	 * that path, so it must be the real one. It runs through our
	 * libchrony.<12> entry, which the writer of the socket directory can
	 * swap since we verified it. Only we can create anything in our
	 * private <16> directory, so if the socket is there now (a socket,
	 * owned by us) the bind landed in it; if not, the path was redirected:
	 * fail. (A socket bound elsewhere stays there: that place was reached
	 * through the attacker's entry, and removing by that path is what must
	 * never happen.)
	 */
	if (bind(fd, (struct sockaddr *)&client, sizeof(client)) < 0)
		goto error;
	bound = true;
	if (!is_our_socket_at(dfd2, SOCKET_NAME)) {
		errno = EPROTO;
		goto error;
	}
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
	if (mark_owner(fd) < 0)
		goto error;

	close(dfd2);
	close(dfd1);
	close(sdfd);
	return fd;

error:
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (bound && dfd2 >= 0 && is_our_socket_at(dfd2, SOCKET_NAME))
		unlinkat(dfd2, SOCKET_NAME, 0);
	if (dfd2 >= 0)
		close(dfd2);
	if (made2 && dfd2 >= 0)
		remove_dir_at(dfd1, cp.name2, &st2);
	else if (made2 && dfd1 >= 0)
		unlinkat(dfd1, cp.name2, AT_REMOVEDIR); /* in our verified directory */
	if (dfd1 >= 0)
		close(dfd1);
	/*
	 * Our libchrony.<12> entry: by dev/ino if we got to open it; else (it
	 * was not what we made, or could not be opened) only if it still is an
	 * empty directory, which rmdir guarantees.
	 */
	if (made1 && dfd1 >= 0)
		remove_dir_at(sdfd, cp.name1, &st1);
	else if (made1)
		unlinkat(sdfd, cp.name1, AT_REMOVEDIR);
	close(sdfd);
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

/* Splits "<sockdir>/libchrony.<12>/<16>/sock" (what open_unix_socket binds); false for anything else. */
static bool parse_client_path(const char *path, struct client_path *cp)
{
	const size_t prefix_len = strlen(DIR1_PREFIX), name1_len = prefix_len + DIR1_RANDOM_LEN;
	const size_t tail = 1 + name1_len + 1 + DIR2_RANDOM_LEN + 1 + strlen(SOCKET_NAME);
	size_t len = strlen(path), dir_len;
	const char *p;

	if (path[0] != '/' || len <= tail)
		return false;
	dir_len = len - tail;
	p = path + dir_len; /* "/libchrony.<12>/<16>/sock" */
	if (p[0] != '/' || strncmp(p + 1, DIR1_PREFIX, prefix_len) != 0 ||
	    !is_random_component(p + 1 + prefix_len, DIR1_RANDOM_LEN) || p[1 + name1_len] != '/')
		return false;
	p += 1 + name1_len; /* "/<16>/sock" */
	if (!is_random_component(p + 1, DIR2_RANDOM_LEN) || p[1 + DIR2_RANDOM_LEN] != '/' ||
	    strcmp(p + 2 + DIR2_RANDOM_LEN, SOCKET_NAME) != 0)
		return false;
	memcpy(cp->sockdir, path, dir_len);
	cp->sockdir[dir_len] = '\0';
	memcpy(cp->name1, path + dir_len + 1, name1_len);
	cp->name1[name1_len] = '\0';
	memcpy(cp->name2, p + 1, DIR2_RANDOM_LEN);
	cp->name2[DIR2_RANDOM_LEN] = '\0';
	return true;
}

/*
 * Removes the socket and the two directories open_unix_socket made, through
 * directory fds, each verified (see "Who can write where" above): the
 * socket directory as the caller named it; our libchrony.<12> entry in it,
 * not followed, a directory owned by us with mode 0711; our <16> directory
 * in that, likewise; the socket in that, a socket owned by us. Anything
 * that fails a check is left alone, and so is everything inside it.
 */
static void remove_client_files(const struct client_path *cp)
{
	struct stat st1, st2;
	int sdfd, dfd1, dfd2;

	sdfd = open(cp->sockdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sdfd < 0)
		return;
	dfd1 = open_our_dir(sdfd, cp->name1, 0711, &st1);
	if (dfd1 < 0)
		goto out;
	dfd2 = open_our_dir(dfd1, cp->name2, 0711, &st2);
	if (dfd2 >= 0) {
		if (is_our_socket_at(dfd2, SOCKET_NAME))
			unlinkat(dfd2, SOCKET_NAME, 0);
		close(dfd2);
		remove_dir_at(dfd1, cp->name2, &st2);
	}
	close(dfd1);
	if (dfd2 >= 0)
		remove_dir_at(sdfd, cp->name1, &st1);
out:
	close(sdfd);
}

void chrony_close_socket(int fd)
{
	union {
		struct sockaddr_storage ss;
		struct sockaddr_un un;
	} sa;
	socklen_t len = sizeof(sa);
	char path[sizeof(sa.un.sun_path) + 1];
	struct client_path cp;

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
		/*
		 * Only what chrony_open_socket() creates, and only in the process
		 * that created it (a forked child leaves the parent's files).
		 */
		if (parse_client_path(path, &cp) && made_by_this_process(fd))
			remove_client_files(&cp);
	}
	close(fd);
}
