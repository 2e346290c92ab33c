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
 *     the storm's slowdown with the probe attached.
 *
 * Without the privileges or kernel support it prints SKIP and the reason and
 * exits 0, unless FALCOLITE_REQUIRE_LIVE=1 (then it fails).  Exit status 1
 * on any failure.  -d FILE writes every record received (u32 length, then
 * the record) for offline checks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "live_reader.h"

#define NR_getppid 110
#define NR_openat 257
#define NR_close 3
#define NR_exit 60
#define NR_exit_group 231
#define EV_GENERIC 1
#define EV_OPENAT 307
#define EV_CLOSE 5
#define EV_PROCEXIT 186

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

static int test_filtered(struct ctx *c)
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
	printf("2. 20000 getppid, not interesting: %" PRIu64 " getppid events, filtered +%" PRIu64
	       "\n",
	       n.generic_getppid, df);
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
		pid_t w = waitpid(child, &status, c->live && st ? WNOHANG : 0);
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

static int test_storm(struct ctx *c, long n)
{
	fl_live *live = c->live;
	c->live = NULL;
	double base = 1e9;
	for (int i = 0; i < 3; i++) {
		double t = run_storm(c, n, NULL);
		if (t < base)
			base = t;
	}
	c->live = live;
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
	return got == (uint64_t)(2 * n) || s1.drops_buffer > s0.drops_buffer ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct ctx c = {0};
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
			c.dump = fopen(argv[++i], "wb");
			if (!c.dump) {
				perror(argv[i]);
				return 1;
			}
		} else {
			fprintf(stderr, "usage: %s [-d dumpfile]\n", argv[0]);
			return 1;
		}
	}
	const char *req = getenv("FALCOLITE_REQUIRE_LIVE");
	bool required = req && strcmp(req, "1") == 0;
	if (fl_live_check(c.err) != FL_OK) {
		printf("%s: live capture unavailable:\n%s\n", required ? "FAIL" : "SKIP", c.err);
		return required ? 1 : 0;
	}
	double t0 = now_s();
	if (fl_live_open(FL_LIVE_DEFAULT_RING, getpid(), &c.live, c.err) != FL_OK) {
		printf("FAIL: %s\n", c.err);
		return 1;
	}
	double t_open = now_s() - t0;
	fl_live_info info;
	fl_live_get_info(c.live, &info);
	printf("probe: load %.1f ms, attach %.1f ms (fl_live_open %.1f ms)\n", info.load_ms,
	       info.attach_ms, t_open * 1e3);
	for (uint32_t i = 0; i < info.n_progs; i++)
		printf("  %-14s %6u instructions, %7u processed by the verifier\n", info.names[i],
		       info.insns[i], info.verified_insns[i]);

	int failures = 0;
	failures += test_openat(&c) != 0;
	failures += test_filtered(&c) != 0;
	failures += test_drops(&c) != 0;
	failures += test_storm(&c, 200000) != 0;

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
