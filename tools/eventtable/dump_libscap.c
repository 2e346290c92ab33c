/*
 * Dumps the event table, flag tables and syscall names compiled into the
 * installed libscap (Debian's libfalcosecurity0, the library sysdig 0.29.3
 * uses) as JSON on stdout.  gen_table.py turns that dump into
 * falcolite/events/table_data.py.  Build and run: see gen_table.py.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "driver/ppm_events_public.h"

struct ppm_syscall_desc {
	enum ppm_event_category category;
	enum ppm_event_flags flags;
	char *name;
};

extern const struct ppm_event_info g_event_info[];
extern const struct ppm_syscall_desc g_syscall_info_table[];
extern const struct syscall_evt_pair g_syscall_table[];
extern const enum ppm_syscall_code g_syscall_code_routing_table[];

static const char *const flag_tables[] = {
	"access_flags", "chmod_mode", "clone_flags", "execve_flags", "execveat_flags",
	"fcntl_commands", "file_flags", "flock_flags", "futex_operations", "linkat_flags",
	"lseek_whence", "mmap_flags", "mount_flags", "openat2_flags", "pf_flags",
	"poll_flags", "prot_flags", "ptrace_requests", "quotactl_cmds", "quotactl_dqi_flags",
	"quotactl_quota_fmts", "quotactl_types", "renameat2_flags", "rlimit_resources",
	"semctl_commands", "semget_flags", "semop_flags", "shutdown_how", "socket_families",
	"sockopt_levels", "sockopt_options", "splice_flags", "umount_flags", "unlinkat_flags",
};
#define NTABLES (sizeof(flag_tables) / sizeof(flag_tables[0]))

static const void *table_addr[NTABLES];

static const char *table_name(const void *p)
{
	for (size_t i = 0; i < NTABLES; i++)
		if (table_addr[i] == p)
			return flag_tables[i];
	return NULL;
}

static void dump_param(const struct ppm_param_info *p)
{
	printf("[\"%s\",%d,%d", p->name, (int)p->type, (int)p->fmt);
	if (p->type == PT_FSRELPATH) {
		printf(",%d", (int)(uintptr_t)p->info);
	} else if (p->type == PT_DYN && p->info) {
		const struct ppm_param_info *d = p->info;
		printf(",[");
		for (int i = 0; i < p->ninfo; i++) {
			printf(i ? "," : "");
			dump_param(&d[i]);
		}
		printf("]");
	} else if (p->info) {
		const char *n = table_name(p->info);
		printf(",\"%s\"", n ? n : "?");
	}
	printf("]");
}

int main(void)
{
	void *lib = dlopen("libscap.so.0.1.1dev+git20220316.e5c53d64", RTLD_NOW);
	if (!lib) {
		fprintf(stderr, "%s\n", dlerror());
		return 1;
	}
	for (size_t i = 0; i < NTABLES; i++)
		table_addr[i] = dlsym(lib, flag_tables[i]);

	printf("{\"events\":[");
	for (int e = 0; e < PPM_EVENT_MAX; e++) {
		const struct ppm_event_info *ev = &g_event_info[e];
		printf("%s\n[\"%s\",%d,%d,[", e ? "," : "", ev->name, (int)ev->category, (int)ev->flags);
		for (uint32_t i = 0; i < ev->nparams; i++) {
			printf(i ? "," : "");
			dump_param(&ev->params[i]);
		}
		printf("]]");
	}
	printf("],\n\"flag_tables\":{");
	for (size_t i = 0; i < NTABLES; i++) {
		const struct ppm_name_value *nv = table_addr[i];
		printf("%s\n\"%s\":[", i ? "," : "", flag_tables[i]);
		for (int j = 0; nv && nv[j].name; j++)
			printf("%s[\"%s\",%u]", j ? "," : "", nv[j].name, nv[j].value);
		printf("]");
	}
	printf("},\n\"syscalls\":[");
	for (int s = 0; s < PPM_SC_MAX; s++) {
		const struct ppm_syscall_desc *d = &g_syscall_info_table[s];
		printf("%s\n[\"%s\",%d,%d]", s ? "," : "", d->name ? d->name : "", (int)d->category,
		       (int)d->flags);
	}
	printf("],\n\"x86_64\":[");
	for (int n = 0; n < SYSCALL_TABLE_SIZE; n++)
		printf("%s[%d,%d,%d,%d]", n ? "," : "", g_syscall_table[n].flags,
		       (int)g_syscall_table[n].enter_event_type, (int)g_syscall_table[n].exit_event_type,
		       (int)g_syscall_code_routing_table[n]);
	printf("]}\n");
	return 0;
}
