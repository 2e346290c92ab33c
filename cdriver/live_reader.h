/*
 * falcolite live reader: loads the CO-RE eBPF probe (cdriver/bpf/), drains
 * its ring buffer and hands the records out as the same fl_batch the capture
 * reader returns, so the Python side decodes live events unchanged.
 * See shared/docs/live-capture.md.
 *
 * Functions that can fail return FL_ERR and write a message into the
 * caller's err buffer of FL_ERRLEN bytes.  When the probe is not compiled in
 * (live_stub.c) every function that can fail does so, saying what to install.
 */
#ifndef FALCOLITE_LIVE_READER_H
#define FALCOLITE_LIVE_READER_H

#include <stdint.h>

#include "scap_reader.h"

#define FL_LIVE_NSYSCALLS 512
#define FL_LIVE_DEFAULT_RING 8388608
#define FL_LIVE_MAX_PROGS 12

/* seen = delivered + elided + malformed + drops_buffer + drops_size +
 * (records still in the ring); filtered and compat are syscalls the probe did not emit. */
typedef struct {
	uint64_t seen;         /* records the probe built (passed every filter) */
	uint64_t drops_buffer; /* lost: the ring was full */
	uint64_t drops_size;   /* lost: larger than the 8 KiB record limit */
	uint64_t filtered;     /* not emitted: not interesting, or the agent's own pid */
	uint64_t compat;       /* not emitted: ia32 (compat) syscalls */
	uint64_t delivered;    /* handed out in batches */
	uint64_t elided;       /* open/close pairs dropped by fl_live_set_elision, 2 each */
	uint64_t malformed;    /* records skipped: failed validation, or no memory to copy */
	uint64_t missed;       /* program runs the kernel skipped (recursion), never seen */
	/* per program, in fl_live_info's order: runs and the time they took
	 * (0 unless sysctl kernel.bpf_stats_enabled=1) */
	uint64_t run_cnt[FL_LIVE_MAX_PROGS];
	uint64_t run_ns[FL_LIVE_MAX_PROGS];
} fl_live_stats;

/* How the probe loaded: per program, the instructions after verification
 * and the instructions the verifier processed; load and attach times. */
typedef struct {
	char probe[16]; /* "current", or "compat" (Linux 5.8-5.16: no cgroups) */
	uint32_t n_progs;
	char names[FL_LIVE_MAX_PROGS][24];
	uint32_t insns[FL_LIVE_MAX_PROGS];
	uint32_t verified_insns[FL_LIVE_MAX_PROGS];
	double load_ms;
	double attach_ms;
} fl_live_info;

typedef struct fl_live fl_live;

/* 1 when the probe is compiled into this build, 0 with live_stub.c. */
int fl_live_compiled(void);

/* FL_OK when this host can run the probe; otherwise FL_ERR and one line per
 * missing piece (kernel version, BTF, capabilities, lockdown, bpf() refused). */
int fl_live_check(char *err);

/* ring_bytes: a power of two >= 4096 (FL_LIVE_DEFAULT_RING is the usual);
 * self_pid: a process whose syscalls are never traced (the agent).  Nothing
 * is interesting until fl_live_set_interesting; then events start flowing. */
int fl_live_open(uint32_t ring_bytes, int self_pid, fl_live **out, char *err);

/* syscalls[n] != 0 makes native syscall n interesting; may be called while
 * attached.  Thread exits (procexit) follow exit/exit_group (60/231). */
int fl_live_set_interesting(fl_live *l, const uint8_t *syscalls, char *err);

/* Drop open/close pairs no rule can match before they are handed out: an
 * open the clauses allow (elision.h, fl_elision_set) followed in the ring
 * by its thread's close of the fd.  on = 0 (the start) hands out all. */
int fl_live_set_elision(fl_live *l, int on, const char *clauses, uint32_t len, char *err);

/* Up to max_events records; waits (1 ms naps) up to timeout_ms for the first
 * one and returns an empty batch (FL_OK, count 0) on timeout or when a
 * signal interrupts the wait.  The batch stays valid until the next call. */
int fl_live_next_batch(fl_live *l, uint32_t max_events, uint32_t timeout_ms, fl_batch *out,
		       char *err);

/* Sums the per-CPU counters; FL_ERR (out zeroed) if a map read fails. */
int fl_live_get_stats(const fl_live *l, fl_live_stats *out);

void fl_live_get_info(const fl_live *l, fl_live_info *out);

void fl_live_close(fl_live *l);

#endif
