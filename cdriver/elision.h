/*
 * Open/close pairs the live reader may drop before they reach Python.
 *
 * An open exit whose fd its thread closes in the very next record changes
 * no state once both are applied; if no rule can match the open or the
 * close either, both can be dropped.  Which opens no rule can match comes
 * from the rules as clauses (falcolite/rules/pathbound.py): each is the
 * access the open needs (bits of its PPM flags: 1 read, 2 write) and a path
 * prefix.  An open is a candidate to drop when it succeeded, its path is
 * plain (absolute, no "//", no "./", no trailing "/", so that it is its own
 * fd.name) and it fits no clause.
 */
#ifndef FALCOLITE_ELISION_H
#define FALCOLITE_ELISION_H

#include <stdbool.h>
#include <stdint.h>

#include "scap_reader.h"

#define FL_ELISION_MASKS 4

typedef struct {
	bool on;
	char *text; /* owned copy of the prefixes */
	/* per access mask: prefixes sorted, none a prefix of another */
	const char **pre[FL_ELISION_MASKS];
	uint32_t *len[FL_ELISION_MASKS];
	uint32_t n[FL_ELISION_MASKS];
} fl_elision;

/* on = 0 turns dropping off.  clauses: len bytes of entries, each one byte
 * of access bits (0-3) then a NUL-terminated prefix.  FL_ERR (and off) on
 * a malformed list or no memory. */
int fl_elision_set(fl_elision *e, int on, const char *clauses, uint32_t len, char *err);

void fl_elision_free(fl_elision *e);

/* rec: a validated v2 record (26-byte header, nparams u16 lengths).  True
 * when it is an open exit that may be dropped with the close of *fd. */
bool fl_elision_open(const fl_elision *e, const uint8_t *rec, int64_t *fd);

/* True when rec is a successful close exit of fd. */
bool fl_elision_closes(const uint8_t *rec, int64_t fd);

#endif
