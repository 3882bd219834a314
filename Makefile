# canbao — build, test and demo.  `make help` lists the targets.
#
# Every target that builds first runs `make deps`, which installs the Debian packages that are
# missing (apt-get; root needed only when something is missing).

CC      ?= gcc
CFLAGS  ?= -O2 -g
CSTD     = -std=c11 -D_GNU_SOURCE
WARN     = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation
PKGS     = libpq libxml-2.0 zlib libisal openssl xlsxwriter icu-uc icu-i18n opencc
BUILD   ?= build

# Debian packages the build, the tests and the demo need.
DEB_PKGS = gcc make pkg-config libpq-dev libxml2-dev zlib1g-dev libssl-dev libxlsxwriter-dev \
           libcmocka-dev postgresql-15 postgresql-client-15 time libicu-dev libopencc-dev \
           libisal-dev

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = $(CSTD) $(WARN) $(CFLAGS) -Iengine -Iconnectors $(PKG_CFLAGS) -MMD -MP

ENGINE_SRC     = $(filter-out engine/main.c,$(wildcard engine/*.c))
CONNECTORS_SRC = $(wildcard connectors/*.c)
LIB_OBJ        = $(patsubst %.c,$(BUILD)/%.o,$(ENGINE_SRC) $(CONNECTORS_SRC))
SYNTH_SRC      = $(wildcard tests/synth/*.c)
UNIT_SRC       = $(wildcard tests/unit/test_*.c)
UNIT_BIN       = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.PHONY: all deps build test unit demo bench eval fuzz fuzz-ci clean help test-sanitize test-asan test-valgrind

# The top-level targets install what is missing first, then build in a sub-make (so that
# pkg-config sees the packages just installed).
all:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory build

build: $(BUILD)/canbao $(BUILD)/synth $(BUILD)/csvdiff $(BUILD)/outcheck $(BUILD)/bench-inflate $(UNIT_BIN)

help:
	@echo "make deps   install missing Debian packages (apt-get)"
	@echo "make        build $(BUILD)/canbao and the data generator $(BUILD)/synth"
	@echo "make test   unit tests, then integration and end-to-end tests on a private PostgreSQL"
	@echo "make test-sanitize  the same suite built with ASan/UBSan/LeakSanitizer in $(SAN_BUILD)/ (also: test-asan)"
	@echo "make test-valgrind  the same suite, every canbao command and unit test under valgrind"
	@echo "make demo   generate a synthetic Yanji, run canbao on it, print where the lists are"
	@echo "make eval   measure identity resolution (linkage precision and recall) on noisy generated data"
	@echo "make bench  canbao against the gzip-inflate floor (SCALES=\"S M L\"), results in tests/bench/RESULTS.md"
	@echo "make fuzz   every reader and parser under libFuzzer, FUZZ_SECONDS each (default 600)"
	@echo "make clean  remove build outputs and var/"

# Installs only what is missing; says what to run when not root.
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "deps: not root; run: sudo apt-get update && sudo apt-get install -y$$missing" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	fi

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libcanbao.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/canbao: $(BUILD)/engine/main.o $(BUILD)/libcanbao.a
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) -lm -lpthread

$(BUILD)/synth: $(patsubst %.c,$(BUILD)/%.o,$(SYNTH_SRC))
	$(CC) $(CFLAGS) -o $@ $^ -lxlsxwriter -lz -lm -lpthread

$(BUILD)/bench-inflate: tests/bench/inflate.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O2 -o $@ $< -lz

$(BUILD)/outcheck: tests/tools/outcheck.c $(BUILD)/libcanbao.a
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libcanbao.a $(PKG_LIBS) -lm -lpthread

$(BUILD)/csvdiff: tests/tools/csvdiff.c $(BUILD)/libcanbao.a
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libcanbao.a $(PKG_LIBS) -lm

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libcanbao.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libcanbao.a $(PKG_LIBS) -lcmocka -lm -lpthread

unit:
	@$(MAKE) --no-print-directory all
	@fail=0; for t in $(UNIT_BIN); do $$t || fail=1; done; exit $$fail

# Unit tests, then everything that needs PostgreSQL on a private cluster (tests/run-tests.sh
# starts it and stops it again, also on failure).
test:
	@$(MAKE) --no-print-directory all
	@bash tests/run-tests.sh $(BUILD)

# The same suite with memory errors, undefined behaviour and leaks checked (tests/lib/checked.sh):
# any report fails it, also one from a process whose exit code a test ignores.  Sanitizers: clang,
# whose ASan and UBSan runtimes both write their reports to log_path (gcc's shared libubsan writes
# to stderr only when linked with libasan); SAN_CC=gcc works too.  valgrind: an ordinary build, every
# canbao command and unit test under memcheck; VALGRIND_PERSONS persons (default 2000).
SAN_BUILD  ?= build-asan
SAN_CC     ?= clang-14
SAN_CFLAGS  = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_WARN    = $(WARN) $(if $(findstring clang,$(SAN_CC)),-Wno-unknown-warning-option)
SAN_DEBS    = $(if $(findstring clang-14,$(SAN_CC)),clang-14 libclang-rt-14-dev)

test-sanitize:
	@$(MAKE) --no-print-directory deps DEB_PKGS="$(DEB_PKGS) $(SAN_DEBS)"
	@$(MAKE) --no-print-directory build BUILD=$(SAN_BUILD) CC=$(SAN_CC) CFLAGS="$(SAN_CFLAGS)" WARN="$(SAN_WARN)"
	@bash tests/lib/checked.sh asan $(SAN_BUILD)

test-asan: test-sanitize

test-valgrind:
	@$(MAKE) --no-print-directory deps DEB_PKGS="$(DEB_PKGS) valgrind"
	@$(MAKE) --no-print-directory build
	@CANBAO_TEST_PERSONS=$${CANBAO_TEST_PERSONS:-$(or $(VALGRIND_PERSONS),2000)} bash tests/lib/checked.sh valgrind $(BUILD)

demo:
	@$(MAKE) --no-print-directory all
	@bash tests/demo.sh $(BUILD)

# canbao against the floor (one core inflating every input), medians of 3 runs; SCALES=S M L.
bench:
	@$(MAKE) --no-print-directory all
	@bash tests/bench/run.sh $(BUILD) "$(or $(SCALES),S)"

# Identity resolution measured: generator with noise, canbao on a private PostgreSQL, links and
# the deceased list against the truth (EVAL_PERSONS, EVAL_NOISE; tests/eval.sh).
eval:
	@$(MAKE) --no-print-directory all
	@bash tests/eval.sh $(BUILD)

# libFuzzer targets for every reader and parser (clang, ASan/UBSan); see tests/fuzz/README.md.
fuzz:
	@$(MAKE) --no-print-directory deps DEB_PKGS="$(DEB_PKGS) clang-14 libclang-rt-14-dev"
	@bash tests/fuzz/run.sh $(or $(FUZZ_SECONDS),600)

fuzz-ci:
	@$(MAKE) --no-print-directory deps DEB_PKGS="$(DEB_PKGS) clang-14 libclang-rt-14-dev"
	@bash tests/fuzz/run.sh --ci

clean:
	rm -rf $(BUILD) $(SAN_BUILD) var

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
