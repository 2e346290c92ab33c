/* Open/close pairs the live reader may drop: see elision.h. */
#define _GNU_SOURCE
#include "elision.h"
#include "fail.h"

#include <stdlib.h>
#include <string.h>

#define V2_HDR 26u

/* Exit events of the event table and where their parameters sit. */
enum { OPEN_X = 3, CLOSE_X = 5, CREAT_X = 59, OPENAT_X = 307, OPENAT2_X = 327 };
#define PPM_O_WRONLY 2u

/* Parameter k of a validated record; false if it has fewer. */
static bool param(const uint8_t *rec, uint32_t k, const uint8_t **p, uint16_t *len)
{
	uint32_t nparams;
	memcpy(&nparams, rec + 22, 4);
	if (k >= nparams)
		return false;
	size_t off = V2_HDR + 2u * (size_t)nparams;
	for (uint32_t i = 0; i <= k; i++) {
		uint16_t l;
		memcpy(&l, rec + V2_HDR + 2 * i, 2);
		if (i == k) {
			*p = rec + off;
			*len = l;
			return true;
		}
		off += l;
	}
	return false;
}

static bool param_s64(const uint8_t *rec, uint32_t k, int64_t *v)
{
	const uint8_t *p;
	uint16_t len;
	if (!param(rec, k, &p, &len) || len != 8)
		return false;
	memcpy(v, p, 8);
	return true;
}

static uint16_t rec_type(const uint8_t *rec)
{
	uint16_t t;
	memcpy(&t, rec + 20, 2);
	return t;
}

/* ------------------------------------------------------------ clauses */

static int cmp_bytes(const char *a, uint32_t la, const char *b, uint32_t lb)
{
	int c = memcmp(a, b, la < lb ? la : lb);
	return c ? c : (la > lb) - (la < lb);
}

static int cmp_pre(const void *x, const void *y)
{
	const char *a = *(const char *const *)x, *b = *(const char *const *)y;
	return cmp_bytes(a, (uint32_t)strlen(a), b, (uint32_t)strlen(b));
}

void fl_elision_free(fl_elision *e)
{
	for (int m = 0; m < FL_ELISION_MASKS; m++) {
		free(e->pre[m]);
		free(e->len[m]);
	}
	free(e->text);
	memset(e, 0, sizeof *e);
}

int fl_elision_set(fl_elision *e, int on, const char *clauses, uint32_t len, char *err)
{
	fl_elision_free(e);
	if (!on)
		return FL_OK;
	if (len && clauses[len - 1] != '\0')
		return fail(err, "elision clauses do not end with a NUL");
	e->text = malloc(len + 1u);
	if (!e->text)
		return fail(err, "out of memory for %u bytes of elision clauses", len);
	memcpy(e->text, clauses, len);
	e->text[len] = '\0';
	uint32_t total[FL_ELISION_MASKS] = {0};
	for (uint32_t i = 0; i < len; i += (uint32_t)strlen(e->text + i + 1) + 2) {
		uint8_t m = (uint8_t)e->text[i];
		if (m >= FL_ELISION_MASKS || i + 1 >= len) {
			fl_elision_free(e);
			return fail(err, "elision clause at byte %u: access bits %u out of range", i, m);
		}
		total[m]++;
	}
	for (int m = 0; m < FL_ELISION_MASKS; m++) {
		e->pre[m] = calloc(total[m] + 1, sizeof *e->pre[m]);
		e->len[m] = calloc(total[m] + 1, sizeof *e->len[m]);
		if (!e->pre[m] || !e->len[m]) {
			fl_elision_free(e);
			return fail(err, "out of memory for the elision clauses");
		}
	}
	for (uint32_t i = 0; i < len; i += (uint32_t)strlen(e->text + i + 1) + 2) {
		uint8_t m = (uint8_t)e->text[i];
		e->pre[m][e->n[m]++] = e->text + i + 1;
	}
	/* Sorted and prefix-free, a path fits a prefix iff it fits the greatest
	 * prefix not above it (see fits). */
	for (int m = 0; m < FL_ELISION_MASKS; m++) {
		qsort(e->pre[m], e->n[m], sizeof *e->pre[m], cmp_pre);
		uint32_t kept = 0;
		for (uint32_t i = 0; i < e->n[m]; i++) {
			uint32_t l = (uint32_t)strlen(e->pre[m][i]);
			if (kept && l >= e->len[m][kept - 1] &&
			    !memcmp(e->pre[m][i], e->pre[m][kept - 1], e->len[m][kept - 1]))
				continue;
			e->pre[m][kept] = e->pre[m][i];
			e->len[m][kept++] = l;
		}
		e->n[m] = kept;
	}
	e->on = true;
	return FL_OK;
}

/* Whether path starts with one of the mask's prefixes: binary search for
 * the greatest prefix <= path.  If some prefix p of the path exists, any
 * prefix q with p < q <= path starts with p, so q = p in a prefix-free set. */
static bool fits(const fl_elision *e, int m, const char *path, uint32_t plen)
{
	uint32_t lo = 0, hi = e->n[m]; /* first index whose prefix is > path */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (cmp_bytes(e->pre[m][mid], e->len[m][mid], path, plen) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return false;
	uint32_t l = e->len[m][lo - 1];
	return l <= plen && !memcmp(e->pre[m][lo - 1], path, l);
}

/* Absolute, no empty, "." or ".." component, no trailing "/": then the path
 * as given is its fd.name. */
static bool plain(const char *p, uint32_t n)
{
	if (n == 0 || p[0] != '/' || (n > 1 && p[n - 1] == '/'))
		return false;
	for (uint32_t i = 0; i + 1 < n; i++) {
		if ((p[i] == '/' && p[i + 1] == '/') || (p[i] == '.' && p[i + 1] == '/'))
			return false;
	}
	if (p[n - 1] == '.' && n >= 2 && (p[n - 2] == '/' || p[n - 2] == '.'))
		return false; /* a trailing "." or ".." component */
	return memchr(p, '\0', n) == NULL;
}

bool fl_elision_open(const fl_elision *e, const uint8_t *rec, int64_t *fd)
{
	if (!e->on)
		return false;
	uint32_t name_k, flags_k = 0;
	switch (rec_type(rec)) {
	case OPEN_X: name_k = 1, flags_k = 2; break;
	case CREAT_X: name_k = 1; break;
	case OPENAT_X: case OPENAT2_X: name_k = 2, flags_k = 3; break;
	default: return false;
	}
	const uint8_t *name, *fp;
	uint16_t nlen, flen;
	if (!param_s64(rec, 0, fd) || *fd < 0 || !param(rec, name_k, &name, &nlen) || nlen < 2 ||
	    name[nlen - 1] != '\0')
		return false;
	uint32_t access = PPM_O_WRONLY; /* creat opens for writing */
	if (flags_k) {
		uint32_t flags;
		if (!param(rec, flags_k, &fp, &flen) || flen != 4)
			return false;
		memcpy(&flags, fp, 4);
		access = flags & 3u;
	}
	const char *path = (const char *)name;
	uint32_t plen = nlen - 1u;
	if (!plain(path, plen))
		return false;
	for (int m = 0; m < FL_ELISION_MASKS; m++) {
		if ((m & ~access) == 0 && fits(e, m, path, plen))
			return false;
	}
	return true;
}

bool fl_elision_closes(const uint8_t *rec, int64_t fd)
{
	int64_t res, cfd;
	return rec_type(rec) == CLOSE_X && param_s64(rec, 0, &res) && res == 0 &&
	       param_s64(rec, 1, &cfd) && cfd == fd;
}
