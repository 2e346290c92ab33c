/*
 * falcolite capture-file reader.  See scap_reader.h for the contract and
 * shared/docs/scap-format.md for the format.
 *
 * The file is read through one growable window (buf[pos..end)) filled from
 * the raw file or from zlib's inflate; a block is only parsed once it sits
 * whole in the window, so every read below is checked against the block's
 * own length and never against anything else.
 */
#define _POSIX_C_SOURCE 200809L
#include "scap_reader.h"
#include "batch_arrays.h"
#include "fail.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define BT_SHB 0x0A0D0D0Au
#define BT_MI 0x201u
#define BT_MI_OLD 0x8002ABCDu
#define BT_EV 0x204u
#define BT_EV_OLD 0x8010ABCDu
#define BT_EVF 0x208u
#define BT_EV_V2 0x216u
#define BT_EVF_V2 0x217u
#define BT_EV_V2_LARGE 0x221u
#define BT_EVF_V2_LARGE 0x222u
#define BT_FDL 0x203u
#define BT_FDL_OLD 0x8001ABCDu
#define BT_FDL_V2 0x218u
#define BT_IL 0x205u
#define BT_IL_OLD 0x8011ABCDu
#define BT_IL_V2 0x219u
#define BT_UL 0x206u
#define BT_UL_OLD 0x8012ABCDu
#define BT_UL_V2 0x220u

#define SHB_MAGIC 0x1A2B3C4Du
#define SHB_MAGIC_SWAPPED 0x4D3C2B1Au
#define MAX_BLOCK (256u << 20)      /* refuse absurd lengths before allocating */
#define MAX_SMALL_EVENT_BLOCK 65536u /* libscap's limit for non-large event blocks */
#define IN_CHUNK (256u << 10)
#define WINDOW_MIN (1u << 20)
#define OUT_MIN (1u << 20)
#define V1_HDR 22u
#define V2_HDR 26u
#define INPLACE_SPAN (4u << 20) /* an in-place batch spans at most this much of the file */
#define TYPE_NOTIFICATION 280u
#define TYPE_INFRA 286u

struct arena_chunk {
	struct arena_chunk *next;
	uint8_t data[];
};

/* A growable array of fixed-size records. */
struct vec {
	void *items;
	uint32_t n, cap;
};

struct fl_reader {
	int fd;
	bool gzip, in_eof, z_done, eof;
	z_stream z;
	uint8_t *in; /* compressed input chunk */

	uint8_t *buf; /* window over the decompressed stream */
	uint8_t *map; /* a regular file is mapped whole: the window, or the inflater's input */
	size_t map_len, map_in_off;
	size_t cap, pos, end;
	uint64_t off; /* stream offset of buf[pos] */

	uint32_t ntypes;
	uint8_t *nparams, *large, *interesting;
	uint8_t *interesting_sc; /* PPM_SC bitmap for generic events, NULL: all */
	uint32_t nsc;
	uint64_t *type_counts;

	/* current section's metadata */
	bool in_metadata; /* no event block seen yet in this section */
	uint32_t section;
	fl_machine machine;
	uint16_t shb_major, shb_minor;
	struct vec threads, fds, users, ifaces;
	struct arena_chunk *arena;

	/* batch output: v2 events of a mapped plain file are handed out in
	 * place (zero copy, batch_base..batch_end); others are copied to out */
	bool batch_inplace;
	const uint8_t *batch_base, *batch_end;
	uint8_t *out;
	size_t out_cap, out_len;
	fl_batch_arrays arr;

	fl_stats stats;
	bool in_batch;        /* inside fl_next_batch: a signal interrupts a read */
	bool has_pending_err; /* an error found after the events of the last batch */
	char pending_err[FL_ERRLEN];
};

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* ---------------------------------------------------------------- input */

enum { FILL_OK = 0, FILL_SHORT = 1, FILL_AGAIN = 2 };

/* A read interrupted by a signal while a batch is being read hands control
 * back to the caller (an empty batch), so that it can act on the signal. */
static bool interrupted(fl_reader *r)
{
	return errno == EINTR && r->in_batch;
}

/* read() the next chunk into r->in after its first `keep` bytes (bytes
 * already pending, moved there by the caller) and hand them all to the
 * inflater. */
static int read_chunk(fl_reader *r, size_t keep, char *err)
{
	ssize_t n;
	do
		n = read(r->fd, r->in + keep, IN_CHUNK - keep);
	while (n < 0 && errno == EINTR && !r->in_batch);
	if (n < 0 && interrupted(r))
		return FILL_AGAIN;
	if (n < 0)
		return fail(err, "read error at compressed offset %llu: %s",
			    (unsigned long long)r->z.total_in, strerror(errno));
	r->in_eof = n == 0;
	r->z.next_in = r->in;
	r->z.avail_in = (uInt)(n + keep);
	return FL_OK;
}

/* Give the inflater its next input chunk: from the mapping, or read(). */
static int read_input(fl_reader *r, char *err)
{
	if (r->map) {
		size_t left = r->map_len - r->map_in_off;
		size_t n = left < IN_CHUNK ? left : IN_CHUNK;
		r->z.next_in = r->map + r->map_in_off;
		r->z.avail_in = (uInt)n;
		r->map_in_off += n;
		r->in_eof = r->map_in_off == r->map_len;
		return FL_OK;
	}
	return read_chunk(r, 0, err);
}

/* Make sure at least 2 input bytes are pending (a gzip magic) when the
 * file has them, keeping the byte that may already be pending. */
static int top_up_input(fl_reader *r, char *err)
{
	if (r->z.avail_in == 0)
		return read_input(r, err);
	if (r->map) { /* the mapping is contiguous: just extend the window */
		size_t n = r->map_len - r->map_in_off < IN_CHUNK ? r->map_len - r->map_in_off
								 : IN_CHUNK;
		r->z.avail_in += (uInt)n;
		r->map_in_off += n;
		r->in_eof = r->map_in_off == r->map_len;
		return FL_OK;
	}
	r->in[0] = r->z.next_in[0];
	return read_chunk(r, 1, err);
}

/* Pull more bytes from the file or the inflater into buf[end..cap). */
static int pull(fl_reader *r, char *err)
{
	if (!r->gzip) {
		ssize_t n;
		do
			n = read(r->fd, r->buf + r->end, r->cap - r->end);
		while (n < 0 && errno == EINTR && !r->in_batch);
		if (n < 0 && interrupted(r))
			return FILL_AGAIN;
		if (n < 0)
			return fail(err, "read error at offset %llu: %s",
				    (unsigned long long)(r->off + (r->end - r->pos)), strerror(errno));
		if (n == 0)
			r->eof = true;
		r->end += (size_t)n;
		return FL_OK;
	}
	for (;;) {
		if (r->z_done) {
			r->eof = true;
			return FL_OK;
		}
		if (r->z.avail_in == 0 && !r->in_eof) {
			int rc = read_input(r, err);
			if (rc != FL_OK)
				return rc;
		}
		uint64_t here = r->off + (r->end - r->pos);
		if (r->z.avail_in == 0 && r->in_eof)
			return fail(err, "truncated gzip stream: compressed data ends at offset %llu",
				    (unsigned long long)here);
		r->z.next_out = r->buf + r->end;
		r->z.avail_out = (uInt)(r->cap - r->end);
		int zr = inflate(&r->z, Z_NO_FLUSH);
		size_t produced = (r->cap - r->end) - r->z.avail_out;
		r->end += produced;
		if (zr == Z_STREAM_END) {
			/* Another gzip member may follow (concatenated captures);
			 * anything else after a member is ignored, as zlib's gzread does. */
			if (r->z.avail_in < 2 && !r->in_eof) {
				int rc = top_up_input(r, err);
				if (rc != FL_OK)
					return rc;
			}
			if (r->z.avail_in >= 2 && r->z.next_in[0] == 0x1f && r->z.next_in[1] == 0x8b)
				inflateReset(&r->z);
			else
				r->z_done = true;
		} else if (zr != Z_OK && !(zr == Z_BUF_ERROR && r->z.avail_in == 0)) {
			return fail(err, "corrupt gzip stream near offset %llu: %s",
				    (unsigned long long)(r->off + (r->end - r->pos)),
				    r->z.msg ? r->z.msg : "inflate error");
		}
		if (produced > 0 || r->z_done)
			return FL_OK;
	}
}

/* Make at least `need` unread bytes available at buf + pos.  Returns FILL_OK,
 * FILL_SHORT when the stream ends first, or FL_ERR. */
static int fill(fl_reader *r, size_t need, char *err)
{
	while (r->end - r->pos < need) {
		if (r->eof)
			return FILL_SHORT;
		if (r->pos > 0 && r->cap - r->pos < need + IN_CHUNK) {
			memmove(r->buf, r->buf + r->pos, r->end - r->pos);
			r->end -= r->pos;
			r->pos = 0;
		}
		if (r->cap - r->pos < need) {
			size_t ncap = r->cap;
			while (ncap - r->pos < need)
				ncap *= 2;
			uint8_t *nb = realloc(r->buf, ncap);
			if (!nb)
				return fail(err, "out of memory (window of %zu bytes)", ncap);
			r->buf = nb;
			r->cap = ncap;
		}
		int rc = pull(r, err);
		if (rc != FL_OK)
			return rc;
	}
	return FILL_OK;
}

static void consume(fl_reader *r, size_t n)
{
	r->pos += n;
	r->off += n;
	r->stats.bytes = r->off;
}

/* ------------------------------------------------------------- metadata */

static int vec_push(struct vec *v, size_t size, const void *item, char *err)
{
	if (v->n == v->cap) {
		uint32_t ncap = v->cap ? v->cap * 2 : 64;
		void *ni = realloc(v->items, (size_t)ncap * size);
		if (!ni)
			return fail(err, "out of memory");
		v->items = ni;
		v->cap = ncap;
	}
	memcpy((uint8_t *)v->items + (size_t)v->n * size, item, size);
	v->n++;
	return FL_OK;
}

static void reset_metadata(fl_reader *r)
{
	while (r->arena) {
		struct arena_chunk *next = r->arena->next;
		free(r->arena);
		r->arena = next;
	}
	r->threads.n = r->fds.n = r->users.n = r->ifaces.n = 0;
	memset(&r->machine, 0, sizeof r->machine);
	r->in_metadata = true;
}

/* Copy a metadata block body into the arena, so that fl_bytes can point into
 * it after the window moves on. */
static const uint8_t *keep(fl_reader *r, const uint8_t *body, size_t len, char *err)
{
	struct arena_chunk *c = malloc(sizeof *c + len);
	if (!c) {
		fail(err, "out of memory");
		return NULL;
	}
	memcpy(c->data, body, len);
	c->next = r->arena;
	r->arena = c;
	return c->data;
}

/* A bounds-checked cursor over one entry or block body. */
struct cur {
	const uint8_t *p, *end;
	bool short_read;
};

static uint8_t g8(struct cur *c)
{
	if (c->end - c->p < 1) {
		c->short_read = true;
		return 0;
	}
	return *c->p++;
}

static uint16_t g16(struct cur *c)
{
	if (c->end - c->p < 2) {
		c->short_read = true;
		return 0;
	}
	uint16_t v = rd16(c->p);
	c->p += 2;
	return v;
}

static uint32_t g32(struct cur *c)
{
	if (c->end - c->p < 4) {
		c->short_read = true;
		return 0;
	}
	uint32_t v = rd32(c->p);
	c->p += 4;
	return v;
}

static uint64_t g64(struct cur *c)
{
	if (c->end - c->p < 8) {
		c->short_read = true;
		return 0;
	}
	uint64_t v = rd64(c->p);
	c->p += 8;
	return v;
}

static void gbytes(struct cur *c, void *dst, size_t n)
{
	if ((size_t)(c->end - c->p) < n) {
		c->short_read = true;
		return;
	}
	memcpy(dst, c->p, n);
	c->p += n;
}

/* A u16-length string; a length above `max` marks the entry corrupt. */
static fl_bytes gstr(struct cur *c, uint32_t max, bool *too_long)
{
	fl_bytes s = {NULL, 0};
	uint16_t len = g16(c);
	if (c->short_read)
		return s;
	if (len > max) {
		*too_long = true;
		return s;
	}
	if ((size_t)(c->end - c->p) < len) {
		c->short_read = true;
		return s;
	}
	s.ptr = c->p;
	s.len = len;
	c->p += len;
	return s;
}

static bool fits(const struct cur *c, size_t n)
{
	return (size_t)(c->end - c->p) >= n;
}

static int pl_version(uint32_t bt)
{
	switch (bt) {
	case 0x202: case 0x8000ABCDu: return 1;
	case 0x207: case 0x8013ABCDu: return 2;
	case 0x209: case 0x8014ABCDu: return 3;
	case 0x210: return 4;
	case 0x211: return 5;
	case 0x212: return 6;
	case 0x213: return 7;
	case 0x214: return 8;
	case 0x215: return 9;
	default: return 0;
	}
}

static int parse_thread(struct cur *c, int ver, fl_thread *t)
{
	bool too_long = false;
	memset(t, 0, sizeof *t);
	t->block_version = (uint32_t)ver;
	t->sid = t->vpgid = t->vtid = t->vpid = t->pgid = -1;
	t->loginuid = 0xFFFFFFFFu;
	t->tid = g64(c);
	t->pid = g64(c);
	t->ptid = g64(c);
	if (ver >= 6)
		t->sid = (int64_t)g64(c);
	if (ver >= 8)
		t->vpgid = (int64_t)g64(c);
	t->comm = gstr(c, 1024, &too_long);
	t->exe = gstr(c, 1024, &too_long);
	if (ver >= 7)
		t->exepath = gstr(c, 1024, &too_long);
	t->args = gstr(c, 4096, &too_long);
	t->cwd = gstr(c, 1024, &too_long);
	t->fdlimit = g64(c);
	t->flags = g32(c);
	t->uid = g32(c);
	t->gid = g32(c);
	if (ver >= 2) {
		t->vmsize_kb = g32(c);
		t->vmrss_kb = g32(c);
		t->vmswap_kb = g32(c);
		t->pfmajor = g64(c);
		t->pfminor = g64(c);
	}
	if (ver >= 3)
		t->env = gstr(c, 4096, &too_long);
	if (ver >= 4) {
		t->vtid = (int64_t)g64(c);
		t->vpid = (int64_t)g64(c);
		t->cgroups = gstr(c, 4096, &too_long);
	}
	if (ver >= 5)
		t->root = gstr(c, 1024, &too_long);
	if (too_long)
		return 2;
	if (c->short_read)
		return 1;
	if (ver < 9)
		return 0;
	/* The v9 tail: two historical layouts, told apart by what is left;
	 * each field is present only if it fits whole. */
	size_t rest = (size_t)(c->end - c->p);
	if (rest <= 29) {
		if (fits(c, 4)) t->loginuid = g32(c);
		if (fits(c, 1)) t->exe_writable = g8(c);
		if (fits(c, 8)) t->cap_inheritable = g64(c);
		if (fits(c, 8)) t->cap_permitted = g64(c);
		if (fits(c, 8)) t->cap_effective = g64(c);
	} else {
		if (fits(c, 8)) t->pidns_init_start_ts = g64(c);
		if (fits(c, 4)) t->tty = g32(c);
		if (fits(c, 4)) t->loginuid = g32(c);
		if (fits(c, 1)) t->exe_writable = g8(c);
		if (fits(c, 8)) t->cap_inheritable = g64(c);
		if (fits(c, 8)) t->cap_permitted = g64(c);
		if (fits(c, 8)) t->cap_effective = g64(c);
		if (fits(c, 1)) t->exe_upper_layer = g8(c);
		if (fits(c, 8)) t->exe_ino = g64(c);
		if (fits(c, 8)) t->exe_ino_ctime = g64(c);
		if (fits(c, 8)) t->exe_ino_mtime = g64(c);
		if (fits(c, 1)) t->exe_from_memfd = g8(c);
		if (fits(c, 1)) t->exe_lower_layer = g8(c);
		if (fits(c, 8)) t->pgid = (int64_t)g64(c);
	}
	return 0;
}

static int parse_pl(fl_reader *r, const uint8_t *body, size_t len, int ver, uint64_t boff, char *err)
{
	struct cur c = {body, body + len, false};
	while (c.end - c.p >= 4) {
		uint64_t eoff = boff + 8 + (uint64_t)(c.p - body);
		struct cur e = c;
		if (ver == 9) {
			uint32_t elen = rd32(c.p);
			if (elen < 4 || elen > (size_t)(c.end - c.p))
				return fail(err, "corrupt process list: entry at offset %llu has length %u, "
					    "%zu bytes left in the block", (unsigned long long)eoff, elen,
					    (size_t)(c.end - c.p));
			e.p = c.p + 4;
			e.end = c.p + elen;
		}
		fl_thread t;
		int rc = parse_thread(&e, ver, &t);
		if (rc == 1)
			return fail(err, "corrupt process list: entry at offset %llu runs past its %s",
				    (unsigned long long)eoff, ver == 9 ? "length" : "block");
		if (rc == 2)
			return fail(err, "corrupt process list: entry at offset %llu has an over-long string",
				    (unsigned long long)eoff);
		if (vec_push(&r->threads, sizeof t, &t, err) != FL_OK)
			return FL_ERR;
		c.p = ver == 9 ? e.end : e.p;
	}
	return FL_OK;
}

enum {
	FD_UNKNOWN = 0, FD_FILE = 1, FD_DIRECTORY = 2, FD_IPV4_SOCK = 3, FD_IPV6_SOCK = 4,
	FD_IPV4_SERVSOCK = 5, FD_IPV6_SERVSOCK = 6, FD_FIFO = 7, FD_UNIX_SOCK = 8,
	FD_FILE_V2 = 16, FD_LAST_NAMED = 21,
};

/* Returns 0, 1 (short), 2 (name too long) or 3 (unknown type). */
static int parse_fd_payload(struct cur *c, fl_fdinfo *f, bool v2)
{
	bool too_long = false;
	switch (f->type) {
	case FD_UNKNOWN:
		break;
	case FD_IPV4_SOCK:
		gbytes(c, f->sip, 4);
		gbytes(c, f->dip, 4);
		f->sport = g16(c);
		f->dport = g16(c);
		f->l4proto = g8(c);
		break;
	case FD_IPV6_SOCK:
		gbytes(c, f->sip, 16);
		gbytes(c, f->dip, 16);
		f->sport = g16(c);
		f->dport = g16(c);
		f->l4proto = g8(c);
		break;
	case FD_IPV4_SERVSOCK:
		gbytes(c, f->sip, 4);
		f->sport = g16(c);
		f->l4proto = g8(c);
		break;
	case FD_IPV6_SERVSOCK:
		gbytes(c, f->sip, 16);
		f->sport = g16(c);
		f->l4proto = g8(c);
		break;
	case FD_UNIX_SOCK:
		f->source = g64(c);
		f->destination = g64(c);
		f->name = gstr(c, 1023, &too_long);
		break;
	case FD_FILE_V2:
		f->open_flags = g32(c);
		f->name = gstr(c, 1023, &too_long);
		if (v2 && fits(c, 4)) {
			f->dev = g32(c);
			f->has_dev = 1;
		}
		break;
	default:
		if (f->type > FD_LAST_NAMED)
			return 3;
		f->name = gstr(c, 1023, &too_long);
		break;
	}
	if (too_long)
		return 2;
	return c->short_read ? 1 : 0;
}

static int parse_fdl(fl_reader *r, const uint8_t *body, size_t len, bool v2, uint64_t boff, char *err)
{
	struct cur c = {body, body + len, false};
	uint64_t tid = g64(&c);
	if (c.short_read)
		return fail(err, "corrupt fd list: block at offset %llu too short for its tid",
			    (unsigned long long)boff);
	while (c.end - c.p >= 4) {
		uint64_t eoff = boff + 8 + (uint64_t)(c.p - body);
		struct cur e = c;
		if (v2) {
			uint32_t elen = rd32(c.p);
			if (elen < 4 || elen > (size_t)(c.end - c.p))
				return fail(err, "corrupt fd list: entry at offset %llu has length %u, "
					    "%zu bytes left in the block", (unsigned long long)eoff, elen,
					    (size_t)(c.end - c.p));
			e.p = c.p + 4;
			e.end = c.p + elen;
		}
		fl_fdinfo f;
		memset(&f, 0, sizeof f);
		f.tid = tid;
		f.fd = (int64_t)g64(&e);
		f.ino = g64(&e);
		f.type = g8(&e);
		int rc = e.short_read ? 1 : parse_fd_payload(&e, &f, v2);
		if (rc == 3 && v2) {
			/* v2 entries carry their length: an fd type from the future is skipped */
			c.p = e.end;
			continue;
		}
		if (rc == 3)
			return fail(err, "corrupt fd list: entry at offset %llu has unknown fd type %u",
				    (unsigned long long)eoff, f.type);
		if (rc == 2)
			return fail(err, "corrupt fd list: entry at offset %llu has an over-long name",
				    (unsigned long long)eoff);
		if (rc == 1)
			return fail(err, "corrupt fd list: entry at offset %llu runs past its %s",
				    (unsigned long long)eoff, v2 ? "length" : "block");
		if (vec_push(&r->fds, sizeof f, &f, err) != FL_OK)
			return FL_ERR;
		c.p = v2 ? e.end : e.p;
	}
	return FL_OK;
}

static int parse_ul(fl_reader *r, const uint8_t *body, size_t len, bool v2, uint64_t boff, char *err)
{
	struct cur c = {body, body + len, false};
	while (c.end - c.p >= 4) {
		uint64_t eoff = boff + 8 + (uint64_t)(c.p - body);
		struct cur e = c;
		if (v2) {
			uint32_t elen = rd32(c.p);
			if (elen < 4 || elen > (size_t)(c.end - c.p))
				return fail(err, "corrupt user list: entry at offset %llu has length %u, "
					    "%zu bytes left in the block", (unsigned long long)eoff, elen,
					    (size_t)(c.end - c.p));
			e.p = c.p + 4;
			e.end = c.p + elen;
		}
		fl_userinfo u;
		bool too_long = false;
		memset(&u, 0, sizeof u);
		u.is_group = g8(&e) != 0;
		if (!u.is_group) {
			u.uid = g32(&e);
			u.gid = g32(&e);
			u.name = gstr(&e, 255, &too_long);
			u.homedir = gstr(&e, 255, &too_long);
			u.shell = gstr(&e, 255, &too_long);
		} else {
			u.gid = g32(&e);
			u.name = gstr(&e, 255, &too_long);
		}
		if (too_long)
			return fail(err, "corrupt user list: entry at offset %llu has an over-long string",
				    (unsigned long long)eoff);
		if (e.short_read)
			return fail(err, "corrupt user list: entry at offset %llu runs past its %s",
				    (unsigned long long)eoff, v2 ? "length" : "block");
		if (vec_push(&r->users, sizeof u, &u, err) != FL_OK)
			return FL_ERR;
		c.p = v2 ? e.end : e.p;
	}
	return FL_OK;
}

static int parse_il(fl_reader *r, const uint8_t *body, size_t len, bool v2, uint64_t boff, char *err)
{
	struct cur c = {body, body + len, false};
	while (c.end - c.p >= 4) {
		uint64_t eoff = boff + 8 + (uint64_t)(c.p - body);
		struct cur e = c;
		if (v2) {
			/* unlike the other v2 lists, this length excludes itself */
			uint32_t elen = rd32(c.p);
			if (elen > (size_t)(c.end - c.p) - 4)
				return fail(err, "corrupt interface list: entry at offset %llu has length %u, "
					    "%zu bytes left in the block", (unsigned long long)eoff, elen,
					    (size_t)(c.end - c.p));
			e.p = c.p + 4;
			e.end = e.p + elen;
		}
		fl_iface f;
		memset(&f, 0, sizeof f);
		f.type = g16(&e);
		uint16_t namelen = g16(&e);
		size_t alen;
		switch (f.type) {
		case 1: case 3: alen = 4; break;
		case 2: case 4: alen = 16; break;
		default:
			if (e.short_read)
				break;
			return fail(err, "corrupt interface list: entry at offset %llu has unknown type %u",
				    (unsigned long long)eoff, f.type);
		}
		if (!e.short_read) {
			gbytes(&e, f.addr, alen);
			gbytes(&e, f.netmask, alen);
			gbytes(&e, f.bcast, alen);
			if (f.type <= 2)
				f.linkspeed = g64(&e);
		}
		if (namelen >= 1024)
			return fail(err, "corrupt interface list: entry at offset %llu has an over-long name",
				    (unsigned long long)eoff);
		if (!e.short_read && fits(&e, namelen)) {
			f.name.ptr = e.p;
			f.name.len = namelen;
			e.p += namelen;
		} else {
			e.short_read = true;
		}
		if (e.short_read)
			return fail(err, "corrupt interface list: entry at offset %llu runs past its %s",
				    (unsigned long long)eoff, v2 ? "length" : "block");
		if (vec_push(&r->ifaces, sizeof f, &f, err) != FL_OK)
			return FL_ERR;
		c.p = v2 ? e.end : e.p;
	}
	return FL_OK;
}

static int parse_shb(fl_reader *r, const uint8_t *body, size_t len, uint64_t boff, char *err)
{
	if (len < 16)
		return fail(err, "corrupt section header at offset %llu: body of %zu bytes, need 16",
			    (unsigned long long)boff, len);
	uint32_t magic = rd32(body);
	if (magic == SHB_MAGIC_SWAPPED)
		return fail(err, "invalid magic number at offset %llu: capture written on a host "
			    "of the other byte order", (unsigned long long)boff);
	if (magic != SHB_MAGIC)
		return fail(err, "invalid magic number 0x%08x in section header at offset %llu",
			    magic, (unsigned long long)boff);
	uint16_t major = rd16(body + 4);
	if (major > 1)
		return fail(err, "unsupported capture format version %u.%u at offset %llu",
			    major, rd16(body + 6), (unsigned long long)boff);
	reset_metadata(r);
	r->shb_major = major;
	r->shb_minor = rd16(body + 6);
	r->section++;
	r->stats.n_sections++;
	return FL_OK;
}

static void parse_mi(fl_reader *r, const uint8_t *body, size_t len)
{
	uint8_t mi[180] = {0};
	memcpy(mi, body, len < sizeof mi ? len : sizeof mi);
	fl_machine *m = &r->machine;
	m->present = 1;
	m->num_cpus = rd32(mi);
	m->memory_size_bytes = rd64(mi + 4);
	m->max_pid = rd64(mi + 12);
	memcpy(m->hostname, mi + 20, 128);
	m->hostname[128] = 0;
	m->boot_ts_epoch = rd64(mi + 148);
	m->flags = rd64(mi + 156);
}

/* Parse a metadata block of the current section.  Returns 1 when the type
 * is not a metadata type this reader knows. */
static int parse_metadata(fl_reader *r, uint32_t bt, const uint8_t *body, size_t len,
			  uint64_t boff, char *err)
{
	int ver = pl_version(bt);
	bool is_meta = ver || bt == BT_MI || bt == BT_MI_OLD || bt == BT_FDL || bt == BT_FDL_OLD ||
		       bt == BT_FDL_V2 || bt == BT_IL || bt == BT_IL_OLD || bt == BT_IL_V2 ||
		       bt == BT_UL || bt == BT_UL_OLD || bt == BT_UL_V2;
	if (!is_meta)
		return 1;
	if (bt == BT_MI || bt == BT_MI_OLD) {
		parse_mi(r, body, len);
		return FL_OK;
	}
	const uint8_t *kept = keep(r, body, len, err);
	if (!kept)
		return FL_ERR;
	if (ver)
		return parse_pl(r, kept, len, ver, boff, err);
	if (bt == BT_FDL || bt == BT_FDL_OLD || bt == BT_FDL_V2)
		return parse_fdl(r, kept, len, bt == BT_FDL_V2, boff, err);
	if (bt == BT_UL || bt == BT_UL_OLD || bt == BT_UL_V2)
		return parse_ul(r, kept, len, bt == BT_UL_V2, boff, err);
	return parse_il(r, kept, len, bt == BT_IL_V2, boff, err);
}

/* --------------------------------------------------------------- events */

static bool is_event_block(uint32_t bt)
{
	switch (bt) {
	case BT_EV: case BT_EV_OLD: case BT_EVF: case BT_EV_V2: case BT_EVF_V2:
	case BT_EV_V2_LARGE: case BT_EVF_V2_LARGE:
		return true;
	default:
		return false;
	}
}

/* Number of parameters of a v1 event, inferred from its lengths
 * (scap-format.md 3.4).  Returns -1 when no count fits. */
static int infer_nparams(const uint8_t *ev, uint32_t len, uint32_t table_n)
{
	for (int64_t n = table_n; n >= 0; n--) {
		uint64_t end = V1_HDR + 2 * (uint64_t)n;
		if (end > len)
			continue;
		for (int64_t i = 0; i < n; i++)
			end += rd16(ev + V1_HDR + 2 * i);
		if (end == len)
			return (int)n;
		if (end < len)
			return -1;
	}
	return -1;
}

/* Whether the type filter keeps the event; a generic event is also judged
 * by its syscall ID (already bounds-checked: parameter 0 lies in the event). */
static bool wanted(const fl_reader *r, uint16_t type, const uint8_t *ev, uint32_t hsz,
		   uint32_t nparams)
{
	if (r->interesting && !(r->interesting[type >> 3] & (1u << (type & 7))))
		return false;
	if (type > 1 || !r->interesting_sc || nparams == 0)
		return true;
	const uint8_t *lens = ev + hsz;
	if (rd16(lens) != 2)
		return true; /* not a syscall ID: let Python see it */
	uint16_t sc = rd16(lens + 2 * (size_t)nparams);
	return sc < r->nsc && (r->interesting_sc[sc >> 3] & (1u << (sc & 7)));
}

static void note_event(fl_reader *r, uint16_t type, uint64_t ts)
{
	if (r->stats.n_events == 0)
		r->stats.first_ts = ts;
	r->stats.last_ts = ts;
	r->type_counts[type]++;
}

static int reserve_out(fl_reader *r, size_t need, char *err)
{
	if (r->out_cap - r->out_len >= need)
		return FL_OK;
	size_t ncap = r->out_cap;
	while (ncap - r->out_len < need)
		ncap *= 2;
	uint8_t *no = realloc(r->out, ncap);
	if (!no)
		return fail(err, "out of memory (batch of %zu bytes)", ncap);
	r->out = no;
	r->out_cap = ncap;
	return FL_OK;
}

static int reserve_batch(fl_reader *r, uint32_t n, char *err)
{
	if (!fl_batch_arrays_reserve(&r->arr, n))
		return fail(err, "out of memory");
	return FL_OK;
}

/* Validate one event block and append its event to the batch.  Returns
 * FL_OK, FL_ERR, or 1 when the batch buffer is full and the block must wait
 * for the next batch (only when the batch is not empty). */
static int take_event(fl_reader *r, uint32_t bt, const uint8_t *body, size_t blen, uint32_t count,
		      uint64_t boff, bool *appended, char *err)
{
	bool evf = bt == BT_EVF || bt == BT_EVF_V2 || bt == BT_EVF_V2_LARGE;
	bool v1 = bt == BT_EV || bt == BT_EV_OLD || bt == BT_EVF;
	bool large_block = bt == BT_EV_V2_LARGE || bt == BT_EVF_V2_LARGE;
	size_t pre = evf ? 6 : 2;
	uint32_t hsz = v1 ? V1_HDR : V2_HDR;

	if (!large_block && blen + 4 > MAX_SMALL_EVENT_BLOCK)
		return fail(err, "event block at offset %llu is %zu bytes, too long for a non-large block",
			    (unsigned long long)boff, blen + 12);
	if (blen < pre + hsz)
		return fail(err, "event block at offset %llu too short for an event header",
			    (unsigned long long)boff);
	const uint8_t *ev = body + pre;
	uint64_t eoff = boff + 8 + pre;
	uint32_t len = rd32(ev + 16);
	uint16_t type = rd16(ev + 20);
	if (len < hsz || len > blen - pre)
		return fail(err, "event at offset %llu has length %u, its block holds %zu bytes",
			    (unsigned long long)eoff, len, blen - pre);
	if (type >= r->ntypes) {
		r->stats.n_unknown_type++;
		return FL_OK;
	}
	uint32_t w = r->large[type] ? 4 : 2;
	uint32_t nparams;
	uint32_t evlen = len; /* length of the event as found, header included */
	if (v1) {
		if (w != 2)
			return fail(err, "event at offset %llu: large-payload type %u in a v1 block",
				    (unsigned long long)eoff, type);
		if ((type == TYPE_NOTIFICATION || type == TYPE_INFRA) && evlen >= V1_HDR + 3)
			evlen -= 3; /* old writers overstated these by 3 bytes */
		int n = infer_nparams(ev, evlen, r->nparams[type]);
		if (n < 0)
			return fail(err, "event at offset %llu (type %u): parameter lengths do not add up "
				    "to the event length %u", (unsigned long long)eoff, type, evlen);
		nparams = (uint32_t)n;
	} else {
		nparams = rd32(ev + 22);
		if ((uint64_t)nparams * w > len - hsz)
			return fail(err, "event at offset %llu (type %u): %u parameters do not fit in %u bytes",
				    (unsigned long long)eoff, type, nparams, len);
		uint64_t sum = hsz + (uint64_t)nparams * w;
		const uint8_t *la = ev + hsz;
		for (uint32_t i = 0; i < nparams; i++)
			sum += w == 2 ? rd16(la + 2 * i) : rd32(la + 4 * (size_t)i);
		if (sum > len)
			return fail(err, "event at offset %llu (type %u): parameters run past the event "
				    "length %u", (unsigned long long)eoff, type, len);
	}
	uint64_t ts = rd64(ev);
	if (!wanted(r, type, ev, v1 ? V1_HDR : V2_HDR, nparams)) {
		note_event(r, type, ts);
		r->stats.n_events++;
		r->stats.n_filtered++;
		return FL_OK;
	}
	bool inplace = r->map && !r->gzip && !v1;
	if (count == 0)
		r->batch_inplace = inplace;
	else if (inplace != r->batch_inplace)
		return 1; /* a batch is either all in place or all copied */
	if (inplace) {
		if (count == 0)
			r->batch_base = ev;
		else if ((size_t)(ev + len - r->batch_base) > INPLACE_SPAN)
			return 1;
		r->arr.offsets[count] = (uint32_t)(ev - r->batch_base);
		r->batch_end = ev + len;
		goto record;
	}
	size_t outlen = (size_t)evlen - hsz + V2_HDR;
	if (r->out_cap - r->out_len < outlen) {
		if (count > 0)
			return 1;
		if (reserve_out(r, outlen, err) != FL_OK)
			return FL_ERR;
	}
	uint8_t *o = r->out + r->out_len;
	uint32_t olen32 = (uint32_t)outlen;
	memcpy(o, ev, 16); /* ts, tid */
	memcpy(o + 16, &olen32, 4);
	memcpy(o + 20, &type, 2);
	memcpy(o + 22, &nparams, 4);
	memcpy(o + V2_HDR, ev + hsz, evlen - hsz);

	r->arr.offsets[count] = (uint32_t)r->out_len;
	r->out_len += outlen;
record:
	/* counted only once the event is taken: a block that must wait for the
	 * next batch is read again */
	note_event(r, type, ts);
	r->stats.n_events++;
	r->arr.types[count] = type;
	r->arr.cpus[count] = rd16(body);
	r->arr.dump_flags[count] = evf ? rd32(body + 2) : 0;
	r->arr.nums[count] = r->stats.n_events;
	r->arr.ts[count] = rd64(ev);
	r->arr.tids[count] = rd64(ev + 8);
	*appended = true;
	return FL_OK;
}

/* ----------------------------------------------------------- block loop */

enum { STOP_BATCH_FULL = 1, STOP_EOF, STOP_SECTION, STOP_EVENTS };

/* Reads blocks until the batch is full (max_events, or buffer space), the
 * stream ends, or (metadata mode) the first event block of the section. */
static int read_blocks(fl_reader *r, bool metadata_only, uint32_t max_events, uint32_t *count,
		       char *err)
{
	for (;;) {
		if (*count >= max_events)
			return STOP_BATCH_FULL;
		/* a stream (pipe) hands out what it has before it waits for more */
		if (!r->map && *count > 0 && r->end - r->pos < 8)
			return STOP_BATCH_FULL;
		int rc = r->end - r->pos >= 8 ? FILL_OK : fill(r, 8, err);
		if (rc == FL_ERR)
			return FL_ERR;
		if (rc == FILL_AGAIN)
			return STOP_BATCH_FULL;
		uint64_t boff = r->off;
		if (rc == FILL_SHORT) {
			if (r->end == r->pos)
				return STOP_EOF;
			return fail(err, "truncated capture: %zu stray bytes at offset %llu, "
				    "a block header needs 8", r->end - r->pos, (unsigned long long)boff);
		}
		uint32_t bt = rd32(r->buf + r->pos);
		uint32_t bl = rd32(r->buf + r->pos + 4);
		if (r->stats.n_blocks == 0 && bt != BT_SHB)
			return fail(err, "not a scap capture: the block at offset 0 has type 0x%x, "
				    "expected a section header", bt);
		if (bl < 12 || bl > MAX_BLOCK)
			return fail(err, "corrupt block at offset %llu: type 0x%x, invalid length %u",
				    (unsigned long long)boff, bt, bl);
		if (metadata_only && is_event_block(bt))
			return STOP_EVENTS;
		if (bt == BT_SHB && r->stats.n_blocks > 0 && !metadata_only)
			return STOP_SECTION; /* caller starts the new section */
		if (!r->map && *count > 0 && r->end - r->pos < bl)
			return STOP_BATCH_FULL;
		rc = r->end - r->pos >= bl ? FILL_OK : fill(r, bl, err);
		if (rc == FL_ERR)
			return FL_ERR;
		if (rc == FILL_AGAIN)
			return STOP_BATCH_FULL;
		if (rc == FILL_SHORT)
			return fail(err, "truncated capture: block at offset %llu (type 0x%x) declares "
				    "%u bytes, only %zu remain", (unsigned long long)boff, bt, bl,
				    r->end - r->pos);
		const uint8_t *blk = r->buf + r->pos;
		uint32_t trailer = rd32(blk + bl - 4);
		if (trailer != bl)
			return fail(err, "corrupt block at offset %llu (type 0x%x): trailer length %u "
				    "differs from header length %u", (unsigned long long)boff, bt, trailer, bl);
		const uint8_t *body = blk + 8;
		size_t blen = bl - 12;
		if (is_event_block(bt)) {
			r->in_metadata = false;
			bool appended = false;
			rc = take_event(r, bt, body, blen, *count, boff, &appended, err);
			if (rc == FL_ERR)
				return FL_ERR;
			if (rc == 1)
				return STOP_BATCH_FULL;
			if (appended)
				(*count)++;
		} else if (bt == BT_SHB) {
			if (parse_shb(r, body, blen, boff, err) != FL_OK)
				return FL_ERR;
		} else if (r->in_metadata) {
			rc = parse_metadata(r, bt, body, blen, boff, err);
			if (rc == FL_ERR)
				return FL_ERR;
			if (rc == 1)
				r->stats.n_unknown_blocks++;
		} else {
			r->stats.n_unknown_blocks++; /* metadata after events: not part of a section */
		}
		r->stats.n_blocks++;
		consume(r, bl);
	}
}

/* ------------------------------------------------------------------ API */

void fl_close(fl_reader *r)
{
	if (!r)
		return;
	if (r->gzip)
		inflateEnd(&r->z);
	if (r->fd >= 0)
		close(r->fd);
	reset_metadata(r);
	free(r->threads.items);
	free(r->fds.items);
	free(r->users.items);
	free(r->ifaces.items);
	free(r->in);
	if (r->buf != r->map)
		free(r->buf);
	if (r->map)
		munmap(r->map, r->map_len);
	free(r->out);
	fl_batch_arrays_free(&r->arr);
	free(r->nparams);
	free(r->large);
	free(r->type_counts);
	free(r->interesting);
	free(r->interesting_sc);
	free(r);
}

int fl_open(const char *path, const uint8_t *nparams, const uint8_t *large, uint32_t ntypes,
	    fl_reader **out, char *err)
{
	*out = NULL;
	fl_reader *r = calloc(1, sizeof *r);
	if (!r)
		return fail(err, "out of memory");
	r->fd = -1;
	r->ntypes = ntypes;
	r->nparams = malloc(ntypes ? ntypes : 1);
	r->large = malloc(ntypes ? ntypes : 1);
	r->type_counts = calloc(ntypes ? ntypes : 1, sizeof *r->type_counts);
	r->buf = malloc(WINDOW_MIN);
	r->out = malloc(OUT_MIN);
	if (!r->nparams || !r->large || !r->type_counts || !r->buf || !r->out) {
		fl_close(r);
		return fail(err, "out of memory");
	}
	memcpy(r->nparams, nparams, ntypes);
	memcpy(r->large, large, ntypes);
	r->cap = WINDOW_MIN;
	r->out_cap = OUT_MIN;
	r->in_metadata = true;

	do
		r->fd = open(path, O_RDONLY | O_CLOEXEC);
	while (r->fd < 0 && errno == EINTR);
	if (r->fd < 0) {
		fail(err, "cannot open %s: %s", path, strerror(errno));
		fl_close(r);
		return FL_ERR;
	}
	/* A regular file is mapped: no read() copies, and plain v2 events are
	 * handed to the caller in place. */
	struct stat st;
	if (fstat(r->fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (uint64_t)st.st_size <= SIZE_MAX) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, r->fd, 0);
		if (m != MAP_FAILED) {
			r->map = m;
			r->map_len = (size_t)st.st_size;
			posix_madvise(m, r->map_len, POSIX_MADV_SEQUENTIAL);
		}
	}
	/* Otherwise (a pipe, say) the first chunk is read to sniff the gzip
	 * magic, without seeking. */
	const uint8_t *first = r->map;
	size_t got = r->map_len;
	if (!r->map) {
		r->in = malloc(IN_CHUNK);
		if (!r->in) {
			fl_close(r);
			return fail(err, "out of memory");
		}
		got = 0;
		while (got < 2) {
			ssize_t n = read(r->fd, r->in + got, IN_CHUNK - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				fail(err, "cannot read %s: %s", path, strerror(errno));
				fl_close(r);
				return FL_ERR;
			}
			if (n == 0)
				break;
			got += (size_t)n;
		}
		first = r->in;
	}
	if (got >= 2 && first[0] == 0x1f && first[1] == 0x8b) {
		if (inflateInit2(&r->z, 15 + 16) != Z_OK) {
			fl_close(r);
			return fail(err, "cannot initialise zlib");
		}
		r->gzip = true;
		r->stats.compressed = 1;
		if (!r->map) {
			r->z.next_in = r->in;
			r->z.avail_in = (uInt)got;
		}
	} else if (r->map) {
		free(r->buf);
		r->buf = r->map;
		r->cap = r->end = r->map_len;
		r->eof = true;
	} else {
		memcpy(r->buf, r->in, got);
		r->end = got;
		r->eof = got == 0;
	}
	int rc;
	uint32_t count = 0;
	rc = fill(r, 1, err);
	if (rc == FL_ERR) {
		fl_close(r);
		return FL_ERR;
	}
	if (rc == FILL_SHORT) {
		fl_close(r);
		return fail(err, "%s is empty", path);
	}
	rc = read_blocks(r, true, UINT32_MAX, &count, err);
	if (rc == FL_ERR) {
		fl_close(r);
		return FL_ERR;
	}
	*out = r;
	return FL_OK;
}

void fl_set_interesting(fl_reader *r, const uint8_t *bitmap)
{
	size_t n = (r->ntypes + 7) / 8;
	if (!r->interesting)
		r->interesting = malloc(n ? n : 1);
	if (r->interesting)
		memcpy(r->interesting, bitmap, n);
}

void fl_set_interesting_syscalls(fl_reader *r, const uint8_t *bitmap, uint32_t nsc)
{
	free(r->interesting_sc);
	r->interesting_sc = NULL;
	r->nsc = 0;
	if (!bitmap)
		return;
	size_t n = (nsc + 7) / 8;
	r->interesting_sc = malloc(n ? n : 1);
	if (r->interesting_sc) {
		memcpy(r->interesting_sc, bitmap, n);
		r->nsc = nsc;
	}
}

int fl_next_batch(fl_reader *r, uint32_t max_events, fl_batch *b, char *err)
{
	memset(b, 0, sizeof *b);
	if (r->has_pending_err) {
		memcpy(err, r->pending_err, FL_ERRLEN);
		return FL_ERR;
	}
	if (max_events == 0)
		max_events = 1;
	if (reserve_batch(r, max_events, err) != FL_OK)
		return FL_ERR;
	r->out_len = 0;
	uint32_t count = 0;
	r->in_batch = true;
	int rc = read_blocks(r, false, max_events, &count, err);
	if (rc == STOP_SECTION && count == 0) {
		/* the new section's header and metadata, then its events */
		rc = read_blocks(r, true, UINT32_MAX, &count, err);
		if (rc != FL_ERR)
			rc = read_blocks(r, false, max_events, &count, err);
	}
	r->in_batch = false;
	if (rc == FL_ERR) {
		if (count == 0)
			return FL_ERR;
		/* hand out what was read before the damage; the error comes next */
		memcpy(r->pending_err, err, FL_ERRLEN);
		r->has_pending_err = true;
	}
	if (count > 0 && r->batch_inplace) {
		b->buf = r->batch_base;
		b->size = (uint64_t)(r->batch_end - r->batch_base);
	} else {
		b->buf = r->out;
		b->size = r->out_len;
	}
	b->count = count;
	b->section = r->section;
	fl_batch_arrays_lend(&r->arr, b);
	return (rc == STOP_EOF && count == 0) ? FL_EOF : FL_OK;
}

void fl_get_meta(const fl_reader *r, fl_meta *m)
{
	m->machine = r->machine;
	m->shb_major = r->shb_major;
	m->shb_minor = r->shb_minor;
	m->threads = r->threads.items;
	m->n_threads = r->threads.n;
	m->fds = r->fds.items;
	m->n_fds = r->fds.n;
	m->users = r->users.items;
	m->n_users = r->users.n;
	m->ifaces = r->ifaces.items;
	m->n_ifaces = r->ifaces.n;
}

void fl_get_stats(const fl_reader *r, fl_stats *s)
{
	*s = r->stats;
}

void fl_get_type_counts(const fl_reader *r, uint64_t *out)
{
	memcpy(out, r->type_counts, (size_t)r->ntypes * sizeof *out);
}
