// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * falcolite live probe: one record per system call exit (plus one per thread
 * exit), in the scap v2 event encoding (shared/docs/scap-format.md 3-5), into
 * one BPF ring buffer.  The userspace side (cdriver/live_reader.c) hands the
 * records to the same decoder that reads capture files.
 *
 * Counters (per CPU, one slot per program so that two programs can never
 * interleave a read-modify-write on the same slot):
 *   every sys_exit and sched_process_exit hit is counted exactly once, in
 *   `filtered` (syscall not interesting, the agent's own process, or a number
 *   outside the table), `compat` (ia32 syscall, dropped) or `seen`;
 *   every `seen` record ends up in exactly one of: delivered to userspace
 *   (counted there), `drops_buffer` (ring full), `drops_size` (record over
 *   REC_MAX), or still queued in the ring.  So
 *   seen = delivered + elided + malformed + drops_buffer + drops_size + queued
 *   (elided: open/close pairs the reader drops, cdriver/elision.h).
 *   Runs the kernel skips because the program was already running on that
 *   CPU are not seen by the program at all (bpf prog "recursion misses").
 */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "probe_tables.h" /* generated: FL_NP_<code>, FL_X86_64_SC_INIT */

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define REC_MAX 8192u   /* largest record handed to the ring */
#define SCRATCH 16384u  /* REC_MAX plus room for one bounded read past it */
#define HDR 26u         /* v2 event header */
#define MAX_PARAMS 32u  /* execve has 31 */
#define NSYSCALLS 512u
#define PATH_CAP 4096u
#define ARGS_CAP 4096u
#define SA_CAP 128u     /* sizeof(struct sockaddr_storage) */
#define DATA_CAP 80u    /* I/O data snapshot, sysdig's default snaplen */
#define MAX_ARGV 32     /* argv entries read for a failed execve */
#define TS_COMPAT 0x0002u
#define FMODE_CREATED 0x100000u

/* Out-of-line subprograms, verified in their caller's context.  Hidden
 * rather than static: for static functions LLVM may drop a return value no
 * caller uses (or one that is always 0), leaving whatever r0 held, and the
 * verifier rejects an r0 that still points into the callee's stack. */
#define SUBPROG __noinline __hidden

/* Hide a value from the optimiser so that a bound check on it is kept (and
 * made on the register that is used afterwards). */
#define OPAQUE(x) asm volatile("" : "+r"(x))

/* x86-64 native syscall numbers used below. */
enum {
	NR_open = 2, NR_close = 3, NR_pipe = 22, NR_dup = 32, NR_dup2 = 33,
	NR_socket = 41, NR_connect = 42, NR_accept = 43, NR_sendto = 44,
	NR_recvfrom = 45, NR_bind = 49, NR_listen = 50, NR_clone = 56,
	NR_fork = 57, NR_vfork = 58, NR_execve = 59, NR_exit = 60,
	NR_chdir = 80, NR_fchdir = 81, NR_rename = 82, NR_mkdir = 83, NR_rmdir = 84, NR_creat = 85,
	NR_link = 86, NR_unlink = 87, NR_symlink = 88, NR_chmod = 90,
	NR_fchmod = 91, NR_chown = 92, NR_fchown = 93, NR_lchown = 94,
	NR_ptrace = 101, NR_setuid = 105, NR_setgid = 106, NR_setreuid = 113,
	NR_setregid = 114, NR_setresuid = 117, NR_setresgid = 119,
	NR_mount = 165, NR_umount2 = 166, NR_init_module = 175,
	NR_exit_group = 231, NR_openat = 257, NR_mkdirat = 258,
	NR_fchownat = 260, NR_unlinkat = 263, NR_renameat = 264,
	NR_linkat = 265, NR_symlinkat = 266, NR_fchmodat = 268,
	NR_unshare = 272, NR_accept4 = 288, NR_dup3 = 292, NR_pipe2 = 293,
	NR_setns = 308, NR_finit_module = 313, NR_renameat2 = 316,
	NR_memfd_create = 319, NR_bpf = 321, NR_execveat = 322,
	NR_clone3 = 435, NR_openat2 = 437,
	NR_fcntl = 72, NR_socketpair = 53, NR_eventfd = 284, NR_eventfd2 = 290,
	NR_signalfd = 282, NR_signalfd4 = 289, NR_timerfd_create = 283,
	NR_inotify_init = 253, NR_inotify_init1 = 294, NR_userfaultfd = 323,
};

/* Set by userspace before load: the agent's own process is never traced. */
const volatile __u32 self_tgid = 0;

/* PPM_SC code of each native syscall, for the generic event. */
static const __u16 sc_table[NSYSCALLS] = FL_X86_64_SC_INIT;

struct counters {
	__u64 seen, drops_buffer, drops_size, filtered, compat;
};

/* Per-CPU record under construction, with the syscall's arguments.  The
 * cursor (off/idx) lives here rather than on the stack so that every helper
 * reloads and re-bounds it: the verifier then needs no range tracking
 * across calls. */
struct aux {
	__u32 off;     /* next free data byte */
	__u32 idx;     /* next parameter index */
	__u32 sa_len;  /* bytes valid in sa */
	__u32 cg_used; /* bytes of the cgroups parameter written so far */
	__u32 cg_depth;
	__u32 cg_full;
	__u64 cg_names[8]; /* CG_DEPTH kernfs names, innermost first */
	__u32 nr;      /* native syscall number */
	__s64 ret;
	__u64 args[6];
	__u64 pid_tgid;
	__u64 task;    /* struct task_struct *, read with CO-RE probe reads */
	__u8 sa[SA_CAP];
	__u8 buf[SCRATCH];
};

/* What the entry programs saved for one thread: the path of open*, creat
 * and the sockaddr of connect (read before the call, so that another thread
 * cannot change them in between), the filename of execve/execveat (gone with
 * the old mm after a successful exec).  The exit uses the copy only for a
 * call of the same number, and clears `nr` once it has. */
struct stash {
	__u32 nr;
	__u32 len;
	__u8 data[PATH_CAP];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* userspace sets the real size */
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NSYSCALLS);
	__type(key, __u32);
	__type(value, __u8);
} interesting SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2); /* 0 sys_exit, 1 sched_process_exit */
	__type(key, __u32);
	__type(value, struct counters);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2); /* 0 sys_exit, 1 sched_process_exit */
	__type(key, __u32);
	__type(value, struct aux);
} auxmap SEC(".maps");

#ifndef FL_PROBE_COMPAT
/* Task-local: read and written in place (a hash map would copy the 4 KiB
 * value on every update) and freed with the thread. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct stash);
} stashes SEC(".maps");
#else
/* Before 5.11 there is no task storage for tracing programs: a hash by tid,
 * filled through a per-CPU entry.  LRU, so that a thread that never reaches
 * its exit cannot fill it for good. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stash);
} enter_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct stash);
} inflight SEC(".maps");
#endif

/* ------------------------------------------------------------ task access */

static __always_inline struct task_struct *cur_task(void)
{
	return (struct task_struct *)bpf_get_current_task();
}

/* ia32 syscalls (including int 0x80 from 64-bit code) carry i386 numbers. */
static __always_inline bool in_compat(void)
{
	__u32 status;
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf)) {
		/* a direct load: this runs on every syscall */
		struct task_struct *t = bpf_get_current_task_btf();
		status = t->thread_info.status;
	} else {
		struct task_struct *t = cur_task();
		status = BPF_CORE_READ(t, thread_info.status);
	}
	return status & TS_COMPAT;
}

static __always_inline bool is_interesting(__u32 nr)
{
	__u8 *on = bpf_map_lookup_elem(&interesting, &nr);
	return on && *on;
}

#ifndef FL_PROBE_COMPAT
static __always_inline struct stash *stash_peek(void)
{
	return bpf_task_storage_get(&stashes, bpf_get_current_task_btf(), 0, 0);
}

/* Where the entry program writes this thread's copy; stash_commit keeps it. */
static __always_inline struct stash *stash_slot(void)
{
	return bpf_task_storage_get(&stashes, bpf_get_current_task_btf(), 0,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
}

static __always_inline void stash_commit(struct stash *s)
{
	(void)s; /* written in place */
}
#else
static __always_inline struct stash *stash_peek(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	return bpf_map_lookup_elem(&inflight, &tid);
}

static __always_inline struct stash *stash_slot(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&enter_scratch, &zero);
}

static __always_inline void stash_commit(struct stash *s)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	bpf_map_update_elem(&inflight, &tid, s, BPF_ANY);
}
#endif

/* The copy the entry program made for this thread's call nr, marked used;
 * NULL when there is none (the call began before the probe was attached). */
static __always_inline struct stash *stash_take(__u32 nr)
{
	struct stash *st = stash_peek();
	if (!st || st->nr != nr)
		return 0;
	st->nr = 0;
	return st;
}

/* pid number of p as seen from pid namespace level `level`. */
static __always_inline __s64 pid_nr_at(struct pid *p, __u32 level)
{
	int nr = 0;
	if (!p)
		return 0;
	__u64 at = (__u64)p + bpf_core_field_offset(struct pid, numbers) +
		   (__u64)level * bpf_core_type_size(struct upid) +
		   bpf_core_field_offset(struct upid, nr);
	bpf_probe_read_kernel(&nr, sizeof nr, (void *)at);
	return nr;
}

/* The current thread's file of fd.  Direct loads down to the fd array (the
 * task pointer is a BTF one; each probe read would cost ~25 ns more), one
 * probe read for the slot, which the verifier cannot index. */
static __always_inline struct file *fd_file(__s64 fd)
{
#ifndef FL_PROBE_COMPAT
	struct task_struct *t = bpf_get_current_task_btf();
	struct files_struct *files = t->files;
	struct fdtable *fdt = files ? files->fdt : 0;
	if (!fdt || fd < 0 || fd >= fdt->max_fds)
		return 0;
	struct file **arr = fdt->fd;
#else
	struct fdtable *fdt = BPF_CORE_READ(cur_task(), files, fdt);
	if (!fdt || fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	struct file **arr = BPF_CORE_READ(fdt, fd);
#endif
	struct file *f = 0;
	bpf_probe_read_kernel(&f, sizeof f, &arr[fd]);
	return f;
}

/* The kernel's dev_t (major << 20 | minor) in the userspace st_dev form. */
static __always_inline __u32 encode_dev(__u32 major, __u32 minor)
{
	return (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
}

static __always_inline __u32 inode_dev(struct inode *i)
{
	__u32 d = BPF_CORE_READ(i, i_sb, s_dev);
	return encode_dev(d >> 20, d & 0xfffff);
}

static __always_inline __u64 ts_ns(__s64 sec, __u32 nsec)
{
	return (__u64)sec * 1000000000ull + nsec;
}

static __always_inline __u64 inode_ctime(struct inode *i)
{
	struct inode___v611 *a = (void *)i;
	struct inode___v66 *b = (void *)i;
	struct inode___old *c = (void *)i;
	if (bpf_core_field_exists(a->i_ctime_sec)) /* 6.13+ keeps a flag in bit 31 */
		return ts_ns(BPF_CORE_READ(a, i_ctime_sec),
			     BPF_CORE_READ(a, i_ctime_nsec) & 0x3fffffff);
	if (bpf_core_field_exists(b->__i_ctime))
		return ts_ns(BPF_CORE_READ(b, __i_ctime.tv_sec), BPF_CORE_READ(b, __i_ctime.tv_nsec));
	return ts_ns(BPF_CORE_READ(c, i_ctime.tv_sec), BPF_CORE_READ(c, i_ctime.tv_nsec));
}

static __always_inline __u64 inode_mtime(struct inode *i)
{
	struct inode___v611 *a = (void *)i;
	struct inode___v67 *b = (void *)i;
	struct inode___old *c = (void *)i;
	if (bpf_core_field_exists(a->i_mtime_sec))
		return ts_ns(BPF_CORE_READ(a, i_mtime_sec), BPF_CORE_READ(a, i_mtime_nsec));
	if (bpf_core_field_exists(b->__i_mtime))
		return ts_ns(BPF_CORE_READ(b, __i_mtime.tv_sec), BPF_CORE_READ(b, __i_mtime.tv_nsec));
	return ts_ns(BPF_CORE_READ(c, i_mtime.tv_sec), BPF_CORE_READ(c, i_mtime.tv_nsec));
}

/* ------------------------------------------------------- flag conversions */

/* Linux open(2) flags -> PPM_O_* (scap-format.md 4.6; O_RDONLY is 1). */
static __always_inline __u32 open_flags(__u64 f)
{
	__u32 r = 0;
	switch (f & 3) {
	case 0: r = 0x1; break;
	case 1: r = 0x2; break;
	case 2: r = 0x3; break;
	}
	if (f & 0100) r |= 0x4;        /* O_CREAT */
	if (f & 02000) r |= 0x8;       /* O_APPEND */
	if (f & 010000) r |= 0x10;     /* O_DSYNC */
	if (f & 0200) r |= 0x20;       /* O_EXCL */
	if (f & 04000) r |= 0x40;      /* O_NONBLOCK */
	if (f & 04000000) r |= 0x80;   /* __O_SYNC */
	if (f & 01000) r |= 0x100;     /* O_TRUNC */
	if (f & 040000) r |= 0x200;    /* O_DIRECT */
	if (f & 0200000) r |= 0x400;   /* O_DIRECTORY */
	if (f & 0100000) r |= 0x800;   /* O_LARGEFILE */
	if (f & 02000000) r |= 0x1000; /* O_CLOEXEC */
	if (f & 020000000) r |= 0x2000; /* __O_TMPFILE */
	return r;
}

/* The mode argument only means something when a file may be created. */
static __always_inline __u32 open_mode(__u64 flags, __u64 mode)
{
	return (flags & (0100 | 020000000)) ? (__u32)(mode & 07777) : 0;
}

/* Linux CLONE_* -> PPM_CL_* */
static __always_inline __u32 clone_flags(__u64 f)
{
	__u32 r = 0;
	if (f & 0x400) r |= 0x1;             /* FILES */
	if (f & 0x200) r |= 0x2;             /* FS */
	if (f & 0x80000000ull) r |= 0x4;     /* IO */
	if (f & 0x08000000) r |= 0x8;        /* NEWIPC */
	if (f & 0x40000000) r |= 0x10;       /* NEWNET */
	if (f & 0x00020000) r |= 0x20;       /* NEWNS */
	if (f & 0x20000000) r |= 0x40;       /* NEWPID */
	if (f & 0x04000000) r |= 0x80;       /* NEWUTS */
	if (f & 0x8000) r |= 0x100;          /* PARENT */
	if (f & 0x00100000) r |= 0x200;      /* PARENT_SETTID */
	if (f & 0x2000) r |= 0x400;          /* PTRACE */
	if (f & 0x800) r |= 0x800;           /* SIGHAND */
	if (f & 0x40000) r |= 0x1000;        /* SYSVSEM */
	if (f & 0x10000) r |= 0x2000;        /* THREAD */
	if (f & 0x00800000) r |= 0x4000;     /* UNTRACED */
	if (f & 0x100) r |= 0x8000;          /* VM */
	if (f & 0x10000000) r |= 0x100000;   /* NEWUSER */
	if (f & 0x00200000) r |= 0x800000;   /* CHILD_CLEARTID */
	if (f & 0x01000000) r |= 0x1000000;  /* CHILD_SETTID */
	if (f & 0x80000) r |= 0x2000000;     /* SETTLS */
	if (f & 0x4000) r |= 0x8000000;      /* VFORK */
	if (f & 0x02000000) r |= 0x10000000; /* NEWCGROUP */
	return r;
}

/* Linux PTRACE_* request -> PPM_PTRACE_* (0 = unknown). */
static __always_inline __u16 ptrace_req(__u64 req)
{
	if (req <= 9)
		return req + 1; /* TRACEME..SINGLESTEP */
	switch (req) {
	case 16: return 11;     /* ATTACH */
	case 17: return 12;     /* DETACH */
	case 24: return 13;     /* SYSCALL */
	case 0x4200: return 14; /* SETOPTIONS */
	case 0x4201: return 15; /* GETEVENTMSG */
	case 0x4202: return 16; /* GETSIGINFO */
	case 0x4203: return 17; /* SETSIGINFO */
	case 0x4204: return 18; /* GETREGSET */
	case 0x4205: return 19; /* SETREGSET */
	case 0x4206: return 20; /* SEIZE */
	case 0x4207: return 21; /* INTERRUPT */
	case 0x4208: return 22; /* LISTEN */
	case 0x4209: return 23; /* PEEKSIGINFO */
	case 0x420a: return 24; /* GETSIGMASK */
	case 0x420b: return 25; /* SETSIGMASK */
	case 12: return 26;     /* GETREGS */
	case 13: return 27;     /* SETREGS */
	case 14: return 28;     /* GETFPREGS */
	case 15: return 29;     /* SETFPREGS */
	case 18: return 30;     /* GETFPXREGS */
	case 19: return 31;     /* SETFPXREGS */
	case 21: return 32;     /* OLDSETOPTIONS */
	case 25: return 33;     /* GET_THREAD_AREA */
	case 26: return 34;     /* SET_THREAD_AREA */
	case 30: return 35;     /* ARCH_PRCTL */
	case 31: return 36;     /* SYSEMU */
	case 32: return 37;     /* SYSEMU_SINGLESTEP */
	case 33: return 38;     /* SINGLEBLOCK */
	}
	return 0;
}

/* ---------------------------------------------------------- record writer */

static __always_inline void rec_begin(struct aux *a, __u32 nparams)
{
	a->idx = 0;
	a->off = HDR + 2 * nparams;
}

/* Close the current parameter: record its length, move the cursor. */
static __always_inline void param_done(struct aux *a, __u32 len)
{
	__u64 i = a->idx;
	if (i >= MAX_PARAMS)
		return;
	/* clang may index with an unchecked copy of i; an opaque mask on the
	 * register actually used keeps the verifier's bound */
	asm volatile("%0 &= 31" : "+r"(i));
	*(__u16 *)&a->buf[HDR + 2 * i] = len;
	a->idx = i + 1;
	a->off += len;
}

static __always_inline void put_empty(struct aux *a)
{
	param_done(a, 0);
}

/* A write past REC_MAX is skipped but still moves the cursor, so the record
 * is dropped (and counted) as too large at submit. */
#define DEFINE_PUT(name, type)                                                 \
	static __always_inline void name(struct aux *a, type v)               \
	{                                                                      \
		__u32 o = a->off;                                              \
		if (o <= REC_MAX)                                              \
			*(type *)&a->buf[o] = v;                               \
		param_done(a, sizeof(type));                                   \
	}
DEFINE_PUT(put_u8, __u8)
DEFINE_PUT(put_u16, __u16)
DEFINE_PUT(put_u32, __u32)
DEFINE_PUT(put_u64, __u64)

/* A DYN parameter holding a UINT64 (selector 0). */
static __always_inline void put_dyn_u64(struct aux *a, __u64 v)
{
	__u32 o = a->off;
	OPAQUE(o); /* bound the register that indexes (6.1's verifier needs it) */
	if (o <= REC_MAX) {
		a->buf[o] = 0;
		*(__u64 *)&a->buf[o + 1] = v;
	}
	param_done(a, 9);
}

/* Bytes the next variable parameter may take so that `reserve` bytes are
 * left for the rest of the record; never more than cap (<= 4096). */
static __always_inline __u32 room(__u32 o, __u32 cap, __u32 reserve)
{
	__u32 r = REC_MAX - o; /* o <= REC_MAX here */
	r = r > reserve ? r - reserve : 0;
	if (cap > r)
		cap = r;
	if (cap > PATH_CAP)
		cap = PATH_CAP;
	return cap;
}

/* A NUL-terminated string from user (or kernel) memory; returns its length
 * with the NUL (0 when unreadable: the parameter is then empty). */
SUBPROG int put_str(struct aux *a, const void *ptr, __u32 cap, __u32 reserve, bool user)
{
	__u32 o = a->off;
	long n = 0;
	if (ptr && o <= REC_MAX) {
		cap = room(o, cap, reserve);
		n = user ? bpf_probe_read_user_str(&a->buf[o], cap, ptr)
			 : bpf_probe_read_kernel_str(&a->buf[o], cap, ptr);
		if (n < 0)
			n = 0;
	}
	param_done(a, n);
	return n;
}

static __always_inline long put_user_str(struct aux *a, const void *uptr, __u32 cap,
					 __u32 reserve)
{
	return put_str(a, uptr, cap, reserve, true);
}

static __always_inline long put_kernel_str(struct aux *a, const void *kptr, __u32 cap,
					   __u32 reserve)
{
	return put_str(a, kptr, cap, reserve, false);
}

/* len raw user bytes (BYTEBUF), cut to the room left. */
SUBPROG int put_user_bytes(struct aux *a, const void *uptr, __u64 len, __u32 reserve)
{
	__u32 o = a->off;
	__u32 n = 0;
	if (uptr && len && o <= REC_MAX) {
		n = room(o, len > PATH_CAP ? PATH_CAP : (__u32)len, reserve);
		if (bpf_probe_read_user(&a->buf[o], n, uptr))
			n = 0;
	}
	param_done(a, n);
	return n;
}

/* Write the header and hand the record to the ring; slot is the calling
 * program's counters.  A record without exactly its table's parameter count
 * (a probe bug) is dropped as too large rather than sent malformed. */
static __always_inline void rec_submit(struct aux *a, __u32 slot, __u16 type, __u32 nparams)
{
	struct counters *c = bpf_map_lookup_elem(&counters, &slot);
	if (!c)
		return;
	__u32 len = a->off;
	if (len > REC_MAX || a->idx != nparams) {
		c->drops_size++;
		return;
	}
	*(__u64 *)&a->buf[0] = bpf_ktime_get_boot_ns(); /* userspace adds the epoch offset */
	*(__u64 *)&a->buf[8] = (__u32)a->pid_tgid;
	*(__u32 *)&a->buf[16] = len;
	*(__u16 *)&a->buf[20] = type;
	*(__u32 *)&a->buf[22] = nparams;
	if (bpf_ringbuf_output(&ring, a->buf, len, BPF_RB_NO_WAKEUP))
		c->drops_buffer++;
}

#define BEGIN(code) rec_begin(a, FL_NP_##code)
#define SUBMIT(code) rec_submit(a, 0, code, FL_NP_##code)
#define ARG(i) (a->args[i])
#define IARG(i) ((__s64)(__s32)a->args[i]) /* int arguments (fds, ids) */
#define RES (a->ret)

/* ---------------------------------------------------------- sockets */

struct endpoints {
	__u8 fam;
	__u8 laddr[16], raddr[16];
	__u16 lport, rport; /* host order */
};

static __always_inline struct sock *fd_sock(__s64 fd)
{
	struct file *f = fd_file(fd);
	if (!f)
		return 0;
	struct socket *s = BPF_CORE_READ(f, private_data);
	return s ? BPF_CORE_READ(s, sk) : 0;
}

/* Local end of an inet socket (the inet_sock fields) and, optionally, the
 * remote end the socket is connected to. */
static __always_inline void sock_ends(struct sock *sk, struct endpoints *e, bool remote)
{
	struct inet_sock *inet = (void *)sk;
	e->fam = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->lport = bpf_ntohs(BPF_CORE_READ(inet, inet_sport));
	if (e->fam == 2) {
		__u32 l = BPF_CORE_READ(inet, inet_saddr);
		__builtin_memcpy(e->laddr, &l, 4);
	} else if (e->fam == 10) {
		BPF_CORE_READ_INTO(&e->laddr, sk, __sk_common.skc_v6_rcv_saddr);
	}
	if (!remote)
		return;
	e->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (e->fam == 2) {
		__u32 r = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(e->raddr, &r, 4);
	} else if (e->fam == 10) {
		BPF_CORE_READ_INTO(&e->raddr, sk, __sk_common.skc_v6_daddr);
	}
}

/* Remote end from the sockaddr staged in a->sa; false when it does not
 * match the socket's family. */
static __always_inline bool sa_remote(struct aux *a, struct endpoints *e)
{
	__u32 len = a->sa_len;
	__u16 fam = *(__u16 *)&a->sa[0];
	if (fam != e->fam)
		return false;
	if (fam == 2 && len >= 8) {
		__builtin_memcpy(e->raddr, &a->sa[4], 4);
		e->rport = bpf_ntohs(*(__u16 *)&a->sa[2]);
		return true;
	}
	if (fam == 10 && len >= 24) {
		__builtin_memcpy(e->raddr, &a->sa[8], 16);
		e->rport = bpf_ntohs(*(__u16 *)&a->sa[2]);
		return true;
	}
	return false;
}

/* Stage a user sockaddr in a->sa. */
static __always_inline void sa_from_user(struct aux *a, const void *uptr, __u64 len)
{
	a->sa_len = 0;
	if (!uptr || len < 2)
		return;
	if (len > SA_CAP)
		len = SA_CAP;
	if (bpf_probe_read_user(a->sa, len, uptr) == 0)
		a->sa_len = len;
}

/* SOCKADDR parameter from a->sa (scap-format.md 4.3). */
SUBPROG int put_sockaddr(struct aux *a)
{
	__u32 o = a->off, len = a->sa_len, n = 0;
	if (o > REC_MAX || len < 2) {
		param_done(a, 0);
		return 0;
	}
	__u16 fam = *(__u16 *)&a->sa[0];
	__u8 *p = &a->buf[o];
	if (fam == 2 && len >= 8) {
		p[0] = 2;
		__builtin_memcpy(p + 1, &a->sa[4], 4);
		*(__u16 *)(p + 5) = bpf_ntohs(*(__u16 *)&a->sa[2]);
		n = 7;
	} else if (fam == 10 && len >= 24) {
		p[0] = 10;
		__builtin_memcpy(p + 1, &a->sa[8], 16);
		*(__u16 *)(p + 17) = bpf_ntohs(*(__u16 *)&a->sa[2]);
		n = 19;
	} else if (fam == 1) {
		/* abstract names drop the kernel name's leading NUL */
		__u32 from = (len > 2 && a->sa[2] == 0) ? 3 : 2;
		p[0] = 1;
		long m = bpf_probe_read_kernel_str(p + 1, 109, &a->sa[from & 3]);
		if (m <= 0) {
			p[1] = 0;
			m = 1;
		}
		n = 1 + m;
	}
	param_done(a, n);
	return n;
}

/* SOCKTUPLE for an inet socket; outbound: src = local, dst = remote. */
static __always_inline int put_inet_tuple(struct aux *a, struct endpoints *e, bool outbound)
{
	__u32 o = a->off, n = 0;
	if (o > REC_MAX) {
		param_done(a, 0);
		return 0;
	}
	__u8 *p = &a->buf[o];
	__u8 *s = outbound ? e->laddr : e->raddr, *d = outbound ? e->raddr : e->laddr;
	__u16 sp = outbound ? e->lport : e->rport, dp = outbound ? e->rport : e->lport;
	if (e->fam == 2) {
		p[0] = 2;
		__builtin_memcpy(p + 1, s, 4);
		*(__u16 *)(p + 5) = sp;
		__builtin_memcpy(p + 7, d, 4);
		*(__u16 *)(p + 11) = dp;
		n = 13;
	} else if (e->fam == 10) {
		p[0] = 10;
		__builtin_memcpy(p + 1, s, 16);
		*(__u16 *)(p + 17) = sp;
		__builtin_memcpy(p + 19, d, 16);
		*(__u16 *)(p + 35) = dp;
		n = 37;
	}
	param_done(a, n);
	return n;
}

/* SOCKTUPLE for a unix socket: family, two kernel socket addresses (peer
 * first on outbound calls, local first on inbound ones), then the bound path
 * of the local end, or else of the peer. */
SUBPROG int put_unix_tuple(struct aux *a, struct sock *sk, bool outbound)
{
	__u32 o = a->off;
	if (o > REC_MAX) {
		param_done(a, 0);
		return 0;
	}
	struct unix_sock *us = (void *)sk;
	struct sock *peer = BPF_CORE_READ(us, peer);
	__u8 *p = &a->buf[o];
	p[0] = 1;
	*(__u64 *)(p + 1) = outbound ? (__u64)peer : (__u64)sk;
	*(__u64 *)(p + 9) = outbound ? (__u64)sk : (__u64)peer;
	struct unix_address *ua = BPF_CORE_READ(us, addr);
	if (!ua && peer)
		ua = BPF_CORE_READ((struct unix_sock *)peer, addr);
	__u32 m = 0;
	if (ua) {
		char *path = (char *)ua + bpf_core_field_offset(struct unix_address, name) +
			     bpf_core_field_offset(struct sockaddr_un, sun_path);
		int alen = BPF_CORE_READ(ua, len); /* family + path bytes */
		char first = 0;
		bpf_probe_read_kernel(&first, 1, path);
		if (first) {
			long r = bpf_probe_read_kernel_str(p + 17, 108, path);
			m = r > 0 ? r - 1 : 0;
		} else if (alen > 3) {
			/* abstract: length-delimited, without the leading NUL */
			__u32 n = alen - 3;
			OPAQUE(n);
			if (n > 107)
				n = 107;
			if (bpf_probe_read_kernel(p + 17, n, path + 1) == 0)
				m = n;
		}
	}
	OPAQUE(m);
	if (m > 107)
		m = 107;
	p[17 + m] = 0;
	param_done(a, 18 + m);
	return 18 + m;
}

/* SOCKTUPLE of the socket behind fd; for inet sockets the remote end comes
 * from a->sa when it is staged there (connect, sendto/recvfrom addresses),
 * else from the socket. */
SUBPROG int put_fd_tuple(struct aux *a, __s64 fd, bool outbound)
{
	struct sock *sk = fd_sock(fd);
	if (!sk) {
		param_done(a, 0);
		return 0;
	}
	__u16 fam = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (fam == 1)
		return put_unix_tuple(a, sk, outbound);
	if (fam != 2 && fam != 10) {
		param_done(a, 0);
		return 0;
	}
	struct endpoints e = {};
	sock_ends(sk, &e, false);
	if (!sa_remote(a, &e))
		sock_ends(sk, &e, true);
	return put_inet_tuple(a, &e, outbound);
}

/* ---------------------------------------------------------- process info */

/* exe (argv[0]) and args (argv[1..]) of the current mm: the argument area
 * of the stack, valid after a successful execve and in clone's both sides. */
/* [start, end) of the task's argument area (env: its environment); false
 * when it has none (kernel threads). */
static __always_inline bool mm_area(struct aux *a, bool env, unsigned long *start,
				    unsigned long *end)
{
	struct task_struct *t = (void *)a->task;
	struct mm_struct *mm = BPF_CORE_READ(t, mm);
	*start = *end = 0;
	if (mm) {
		*start = env ? BPF_CORE_READ(mm, env_start) : BPF_CORE_READ(mm, arg_start);
		*end = env ? BPF_CORE_READ(mm, env_end) : BPF_CORE_READ(mm, arg_end);
	}
	return *start && *end > *start;
}

SUBPROG int put_exe_args_mm(struct aux *a, __u32 reserve)
{
	unsigned long start, end;
	if (!mm_area(a, false, &start, &end)) {
		put_empty(a);
		put_empty(a);
		return 0;
	}
	long n = put_user_str(a, (void *)start, PATH_CAP, reserve + ARGS_CAP);
	__u64 rest = (n > 0 && end - start > (unsigned long)n) ? end - start - n : 0;
	put_user_bytes(a, rest ? (void *)(start + n) : 0, rest > ARGS_CAP ? ARGS_CAP : rest,
		       reserve);
	return 0;
}

/* env: the "K=V\0" strings of the task's mm (after a failed execve, still
 * the caller's), at most ENV_CAP bytes as libscap keeps. */
#define ENV_CAP 4096u
SUBPROG int put_env(struct aux *a, __u32 reserve)
{
	unsigned long start, end;
	if (!mm_area(a, true, &start, &end)) {
		put_empty(a);
		return 0;
	}
	put_user_bytes(a, (void *)start, end - start > ENV_CAP ? ENV_CAP : end - start, reserve);
	return 0;
}

/* exe and args from the argv pointers of a failed execve (the old mm is
 * still there). */
SUBPROG int put_exe_args_argv(struct aux *a, const char *const *argv, __u32 reserve)
{
	const char *p = 0;
	if (argv)
		bpf_probe_read_user(&p, sizeof p, &argv[0]);
	put_user_str(a, p, PATH_CAP, reserve + ARGS_CAP);
	__u32 o = a->off, used = 0;
	if (!argv || o > REC_MAX) {
		put_empty(a);
		return 0;
	}
	__u32 cap = room(o, ARGS_CAP, reserve);
	for (int i = 1; i < MAX_ARGV; i++) {
		if (used >= cap || used >= ARGS_CAP)
			break;
		if (bpf_probe_read_user(&p, sizeof p, &argv[i]) || !p)
			break;
		__u32 left = cap - used;
		OPAQUE(left); /* the verifier does not relate cap and used */
		if (left > ARGS_CAP)
			break;
		long m = bpf_probe_read_user_str(&a->buf[o + used], left, p);
		if (m <= 0)
			break;
		used += m;
	}
	param_done(a, used);
	return 0;
}

/* vm_rss and vm_swap in KiB: the approximate counter values, clamped at 0,
 * as /proc/PID/status shows them. */
static __always_inline void put_rss_swap(struct aux *a, struct mm_struct *mm)
{
	struct mm_struct___v62 *n = (void *)mm;
	struct mm_struct___old *o = (void *)mm;
	__s64 c[4] = {};
	/* constant indices: CO-RE scales them by the kernel's element size */
#define RSS_READ(i)                                                                 \
	do {                                                                        \
		if (bpf_core_field_exists(n->rss_stat))                             \
			bpf_core_read(&c[i], sizeof c[i], &n->rss_stat[i].count);   \
		else                                                                \
			bpf_core_read(&c[i], sizeof c[i], &o->rss_stat.count[i].counter); \
		if (c[i] < 0)                                                       \
			c[i] = 0;                                                   \
	} while (0)
	RSS_READ(0);
	RSS_READ(1);
	RSS_READ(2);
	RSS_READ(3);
#undef RSS_READ
	put_u32(a, (c[0] + c[1] + c[3]) << 2); /* pages of 4 KiB -> KiB */
	put_u32(a, c[2] << 2);
}

#define CG_SUBSYS 16  /* controllers looked at (CGROUP_SUBSYS_COUNT is 12-14) */
#define CG_DEPTH 8     /* path components kept, the innermost ones */
#define CG_CAP 1024u   /* bytes of the whole parameter */

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	struct kernfs_node___old *o = (void *)kn;
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	return BPF_CORE_READ(o, parent);
}

/* The cgroups parameter is written at buf[o]; its length so far and
 * whether an entry overflowed live in the map value, not in registers, so
 * that the verifier follows no ranges and no early exits through the
 * loops (each exit would be verified with the rest of the handler). */
/* The buf index of the parameter's next byte, or -1 (and full) when no
 * byte fits.  The sum is bounded on the register that indexes: older
 * verifiers (6.1) do not carry the bounds of o and u over to o + u. */
static __always_inline long cg_pos(struct aux *a, __u32 o, __u32 cap)
{
	__u32 u = a->cg_used;
	if (a->cg_full || u >= cap || u >= CG_CAP || o > REC_MAX) {
		a->cg_full = 1;
		return -1;
	}
	__u32 idx = o + u;
	OPAQUE(idx);
	if (idx >= REC_MAX + CG_CAP) {
		a->cg_full = 1;
		return -1;
	}
	return idx;
}

static __always_inline void cg_append(struct aux *a, __u32 o, __u32 cap, const char *s)
{
	long idx = cg_pos(a, o, cap);
	if (idx < 0 || idx >= REC_MAX + CG_CAP)
		return;
	__u32 left = cap - a->cg_used;
	OPAQUE(left);
	if (left > CG_CAP)
		return;
	long m = bpf_probe_read_kernel_str(&a->buf[idx], left, s);
	if (m <= 0 || m >= left) /* unreadable, or cut */
		a->cg_full = 1;
	else
		a->cg_used += m - 1;
}

static __always_inline void cg_char(struct aux *a, __u32 o, __u32 cap, char c)
{
	long idx = cg_pos(a, o, cap);
	if (idx < 0 || idx >= REC_MAX + CG_CAP)
		return;
	a->buf[idx] = c;
	a->cg_used += 1;
}

#ifndef FL_PROBE_COMPAT
struct cg_loop {
	struct aux *a;
	struct css_set *cs;
	__u32 o, cap;
};

/* bpf_loop callback: the "controller=/path\0" entry of controller i, the
 * path's components gathered innermost first.  Returns 1 (stop) once an
 * entry does not fit; that entry is taken back. */
static long cg_entry(__u32 i, struct cg_loop *l)
{
	struct aux *a = l->a;
	struct css_set *cs = l->cs; /* not inside bpf_core_read: a local type */
	__u32 o = l->o, cap = l->cap;
	struct cgroup_subsys_state *css = 0;
	if (i >= CG_SUBSYS)
		return 1;
	bpf_core_read(&css, sizeof css, &cs->subsys[i]);
	if (!css)
		return 0;
	__u32 start = a->cg_used;
	struct kernfs_node *kn = BPF_CORE_READ(css, cgroup, kn);
	a->cg_depth = 0;
	for (int d = 0; d < CG_DEPTH && kn; d++) {
		struct kernfs_node *up = kn_parent(kn);
		if (!up)
			break; /* the hierarchy's root: no component */
		a->cg_names[d] = (__u64)BPF_CORE_READ(kn, name);
		a->cg_depth = d + 1;
		kn = up;
	}
	cg_append(a, o, cap, BPF_CORE_READ(css, ss, name));
	cg_char(a, o, cap, '=');
	if (a->cg_depth == 0)
		cg_char(a, o, cap, '/');
	for (int d = CG_DEPTH - 1; d >= 0; d--) {
		if (d < a->cg_depth) {
			cg_char(a, o, cap, '/');
			cg_append(a, o, cap, (const char *)a->cg_names[d]);
		}
	}
	cg_char(a, o, cap, '\0');
	if (!a->cg_full)
		return 0;
	a->cg_used = start;
	return 1;
}

/* cgroups: "controller=/path\0" for each controller the task is in, as
 * /proc/PID/cgroup has them (the innermost CG_DEPTH components of a path);
 * from the first entry that does not fit on, entries are left out.  Needs
 * bpf_loop (5.17+), which verifies the loop body once: unrolled, the
 * nested loops exceed the verifier's budget.  Older kernels cannot load a
 * program that refers to the callback at all ("number of funcs in func_info
 * doesn't match"): the compat build leaves cgroups empty, and the agent
 * keeps the parent's. */
SUBPROG int put_cgroups(struct aux *a, __u32 reserve)
{
	struct task_struct *t = (void *)a->task;
	struct cg_loop l = {.a = a, .cs = BPF_CORE_READ(t, cgroups), .o = a->off};
	a->cg_used = 0;
	a->cg_full = 0;
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_loop) && l.cs &&
	    l.o <= REC_MAX) {
		l.cap = room(l.o, CG_CAP, reserve);
		__u32 n = bpf_core_enum_value(enum cgroup_subsys_id, CGROUP_SUBSYS_COUNT);
		bpf_loop(n < CG_SUBSYS ? n : CG_SUBSYS, cg_entry, &l, 0);
	}
	__u32 used = a->cg_used;
	param_done(a, used <= CG_CAP ? used : 0);
	return 0;
}
#else
SUBPROG int put_cgroups(struct aux *a, __u32 reserve)
{
	(void)reserve;
	param_done(a, 0);
	return 0;
}
#endif

/* Parameters 3..14 shared by execve and clone: tid, pid, ptid, cwd,
 * fdlimit, pgft_maj, pgft_min, vm_size, vm_rss, vm_swap, comm, cgroups. */
SUBPROG int put_proc_common(struct aux *a, __u32 reserve)
{
	struct task_struct *t = (void *)a->task;
	put_u64(a, (__u32)a->pid_tgid);
	put_u64(a, a->pid_tgid >> 32);
	put_u64(a, BPF_CORE_READ(t, real_parent, pid));
	put_empty(a); /* cwd: needs a dentry walk, not collected */
	put_u64(a, BPF_CORE_READ(t, signal, rlim[7].rlim_cur)); /* RLIMIT_NOFILE */
	put_u64(a, BPF_CORE_READ(t, maj_flt));
	put_u64(a, BPF_CORE_READ(t, min_flt));
	struct mm_struct *mm = BPF_CORE_READ(t, mm);
	if (mm) {
		put_u32(a, BPF_CORE_READ(mm, total_vm) << 2); /* pages of 4 KiB -> KiB */
		put_rss_swap(a, mm);
	} else { /* kernel threads */
		put_empty(a);
		put_empty(a);
		put_empty(a);
	}
	put_kernel_str(a, t->comm, 16, 0);
	put_cgroups(a, reserve);
	return 0;
}

static __always_inline __u32 tty_of(struct task_struct *t)
{
	struct tty_struct *tty = BPF_CORE_READ(t, signal, tty);
	if (!tty)
		return 0;
	__u32 major = BPF_CORE_READ(tty, driver, major);
	__u32 minor = BPF_CORE_READ(tty, driver, minor_start) + BPF_CORE_READ(tty, index);
	return encode_dev(major, minor);
}

/* EXE_FROM_MEMFD: memfd files are named "memfd:<name>". */
static __always_inline bool exe_from_memfd(struct file *exe)
{
	char name[6] = {};
	const unsigned char *p = BPF_CORE_READ(exe, f_path.dentry, d_name.name);
	if (!p || bpf_probe_read_kernel(name, sizeof name, p))
		return false;
	return name[0] == 'm' && name[1] == 'e' && name[2] == 'm' && name[3] == 'f' &&
	       name[4] == 'd' && name[5] == ':';
}

/* execve (293, 31 params) and execveat (331, 30 params). */
SUBPROG int h_execve(struct aux *a, bool at)
{
	struct task_struct *t = (void *)a->task;
	const __u32 tail = 256 + (at ? 0 : 1024); /* the fixed tail, and filename */
	if (at)
		BEGIN(331);
	else
		BEGIN(293);
	put_u64(a, RES);
	if (RES == 0)
		put_exe_args_mm(a, tail);
	else
		put_exe_args_argv(a, (const char *const *)(at ? ARG(2) : ARG(1)), tail);
	put_proc_common(a, tail);
	put_env(a, tail);
	put_u32(a, tty_of(t));
	struct signal_struct *sig = BPF_CORE_READ(t, signal);
	struct pid *pg = BPF_CORE_READ(sig, pids[2]); /* PIDTYPE_PGID */
	__u32 level = BPF_CORE_READ(t, thread_pid, level);
	put_u64(a, pid_nr_at(pg, level)); /* vpgid */
	if (bpf_core_field_exists(t->loginuid))
		put_u32(a, BPF_CORE_READ(t, loginuid.val));
	else
		put_u32(a, 0xffffffff);
	struct file *exe = BPF_CORE_READ(t, mm, exe_file);
	put_u32(a, exe && exe_from_memfd(exe) ? 0x4 : 0); /* execve_flags */
	const struct cred *cr = BPF_CORE_READ(t, cred);
	__u64 cap = 0;
	bpf_core_read(&cap, sizeof cap, &cr->cap_inheritable);
	put_u64(a, cap);
	bpf_core_read(&cap, sizeof cap, &cr->cap_permitted);
	put_u64(a, cap);
	bpf_core_read(&cap, sizeof cap, &cr->cap_effective);
	put_u64(a, cap);
	struct inode *ino = exe ? BPF_CORE_READ(exe, f_inode) : 0;
	if (ino) {
		put_u64(a, BPF_CORE_READ(ino, i_ino));
		put_u64(a, inode_ctime(ino));
		put_u64(a, inode_mtime(ino));
	} else {
		put_empty(a);
		put_empty(a);
		put_empty(a);
	}
	put_u32(a, BPF_CORE_READ(cr, euid.val));
	put_empty(a); /* trusted_exepath: bpf_d_path is not allowed here */
	put_u64(a, pid_nr_at(pg, 0)); /* pgid */
	put_u32(a, BPF_CORE_READ(cr, egid.val));
	if (at) {
		stash_take(NR_execveat); /* only its number was needed */
		SUBMIT(331);
	} else {
		/* read at enter: the old mm is gone after a successful exec */
		struct stash *st = stash_take(NR_execve);
		if (st && st->len)
			put_kernel_str(a, st->data, PATH_CAP, 0);
		else if (RES != 0)
			put_user_str(a, (void *)ARG(0), PATH_CAP, 0);
		else
			put_empty(a);
		SUBMIT(293);
	}
	return 0;
}

/* clone (223), fork (225), vfork (227), clone3 (335): same 21 params, sent
 * by both the parent (res = child tid) and the child (res = 0). */
SUBPROG int h_clone(struct aux *a, __u16 code)
{
	struct task_struct *t = (void *)a->task;
	__u64 raw = 0;
	if (a->nr == NR_clone)
		raw = ARG(0);
	else if (a->nr == NR_vfork)
		raw = 0x4000 | 0x100; /* CLONE_VFORK | CLONE_VM */
	else if (a->nr == NR_clone3)
		bpf_probe_read_user(&raw, sizeof raw, (void *)ARG(0)); /* clone_args.flags */
	rec_begin(a, FL_NP_223);
	put_u64(a, RES);
	put_exe_args_mm(a, 128);
	put_proc_common(a, 64); /* flags, uid, gid, vtid, vpid follow */
	struct pid *tp = BPF_CORE_READ(t, thread_pid);
	__u32 level = BPF_CORE_READ(tp, level);
	__u32 flags = clone_flags(raw);
	if (RES == 0 && level > 0)
		flags |= 0x20000000; /* CHILD_IN_PIDNS */
	put_u32(a, flags);
	const struct cred *cr = BPF_CORE_READ(t, cred);
	put_u32(a, BPF_CORE_READ(cr, euid.val));
	put_u32(a, BPF_CORE_READ(cr, egid.val));
	put_u64(a, pid_nr_at(tp, level)); /* vtid */
	put_u64(a, pid_nr_at(BPF_CORE_READ(t, signal, pids[1]), level)); /* vpid (PIDTYPE_TGID) */
	put_empty(a); /* pidns_init_start_ts: not collected */
	rec_submit(a, 0, code, FL_NP_223);
	return 0;
}

/* ---------------------------------------------------------- files */

/* dev and ino of the file behind a new fd (empty when the call failed). */
static __always_inline void put_dev_ino(struct aux *a, struct file *f)
{
	struct inode *i = f ? BPF_CORE_READ(f, f_inode) : 0;
	if (i) {
		put_u32(a, inode_dev(i));
		put_u64(a, BPF_CORE_READ(i, i_ino));
	} else {
		put_empty(a);
		put_empty(a);
	}
}

/* The path saved at enter; read now when there is none (no enter seen,
 * entry evicted) or it was unreadable then (a page not yet faulted in,
 * which the call itself has since touched). */
static __always_inline void put_path_stash(struct aux *a, struct stash *st, const void *uptr)
{
	if (st && st->len) {
		put_kernel_str(a, st->data, PATH_CAP, 64);
	} else {
		put_user_str(a, uptr, PATH_CAP, 64);
	}
}

/* open (3), openat (307), openat2 (327), creat (59). */
SUBPROG int h_open(struct aux *a)
{
	struct stash *st = stash_take(a->nr);
	struct file *f = RES >= 0 ? fd_file(RES) : 0;
	__u32 created = f && (BPF_CORE_READ(f, f_mode) & FMODE_CREATED) ? 0x4000 : 0;
	__u64 flags = 0, mode = 0, resolve = 0;
	switch (a->nr) {
	case NR_open:
		BEGIN(3);
		put_u64(a, RES);
		put_path_stash(a, st, (void *)ARG(0));
		flags = ARG(1);
		put_u32(a, open_flags(flags) | created);
		put_u32(a, open_mode(flags, ARG(2)));
		put_dev_ino(a, f);
		SUBMIT(3);
		break;
	case NR_creat:
		BEGIN(59);
		put_u64(a, RES);
		put_path_stash(a, st, (void *)ARG(0));
		put_u32(a, ARG(1) & 07777);
		put_dev_ino(a, f);
		put_empty(a); /* creat_flags: overlay layers, not collected */
		SUBMIT(59);
		break;
	case NR_openat:
		BEGIN(307);
		put_u64(a, RES);
		put_u64(a, IARG(0));
		put_path_stash(a, st, (void *)ARG(1));
		flags = ARG(2);
		put_u32(a, open_flags(flags) | created);
		put_u32(a, open_mode(flags, ARG(3)));
		put_dev_ino(a, f);
		SUBMIT(307);
		break;
	case NR_openat2: {
		/* struct open_how { u64 flags, mode, resolve; } */
		__u64 how[3] = {};
		bpf_probe_read_user(how, sizeof how, (void *)ARG(2));
		flags = how[0];
		mode = how[1];
		resolve = how[2];
		BEGIN(327);
		put_u64(a, RES);
		put_u64(a, IARG(0));
		put_path_stash(a, st, (void *)ARG(1));
		put_u32(a, open_flags(flags) | created);
		put_u32(a, open_mode(flags, mode));
		put_u32(a, resolve & 0x3f); /* RESOLVE_* = PPM values */
		put_dev_ino(a, f);
		SUBMIT(327);
		break;
	}
	}
	return 0;
}

/* Paths of the fs-changing calls; reserve keeps two paths under REC_MAX. */
#define P1 64u
#define P2 (PATH_CAP - 128u)

SUBPROG int h_fs(struct aux *a)
{
	switch (a->nr) {
	case NR_rename:
		BEGIN(175);
		put_u64(a, RES);
		put_user_str(a, (void *)ARG(0), P2, P1 + P2);
		put_user_str(a, (void *)ARG(1), P2, P1);
		SUBMIT(175);
		break;
	case NR_renameat:
	case NR_renameat2:
		if (a->nr == NR_renameat)
			BEGIN(177);
		else
			BEGIN(319);
		put_u64(a, RES);
		put_u64(a, IARG(0));
		put_user_str(a, (void *)ARG(1), P2, P1 + P2);
		put_u64(a, IARG(2));
		put_user_str(a, (void *)ARG(3), P2, P1);
		if (a->nr == NR_renameat) {
			SUBMIT(177);
		} else {
			put_u32(a, ARG(4) & 7);
			SUBMIT(319);
		}
		break;
	case NR_unlink:
		BEGIN(301);
		put_u64(a, RES);
		put_user_str(a, (void *)ARG(0), PATH_CAP, P1);
		SUBMIT(301);
		break;
	case NR_unlinkat:
		BEGIN(303);
		put_u64(a, RES);
		put_u64(a, IARG(0));
		put_user_str(a, (void *)ARG(1), PATH_CAP, P1);
		put_u32(a, ARG(2) & 0x200); /* AT_REMOVEDIR */
		SUBMIT(303);
		break;
	case NR_mkdir:
		BEGIN(277);
		put_u64(a, RES);
		put_user_str(a, (void *)ARG(0), PATH_CAP, P1);
		put_u32(a, ARG(1));
		SUBMIT(277);
		break;
	case NR_mkdirat:
		BEGIN(305);
		put_u64(a, RES);
		put_u64(a, IARG(0));
		put_user_str(a, (void *)ARG(1), PATH_CAP, P1);
		put_u32(a, ARG(2));
		SUBMIT(305);
		break;
	case NR_chdir: /* the tracker follows the cwd to resolve relative paths */
		BEGIN(95);
		put_u64(a, RES);
		put_user_str(a, (void *)ARG(0), PATH_CAP, P1);
		SUBMIT(95);
		break;
	case NR_fchdir:
		BEGIN(97);
		put_u64(a, RES);
		put_u64(a, IARG(0));
		SUBMIT(97);
		break;
	case NR_rmdir:
		BEGIN(279);
		put_u64(a, RES);
		put_user_str(a, (void *)ARG(0), PATH_CAP, P1);
		SUBMIT(279);
		break;
	case NR_symlink:
		BEGIN(179);
		put_u64(a, RES);
		put_user_str(a, (void *)ARG(0), P2, P1 + P2);
		put_user_str(a, (void *)ARG(1), P2, P1);
		SUBMIT(179);
		break;
	case NR_symlinkat:
		BEGIN(181);
		put_u64(a, RES);
		put_user_str(a, (void *)ARG(0), P2, P1 + P2);
		put_u64(a, IARG(1));
		put_user_str(a, (void *)ARG(2), P2, P1);
		SUBMIT(181);
		break;
	case NR_link:
		BEGIN(309);
		put_u64(a, RES);
		put_user_str(a, (void *)ARG(0), P2, P1 + P2);
		put_user_str(a, (void *)ARG(1), P2, P1);
		SUBMIT(309);
		break;
	case NR_linkat:
		BEGIN(311);
		put_u64(a, RES);
		put_u64(a, IARG(0));
		put_user_str(a, (void *)ARG(1), P2, P1 + P2);
		put_u64(a, IARG(2));
		put_user_str(a, (void *)ARG(3), P2, P1);
		put_u32(a, ARG(4) & (0x400 | 0x1000)); /* AT_SYMLINK_FOLLOW, AT_EMPTY_PATH */
		SUBMIT(311);
		break;
	}
	return 0;
}

SUBPROG int h_attr(struct aux *a)
{
	switch (a->nr) {
	case NR_chmod:
		BEGIN(315);
		put_u64(a, RES);
		put_user_str(a, (void *)ARG(0), PATH_CAP, P1);
		put_u32(a, ARG(1) & 07777);
		SUBMIT(315);
		break;
	case NR_fchmod:
		BEGIN(317);
		put_u64(a, RES);
		put_u64(a, IARG(0));
		put_u32(a, ARG(1) & 07777);
		SUBMIT(317);
		break;
	case NR_fchmodat:
		BEGIN(313);
		put_u64(a, RES);
		put_u64(a, IARG(0));
		put_user_str(a, (void *)ARG(1), PATH_CAP, P1);
		put_u32(a, ARG(2) & 07777);
		SUBMIT(313);
		break;
	case NR_chown:
	case NR_lchown:
		if (a->nr == NR_chown)
			BEGIN(379);
		else
			BEGIN(381);
		put_u64(a, RES);
		put_user_str(a, (void *)ARG(0), PATH_CAP, P1);
		put_u32(a, ARG(1));
		put_u32(a, ARG(2));
		if (a->nr == NR_chown)
			SUBMIT(379);
		else
			SUBMIT(381);
		break;
	case NR_fchown:
		BEGIN(383);
		put_u64(a, RES);
		put_u64(a, IARG(0));
		put_u32(a, ARG(1));
		put_u32(a, ARG(2));
		SUBMIT(383);
		break;
	case NR_fchownat:
		BEGIN(385);
		put_u64(a, RES);
		put_u64(a, IARG(0));
		put_user_str(a, (void *)ARG(1), PATH_CAP, P1);
		put_u32(a, ARG(2));
		put_u32(a, ARG(3));
		/* AT_SYMLINK_NOFOLLOW -> 0x2, AT_EMPTY_PATH -> 0x1 (the PPM_AT_* values) */
		put_u32(a, ((ARG(4) & 0x100) ? 0x2 : 0) | ((ARG(4) & 0x1000) ? 0x1 : 0));
		SUBMIT(385);
		break;
	}
	return 0;
}

/* ---------------------------------------------------------- fds, sockets */

/* fcntl's cmd as the PPM_FCNTL_* value (0: unknown). */
static __always_inline __u8 fcntl_cmd(__u64 cmd)
{
	switch (cmd) {
	case 0: return 1;     /* F_DUPFD */
	case 1: return 2;     /* F_GETFD */
	case 2: return 3;     /* F_SETFD */
	case 3: return 4;     /* F_GETFL */
	case 4: return 5;     /* F_SETFL */
	case 5: return 6;     /* F_GETLK */
	case 6: return 8;     /* F_SETLK */
	case 7: return 9;     /* F_SETLKW */
	case 8: return 10;    /* F_SETOWN */
	case 9: return 12;    /* F_GETOWN */
	case 10: return 13;   /* F_SETSIG */
	case 11: return 15;   /* F_GETSIG */
	case 15: return 21;   /* F_SETOWN_EX */
	case 16: return 22;   /* F_GETOWN_EX */
	case 36: return 30;   /* F_OFD_GETLK */
	case 37: return 31;   /* F_OFD_SETLK */
	case 38: return 32;   /* F_OFD_SETLKW */
	case 1024: return 23; /* F_SETLEASE */
	case 1025: return 24; /* F_GETLEASE */
	case 1026: return 27; /* F_NOTIFY */
	case 1029: return 25; /* F_CANCELLK */
	case 1030: return 26; /* F_DUPFD_CLOEXEC */
	case 1031: return 28; /* F_SETPIPE_SZ */
	case 1032: return 29; /* F_GETPIPE_SZ */
	}
	return 0;
}

/* O_NONBLOCK and O_CLOEXEC of a new fd's flags, as PPM_O_* bits. */
static __always_inline __u32 nonblock_cloexec(__u64 flags)
{
	return ((flags & 04000) ? 0x40 : 0) | ((flags & 02000000) ? 0x1000 : 0);
}

SUBPROG int h_fd(struct aux *a)
{
	switch (a->nr) {
	case NR_close:
		BEGIN(5);
		put_u64(a, RES);
		put_u64(a, IARG(0));
		SUBMIT(5);
		break;
	case NR_fcntl:
		BEGIN(151);
		put_u64(a, RES);
		put_u64(a, IARG(0));
		put_u8(a, fcntl_cmd(ARG(1)));
		put_u64(a, ARG(2));
		SUBMIT(151);
		break;
	/* fds of a special kind; eventfd2, signalfd4 and inotify_init1 share their base's event */
	case NR_eventfd:
	case NR_eventfd2:
		BEGIN(63);
		put_u64(a, RES);
		SUBMIT(63);
		break;
	case NR_signalfd:
	case NR_signalfd4:
		BEGIN(127);
		put_u64(a, RES);
		SUBMIT(127);
		break;
	case NR_timerfd_create:
		BEGIN(137);
		put_u64(a, RES);
		SUBMIT(137);
		break;
	case NR_inotify_init:
	case NR_inotify_init1:
		BEGIN(139);
		put_u64(a, RES);
		SUBMIT(139);
		break;
	case NR_userfaultfd:
		BEGIN(321);
		put_u64(a, RES);
		put_u32(a, nonblock_cloexec(ARG(0)));
		SUBMIT(321);
		break;
	case NR_dup:
		BEGIN(367);
		put_u64(a, RES);
		put_u64(a, IARG(0));
		SUBMIT(367);
		break;
	case NR_dup2:
		BEGIN(363);
		put_u64(a, RES);
		put_u64(a, IARG(0));
		put_u64(a, IARG(1));
		SUBMIT(363);
		break;
	case NR_dup3:
		BEGIN(365);
		put_u64(a, RES);
		put_u64(a, IARG(0));
		put_u64(a, IARG(1));
		put_u32(a, (ARG(2) & 02000000) ? 0x1000 : 0); /* O_CLOEXEC */
		SUBMIT(365);
		break;
	case NR_pipe:
	case NR_pipe2: {
		int fds[2] = {-1, -1};
		if (RES == 0)
			bpf_probe_read_user(fds, sizeof fds, (void *)ARG(0));
		if (a->nr == NR_pipe)
			BEGIN(61);
		else
			BEGIN(393);
		put_u64(a, RES);
		if (RES == 0) {
			put_u64(a, (__s64)fds[0]);
			put_u64(a, (__s64)fds[1]);
			struct file *f = fd_file(fds[0]);
			if (f)
				put_u64(a, BPF_CORE_READ(f, f_inode, i_ino));
			else
				put_empty(a);
		} else {
			put_empty(a);
			put_empty(a);
			put_empty(a);
		}
		if (a->nr == NR_pipe) {
			SUBMIT(61);
		} else {
			put_u32(a, open_flags(ARG(1) & (02000000 | 04000 | 040000)) & ~0x3u);
			SUBMIT(393);
		}
		break;
	}
	case NR_memfd_create:
		BEGIN(405);
		put_u64(a, RES);
		put_user_str(a, (void *)ARG(0), 256, P1);
		put_u32(a, ARG(1) & 0x7); /* MFD_CLOEXEC, ALLOW_SEALING, HUGETLB */
		SUBMIT(405);
		break;
	}
	return 0;
}

SUBPROG int h_sock(struct aux *a)
{
	a->sa_len = 0;
	switch (a->nr) {
	case NR_socket: {
		__u64 ty = ARG(1);
		BEGIN(19);
		put_u64(a, RES);
		put_u32(a, ARG(0));
		put_u32(a, ty);
		put_u32(a, ARG(2));
		put_u32(a, nonblock_cloexec(ty));
		SUBMIT(19);
		break;
	}
	case NR_socketpair: {
		int fds[2] = {-1, -1};
		if (RES == 0)
			bpf_probe_read_user(fds, sizeof fds, (void *)ARG(3));
		struct sock *sk = RES == 0 ? fd_sock(fds[0]) : 0;
		BEGIN(43);
		put_u64(a, RES);
		put_u64(a, fds[0]);
		put_u64(a, fds[1]);
		put_u64(a, (__u64)sk); /* source and peer: the two ends' kernel addresses */
		put_u64(a, sk && ARG(0) == 1 ? (__u64)BPF_CORE_READ((struct unix_sock *)sk, peer)
					      : 0);
		put_u32(a, ARG(0));
		put_u32(a, ARG(1));
		put_u32(a, ARG(2));
		SUBMIT(43);
		break;
	}
	case NR_bind:
		sa_from_user(a, (void *)ARG(1), ARG(2));
		BEGIN(21);
		put_u64(a, RES);
		put_sockaddr(a);
		put_u64(a, IARG(0));
		SUBMIT(21);
		break;
	case NR_connect: {
		struct stash *st = stash_take(NR_connect);
		if (st) {
			__u32 n = st->len;
			if (n > SA_CAP)
				n = SA_CAP;
			if (n >= 2 && bpf_probe_read_kernel(a->sa, n, st->data) == 0)
				a->sa_len = n;
		}
		if (!a->sa_len) /* as for paths: none saved, or unreadable at enter */
			sa_from_user(a, (void *)ARG(1), ARG(2));
		BEGIN(23);
		put_u64(a, RES);
		if (RES == 0 || RES == -115) /* EINPROGRESS: non-blocking connect */
			put_fd_tuple(a, IARG(0), true);
		else
			put_empty(a);
		put_u64(a, IARG(0));
		put_sockaddr(a);
		SUBMIT(23);
		break;
	}
	case NR_listen:
		BEGIN(25);
		put_u64(a, RES);
		put_u64(a, IARG(0));
		put_u32(a, ARG(1));
		SUBMIT(25);
		break;
	case NR_accept:
	case NR_accept4: {
		if (a->nr == NR_accept)
			BEGIN(247);
		else
			BEGIN(389);
		put_u64(a, RES);
		if (RES >= 0)
			put_fd_tuple(a, RES, false);
		else
			put_empty(a);
		struct sock *ls = fd_sock(IARG(0));
		if (ls) {
			__u32 qlen = BPF_CORE_READ(ls, sk_ack_backlog);
			__u32 qmax = BPF_CORE_READ(ls, sk_max_ack_backlog);
			put_u8(a, qmax ? (__u8)(qlen * 100 / qmax) : 0);
			put_u32(a, qlen);
			put_u32(a, qmax);
		} else {
			put_empty(a);
			put_empty(a);
			put_empty(a);
		}
		if (a->nr == NR_accept) {
			SUBMIT(247);
		} else {
			put_u32(a, ARG(3));
			SUBMIT(389);
		}
		break;
	}
	case NR_sendto:
	case NR_recvfrom: {
		bool out = a->nr == NR_sendto;
		if (out) {
			sa_from_user(a, (void *)ARG(4), ARG(5));
		} else if (ARG(4) && ARG(5)) {
			/* src_addr filled by the kernel; addrlen is in/out */
			__u32 alen = 0;
			bpf_probe_read_user(&alen, sizeof alen, (void *)ARG(5));
			sa_from_user(a, (void *)ARG(4), alen);
		}
		__u64 n = RES > 0 ? (RES < DATA_CAP ? RES : DATA_CAP) : 0;
		if (out)
			BEGIN(31);
		else
			BEGIN(35);
		put_u64(a, RES);
		put_user_bytes(a, n ? (void *)ARG(1) : 0, n, P1);
		if (out) {
			put_u64(a, IARG(0));
			put_u32(a, ARG(2));
			if (RES >= 0)
				put_fd_tuple(a, IARG(0), true);
			else
				put_empty(a);
			SUBMIT(31);
		} else {
			if (RES >= 0)
				put_fd_tuple(a, IARG(0), false);
			else
				put_empty(a);
			put_u64(a, IARG(0));
			put_u32(a, ARG(2));
			SUBMIT(35);
		}
		break;
	}
	}
	return 0;
}

/* ---------------------------------------------------------- identity, admin */

SUBPROG int h_id(struct aux *a)
{
	switch (a->nr) {
	case NR_setuid:
		BEGIN(199);
		put_u64(a, RES);
		put_u32(a, ARG(0));
		SUBMIT(199);
		break;
	case NR_setgid:
		BEGIN(201);
		put_u64(a, RES);
		put_u32(a, ARG(0));
		SUBMIT(201);
		break;
	case NR_setreuid:
		BEGIN(427);
		put_u64(a, RES);
		put_u32(a, ARG(0));
		put_u32(a, ARG(1));
		SUBMIT(427);
		break;
	case NR_setregid:
		BEGIN(429);
		put_u64(a, RES);
		put_u32(a, ARG(0));
		put_u32(a, ARG(1));
		SUBMIT(429);
		break;
	case NR_setresuid:
		BEGIN(193);
		put_u64(a, RES);
		put_u32(a, ARG(0));
		put_u32(a, ARG(1));
		put_u32(a, ARG(2));
		SUBMIT(193);
		break;
	case NR_setresgid:
		BEGIN(195);
		put_u64(a, RES);
		put_u32(a, ARG(0));
		put_u32(a, ARG(1));
		put_u32(a, ARG(2));
		SUBMIT(195);
		break;
	}
	return 0;
}

SUBPROG int h_admin(struct aux *a)
{
	switch (a->nr) {
	case NR_ptrace: {
		BEGIN(169);
		put_u64(a, RES);
		put_dyn_u64(a, ARG(2));
		put_dyn_u64(a, ARG(3));
		put_u16(a, ptrace_req(ARG(0)));
		put_u64(a, IARG(1));
		SUBMIT(169);
		break;
	}
	case NR_mount: {
		__u64 fl = ARG(3);
		if ((fl & 0xffff0000) == 0xc0ed0000) /* MS_MGC_VAL: legacy magic, not a flag */
			fl &= 0xffff;
		BEGIN(257);
		put_u64(a, RES);
		put_user_str(a, (void *)ARG(0), 1024, P1 + 1024 + 128);
		put_user_str(a, (void *)ARG(1), PATH_CAP, P1 + 128);
		put_user_str(a, (void *)ARG(2), 128, P1);
		put_u32(a, fl);
		SUBMIT(257);
		break;
	}
	case NR_umount2:
		BEGIN(391);
		put_u64(a, RES);
		put_user_str(a, (void *)ARG(0), PATH_CAP, P1);
		put_u32(a, ARG(1) & 0xf);
		SUBMIT(391);
		break;
	case NR_setns:
		BEGIN(241);
		put_u64(a, RES);
		put_u64(a, IARG(0));
		put_u32(a, clone_flags(ARG(1)));
		SUBMIT(241);
		break;
	case NR_unshare:
		BEGIN(285);
		put_u64(a, RES);
		put_u32(a, clone_flags(ARG(0)));
		SUBMIT(285);
		break;
	case NR_init_module:
		BEGIN(411);
		put_u64(a, RES);
		put_empty(a); /* img: the module image is not copied */
		put_u64(a, ARG(1));
		put_user_str(a, (void *)ARG(2), 1024, P1);
		SUBMIT(411);
		break;
	case NR_finit_module:
		BEGIN(413);
		put_u64(a, RES);
		put_u64(a, IARG(0));
		put_user_str(a, (void *)ARG(1), 1024, P1);
		put_u32(a, ARG(2));
		SUBMIT(413);
		break;
	case NR_bpf:
		BEGIN(369);
		put_u64(a, RES);
		put_u32(a, ARG(0));
		SUBMIT(369);
		break;
	}
	return 0;
}

SUBPROG int h_generic(struct aux *a)
{
	__u32 nr = a->nr;
	__u16 sc = nr < NSYSCALLS ? sc_table[nr & (NSYSCALLS - 1)] : 0;
	BEGIN(1);
	put_u16(a, sc);
	put_u16(a, nr);
	SUBMIT(1);
	return 0;
}

/* ---------------------------------------------------------- programs */

SEC("tp_btf/sys_exit")
int BPF_PROG(fl_sys_exit, struct pt_regs *regs, long ret)
{
	__u32 slot = 0;
	struct counters *c = bpf_map_lookup_elem(&counters, &slot);
	if (!c)
		return 0;
	if (in_compat()) {
		c->compat++;
		return 0;
	}
	__u64 nr = regs->orig_ax;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (nr == NR_execve || nr == NR_execveat) {
		/* a successful execveat reaches sys_exit with orig_ax = execve's
		 * number (seen on 6.18): the number saved at enter is the truth */
		struct stash *st = stash_peek();
		if (st && (st->nr == NR_execve || st->nr == NR_execveat))
			nr = st->nr;
	}
	if (nr >= NSYSCALLS || !is_interesting(nr) || (pid_tgid >> 32) == self_tgid) {
		c->filtered++;
		return 0;
	}
	c->seen++;
	struct aux *a = bpf_map_lookup_elem(&auxmap, &slot);
	if (!a) {
		c->drops_buffer++;
		return 0;
	}
	a->nr = nr;
	a->ret = ret;
	a->pid_tgid = pid_tgid;
	a->task = (__u64)cur_task();
	a->args[0] = regs->di;
	a->args[1] = regs->si;
	a->args[2] = regs->dx;
	a->args[3] = regs->r10;
	a->args[4] = regs->r8;
	a->args[5] = regs->r9;

	switch (nr) {
	case NR_execve:
		return h_execve(a, false);
	case NR_execveat:
		return h_execve(a, true);
	case NR_clone:
		return h_clone(a, 223);
	case NR_fork:
		return h_clone(a, 225);
	case NR_vfork:
		return h_clone(a, 227);
	case NR_clone3:
		return h_clone(a, 335);
	case NR_open:
	case NR_openat:
	case NR_openat2:
	case NR_creat:
		return h_open(a);
	case NR_rename: case NR_renameat: case NR_renameat2:
	case NR_unlink: case NR_unlinkat: case NR_mkdir: case NR_mkdirat:
	case NR_rmdir: case NR_symlink: case NR_symlinkat: case NR_link:
	case NR_linkat: case NR_chdir: case NR_fchdir:
		return h_fs(a);
	case NR_chmod: case NR_fchmod: case NR_fchmodat: case NR_chown:
	case NR_lchown: case NR_fchown: case NR_fchownat:
		return h_attr(a);
	case NR_close: case NR_dup: case NR_dup2: case NR_dup3: case NR_pipe:
	case NR_pipe2: case NR_memfd_create: case NR_fcntl: case NR_eventfd:
	case NR_eventfd2: case NR_signalfd: case NR_signalfd4: case NR_timerfd_create:
	case NR_inotify_init: case NR_inotify_init1: case NR_userfaultfd:
		return h_fd(a);
	case NR_socket: case NR_socketpair: case NR_bind: case NR_connect: case NR_listen:
	case NR_accept: case NR_accept4: case NR_sendto: case NR_recvfrom:
		return h_sock(a);
	case NR_setuid: case NR_setgid: case NR_setreuid: case NR_setregid:
	case NR_setresuid: case NR_setresgid:
		return h_id(a);
	case NR_ptrace: case NR_mount: case NR_umount2: case NR_setns:
	case NR_unshare: case NR_init_module: case NR_finit_module: case NR_bpf:
		return h_admin(a);
	}
	return h_generic(a);
}

/* Only the calls whose user-memory arguments must be read before the call:
 * the path of open*, creat and the address of connect (another thread could
 * change them in between), and the filename of execve/execveat (gone with
 * the old mm after a successful exec).  The record is still sent at exit.
 * (fentry on these calls' functions would spare the other syscalls this
 * program, but some hosts refuse fentry programs: EPERM on a 6.18 VM with
 * lockdown=integrity, where tp_btf loads.) */
SEC("tp_btf/sys_enter")
int BPF_PROG(fl_sys_enter, struct pt_regs *regs, long id)
{
	if (id != NR_open && id != NR_openat && id != NR_openat2 && id != NR_creat &&
	    id != NR_connect && id != NR_execve && id != NR_execveat)
		return 0;
	if (in_compat() || !is_interesting(id))
		return 0;
	if ((bpf_get_current_pid_tgid() >> 32) == self_tgid)
		return 0;
	struct stash *s = stash_slot();
	if (!s)
		return 0;
	s->nr = id;
	s->len = 0;
	if (id == NR_connect) {
		__u64 len = regs->dx;
		if (len > SA_CAP)
			len = SA_CAP;
		if (len >= 2 && bpf_probe_read_user(s->data, len, (void *)regs->si) == 0)
			s->len = len;
	} else {
		bool first = id == NR_open || id == NR_creat || id == NR_execve;
		const void *p = first ? (void *)regs->di : (void *)regs->si;
		long n = bpf_probe_read_user_str(s->data, PATH_CAP, p);
		if (n > 0)
			s->len = n;
	}
	stash_commit(s);
	return 0;
}

/* procexit (186), once per exiting thread; sent when exit or exit_group is
 * interesting (those two calls never return, so they have no exit event). */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(fl_proc_exit, struct task_struct *p)
{
	__u32 slot = 1;
	struct counters *c = bpf_map_lookup_elem(&counters, &slot);
	if (!c)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
#ifdef FL_PROBE_COMPAT
	__u32 tid = (__u32)pid_tgid;
	bpf_map_delete_elem(&inflight, &tid);
#endif
	if ((!is_interesting(NR_exit) && !is_interesting(NR_exit_group)) ||
	    (pid_tgid >> 32) == self_tgid) {
		c->filtered++;
		return 0;
	}
	c->seen++;
	struct aux *a = bpf_map_lookup_elem(&auxmap, &slot);
	if (!a) {
		c->drops_buffer++;
		return 0;
	}
	a->pid_tgid = pid_tgid;
	__s32 code = BPF_CORE_READ(cur_task(), exit_code);
	BEGIN(186);
	put_u64(a, (__s64)code);
	put_u64(a, (__s64)((code >> 8) & 0xff));
	put_u8(a, code & 0x7f);
	put_u8(a, (code & 0x80) ? 1 : 0);
	put_empty(a); /* reaper_tid: not collected */
	rec_submit(a, 1, 186, FL_NP_186);
	return 0;
}
