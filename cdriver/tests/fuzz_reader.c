/*
 * Robustness harness for the capture reader (scap_reader.c), meant to run
 * under AddressSanitizer + UndefinedBehaviorSanitizer (see `make ctest`).
 *
 *   fuzz_reader -T TABLES [-s SEED] [-k TRUNCS] [-f FLIPS] CAPTURE...
 *
 * TABLES is the binary file written by `make ctest` from
 * falcolite.events.table.reader_arrays(): "FLRT", u32 ntypes (little
 * endian), nparams[ntypes], large[ntypes].
 *
 * For each capture (plain or gzip; gzip is inflated in memory first so that
 * mutations hit the block structure) it runs the reader to the end on:
 *   base     the whole decompressed image (and the gzip file itself);
 *   trunc    TRUNCS (200) prefixes of the decompressed image at evenly
 *            spaced lengths 0..len;
 *   gztrunc  TRUNCS prefixes of the gzip file itself (gzip inputs only),
 *            which exercises the inflate path;
 *   flip     FLIPS (1000) copies of the decompressed image with 1-8 random
 *            bits flipped (xorshift64*, fixed seed, printed).  Even-numbered
 *            mutations pick the bits uniformly over the image; odd-numbered
 *            ones pick them within the first 48 bytes of random blocks
 *            (block header, event header, parameter lengths), where the
 *            reader's validation lives.
 * base, trunc and gztrunc run twice: once on a regular file (which the
 * reader may mmap) and once through a FIFO fed by a child process (the
 * reader's read() path); so does every fourth flip.  The summary's eof/err
 * counts include both.
 *
 * Every run reads all batches, touching every event's header and every byte
 * within its declared length (and all metadata strings, after open and at
 * each new section), and checks:
 *   - each batch: count <= max_events, an FL_EOF batch is empty, for each
 *     event offsets[i] + len <= size with len >= 26 (v2 header), events do
 *     not overlap, types/ts/tids arrays agree with the header, type is inside
 *     the table, nparams (u32 at +22) parameter lengths (u16, or u32 when
 *     large[type]) fit with their sum inside len, nums increase (by exactly
 *     1 when no filter is set, and then stats.n_events at FL_EOF equals the
 *     number of events returned);
 *   - the run ends in FL_EOF, or in FL_ERR with an accepted message.
 *
 * Accepted error messages (anything else is a violation):
 *   - a NUL-terminated, non-empty message containing "offset " followed by a
 *     decimal byte offset that is <= the length of the decompressed image
 *     (or of the file under test, if larger);
 *   - only from fl_open and only when the file under test has 0 bytes:
 *     exactly "<path> is empty".
 * Further rules:
 *   - base runs must end in FL_EOF;
 *   - a plain prefix that does not end on a block boundary of the original
 *     image, and a gzip prefix shorter than the gzip members, must end in
 *     FL_ERR (FL_EOF there would be a silently truncated capture).
 *   - fl_open returns a reader iff it returns FL_OK; no run makes more than
 *     len/12 + 16 batches (progress).
 *
 * Every event handed out also goes through the live reader's open/close
 * pair matcher (elision.c, with a fixed clause set): it reads parameters
 * of records it did not validate itself, so it runs under the sanitizers
 * on every mutation too.
 *
 * A sanitizer report aborts the run; the death callback prints the case and
 * the temp file holding its input is left behind as the reproducer.  Inputs
 * of other violations are saved as $TMPDIR/fuzz_reader-<file>-<case>.scap
 * (the first 20).  Exit status: 0 when no violation, 1 otherwise, 2 on usage
 * or setup errors.
 */
#define _POSIX_C_SOURCE 200809L
#include "elision.h"
#include "scap_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define HAVE_DEATH_CALLBACK 1
#endif

#define HDR 26u
#define MAX_SAVED 20

static uint8_t *g_nparams, *g_large;
static uint32_t g_ntypes;
static char g_tmp[4096];  /* the input under test, as a regular file */
static char g_fifo[4200]; /* ... and as a FIFO, for the read() path */
static const char *g_path = ""; /* what the current case opens */
static char g_last_err[FL_ERRLEN];
static int g_tmp_fd = -1;
static const char *g_file = "";
static char g_case[128];
static unsigned long g_violations, g_saved;
static const uint8_t *g_input; /* input of the current case */
static size_t g_input_len;
static uint64_t g_checksum;
static fl_elision g_elision; /* the pair matcher, run on every event */
static uint64_t g_elidable;  /* opens it would drop, closes it pairs */

/* ------------------------------------------------------------ utilities */

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("fuzz_reader: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	if (g_tmp_fd >= 0)
		unlink(g_tmp);
	if (g_fifo[0])
		unlink(g_fifo);
	exit(2);
}

#ifdef HAVE_DEATH_CALLBACK
static void on_death(void)
{
	if (g_case[0])
		fprintf(stderr, "fuzz_reader: sanitizer error while running %s case %s; "
			"its input is left in %s\n", g_file, g_case, g_tmp);
	else
		fprintf(stderr, "fuzz_reader: sanitizer error at exit (a leak report covers "
			"every case run)\n");
}
#endif

static uint64_t rng_state;

static uint64_t rng(void) /* xorshift64* */
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static uint64_t below(uint64_t n)
{
	return n ? rng() % n : 0;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die("cannot open %s: %s", path, strerror(errno));
	size_t cap = 1 << 16, n = 0;
	uint8_t *buf = malloc(cap);
	for (;;) {
		if (!buf)
			die("out of memory");
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		cap *= 2;
		buf = realloc(buf, cap);
	}
	if (ferror(f))
		die("cannot read %s", path);
	fclose(f);
	*len = n;
	return buf;
}

/* Inflate a gzip file the way the reader does: consecutive members, and
 * anything after a member that is not another member is ignored.  *used is
 * the number of input bytes the members take. */
static uint8_t *gunzip(const uint8_t *in, size_t inlen, size_t *outlen, size_t *used)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		die("inflateInit2 failed");
	size_t cap = inlen * 8 + 4096, n = 0;
	uint8_t *out = malloc(cap);
	if (!out)
		die("out of memory");
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)inlen;
	for (;;) {
		if (n == cap) {
			cap *= 2;
			out = realloc(out, cap);
			if (!out)
				die("out of memory");
		}
		z.next_out = out + n;
		z.avail_out = (uInt)(cap - n);
		int zr = inflate(&z, Z_NO_FLUSH);
		n = cap - z.avail_out;
		if (zr == Z_STREAM_END) {
			if (z.avail_in >= 2 && z.next_in[0] == 0x1f && z.next_in[1] == 0x8b) {
				inflateReset(&z);
				continue;
			}
			break;
		}
		if (zr != Z_OK && !(zr == Z_BUF_ERROR && z.avail_out == 0))
			die("%s: cannot inflate: %s", g_file, z.msg ? z.msg : "error");
	}
	*used = inlen - z.avail_in;
	inflateEnd(&z);
	*outlen = n;
	return out;
}

static void load_tables(const char *path)
{
	size_t len;
	uint8_t *t = read_file(path, &len);
	if (len < 8 || memcmp(t, "FLRT", 4) != 0)
		die("%s: not a tables file (make ctest writes it)", path);
	g_ntypes = rd32(t + 4);
	if (g_ntypes == 0 || len != 8 + 2 * (size_t)g_ntypes)
		die("%s: bad length", path);
	g_nparams = malloc(g_ntypes);
	g_large = malloc(g_ntypes);
	if (!g_nparams || !g_large)
		die("out of memory");
	memcpy(g_nparams, t + 8, g_ntypes);
	memcpy(g_large, t + 8 + g_ntypes, g_ntypes);
	free(t);
}

static void write_input(const uint8_t *data, size_t len)
{
	if (ftruncate(g_tmp_fd, 0) != 0)
		die("ftruncate %s: %s", g_tmp, strerror(errno));
	size_t done = 0;
	while (done < len) {
		ssize_t w = pwrite(g_tmp_fd, data + done, len - done, (off_t)done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("write %s: %s", g_tmp, strerror(errno));
		done += (size_t)w;
	}
	g_input = data;
	g_input_len = len;
}

static void violation(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "VIOLATION %s [%s]: ", g_file, g_case);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	g_violations++;
	if (g_saved >= MAX_SAVED)
		return;
	g_saved++;
	const char *dir = getenv("TMPDIR");
	const char *base = strrchr(g_file, '/');
	base = base ? base + 1 : g_file;
	char path[4096];
	snprintf(path, sizeof path, "%s/fuzz_reader-%s-%s.scap", dir && *dir ? dir : "/tmp", base,
		 g_case);
	FILE *f = fopen(path, "wb");
	if (f && fwrite(g_input, 1, g_input_len, f) == g_input_len && fclose(f) == 0)
		fprintf(stderr, "  input saved to %s\n", path);
	else if (f)
		fclose(f);
}

/* --------------------------------------------------------------- checks */

static void touch_bytes(fl_bytes b, const char *what)
{
	if (b.len && !b.ptr) {
		violation("metadata %s has length %u and no pointer", what, b.len);
		return;
	}
	uint64_t s = 0;
	for (uint32_t i = 0; i < b.len; i++)
		s = s * 31 + b.ptr[i];
	g_checksum += s + b.len;
}

static void touch_meta(const fl_reader *r)
{
	fl_meta m;
	fl_get_meta(r, &m);
	g_checksum += m.machine.num_cpus + m.machine.memory_size_bytes + m.machine.boot_ts_epoch +
		      strnlen(m.machine.hostname, sizeof m.machine.hostname) + m.shb_major + m.shb_minor;
	if (m.machine.hostname[128] != 0)
		violation("machine hostname is not NUL-terminated");
	for (uint32_t i = 0; i < m.n_threads; i++) {
		const fl_thread *t = &m.threads[i];
		g_checksum += t->tid + t->pid + t->ptid + (uint64_t)t->vpid + t->uid + t->loginuid +
			      t->cap_effective + (uint64_t)t->pgid + t->block_version;
		touch_bytes(t->comm, "comm");
		touch_bytes(t->exe, "exe");
		touch_bytes(t->exepath, "exepath");
		touch_bytes(t->args, "args");
		touch_bytes(t->cwd, "cwd");
		touch_bytes(t->env, "env");
		touch_bytes(t->cgroups, "cgroups");
		touch_bytes(t->root, "root");
	}
	for (uint32_t i = 0; i < m.n_fds; i++) {
		const fl_fdinfo *f = &m.fds[i];
		g_checksum += f->tid + (uint64_t)f->fd + f->ino + f->type + f->sip[0] + f->dip[15] +
			      f->sport + f->dport + f->source + f->dev;
		touch_bytes(f->name, "fd name");
	}
	for (uint32_t i = 0; i < m.n_users; i++) {
		const fl_userinfo *u = &m.users[i];
		g_checksum += u->is_group + u->uid + u->gid;
		touch_bytes(u->name, "user name");
		touch_bytes(u->homedir, "homedir");
		touch_bytes(u->shell, "shell");
	}
	for (uint32_t i = 0; i < m.n_ifaces; i++) {
		const fl_iface *f = &m.ifaces[i];
		g_checksum += f->type + f->addr[0] + f->netmask[15] + f->bcast[3] + f->linkspeed;
		touch_bytes(f->name, "iface name");
	}
}

/* Returns false when the batch is unusable (reading on would be unsafe). */
static bool check_batch(const fl_batch *b, int rc, uint32_t max_events, bool filtered,
			uint64_t *last_num)
{
	uint32_t max_eff = max_events ? max_events : 1;
	if (b->count > max_eff) {
		violation("batch of %u events, max_events %u", b->count, max_events);
		return false;
	}
	if (rc == FL_EOF && b->count != 0) {
		violation("FL_EOF with a batch of %u events", b->count);
		return false;
	}
	if (b->count == 0)
		return true;
	if (!b->buf || !b->offsets || !b->types || !b->cpus || !b->dump_flags || !b->nums ||
	    !b->ts || !b->tids) {
		violation("batch of %u events with a NULL array", b->count);
		return false;
	}
	uint64_t prev_end = 0;
	for (uint32_t i = 0; i < b->count; i++) {
		uint64_t off = b->offsets[i];
		if (off > b->size || b->size - off < HDR) {
			violation("event %u at batch offset %" PRIu64 ": no room for a header in %" PRIu64
				  " bytes", i, off, b->size);
			return false;
		}
		const uint8_t *e = b->buf + off;
		uint64_t ts = rd64(e), tid = rd64(e + 8);
		uint32_t len = rd32(e + 16);
		uint16_t type = rd16(e + 20);
		uint32_t np = rd32(e + 22);
		if (len < HDR || len > b->size - off) {
			violation("event %u at batch offset %" PRIu64 ": length %u, batch size %" PRIu64,
				  i, off, len, b->size);
			return false;
		}
		if (off < prev_end)
			violation("event %u at batch offset %" PRIu64 " overlaps the previous one "
				  "(ends at %" PRIu64 ")", i, off, prev_end);
		prev_end = off + len;
		if (type != b->types[i] || ts != b->ts[i] || tid != b->tids[i])
			violation("event %u: types/ts/tids arrays disagree with its header", i);
		/* without a filter every known-type event is returned: numbers run 1, 2, 3... */
		if (filtered ? b->nums[i] <= *last_num : b->nums[i] != *last_num + 1)
			violation("event %u: number %" PRIu64 " after %" PRIu64, i, b->nums[i], *last_num);
		*last_num = b->nums[i];
		if (type >= g_ntypes) {
			violation("event %u: type %u outside the table (%u types)", i, type, g_ntypes);
		} else {
			uint32_t w = g_large[type] ? 4 : 2;
			if (np > (len - HDR) / w) {
				violation("event %u (type %u): %u parameter lengths do not fit in %u bytes",
					  i, type, np, len);
			} else {
				uint64_t sum = HDR + (uint64_t)np * w;
				for (uint32_t k = 0; k < np; k++)
					sum += w == 2 ? rd16(e + HDR + 2 * k) : rd32(e + HDR + 4 * (size_t)k);
				if (sum > len)
					violation("event %u (type %u): parameters take %" PRIu64
						  " bytes, event length %u", i, type, sum, len);
				else if (w == 2) {
					int64_t fd;
					g_elidable += fl_elision_open(&g_elision, e, &fd);
					g_elidable += fl_elision_closes(e, 3);
				}
			}
		}
		uint64_t s = ts ^ tid ^ b->cpus[i] ^ b->dump_flags[i] ^ np;
		for (uint32_t k = HDR; k < len; k++)
			s = s * 31 + e[k];
		g_checksum += s;
	}
	return true;
}

/* An error message must be NUL-terminated, non-empty and contain
 * "offset <n>" with n <= bound; the sole exception is "<path> is empty" from
 * fl_open on a 0-byte file. */
static void check_err(const char *err, bool at_open, uint64_t bound)
{
	const char *nul = memchr(err, 0, FL_ERRLEN);
	if (nul)
		memcpy(g_last_err, err, (size_t)(nul - err) + 1);
	else
		snprintf(g_last_err, sizeof g_last_err, "(unterminated)");
	if (!nul) {
		violation("error message not NUL-terminated within FL_ERRLEN");
		return;
	}
	if (!*err) {
		violation("FL_ERR with an empty message");
		return;
	}
	const char *p = strstr(err, "offset ");
	if (p) {
		p += strlen("offset ");
		if (*p < '0' || *p > '9') {
			violation("\"offset\" without a number: %s", err);
			return;
		}
		unsigned long long v = strtoull(p, NULL, 10);
		if (v > bound)
			violation("offset %llu beyond the stream (%" PRIu64 " bytes): %s", v, bound, err);
		return;
	}
	if (at_open && g_input_len == 0) {
		char want[4300];
		snprintf(want, sizeof want, "%s is empty", g_path);
		if (strcmp(err, want) == 0)
			return;
	}
	violation("%s error without an offset: %s", at_open ? "fl_open" : "fl_next_batch", err);
}

enum outcome { OUT_EOF, OUT_ERR };

struct tally {
	unsigned long eof, err;
};

/* Run the reader to the end over the current input, opened as g_path. */
static enum outcome run(uint32_t max_events, const uint8_t *filter, uint64_t bound,
			uint64_t *events)
{
	char err[FL_ERRLEN];
	fl_reader *r = (fl_reader *)&r; /* must be overwritten */
	memset(err, 'Z', sizeof err);
	g_last_err[0] = 0;
	int rc = fl_open(g_path, g_nparams, g_large, g_ntypes, &r, err);
	if (rc != FL_OK) {
		if (rc != FL_ERR)
			violation("fl_open returned %d", rc);
		if (r != NULL)
			violation("fl_open failed but returned a reader");
		check_err(err, true, bound);
		return OUT_ERR;
	}
	if (!r) {
		violation("fl_open returned FL_OK and no reader");
		return OUT_ERR;
	}
	if (filter)
		fl_set_interesting(r, filter);
	touch_meta(r);
	uint64_t last_num = 0, limit = g_input_len / 12 + 16, n = 0;
	uint32_t section = 0;
	enum outcome out = OUT_EOF;
	for (uint64_t iter = 0;; iter++) {
		if (iter > limit) {
			violation("no end after %" PRIu64 " batches", iter);
			break;
		}
		fl_batch b;
		memset(err, 'Z', sizeof err);
		rc = fl_next_batch(r, max_events, &b, err);
		if (rc == FL_ERR) {
			check_err(err, false, bound);
			out = OUT_ERR;
			break;
		}
		if (rc != FL_OK && rc != FL_EOF) {
			violation("fl_next_batch returned %d", rc);
			break;
		}
		if (!check_batch(&b, rc, max_events, filter != NULL, &last_num))
			break;
		n += b.count;
		if (b.section != section) {
			section = b.section;
			touch_meta(r);
		}
		if (rc == FL_EOF) {
			/* a call after the end must not misbehave either */
			memset(err, 'Z', sizeof err);
			rc = fl_next_batch(r, max_events, &b, err);
			if (rc == FL_ERR)
				check_err(err, false, bound);
			else if (rc != FL_EOF || b.count != 0)
				violation("call after FL_EOF returned %d with %u events", rc, b.count);
			break;
		}
	}
	fl_stats st;
	fl_get_stats(r, &st);
	if (st.bytes > bound)
		violation("stats.bytes %" PRIu64 " beyond the stream (%" PRIu64 " bytes)", st.bytes, bound);
	if (out == OUT_EOF && !filter && (st.n_events != n || st.n_filtered != 0))
		violation("read %" PRIu64 " events to FL_EOF, stats say n_events %" PRIu64
			  ", n_filtered %" PRIu64, n, st.n_events, st.n_filtered);
	g_checksum += st.n_events + st.n_blocks + st.bytes + st.n_filtered;
	touch_meta(r);
	fl_close(r);
	if (events)
		*events = n;
	return out;
}

static const uint32_t MAX_EVENTS[] = {1, 2, 5, 64, 1000, 4096, 0};
#define N_MAX_EVENTS (sizeof MAX_EVENTS / sizeof MAX_EVENTS[0])

/* One case: batch size and filter vary with its index, deterministically.
 * With via_pipe the reader gets the input through a FIFO fed by a child
 * process (its read() path); otherwise as a regular file (which it may map). */
static enum outcome run_case(const char *kind, unsigned long idx, bool via_pipe,
			     const uint8_t *data, size_t len, uint64_t bound, uint64_t *events)
{
	snprintf(g_case, sizeof g_case, "%s%s-%lu", via_pipe ? "pipe-" : "", kind, idx);
	write_input(data, len);
	uint8_t filter[1024];
	bool use_filter = idx % 5 == 4 && (g_ntypes + 7) / 8 <= sizeof filter;
	if (use_filter)
		for (size_t i = 0; i < sizeof filter; i++)
			filter[i] = (uint8_t)(idx * 131 + i * 17 + (i >> 3));
	const uint8_t *flt = use_filter ? filter : NULL;
	uint32_t max_events = MAX_EVENTS[idx % N_MAX_EVENTS];
	if (!via_pipe) {
		g_path = g_tmp;
		return run(max_events, flt, bound, events);
	}
	g_path = g_fifo;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL); /* the reader may stop early */
		int fd = open(g_fifo, O_WRONLY);
		for (size_t done = 0; fd >= 0 && done < len;) {
			ssize_t w = write(fd, data + done, len - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			done += (size_t)w;
		}
		_exit(0);
	}
	enum outcome o = run(max_events, flt, bound, events);
	/* the reader is closed: a writer still blocked (in open, say) is done */
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return o;
}

/* ----------------------------------------------------------------- main */

struct blocks {
	size_t *off;
	size_t n;
};

/* Block starts of the original image (and its end, if the walk reaches it). */
static struct blocks walk_blocks(const uint8_t *img, size_t len)
{
	struct blocks b = {malloc(sizeof(size_t) * (len / 12 + 2)), 0};
	if (!b.off)
		die("out of memory");
	size_t p = 0;
	while (len - p >= 8) {
		uint32_t bl = rd32(img + 4 + p);
		if (bl < 12 || bl > len - p)
			break;
		b.off[b.n++] = p;
		p += bl;
	}
	b.off[b.n++] = p; /* boundary: end of the last whole block */
	return b;
}

static bool is_boundary(const struct blocks *b, size_t x)
{
	size_t lo = 0, hi = b->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (b->off[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < b->n && b->off[lo] == x;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void tally(struct tally *t, enum outcome o)
{
	if (o == OUT_EOF)
		t->eof++;
	else
		t->err++;
}

static void test_file(const char *path, uint64_t seed, unsigned ntrunc, unsigned nflips)
{
	double t0 = now();
	unsigned long v0 = g_violations;
	g_file = path;
	g_checksum = 0;
	g_elidable = 0;
	rng_state = seed ? seed : 1;

	size_t flen, len, gz_used = 0;
	uint8_t *file = read_file(path, &flen);
	bool gz = flen >= 2 && file[0] == 0x1f && file[1] == 0x8b;
	uint8_t *img = gz ? gunzip(file, flen, &len, &gz_used) : file;
	if (!gz)
		len = flen;
	uint64_t bound = len > flen ? len : flen;
	struct blocks blk = walk_blocks(img, len);
	uint8_t *mut = malloc(len ? len : 1);
	if (!mut)
		die("out of memory");

	/* the originals must read cleanly */
	uint64_t events = 0;
	for (int p = 0; p < 2; p++) {
		if (run_case("base", 5, p, img, len, bound, &events) != OUT_EOF)
			violation("the original image does not read to FL_EOF: %s", g_last_err);
		if (gz && run_case("gzbase", 5, p, file, flen, bound, NULL) != OUT_EOF)
			violation("the original gzip file does not read to FL_EOF: %s", g_last_err);
	}

	struct tally tr = {0, 0}, gt = {0, 0}, fl = {0, 0};
	for (unsigned k = 0; k < ntrunc; k++) {
		size_t cut = ntrunc > 1 ? (size_t)((uint64_t)len * k / (ntrunc - 1)) : len;
		for (int p = 0; p < 2; p++) {
			enum outcome o = run_case("trunc", k, p, img, cut, bound, NULL);
			tally(&tr, o);
			if (o == OUT_EOF && !is_boundary(&blk, cut))
				violation("prefix of %zu bytes (mid-block) read to FL_EOF", cut);
		}
	}
	if (gz) {
		for (unsigned k = 0; k < ntrunc; k++) {
			size_t cut = ntrunc > 1 ? (size_t)((uint64_t)flen * k / (ntrunc - 1)) : flen;
			for (int p = 0; p < 2; p++) {
				enum outcome o = run_case("gztrunc", k, p, file, cut, bound, NULL);
				tally(&gt, o);
				if (o == OUT_EOF && cut < gz_used)
					violation("gzip prefix of %zu of %zu bytes read to FL_EOF", cut,
						  gz_used);
			}
		}
	}
	for (unsigned k = 0; k < nflips && len > 0; k++) {
		memcpy(mut, img, len);
		unsigned nbits = 1 + (unsigned)below(8);
		for (unsigned j = 0; j < nbits; j++) {
			size_t pos;
			if (k % 2 == 1 && blk.n > 1) {
				size_t bi = (size_t)below(blk.n - 1);
				size_t bstart = blk.off[bi], bend = blk.off[bi + 1];
				size_t span = bend - bstart < 48 ? bend - bstart : 48;
				pos = bstart + (size_t)below(span);
			} else {
				pos = (size_t)below(len);
			}
			mut[pos] ^= (uint8_t)(1u << below(8));
		}
		tally(&fl, run_case("flip", k, k % 4 == 2, mut, len, bound, NULL));
	}

	const char *base_name = strrchr(path, '/');
	base_name = base_name ? base_name + 1 : path;
	printf("%-26s %s %7zu B, %4zu blocks, %5" PRIu64 " events | trunc eof/err %lu/%lu", base_name,
	       gz ? "gzip " : "plain", len, blk.n - 1, events, tr.eof, tr.err);
	if (gz)
		printf(" | gztrunc eof/err %lu/%lu", gt.eof, gt.err);
	printf(" | flip eof/err %lu/%lu | violations %lu | sum %016" PRIx64 " | elidable %" PRIu64
	       " | %.1fs\n", fl.eof, fl.err, g_violations - v0, g_checksum, g_elidable, now() - t0);
	fflush(stdout);

	free(blk.off);
	free(mut);
	if (img != file)
		free(img);
	free(file);
}

static unsigned long parse_num(const char *s, const char *opt)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || !*s || *end)
		die("bad number for %s: %s", opt, s);
	return (unsigned long)v;
}

int main(int argc, char **argv)
{
	const char *tables = NULL;
	uint64_t seed = 0x5EEDF00DCAFEULL;
	unsigned ntrunc = 200, nflips = 1000;
	int opt;
	while ((opt = getopt(argc, argv, "T:s:k:f:")) != -1) {
		switch (opt) {
		case 'T': tables = optarg; break;
		case 's': seed = parse_num(optarg, "-s"); break;
		case 'k': ntrunc = (unsigned)parse_num(optarg, "-k"); break;
		case 'f': nflips = (unsigned)parse_num(optarg, "-f"); break;
		default:
			fprintf(stderr, "usage: %s -T TABLES [-s SEED] [-k TRUNCS] [-f FLIPS] CAPTURE...\n",
				argv[0]);
			return 2;
		}
	}
	char err[FL_ERRLEN];
	static const char clauses[] = "\x02/etc/\0\x01/etc/shadow\0\x00/dev/\0\x03/\0";
	if (fl_elision_set(&g_elision, 1, clauses, sizeof clauses - 1, err) != FL_OK)
		die("elision clauses: %s", err);
	if (!tables || optind >= argc) {
		fprintf(stderr, "usage: %s -T TABLES [-s SEED] [-k TRUNCS] [-f FLIPS] CAPTURE...\n",
			argv[0]);
		return 2;
	}
	load_tables(tables);
	const char *dir = getenv("TMPDIR");
	snprintf(g_tmp, sizeof g_tmp, "%s/fuzz_reader.XXXXXX", dir && *dir ? dir : "/tmp");
	g_tmp_fd = mkstemp(g_tmp);
	if (g_tmp_fd < 0)
		die("mkstemp %s: %s", g_tmp, strerror(errno));
	snprintf(g_fifo, sizeof g_fifo, "%s.fifo", g_tmp);
	if (mkfifo(g_fifo, 0600) != 0) {
		g_fifo[0] = 0;
		die("mkfifo: %s", strerror(errno));
	}
#ifdef HAVE_DEATH_CALLBACK
	__sanitizer_set_death_callback(on_death);
#endif
	printf("fuzz_reader: seed 0x%" PRIx64 ", %u truncations, %u bit-flip mutations per file, "
	       "%u event types\n", seed, ntrunc, nflips, g_ntypes);
	fflush(stdout);
	double t0 = now();
	for (int i = optind; i < argc; i++)
		test_file(argv[i], seed, ntrunc, nflips);
	close(g_tmp_fd);
	unlink(g_tmp);
	unlink(g_fifo);
	g_case[0] = 0; /* LeakSanitizer reports after main returns */
	free(g_nparams);
	free(g_large);
	printf("fuzz_reader: %d file(s), %lu violation(s), %.1fs\n", argc - optind, g_violations,
	       now() - t0);
	fl_elision_free(&g_elision);
	return g_violations ? 1 : 0;
}
