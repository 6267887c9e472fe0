# iostrat - build, test, bench, install. `make help` lists the targets.

CC ?= cc
CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
PREFIX ?= /usr/local
DESTDIR ?=
BENCH ?= quick

PKGS := libcurl jansson
HAVE_LIBURING := $(shell pkg-config --exists liburing 2>/dev/null && echo 1)
ifeq ($(HAVE_LIBURING),1)
PKGS += liburing
URING_FLAGS := -DIOSTRAT_HAVE_LIBURING=1 \
	-DIOSTRAT_LIBURING_VERSION='"$(shell pkg-config --modversion liburing)"'
endif
HAVE_LIBUV := $(shell pkg-config --exists libuv 2>/dev/null && echo 1)
ifeq ($(HAVE_LIBUV),1)
PKGS += libuv
LIBUV_FLAGS := -DIOSTRAT_HAVE_LIBUV=1 \
	-DIOSTRAT_LIBUV_VERSION='"$(shell pkg-config --modversion libuv)"'
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

# SANITIZE=address,undefined or SANITIZE=thread builds into a folder of its own. The malloc
# replacement that counts the heap is left out there: the sanitizer owns the allocator.
comma := ,
ifdef SANITIZE
BUILD := build/sanitize-$(subst $(comma),-,$(SANITIZE))
SAN_FLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -DIOSTRAT_NO_HEAP_HOOK
else
BUILD := build
SAN_FLAGS :=
endif

ALL_CFLAGS = $(CFLAGS) $(WARNINGS) -std=gnu11 -D_GNU_SOURCE -pthread -MMD -MP \
	$(SAN_FLAGS) $(URING_FLAGS) $(LIBUV_FLAGS) -DIOSTRAT_COMMIT='"$(COMMIT)"' $(PKG_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SAN_FLAGS) -pthread
LIBS := $(PKG_LIBS) -lm

# The layers, from the bottom up: bench/core (the run and its measurement), bench/workloads,
# strategies/, then the programs in bench/ (main, cli, bare).
CORE_SRC := $(wildcard bench/core/*.c) $(wildcard bench/workloads/*.c) \
	$(wildcard strategies/*.c) bench/cli.c bench/result.c
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
PROGRAMS := $(BUILD)/iostrat $(BUILD)/iostrat-bare $(BUILD)/iostrat-bare-lean
TEST_TOOLS := $(BUILD)/tests/json-get

.PHONY: all test unit bench sample bench-core deps install uninstall clean format help test-tools
all: $(PROGRAMS)
test-tools: $(TEST_TOOLS) $(UNIT_BIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/iostrat: $(BUILD)/obj/bench/main.o $(CORE_OBJ)
	$(CC) $(ALL_LDFLAGS) $^ $(LIBS) -o $@

# iostrat-bare maps the same libraries as iostrat (--no-as-needed), so that the primitives it
# times (fork() above all, whose cost grows with the parent's mappings) are iostrat's own.
$(BUILD)/iostrat-bare: $(BUILD)/obj/bench/bare.o $(BUILD)/obj/bench/core/units.o
	$(CC) $(ALL_LDFLAGS) $^ -Wl,--no-as-needed $(LIBS) -Wl,--as-needed -o $@

# iostrat-bare-lean: the same primitives from a process that maps libc alone.
$(BUILD)/obj/bench/bare-lean.o: bench/bare.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DIOSTRAT_BARE_IMAGE='"lean"' -c $< -o $@

$(BUILD)/iostrat-bare-lean: $(BUILD)/obj/bench/bare-lean.o $(BUILD)/obj/bench/core/units.o
	$(CC) $(ALL_LDFLAGS) $^ -lm -o $@

$(BUILD)/tests/json-get: tests/tools/json-get.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< $(LIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $^ $(LIBS) $(shell pkg-config --libs cmocka) -o $@

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

# Installs what is missing (as root with apt-get), then the tests: unit tests, end-to-end
# tests, and the sanitizer builds. tests/run prints one closing line, "N passed, M failed".
test: deps
	@tests/run

# The sweep, the charts and the report (scripts/report) in a new folder under reports/.
bench: deps all $(TEST_TOOLS)
	BENCH=$(BENCH) IOSTRAT=$(BUILD)/iostrat IOSTRAT_BARE=$(BUILD)/iostrat-bare \
		JSON_GET=$(BUILD)/tests/json-get scripts/bench

# reports/sample made anew: a real BENCH=sample run, kept without its logs.
sample: deps all $(TEST_TOOLS)
	BENCH=sample IOSTRAT=$(BUILD)/iostrat IOSTRAT_BARE=$(BUILD)/iostrat-bare \
		JSON_GET=$(BUILD)/tests/json-get IOSTRAT_SAMPLE_DIR=reports/sample scripts/bench

bench-core: all
	IOSTRAT=$(BUILD)/iostrat IOSTRAT_BARE=$(BUILD)/iostrat-bare \
		IOSTRAT_BARE_LEAN=$(BUILD)/iostrat-bare-lean scripts/bench-core

deps:
	@scripts/deps

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/bin/,$(notdir $(PROGRAMS)))

format:
	clang-format -i bench/*.[ch] bench/*/*.[ch] strategies/*.[ch] tests/unit/*.c tests/tools/*.c

clean:
	rm -rf build

help:
	@echo "make            build build/iostrat and its helpers"
	@echo "make test       install what is missing, then unit, end-to-end and sanitizer tests"
	@echo "make bench      install what is missing, sweep, chart and report (BENCH=quick|full|tiny)"
	@echo "make sample     reports/sample made anew from a real BENCH=sample run"
	@echo "make bench-core the core speed and memory benchmark (overheads beside bare costs)"
	@echo "make deps       install the Debian packages the project needs (as root)"
	@echo "make install    install into PREFIX (default /usr/local), DESTDIR honoured"
	@echo "make clean      remove build/"
	@echo "SANITIZE=address,undefined or SANITIZE=thread builds into a folder of its own"

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
