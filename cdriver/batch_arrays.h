/*
 * The per-event arrays behind an fl_batch (offsets, types, cpus, dump
 * flags, event numbers, timestamps, tids): owned by a reader, grown as its
 * batches need, lent to each batch it hands out.  Shared by the capture
 * reader (scap_reader.c) and the live reader (live_reader.c).
 */
#ifndef FALCOLITE_BATCH_ARRAYS_H
#define FALCOLITE_BATCH_ARRAYS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "scap_reader.h"

typedef struct {
	uint32_t cap; /* events each array holds */
	uint32_t *offsets, *dump_flags;
	uint16_t *types, *cpus;
	uint64_t *nums, *ts, *tids;
} fl_batch_arrays;

/* Room for n events.  False when memory runs out: the arrays stay valid
 * (those already grown keep their new size) and cap is unchanged. */
static inline bool fl_batch_arrays_reserve(fl_batch_arrays *a, uint32_t n)
{
	if (n <= a->cap)
		return true;
#define FL_GROW(field)                                                        \
	do {                                                                  \
		void *p_ = realloc(a->field, (size_t)n * sizeof *a->field); \
		if (!p_)                                                      \
			return false;                                         \
		a->field = p_;                                                \
	} while (0)
	FL_GROW(offsets);
	FL_GROW(dump_flags);
	FL_GROW(types);
	FL_GROW(cpus);
	FL_GROW(nums);
	FL_GROW(ts);
	FL_GROW(tids);
#undef FL_GROW
	a->cap = n;
	return true;
}

static inline void fl_batch_arrays_free(fl_batch_arrays *a)
{
	free(a->offsets);
	free(a->dump_flags);
	free(a->types);
	free(a->cpus);
	free(a->nums);
	free(a->ts);
	free(a->tids);
}

/* The batch's per-event arrays are a's (valid until a grows or is freed). */
static inline void fl_batch_arrays_lend(const fl_batch_arrays *a, fl_batch *b)
{
	b->offsets = a->offsets;
	b->types = a->types;
	b->cpus = a->cpus;
	b->dump_flags = a->dump_flags;
	b->nums = a->nums;
	b->ts = a->ts;
	b->tids = a->tids;
}

#endif
