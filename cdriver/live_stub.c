/*
 * The live reader when the probe could not be built (no clang, bpftool or
 * libbpf-dev at build time): the same functions, each failing with what to
 * install, so that falcolite can say it instead of failing to import.
 */
#include "live_reader.h"

#include <stdio.h>
#include <string.h>

#define NOT_BUILT                                                                  \
	"live capture is not compiled in: install clang, llvm, bpftool and libbpf-dev, " \
	"then rebuild"

static int not_built(char *err)
{
	snprintf(err, FL_ERRLEN, "%s", NOT_BUILT);
	return FL_ERR;
}

int fl_live_compiled(void)
{
	return 0;
}

int fl_live_check(char *err)
{
	return not_built(err);
}

int fl_live_open(uint32_t ring_bytes, int self_pid, fl_live **out, char *err)
{
	(void)ring_bytes;
	(void)self_pid;
	*out = NULL;
	return not_built(err);
}

int fl_live_set_interesting(fl_live *l, const uint8_t *syscalls, char *err)
{
	(void)l;
	(void)syscalls;
	return not_built(err);
}

int fl_live_next_batch(fl_live *l, uint32_t max_events, uint32_t timeout_ms, fl_batch *out,
		       char *err)
{
	(void)l;
	(void)max_events;
	(void)timeout_ms;
	memset(out, 0, sizeof *out);
	return not_built(err);
}

int fl_live_set_elision(fl_live *l, int on, const char *clauses, uint32_t len, char *err)
{
	(void)l;
	(void)on;
	(void)clauses;
	(void)len;
	return not_built(err);
}

int fl_live_get_stats(const fl_live *l, fl_live_stats *out)
{
	(void)l;
	memset(out, 0, sizeof *out);
	return FL_ERR;
}

void fl_live_get_info(const fl_live *l, fl_live_info *out)
{
	(void)l;
	memset(out, 0, sizeof *out);
}

void fl_live_close(fl_live *l)
{
	(void)l;
}
