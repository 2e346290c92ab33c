# The single binary and its Debian package; included by the Makefile
# (`-include build/binary.mk`, after its own variables and targets).
#
#   make binary        dist/falcolite (build/build_binary.sh: Nuitka onefile);
#                      STATIC_DEPS=no links libbpf and libelf shared,
#                      PY_CODE=compiled compiles falcolite's modules to C
#   make deb           dist/falcolite_<version>_amd64.deb (packaging/build_deb.sh)
#   make binary-test   both, then tests/test_binary.py (installing the tools it
#                      runs: systemd-analyze, logrotate...), which must not skip
#   make binary-bench  size, start-up and throughput against CPython
#   make clean-binary  remove dist/ and the build's work folders

BINARY := dist/falcolite
FL_VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"$$/\1/p' falcolite/__init__.py)
DEB := dist/falcolite_$(FL_VERSION)_amd64.deb

# The build mode (build_binary.sh reads STATIC_DEPS and PY_CODE from the
# environment and records the mode it built with): a binary built in
# another mode is rebuilt.
BINARY_MODE := $(OUT)/binary-mode
ifneq ($(shell cat $(BINARY_MODE) 2>/dev/null),STATIC_DEPS=$(or $(STATIC_DEPS),yes) PY_CODE=$(or $(PY_CODE),bytecode))
BINARY_FORCE := binary-force
endif

# What goes into the binary: rebuilt when any of it changes.
BINARY_INPUTS := $(shell find falcolite cdriver -name __pycache__ -prune -o -type f \
	! -name '*.so' ! -name '*.o' ! -name '*.pyc' ! -name '_cdriver.c' -print 2>/dev/null) \
	build/build_binary.sh build/static_deps.sh build/nuitka-package-config.yml \
	build/nuitka_strip.py build/nuitka_bytecode.py setup.py pyproject.toml $(wildcard $(OUT)/static-deps/lib/*.a)
DEB_INPUTS := $(wildcard packaging/*.yaml packaging/*.sh packaging/falcolite.*) \
	$(wildcard packaging/debian/*) README.md

.PHONY: binary deb binary-test binary-bench clean-binary binary-force

binary: $(BINARY)

$(BINARY): $(BINARY_INPUTS) $(BINARY_FORCE)
	./build/build_binary.sh

binary-force:

deb: $(DEB)

$(DEB): $(BINARY) $(DEB_INPUTS)
	./packaging/build_deb.sh $(BINARY) dist

binary-test: venv $(BINARY) $(DEB)
	bash -c '. build/apt.sh && apt_install systemd logrotate procps binutils'
	FALCOLITE_REQUIRE_BINARY=1 $(VENV)/bin/pytest -q tests/test_binary.py

binary-bench: venv $(BINARY)
	$(VPY) bench/binary.py --binary $(BINARY) --keep $(OUT)/bench.scap

clean-binary:
	rm -rf dist $(OUT)/venv $(OUT)/stage $(OUT)/ext-build $(OUT)/nuitka $(OUT)/static-deps \
		$(BINARY_MODE)
