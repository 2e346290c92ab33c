/*
 * falcolite capture-file reader: walks the blocks of a scap capture (plain or
 * gzip), validates every length before it reads, hands the metadata tables to
 * the caller once per section and returns events in batches, normalised to
 * the v2 event header (26 bytes: ts, tid, len, type, nparams).
 *
 * Every function that can fail returns FL_ERR and writes a message, with the
 * byte offset in the (decompressed) stream, into the caller's err buffer of
 * FL_ERRLEN bytes.
 */
#ifndef FALCOLITE_SCAP_READER_H
#define FALCOLITE_SCAP_READER_H

#include <stddef.h>
#include <stdint.h>

#define FL_ERRLEN 512

enum fl_status {
	FL_OK = 0,  /* a batch (possibly empty) was returned */
	FL_EOF = 1, /* clean end of the capture; the batch is empty */
	FL_ERR = -1,
};

/* A byte string inside the reader's metadata arena, valid until the next
 * section starts or the reader is closed. */
typedef struct {
	const uint8_t *ptr;
	uint32_t len;
} fl_bytes;

typedef struct {
	uint32_t present;
	uint32_t num_cpus;
	uint64_t memory_size_bytes;
	uint64_t max_pid;
	char hostname[129];
	uint64_t boot_ts_epoch;
	uint64_t flags;
} fl_machine;

typedef struct {
	uint64_t tid, pid, ptid;
	int64_t sid, vpgid;
	fl_bytes comm, exe, exepath, args, cwd;
	uint64_t fdlimit;
	uint32_t flags, uid, gid;
	uint32_t vmsize_kb, vmrss_kb, vmswap_kb;
	uint64_t pfmajor, pfminor;
	fl_bytes env;
	int64_t vtid, vpid;
	fl_bytes cgroups, root;
	uint64_t pidns_init_start_ts;
	uint32_t tty, loginuid;
	uint8_t exe_writable, exe_upper_layer, exe_from_memfd, exe_lower_layer;
	uint64_t cap_inheritable, cap_permitted, cap_effective;
	uint64_t exe_ino, exe_ino_ctime, exe_ino_mtime;
	int64_t pgid;
	uint32_t block_version; /* 1..9 */
} fl_thread;

typedef struct {
	uint64_t tid; /* owning thread, from the FDL block */
	int64_t fd;
	uint64_t ino;
	uint8_t type;   /* SCAP_FD_* */
	uint8_t l4proto;
	uint8_t has_dev;
	uint8_t sip[16], dip[16]; /* IPv4 in the first 4 bytes, network order */
	uint16_t sport, dport;
	uint64_t source, destination; /* unix socket kernel addresses */
	uint32_t open_flags, dev;
	fl_bytes name;
} fl_fdinfo;

typedef struct {
	uint8_t is_group;
	uint32_t uid; /* users only */
	uint32_t gid;
	fl_bytes name, homedir, shell;
} fl_userinfo;

typedef struct {
	uint16_t type; /* 1 IPv4, 2 IPv6, 3/4 without link speed */
	uint8_t addr[16], netmask[16], bcast[16];
	uint64_t linkspeed;
	fl_bytes name;
} fl_iface;

typedef struct {
	fl_machine machine;
	uint16_t shb_major, shb_minor;
	const fl_thread *threads;
	uint32_t n_threads;
	const fl_fdinfo *fds;
	uint32_t n_fds;
	const fl_userinfo *users;
	uint32_t n_users;
	const fl_iface *ifaces;
	uint32_t n_ifaces;
} fl_meta;

/* One batch of events, valid until the next call on the reader.  Event i
 * starts at buf + offsets[i] with a v2 header. */
typedef struct {
	const uint8_t *buf;
	uint64_t size; /* bytes used in buf */
	uint32_t count;
	uint32_t section; /* increases when a new section (SHB) starts */
	const uint32_t *offsets;
	const uint16_t *types;
	const uint16_t *cpus;
	const uint32_t *dump_flags; /* EVF flags, 0 for EV blocks */
	const uint64_t *nums;       /* 1-based event numbers (all known-type events count) */
	const uint64_t *ts;
	const uint64_t *tids;
} fl_batch;

typedef struct {
	uint64_t n_events;          /* events of known type read from the file */
	uint64_t n_filtered;        /* of those, skipped by the interesting-types filter */
	uint64_t n_unknown_type;    /* events whose type is outside the table */
	uint64_t n_blocks;
	uint64_t n_unknown_blocks;  /* blocks skipped because their type is unknown */
	uint64_t n_sections;
	uint64_t bytes;             /* bytes consumed from the (decompressed) stream */
	uint64_t first_ts, last_ts; /* of the events read, filtered ones included */
	uint32_t compressed;        /* 1 when the file is gzip */
} fl_stats;

typedef struct fl_reader fl_reader;

/* nparams[t] and large[t] (EF_LARGE_PAYLOAD) describe event type t < ntypes;
 * they are copied.  The metadata of the first section is read here. */
int fl_open(const char *path, const uint8_t *nparams, const uint8_t *large, uint32_t ntypes,
	    fl_reader **out, char *err);
void fl_close(fl_reader *r);

/* Events whose type bit is clear are counted in n_filtered and never returned;
 * bitmap holds ntypes bits (LSB first).  All types are interesting at open. */
void fl_set_interesting(fl_reader *r, const uint8_t *bitmap);

/* Generic events (types 0 and 1) whose syscall ID (PPM_SC code, their first
 * parameter) has a clear bit in this bitmap of nsc bits are filtered too. */
void fl_set_interesting_syscalls(fl_reader *r, const uint8_t *bitmap, uint32_t nsc);

int fl_next_batch(fl_reader *r, uint32_t max_events, fl_batch *out, char *err);
void fl_get_meta(const fl_reader *r, fl_meta *out);
void fl_get_stats(const fl_reader *r, fl_stats *out);
/* Events read per type (filtered ones included): out holds ntypes counters. */
void fl_get_type_counts(const fl_reader *r, uint64_t *out);

#endif
