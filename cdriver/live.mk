# Live capture: the eBPF probe (a skeleton header, built into the output
# directory) and its smoke test.  -include'd by the main Makefile.
#   make probe       build $(LIVE_OUT)/probe.skel.h and probe_compat.skel.h
#                    (clang, bpftool, libbpf-dev)
#   make live-smoke  build and run the smoke test (as root), with the probe
#                    this kernel gets, then with the compat probe
#   make vm-smoke    the smoke test on Debian 12's 6.1 and Debian 11's 5.10
#                    kernels, in qemu (cdriver/tests/vm_smoke.sh)

LIVE_OUT ?= $(if $(OUT),$(OUT),build/out)
LIVE_SKEL := $(LIVE_OUT)/probe.skel.h
LIVE_SMOKE := $(LIVE_OUT)/live_smoke
LIVE_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -DFL_HAVE_LIVE=1 -Icdriver -I$(LIVE_OUT)
LIVE_LIBS := -lbpf -lelf -lz

.PHONY: probe live-smoke vm-smoke

probe: $(LIVE_SKEL)

$(LIVE_SKEL): cdriver/bpf/probe.bpf.c cdriver/bpf/vmlinux_min.h cdriver/bpf/build_probe.sh \
		falcolite/events/table_data.py
	cdriver/bpf/build_probe.sh $(LIVE_OUT)

$(LIVE_SMOKE): cdriver/tests/live_smoke.c cdriver/live_reader.c cdriver/live_reader.h cdriver/elision.c cdriver/elision.h \
		cdriver/scap_reader.h cdriver/batch_arrays.h cdriver/fail.h $(LIVE_SKEL)
	$(CC) $(LIVE_CFLAGS) -o $@ cdriver/tests/live_smoke.c cdriver/live_reader.c cdriver/elision.c $(LIVE_LIBS)

live-smoke: $(LIVE_SMOKE)
	$(LIVE_SMOKE)
	FALCOLITE_PROBE=compat $(LIVE_SMOKE) -q

vm-smoke:
	cdriver/tests/vm_smoke.sh
