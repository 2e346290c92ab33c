/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * The few kernel types the falcolite probe reads, declared by hand instead of
 * a generated vmlinux.h.  Only the fields used are listed: with
 * preserve_access_index every access becomes a CO-RE relocation that libbpf
 * resolves by name against the running kernel's BTF, so the layout here
 * (field order, padding) does not matter.  Members that the kernel keeps in
 * anonymous structs/unions are declared directly; libbpf looks through
 * anonymous members when it matches a field name.
 */
#ifndef FALCOLITE_VMLINUX_MIN_H
#define FALCOLITE_VMLINUX_MIN_H

typedef signed char __s8;
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
#define true 1
#define false 0

/* The uapi enums and flags the map definitions and helpers use. */
enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_RINGBUF = 27,
	BPF_MAP_TYPE_TASK_STORAGE = 29,
};
enum {
	BPF_ANY = 0,
	BPF_RB_NO_WAKEUP = 1,
	BPF_F_NO_PREALLOC = 1,
	BPF_LOCAL_STORAGE_GET_F_CREATE = 1,
};
/* Only used in CO-RE existence tests (bpf_get_current_task_btf 5.11+,
 * bpf_loop 5.17+). */
enum bpf_func_id {
	BPF_FUNC_get_current_task_btf = 158,
	BPF_FUNC_loop = 181,
};

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct pt_regs {
	unsigned long r10, r9, r8, ax, dx, si, di, orig_ax;
};

struct thread_info {
	__u32 status;
};

typedef struct {
	__u32 val;
} kuid_t;
typedef struct {
	__u32 val;
} kgid_t;
/* u64 since 6.3, u32[2] before: both are read as 8 raw bytes. */
typedef struct {
	__u64 val;
} kernel_cap_t;

struct cred {
	kuid_t uid, euid;
	kgid_t gid, egid;
	kernel_cap_t cap_inheritable, cap_permitted, cap_effective;
};

struct qstr {
	__u32 len;
	const unsigned char *name;
};

struct super_block {
	__u32 s_dev;
};

struct timespec64 {
	__s64 tv_sec;
	long tv_nsec;
};

struct inode {
	unsigned short i_mode;
	unsigned long i_ino;
	struct super_block *i_sb;
};
/* The inode times moved three times; the flavours let CO-RE pick the one
 * the running kernel has (the ___suffix is dropped when matching). */
struct inode___v611 { /* 6.11+: split seconds/nanoseconds */
	__s64 i_ctime_sec, i_mtime_sec;
	__u32 i_ctime_nsec, i_mtime_nsec;
};
struct inode___v66 { /* 6.6-6.10: ctime private */
	struct timespec64 __i_ctime;
};
struct inode___v67 { /* 6.7-6.10: mtime private too */
	struct timespec64 __i_mtime;
};
struct inode___old { /* up to 6.5 */
	struct timespec64 i_ctime, i_mtime;
};

struct dentry {
	struct qstr d_name;
};

struct path {
	struct dentry *dentry;
};

struct file {
	unsigned int f_mode;
	void *private_data;
	struct inode *f_inode;
	struct path f_path;
};

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
};

struct files_struct {
	struct fdtable *fdt;
};

struct mm_struct {
	unsigned long arg_start, arg_end, env_start, env_end, total_vm;
	struct file *exe_file;
};
/* The RSS counters (MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES):
 * per-CPU counters since 6.2, atomic longs before. */
struct percpu_counter {
	__s64 count;
};
struct mm_struct___v62 {
	struct percpu_counter rss_stat[4];
};
struct atomic_long___old {
	__s64 counter;
};
struct mm_rss_stat___old {
	struct atomic_long___old count[4];
};
struct mm_struct___old {
	struct mm_rss_stat___old rss_stat;
};

struct upid {
	int nr;
};

struct pid {
	unsigned int level;
	struct upid numbers[1];
};

struct rlimit {
	unsigned long rlim_cur;
};

struct tty_driver {
	int major, minor_start;
};

struct tty_struct {
	int index;
	struct tty_driver *driver;
};

struct signal_struct {
	struct rlimit rlim[16];
	struct pid *pids[4];
	struct tty_struct *tty;
};

/* cgroups: the task's css_set holds one css per controller, each in a
 * cgroup whose kernfs node names one path component. */
struct kernfs_node {
	const char *name;
	struct kernfs_node *__parent; /* 6.15+ */
};
struct kernfs_node___old {
	struct kernfs_node *parent;
};
struct cgroup {
	struct kernfs_node *kn;
};
struct cgroup_subsys {
	const char *name;
};
struct cgroup_subsys_state {
	struct cgroup *cgroup;
	struct cgroup_subsys *ss;
};
struct css_set {
	struct cgroup_subsys_state *subsys[16];
};
enum cgroup_subsys_id {
	CGROUP_SUBSYS_COUNT = 16, /* the running kernel's value is read with CO-RE */
};

struct task_struct {
	struct thread_info thread_info;
	int pid, tgid;
	int exit_code;
	struct task_struct *real_parent;
	struct pid *thread_pid;
	char comm[16];
	struct mm_struct *mm;
	struct files_struct *files;
	struct signal_struct *signal;
	const struct cred *cred;
	kuid_t loginuid;
	unsigned long min_flt, maj_flt;
	struct css_set *cgroups;
};

struct in6_addr {
	__u8 s6_addr[16];
};

struct sock_common {
	__be32 skc_daddr, skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num;
	unsigned short skc_family;
	struct in6_addr skc_v6_daddr, skc_v6_rcv_saddr;
};

struct sock {
	struct sock_common __sk_common;
	__u32 sk_ack_backlog, sk_max_ack_backlog;
};

struct inet_sock {
	__be32 inet_saddr;
	__be16 inet_sport;
};

struct sockaddr_un {
	unsigned short sun_family;
	char sun_path[108];
};

struct unix_address {
	int len;
	struct sockaddr_un name[1];
};

struct unix_sock {
	struct unix_address *addr;
	struct sock *peer;
};

struct socket {
	struct sock *sk;
};

#pragma clang attribute pop

#endif
