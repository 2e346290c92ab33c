/*
 * Smoke test of the live probe and reader (run as root: `make live-smoke`).
 *
 *  1. an openat of a unique missing path, in a child, arrives as event 307
 *     with res -2 (ENOENT) and that name;
 *  2. 20,000 getppid calls with getppid not interesting produce no event and
 *     raise the filtered counter by at least 20,000;
 *  3. a 64 KiB ring and an idle reader during 50,000 interesting syscalls
 *     give drops, with delivered + dropped <= seen;
 *  4. figures: events/s delivered for an openat/close storm in a child, and
 *     the storm's slowdown with the probe attached;
 *  5. every syscall the probe handles, once, in a child: each event type
 *     arrives, every parameter is empty or well formed for its type, and a
 *     few values are checked (open flags, execve args, socket tuples);
 *  6. ia32 syscalls (int 0x80) are counted as compat and dropped.
 *
 * Without the privileges or kernel support it prints SKIP and the reason and
 * exits 0, unless FALCOLITE_REQUIRE_LIVE=1 (then it fails).  Exit status 1
 * on any failure.  -d FILE writes every record received (u32 length, then
 * the record) for offline checks; -q runs a tenth of the timing loops.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "live_reader.h"
#include "probe_tables.h" /* generated: FL_PTYPES_INIT, parameter types per event */

#define NR_getppid 110
#define NR_openat 257
#define NR_close 3
#define NR_exit 60
#define NR_exit_group 231
#define EV_GENERIC 1
#define EV_OPENAT 307
#define EV_CLOSE 5
#define EV_PROCEXIT 186

static bool g_compat_probe; /* the compat probe (Linux 5.8-5.16) is loaded */

struct ctx {
	fl_live *live;
	FILE *dump;
	char err[FL_ERRLEN];
};

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Parameter i of the record at p: its bytes and length. */
static const uint8_t *param(const uint8_t *p, uint32_t i, uint16_t *len)
{
	uint32_t nparams;
	memcpy(&nparams, p + 22, 4);
	if (i >= nparams)
		return NULL;
	const uint8_t *data = p + 26 + 2 * nparams;
	for (uint32_t k = 0; k < i; k++) {
		uint16_t l;
		memcpy(&l, p + 26 + 2 * k, 2);
		data += l;
	}
	memcpy(len, p + 26 + 2 * i, 2);
	return data;
}

static int64_t param_i64(const uint8_t *p, uint32_t i)
{
	uint16_t len;
	const uint8_t *d = param(p, i, &len);
	int64_t v = 0;
	if (d && len == 8)
		memcpy(&v, d, 8);
	return v;
}

static uint16_t param_u16(const uint8_t *p, uint32_t i)
{
	uint16_t len, v = 0;
	const uint8_t *d = param(p, i, &len);
	if (d && len == 2)
		memcpy(&v, d, 2);
	return v;
}

static void dump_batch(struct ctx *c, const fl_batch *b)
{
	if (!c->dump)
		return;
	for (uint32_t i = 0; i < b->count; i++) {
		const uint8_t *p = b->buf + b->offsets[i];
		uint32_t len;
		memcpy(&len, p + 16, 4);
		fwrite(&len, 4, 1, c->dump);
		fwrite(p, 1, len, c->dump);
	}
}

static pid_t spawn(void (*body)(long), long arg)
{
	pid_t pid = fork();
	if (pid == 0) {
		body(arg);
		_exit(0);
	}
	return pid;
}

static void child_openat(long arg)
{
	const char *path = (const char *)arg;
	syscall(SYS_openat, AT_FDCWD, path, O_RDONLY);
}

static void child_getppid(long n)
{
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
}

static void child_storm(long n)
{
	for (long i = 0; i < n; i++) {
		long fd = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY);
		syscall(SYS_close, fd);
	}
}

static int set_interesting(struct ctx *c, const int *nrs, int n)
{
	uint8_t on[FL_LIVE_NSYSCALLS] = {0};
	for (int i = 0; i < n; i++)
		on[nrs[i]] = 1;
	if (fl_live_set_interesting(c->live, on, c->err) != FL_OK) {
		fprintf(stderr, "set_interesting: %s\n", c->err);
		return -1;
	}
	return 0;
}

/* Drain until the ring stays empty for quiet_ms; calls fn on each record. */
typedef void (*record_fn)(const uint8_t *p, uint16_t type, uint64_t tid, uint64_t ts, void *arg);

static int drain(struct ctx *c, uint32_t quiet_ms, record_fn fn, void *arg, uint64_t *count)
{
	fl_batch b;
	for (;;) {
		if (fl_live_next_batch(c->live, 4096, quiet_ms, &b, c->err) != FL_OK) {
			fprintf(stderr, "next_batch: %s\n", c->err);
			return -1;
		}
		if (b.count == 0)
			return 0;
		dump_batch(c, &b);
		for (uint32_t i = 0; i < b.count; i++) {
			if (fn)
				fn(b.buf + b.offsets[i], b.types[i], b.tids[i], b.ts[i], arg);
			if (count)
				(*count)++;
		}
	}
}

/* ---------------------------------------------------------- test 1 */

struct find_open {
	pid_t child;
	const char *path;
	bool found, res_ok, name_ok, procexit, ts_ok;
	int64_t res, dirfd;
	uint32_t flags;
};

static void on_find_open(const uint8_t *p, uint16_t type, uint64_t tid, uint64_t ts, void *arg)
{
	struct find_open *f = arg;
	if (tid != (uint64_t)f->child)
		return;
	if (type == EV_PROCEXIT)
		f->procexit = true;
	if (type != EV_OPENAT)
		return;
	uint16_t len;
	const uint8_t *name = param(p, 2, &len);
	if (!name || len != strlen(f->path) + 1 || memcmp(name, f->path, len) != 0)
		return;
	f->found = true;
	f->res = param_i64(p, 0);
	f->dirfd = param_i64(p, 1);
	const uint8_t *fl = param(p, 3, &len);
	if (fl && len == 4)
		memcpy(&f->flags, fl, 4);
	f->res_ok = f->res == -ENOENT;
	f->name_ok = true;
	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	int64_t d = (int64_t)ts - ((int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec);
	f->ts_ok = d > -5000000000LL && d < 1000000000LL;
}

static int test_openat(struct ctx *c)
{
	int nrs[] = {NR_openat, NR_close, NR_exit, NR_exit_group};
	if (set_interesting(c, nrs, 4))
		return -1;
	char path[128];
	snprintf(path, sizeof path, "/tmp/falcolite-smoke-%d-%ld/missing", (int)getpid(),
		 (long)time(NULL));
	struct find_open f = {.path = path};
	f.child = spawn(child_openat, (long)path);
	waitpid(f.child, NULL, 0);
	double end = now_s() + 3;
	while (!(f.found && f.procexit) && now_s() < end)
		if (drain(c, 50, on_find_open, &f, NULL))
			return -1;
	printf("1. openat of a missing path: %s (res %" PRId64 ", dirfd %" PRId64
	       ", flags 0x%x, procexit %s, timestamp %s)\n",
	       f.found ? "arrived" : "NOT FOUND", f.res, f.dirfd, f.flags,
	       f.procexit ? "seen" : "MISSING", f.ts_ok ? "ok" : "WRONG");
	return f.found && f.res_ok && f.name_ok && f.procexit && f.ts_ok && f.dirfd == -100 &&
			       f.flags == 0x1
		       ? 0
		       : -1;
}

/* ---------------------------------------------------------- test 2 */

struct count_nr {
	pid_t child;
	uint64_t generic_getppid;
};

static void on_count_getppid(const uint8_t *p, uint16_t type, uint64_t tid, uint64_t ts, void *arg)
{
	(void)ts;
	struct count_nr *n = arg;
	if (tid == (uint64_t)n->child && type == EV_GENERIC && param_u16(p, 1) == NR_getppid)
		n->generic_getppid++;
}

/* Time of n getppid calls in a child. */
static double time_getppid(long n)
{
	double t0 = now_s();
	pid_t child = spawn(child_getppid, n);
	waitpid(child, NULL, 0);
	return now_s() - t0;
}

static double best_getppid(long n)
{
	double best = 1e9;
	for (int i = 0; i < 3; i++) {
		double t = time_getppid(n);
		if (t < best)
			best = t;
	}
	return best;
}

static int test_filtered(struct ctx *c, double base_1m)
{
	int nrs[] = {NR_openat, NR_close, NR_exit, NR_exit_group};
	if (set_interesting(c, nrs, 4))
		return -1;
	fl_live_stats s0, s1;
	drain(c, 20, NULL, NULL, NULL);
	fl_live_get_stats(c->live, &s0);
	struct count_nr n = {0};
	n.child = spawn(child_getppid, 20000);
	waitpid(n.child, NULL, 0);
	if (drain(c, 50, on_count_getppid, &n, NULL))
		return -1;
	fl_live_get_stats(c->live, &s1);
	uint64_t df = s1.filtered - s0.filtered;
	double with = best_getppid(1000000);
	printf("2. 20000 getppid, not interesting: %" PRIu64 " getppid events, filtered +%" PRIu64
	       "; a filtered syscall costs %+.0f ns (getppid %.0f -> %.0f ns)\n",
	       n.generic_getppid, df, (with - base_1m) / 1e6 * 1e9, base_1m / 1e6 * 1e9,
	       with / 1e6 * 1e9);
	return n.generic_getppid == 0 && df >= 20000 ? 0 : -1;
}

/* ---------------------------------------------------------- test 3 */

static int test_drops(struct ctx *c)
{
	fl_live *small;
	if (fl_live_open(65536, getpid(), &small, c->err) != FL_OK) {
		fprintf(stderr, "open (64 KiB ring): %s\n", c->err);
		return -1;
	}
	fl_live *big = c->live;
	c->live = small;
	int nrs[] = {NR_getppid};
	int rc = set_interesting(c, nrs, 1);
	fl_live_stats s;
	if (rc == 0) {
		pid_t child = spawn(child_getppid, 50000);
		waitpid(child, NULL, 0);
		fl_live_get_stats(small, &s);
		uint64_t held = 0;
		drain(c, 50, NULL, NULL, &held);
		fl_live_get_stats(small, &s);
		uint64_t dropped = s.drops_buffer + s.drops_size;
		printf("3. 64 KiB ring, idle reader, 50000 getppid: seen %" PRIu64 ", delivered %" PRIu64
		       ", dropped %" PRIu64 " (ring full %" PRIu64 ", too large %" PRIu64
		       "), malformed %" PRIu64 ", queued %" PRId64 "\n",
		       s.seen, s.delivered, dropped, s.drops_buffer, s.drops_size, s.malformed,
		       (int64_t)(s.seen - s.delivered - s.malformed - dropped));
		rc = s.drops_buffer > 0 && s.delivered + dropped + s.malformed <= s.seen &&
				     s.seen >= 50000 && s.malformed == 0
			     ? 0
			     : -1;
	}
	fl_live_close(small);
	c->live = big;
	return rc;
}

/* ---------------------------------------------------------- test 4 */

struct storm {
	pid_t child;
	uint64_t events;
};

static void on_storm(const uint8_t *p, uint16_t type, uint64_t tid, uint64_t ts, void *arg)
{
	(void)p;
	(void)ts;
	struct storm *s = arg;
	if (tid == (uint64_t)s->child && (type == EV_OPENAT || type == EV_CLOSE))
		s->events++;
}

static double run_storm(struct ctx *c, long n, struct storm *st)
{
	double t0 = now_s();
	pid_t child = spawn(child_storm, n);
	if (st)
		st->child = child;
	int status;
	fl_batch b;
	for (;;) {
		pid_t w = waitpid(child, &status, c->live ? WNOHANG : 0);
		if (w == child)
			break;
		if (fl_live_next_batch(c->live, 4096, 10, &b, c->err) != FL_OK)
			return -1;
		for (uint32_t i = 0; i < b.count; i++)
			on_storm(b.buf + b.offsets[i], b.types[i], b.tids[i], b.ts[i], st);
	}
	double t = now_s() - t0;
	return t;
}

/* The storm without any probe attached: the best of three runs. */
static double storm_baseline(long n)
{
	struct ctx none = {0};
	double base = 1e9;
	for (int i = 0; i < 3; i++) {
		double t = run_storm(&none, n, NULL);
		if (t < base)
			base = t;
	}
	return base;
}

static int test_storm(struct ctx *c, long n, double base)
{
	fl_live *live = c->live;
	int nrs[] = {NR_openat, NR_close, NR_exit, NR_exit_group};
	if (set_interesting(c, nrs, 4))
		return -1;
	drain(c, 20, NULL, NULL, NULL);
	fl_live_stats s0, s1;
	fl_live_get_stats(live, &s0);
	double best = 1e9, rate = 0;
	uint64_t got = 0;
	for (int i = 0; i < 3; i++) {
		struct storm st = {0};
		double t = run_storm(c, n, &st);
		if (t < 0)
			return -1;
		drain(c, 20, on_storm, &st, NULL);
		if (t < best) {
			best = t;
			rate = (double)st.events / t;
			got = st.events;
		}
	}
	fl_live_get_stats(live, &s1);
	printf("4. openat/close storm, %ld pairs in a child: %.0f events/s delivered (%" PRIu64
	       " of %ld in the best run), %.1f ns/pair without the probe, %.1f with (+%.0f %%), "
	       "ring drops %" PRIu64 "\n",
	       n, rate, got, 2 * n, base / n * 1e9, best / n * 1e9, (best / base - 1) * 100,
	       s1.drops_buffer - s0.drops_buffer);
	fl_live_info info;
	fl_live_get_info(live, &info);
	for (uint32_t i = 0; i < info.n_progs; i++) {
		uint64_t runs = s1.run_cnt[i] - s0.run_cnt[i];
		if (runs && s1.run_ns[i] > s0.run_ns[i]) /* kernel.bpf_stats_enabled=1 */
			printf("   %-18s %9" PRIu64 " runs, %6.1f ns per run\n", info.names[i], runs,
			       (double)(s1.run_ns[i] - s0.run_ns[i]) / (double)runs);
	}
	return got == (uint64_t)(2 * n) || s1.drops_buffer > s0.drops_buffer ? 0 : -1;
}

/* ---------------------------------------------------------- test 5 */

/* Every handled syscall once, in a child (and its children). */
static void exercise(long arg)
{
	const char *dir = (const char *)arg;
	char f[256], g[256], c[256], l1[256], l2[256], s1[256], s2[256], d1[256], d2[256];
	snprintf(f, sizeof f, "%s/f", dir);
	snprintf(g, sizeof g, "%s/g", dir);
	snprintf(c, sizeof c, "%s/c", dir);
	snprintf(l1, sizeof l1, "%s/l1", dir);
	snprintf(l2, sizeof l2, "%s/l2", dir);
	snprintf(s1, sizeof s1, "%s/s1", dir);
	snprintf(s2, sizeof s2, "%s/s2", dir);
	snprintf(d1, sizeof d1, "%s/d1", dir);
	snprintf(d2, sizeof d2, "%s/d2", dir);
	char *const env[] = {"FLSMOKE=1", NULL};

	syscall(SYS_getpid); /* generic */
	long fd = syscall(SYS_open, f, O_CREAT | O_WRONLY, 0640);
	syscall(SYS_fchmod, fd, 0600);
	syscall(SYS_fchown, fd, -1, -1);
	syscall(SYS_close, fd);
	syscall(SYS_close, syscall(SYS_creat, c, 0600));
	/* its own openat: a static /bin/true (a VM's busybox) opens nothing */
	syscall(SYS_close, syscall(SYS_openat, AT_FDCWD, f, O_RDONLY));
	struct open_how how = {.flags = O_RDONLY, .resolve = RESOLVE_NO_SYMLINKS};
	syscall(SYS_close, syscall(SYS_openat2, AT_FDCWD, f, &how, sizeof how));
	syscall(SYS_rename, f, g);
	syscall(SYS_renameat, AT_FDCWD, g, AT_FDCWD, f);
	syscall(SYS_renameat2, AT_FDCWD, f, AT_FDCWD, g, 1 /* RENAME_NOREPLACE */);
	syscall(SYS_link, g, l1);
	syscall(SYS_linkat, AT_FDCWD, g, AT_FDCWD, l2, 0);
	syscall(SYS_symlink, g, s1);
	syscall(SYS_symlinkat, g, AT_FDCWD, s2);
	syscall(SYS_chmod, g, 0600);
	syscall(SYS_fchmodat, AT_FDCWD, g, 0644, 0);
	syscall(SYS_chown, g, -1, -1);
	syscall(SYS_lchown, s1, -1, -1);
	syscall(SYS_fchownat, AT_FDCWD, g, -1, -1, AT_SYMLINK_NOFOLLOW);
	syscall(SYS_mkdir, d1, 0700);
	syscall(SYS_mkdirat, AT_FDCWD, d2, 0700);
	syscall(SYS_rmdir, d1);
	syscall(SYS_unlinkat, AT_FDCWD, d2, AT_REMOVEDIR);
	syscall(SYS_unlink, l1);
	syscall(SYS_unlinkat, AT_FDCWD, l2, 0);

	int p[2];
	syscall(SYS_pipe, p);
	syscall(SYS_pipe2, p, O_CLOEXEC);
	syscall(SYS_dup, p[0]);
	syscall(SYS_dup2, p[0], 100);
	syscall(SYS_dup3, p[0], 101, O_CLOEXEC);
	syscall(SYS_memfd_create, "flsmoke", 1 /* MFD_CLOEXEC */);
	syscall(SYS_fcntl, p[0], F_DUPFD_CLOEXEC, 200);
	int sp[2];
	syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sp);
	syscall(SYS_eventfd2, 0, 0);
	uint64_t sigmask = 1u << (SIGUSR1 - 1);
	syscall(SYS_signalfd4, -1, &sigmask, sizeof sigmask, 0);
	syscall(SYS_timerfd_create, CLOCK_MONOTONIC, 0);
	syscall(SYS_inotify_init1, 0);
	syscall(SYS_userfaultfd, O_CLOEXEC);

	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof sa;
	long srv = syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	syscall(SYS_bind, srv, &sa, sizeof sa);
	syscall(SYS_listen, srv, 8);
	getsockname((int)srv, (struct sockaddr *)&sa, &sl);
	long cli = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	syscall(SYS_connect, cli, &sa, sizeof sa);
	long acc = syscall(SYS_accept4, srv, NULL, NULL, SOCK_CLOEXEC);
	syscall(SYS_sendto, cli, "hello", 5, 0, NULL, 0);
	char buf[64];
	syscall(SYS_recvfrom, acc, buf, sizeof buf, 0, NULL, NULL);
	long cli2 = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	syscall(SYS_connect, cli2, &sa, sizeof sa);
	syscall(SYS_accept, srv, NULL, NULL);

	struct sockaddr_un un = {.sun_family = AF_UNIX};
	int ulen = snprintf(un.sun_path + 1, sizeof un.sun_path - 1, "flsmoke-%d", (int)getpid());
	socklen_t unlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + ulen);
	long us = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
	syscall(SYS_bind, us, &un, unlen);
	syscall(SYS_listen, us, 4);
	long uc = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
	syscall(SYS_connect, uc, &un, unlen);

	syscall(SYS_setuid, getuid());
	syscall(SYS_setgid, getgid());
	syscall(SYS_setreuid, -1, -1);
	syscall(SYS_setregid, -1, -1);
	syscall(SYS_setresuid, -1, -1, -1);
	syscall(SYS_setresgid, -1, -1, -1);
	syscall(SYS_ptrace, 2 /* PTRACE_PEEKDATA */, 1, 0, 0);
	syscall(SYS_mount, "none", "/nonexistent-flsmoke", "tmpfs", 0, NULL);
	syscall(SYS_umount2, "/nonexistent-flsmoke", 2 /* MNT_DETACH */);
	syscall(SYS_setns, -1, 0);
	syscall(SYS_unshare, 0);
	syscall(SYS_init_module, NULL, 0, "");
	syscall(SYS_finit_module, -1, "", 0);
	syscall(SYS_bpf, 1000, NULL, 0);

	if (syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0) == 0)
		_exit(0);
	if (syscall(SYS_fork) == 0)
		_exit(0);
	if (vfork() == 0)
		_exit(0);
	struct clone_args ca = {.exit_signal = SIGCHLD};
	if (syscall(SYS_clone3, &ca, sizeof ca) == 0)
		_exit(0);
	if (fork() == 0) {
		char *const argv[] = {"true", "smoke-arg", NULL};
		syscall(SYS_execve, "/bin/true", argv, env);
		_exit(1);
	}
	if (fork() == 0) {
		char *const argv[] = {"true", NULL};
		syscall(SYS_execveat, AT_FDCWD, "/bin/true", argv, env, 0);
		_exit(1);
	}
	char *const bad[] = {"nope", "x", NULL};
	syscall(SYS_execve, "/nonexistent-flsmoke", bad, env);
	while (wait(NULL) > 0)
		;
}

static const int exercise_nrs[] = {
	2, 3, 22, 32, 33, 41, 42, 43, 44, 45, 49, 50, 56, 57, 58, 59, 60, 82, 83, 84, 85, 86, 87,
	88, 90, 91, 92, 93, 94, 101, 105, 106, 113, 114, 117, 119, 165, 166, 175, 231, 257, 258,
	260, 263, 264, 265, 266, 268, 272, 288, 292, 293, 308, 313, 316, 319, 321, 322, 435, 437,
	72, 53, 290, 289, 283, 294, 323, 39 /* getpid: generic */};

static const uint16_t exercise_codes[] = {
	1, 3, 5, 19, 21, 23, 25, 31, 35, 59, 61, 169, 175, 177, 179, 181, 186, 193, 195, 199,
	201, 223, 225, 227, 241, 247, 257, 277, 279, 285, 293, 301, 303, 305, 307, 309, 311, 313,
	315, 317, 319, 327, 331, 335, 363, 365, 367, 369, 379, 381, 383, 385, 389, 391, 393, 405,
	411, 413, 427, 429, 151, 43, 63, 127, 137, 139, 321};

struct coverage {
	const char *dir;
	char unix_name[64];
	uint64_t per_code[FL_EVENT_MAX];
	uint64_t bad_params;
	uint16_t first_bad_type;
	uint32_t first_bad_param;
	bool open_created, exec_ok, exec_failed_ok, clone_child, connect_ok, accept_ok, unix_ok;
	bool fcntl_ok, socketpair_ok;
	uint16_t connect_dport, accept_lport;
};

static const uint8_t ptypes[FL_EVENT_MAX][32] = FL_PTYPES_INIT;

/* Wire size of fixed-size parameter types (scap-format.md 4.1); 0 = variable. */
static int fixed_size(uint8_t t)
{
	switch (t) {
	case 1: case 5: case 19: case 23: case 24: case 28: case 44:
		return 1;
	case 2: case 6: case 18: case 22: case 29: case 45:
		return 2;
	case 3: case 7: case 25: case 26: case 30: case 31: case 32: case 34: case 42:
	case 46: case 47: case 48:
		return 4;
	case 4: case 8: case 11: case 14: case 15: case 20: case 21: case 33:
		return 8;
	case 38:
		return 16;
	}
	return 0;
}

/* Each parameter empty or of its type's size; strings end with their NUL;
 * addresses and tuples have one of their layouts' sizes. */
static bool params_ok(const uint8_t *p, uint16_t type, uint32_t *bad)
{
	uint32_t nparams;
	memcpy(&nparams, p + 22, 4);
	for (uint32_t i = 0; i < nparams; i++) {
		uint16_t len;
		const uint8_t *d = param(p, i, &len);
		uint8_t t = ptypes[type][i];
		int fs = fixed_size(t);
		bool ok = true;
		if (len == 0)
			continue;
		if (fs)
			ok = len == fs;
		else if (t == 9 || t == 17 || t == 43)
			ok = d[len - 1] == 0;
		else if (t == 12)
			ok = (d[0] == 2 && len == 7) || (d[0] == 10 && len == 19) ||
			     (d[0] == 1 && d[len - 1] == 0);
		else if (t == 13)
			ok = (d[0] == 2 && len == 13) || (d[0] == 10 && len == 37) ||
			     (d[0] == 1 && len >= 18 && d[len - 1] == 0);
		else if (t == 27)
			ok = len == 9;
		if (!ok) {
			*bad = i;
			return false;
		}
	}
	return true;
}

static bool param_is(const uint8_t *p, uint32_t i, const void *want, size_t n)
{
	uint16_t len;
	const uint8_t *d = param(p, i, &len);
	return d && len == n && memcmp(d, want, n) == 0;
}

static void on_coverage(const uint8_t *p, uint16_t type, uint64_t tid, uint64_t ts, void *arg)
{
	(void)tid;
	(void)ts;
	struct coverage *cv = arg;
	uint32_t bad;
	cv->per_code[type]++;
	if (!params_ok(p, type, &bad)) {
		if (!cv->bad_params++) {
			cv->first_bad_type = type;
			cv->first_bad_param = bad;
		}
	}
	char path[300];
	uint16_t len = 0;
	const uint8_t *d;
	if (type == 3) {
		snprintf(path, sizeof path, "%s/f", cv->dir);
		uint32_t flags = 0;
		d = param(p, 2, &len);
		if (d && len == 4)
			memcpy(&flags, d, 4);
		uint32_t mode = 0;
		d = param(p, 3, &len);
		if (d && len == 4)
			memcpy(&mode, d, 4);
		if (param_is(p, 1, path, strlen(path) + 1) && flags == (0x2 | 0x4 | 0x4000) &&
		    mode == 0640)
			cv->open_created = true;
	} else if (type == 293) {
		int64_t res = param_i64(p, 0);
		if (res == 0 && param_is(p, 1, "true", 5) && param_is(p, 2, "smoke-arg", 10) &&
		    param_is(p, 15, "FLSMOKE=1", 10) /* env */)
			cv->exec_ok = true;
		if (res == -ENOENT && param_is(p, 1, "nope", 5) && param_is(p, 2, "x", 2) &&
		    param_is(p, 30, "/nonexistent-flsmoke", 21))
			cv->exec_failed_ok = true;
	} else if (type == 223 && param_i64(p, 0) == 0) {
		/* the child's memory figures and cgroups ("cpu=/...") are read;
		 * the compat probe leaves cgroups empty */
		uint16_t rss_len = 0;
		param(p, 11, &rss_len);
		d = param(p, 14, &len);
		bool cg_ok = g_compat_probe ? len == 0
					    : d && len > 3 && memchr(d, '=', len) && d[len - 1] == 0;
		if (rss_len == 4 && cg_ok)
			cv->clone_child = true;
	} else if (type == 23 && param_i64(p, 0) == 0) {
		d = param(p, 1, &len);
		uint8_t lo[4] = {127, 0, 0, 1};
		if (d && len == 13 && d[0] == 2 && memcmp(d + 7, lo, 4) == 0) {
			memcpy(&cv->connect_dport, d + 11, 2);
			uint16_t sport;
			memcpy(&sport, d + 5, 2);
			cv->connect_ok = sport != 0;
		}
		if (d && d[0] == 1 && len == 17 + strlen(cv->unix_name) + 1 &&
		    memcmp(d + 17, cv->unix_name, strlen(cv->unix_name) + 1) == 0)
			cv->unix_ok = true;
	} else if (type == 151) {
		/* F_DUPFD_CLOEXEC (PPM 26) of the pipe's read end onto fd 200 or above */
		d = param(p, 2, &len);
		if (param_i64(p, 0) >= 200 && d && len == 1 && d[0] == 26)
			cv->fcntl_ok = true; /* other processes' fcntl calls arrive too */
	} else if (type == 43 && param_i64(p, 0) == 0) {
		if (param_i64(p, 1) >= 0 && param_i64(p, 2) >= 0 && param_i64(p, 3) != 0 &&
		    param_i64(p, 4) != 0 && param_i64(p, 3) != param_i64(p, 4))
			cv->socketpair_ok = true;
	} else if (type == 389 && param_i64(p, 0) >= 0) {
		d = param(p, 1, &len);
		if (d && len == 13 && d[0] == 2) {
			memcpy(&cv->accept_lport, d + 11, 2);
			cv->accept_ok = true;
		}
	}
}

static int test_coverage(struct ctx *c)
{
	if (set_interesting(c, exercise_nrs, sizeof exercise_nrs / sizeof exercise_nrs[0]))
		return -1;
	drain(c, 20, NULL, NULL, NULL);
	char dir[] = "/tmp/flsmoke-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return -1;
	}
	struct coverage *cv = calloc(1, sizeof *cv);
	if (!cv)
		return -1;
	cv->dir = dir;
	pid_t child = spawn(exercise, (long)dir);
	snprintf(cv->unix_name, sizeof cv->unix_name, "flsmoke-%d", (int)child);
	waitpid(child, NULL, 0);
	double end = now_s() + 1;
	while (now_s() < end)
		if (drain(c, 50, on_coverage, cv, NULL))
			return -1;
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);

	char missing[512] = "";
	size_t n = 0;
	for (size_t i = 0; i < sizeof exercise_codes / sizeof exercise_codes[0]; i++)
		if (!cv->per_code[exercise_codes[i]] && n < sizeof missing - 8)
			n += (size_t)snprintf(missing + n, sizeof missing - n, " %u", exercise_codes[i]);
	bool ok = !n && !cv->bad_params && cv->open_created && cv->exec_ok && cv->exec_failed_ok &&
		  cv->clone_child && cv->connect_ok && cv->accept_ok && cv->unix_ok &&
		  cv->connect_dport == cv->accept_lport && cv->fcntl_ok && cv->socketpair_ok;
	printf("5. every handled syscall: %zu event types expected, missing:%s; malformed "
	       "parameters %" PRIu64,
	       sizeof exercise_codes / sizeof exercise_codes[0], n ? missing : " none",
	       cv->bad_params);
	if (cv->bad_params)
		printf(" (first: type %u parameter %u)", cv->first_bad_type, cv->first_bad_param);
	printf("; open O_CREAT %s, execve %s, failed execve %s, clone child %s, connect tuple %s, "
	       "accept4 tuple %s, unix tuple %s, fcntl dup %s, socketpair %s\n",
	       cv->open_created ? "ok" : "WRONG", cv->exec_ok ? "ok" : "WRONG",
	       cv->exec_failed_ok ? "ok" : "WRONG", cv->clone_child ? "ok" : "WRONG",
	       cv->connect_ok ? "ok" : "WRONG",
	       cv->accept_ok && cv->connect_dport == cv->accept_lport ? "ok" : "WRONG",
	       cv->unix_ok ? "ok" : "WRONG", cv->fcntl_ok ? "ok" : "WRONG",
	       cv->socketpair_ok ? "ok" : "WRONG");
	free(cv);
	return ok ? 0 : -1;
}

/* ---------------------------------------------------------- test 6 */

/* ia32 getpid through int 0x80, from 64-bit code: the kernel runs it as a
 * compat syscall, so the probe must count it as compat and drop it. */
static void child_int80(long n)
{
	for (long i = 0; i < n; i++) {
		long ret;
		__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
		(void)ret;
	}
}

static int test_compat(struct ctx *c)
{
	fl_live_stats s0, s1;
	fl_live_get_stats(c->live, &s0);
	pid_t child = spawn(child_int80, 100);
	int status = 0;
	waitpid(child, &status, 0);
	fl_live_get_stats(c->live, &s1);
	if (WIFSIGNALED(status)) {
		printf("6. ia32 syscalls: int 0x80 killed the child (signal %d): no ia32 emulation, "
		       "not tested\n",
		       WTERMSIG(status));
		return 0;
	}
	printf("6. 100 ia32 getpid via int 0x80: compat +%" PRIu64 "\n", s1.compat - s0.compat);
	return s1.compat - s0.compat >= 100 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct ctx c = {0};
	bool quick = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-q") == 0) {
			quick = true;
		} else if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
			c.dump = fopen(argv[++i], "wb");
			if (!c.dump) {
				perror(argv[i]);
				return 1;
			}
		} else {
			fprintf(stderr, "usage: %s [-q] [-d dumpfile]\n", argv[0]);
			return 1;
		}
	}
	const char *req = getenv("FALCOLITE_REQUIRE_LIVE");
	bool required = req && strcmp(req, "1") == 0;
	if (fl_live_check(c.err) != FL_OK) {
		printf("%s: live capture unavailable:\n%s\n", required ? "FAIL" : "SKIP", c.err);
		return required ? 1 : 0;
	}
	/* -q: a tenth of the timing loops, for emulated machines (vm_smoke.sh) */
	const long storm_pairs = quick ? 20000 : 200000;
	double storm_base = storm_baseline(storm_pairs);
	double getppid_base = best_getppid(quick ? 100000 : 1000000);
	double t0 = now_s();
	if (fl_live_open(FL_LIVE_DEFAULT_RING, getpid(), &c.live, c.err) != FL_OK) {
		printf("FAIL: %s\n", c.err);
		return 1;
	}
	double t_open = now_s() - t0;
	fl_live_info info;
	fl_live_get_info(c.live, &info);
	g_compat_probe = strcmp(info.probe, "compat") == 0;
	printf("probe (%s): load %.1f ms, attach %.1f ms (fl_live_open %.1f ms)\n", info.probe,
	       info.load_ms, info.attach_ms, t_open * 1e3);
	for (uint32_t i = 0; i < info.n_progs; i++)
		printf("  %-18s %6u instructions, %7u processed by the verifier\n", info.names[i],
		       info.insns[i], info.verified_insns[i]);

	int failures = 0;
	failures += test_openat(&c) != 0;
	failures += test_filtered(&c, getppid_base) != 0;
	failures += test_drops(&c) != 0;
	failures += test_storm(&c, storm_pairs, storm_base) != 0;
	failures += test_coverage(&c) != 0;
	failures += test_compat(&c) != 0;

	fl_live_stats s;
	drain(&c, 20, NULL, NULL, NULL);
	fl_live_get_stats(c.live, &s);
	printf("totals (8 MiB ring): seen %" PRIu64 ", delivered %" PRIu64 ", ring full %" PRIu64
	       ", too large %" PRIu64 ", filtered %" PRIu64 ", compat %" PRIu64 ", malformed %" PRIu64
	       ", missed %" PRIu64 "\n",
	       s.seen, s.delivered, s.drops_buffer, s.drops_size, s.filtered, s.compat, s.malformed,
	       s.missed);
	if (s.malformed)
		failures++;
	fl_live_close(c.live);
	if (c.dump)
		fclose(c.dump);
	printf("%s\n", failures ? "FAILED" : "OK");
	return failures ? 1 : 0;
}
