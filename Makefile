# falcolite developer targets.

# make predefines CC=cc, so a plain `CC ?= gcc` would never apply; the origin
# test makes gcc the default while `make CC=clang ...` still wins.
ifeq ($(origin CC),default)
CC := gcc
endif
CC ?= gcc
PYTHON ?= python3
SHARED ?= ../shared
OUT := build/out

VENV ?= .venv
VPY := $(VENV)/bin/python
DEMO_CAPTURE := traces/live/demo.scap

.PHONY: deps build-deps venv test pytest lint demo bench clean

# ---------------------------------------------------------------- setup
deps:
	./scripts/install-deps.sh

build-deps:
	./scripts/install-deps.sh --build-only

# The virtualenv with falcolite installed in place (the C extension is built
# by the install; it is rebuilt when the C sources change).
venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml setup.py cdriver/build_ffi.py $(wildcard cdriver/*.c cdriver/*.h) \
		$(wildcard cdriver/bpf/*) falcolite/events/table_data.py
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e '.[test]'
	touch $@

# ---------------------------------------------------------------- use
demo: build-deps venv
	$(VENV)/bin/falcolite -e $(DEMO_CAPTURE) -o json_output=true

# ---------------------------------------------------------------- checks
lint: venv
	$(VENV)/bin/ruff check .

# tests/test_binary.py runs in binary-test, against a binary built first
pytest: venv
	$(VENV)/bin/pytest -q --ignore tests/test_binary.py

test: deps venv
	$(MAKE) lint
	$(MAKE) pytest
	$(MAKE) ctest
	$(MAKE) live-smoke

bench: venv
	$(VPY) bench/reader.py --keep $(OUT)/bench.scap
	$(VPY) bench/filters.py --keep $(OUT)/bench.scap
	$(VPY) bench/rules.py --keep $(OUT)/bench.scap

clean:
	rm -rf $(OUT) $(VENV) dist falcolite/_cdriver*.so

# ---------------------------------------------------------------- ctest
# Robustness tests of the C capture reader under ASan + UBSan: truncations
# and bit flips of every capture in $(SHARED)/traces, traces/ and traces/live/

FUZZ_BIN := $(OUT)/fuzz_reader
FUZZ_TABLES := $(OUT)/reader_tables.bin
FUZZ_CFLAGS := -std=c11 -Wall -Wextra -Werror -g -O1 -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all -Icdriver
CTEST_TRACES := $(wildcard $(SHARED)/traces/*.scap) $(wildcard traces/*.scap traces/live/*.scap)

.PHONY: ctest
ctest: $(FUZZ_BIN) $(FUZZ_TABLES)
	@if [ ! -d "$(SHARED)/traces" ]; then \
		echo "ctest: $(SHARED)/traces not found, skipping the shared captures (set SHARED=...)"; \
	fi
	@if [ -z "$(strip $(CTEST_TRACES))" ]; then \
		echo "ctest: no captures to test, nothing to do"; \
	else \
		ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(FUZZ_BIN) -T $(FUZZ_TABLES) $(CTEST_TRACES); \
	fi

$(FUZZ_BIN): cdriver/tests/fuzz_reader.c cdriver/scap_reader.c cdriver/scap_reader.h \
		cdriver/elision.c cdriver/elision.h \
		cdriver/batch_arrays.h cdriver/fail.h
	@mkdir -p $(@D)
	$(CC) $(FUZZ_CFLAGS) -o $@ cdriver/tests/fuzz_reader.c cdriver/scap_reader.c cdriver/elision.c -lz

# The per-type parameter counts and large-payload flags, as fl_open takes
# them: "FLRT", u32 ntypes, nparams[ntypes], large[ntypes].
$(FUZZ_TABLES): falcolite/events/table.py falcolite/events/table_data.py
	@mkdir -p $(@D)
	PYTHONPATH=. $(PYTHON) -c 'import struct, sys; \
	from falcolite.events.table import reader_arrays, EVENT_MAX; \
	n, l = reader_arrays(); assert len(n) == len(l) == EVENT_MAX; \
	sys.stdout.buffer.write(b"FLRT" + struct.pack("<I", EVENT_MAX) + n + l)' > $@.tmp
	mv $@.tmp $@

-include cdriver/live.mk
-include build/binary.mk
