# heapwise - one non-recursive Makefile.
#
#   make            build heapwise and libheapwise.so
#   make demo       install what is missing, build, trace tests/progs/leaky.c
#   make check      every test; the last line is "N passed, N failed"
#   make bench      overhead against the untraced program and heaptrack
#   make fuzz       libFuzzer on the profile reader and the collector, FUZZ_SECONDS each
#   make install    PREFIX=/usr/local DESTDIR= BINDIR= LIBDIR= MANDIR=
#   DEVELOPER=1     turn warnings into errors

VERSION = 0.1
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
MANDIR ?= $(PREFIX)/share/man
PKGLIBDIR = $(LIBDIR)/heapwise

CC ?= cc
PKG_CONFIG ?= pkg-config

WARNINGS = -Wall -Wextra -Wmissing-prototypes -Wstrict-prototypes -Wvla \
	   -Wformat-security -fno-common
ifeq ($(DEVELOPER),1)
WARNINGS += -Werror
endif
BASE_CFLAGS = -std=gnu11 -O2 -g $(WARNINGS) -D_FORTIFY_SOURCE=2
DEFINES = -DHEAPWISE_VERSION='"$(VERSION)"' -DHEAPWISE_LIBDIR='"$(PKGLIBDIR)"'

DW_CFLAGS = $(shell $(PKG_CONFIG) --cflags libdw 2>/dev/null)
DW_LIBS = $(shell $(PKG_CONFIG) --libs libdw 2>/dev/null || echo -ldw -lelf)
ZLIB_CFLAGS = $(shell $(PKG_CONFIG) --cflags zlib 2>/dev/null)
ZLIB_LIBS = $(shell $(PKG_CONFIG) --libs zlib 2>/dev/null || echo -lz)
ZSTD_CFLAGS = $(shell $(PKG_CONFIG) --cflags libzstd 2>/dev/null)
ZSTD_LIBS = $(shell $(PKG_CONFIG) --libs libzstd 2>/dev/null || echo -lzstd)
# what report/profile needs: zlib (checksums), zstd (packed sections) and
# libm (sampled weights)
PROFILE_LIBS = $(ZLIB_LIBS) $(ZSTD_LIBS) -lm
UNW_CFLAGS = $(shell $(PKG_CONFIG) --cflags libunwind 2>/dev/null)
UNW_LIBS = $(shell $(PKG_CONFIG) --libs libunwind 2>/dev/null || echo -lunwind)
CURSES_CFLAGS = $(shell $(PKG_CONFIG) --cflags ncursesw 2>/dev/null)
CURSES_LIBS = $(shell $(PKG_CONFIG) --libs ncursesw 2>/dev/null || echo -lncursesw -ltinfo)
CMOCKA_LIBS = $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)

B = build

TRACER_SRC = tracer/attach.c tracer/deepbind.c tracer/emit.c tracer/hooks.c tracer/python.c tracer/region.c tracer/sample.c \
	tracer/unwind.c tracer/exec.c
# report/, one folder a lifetime; each may use only those after it in this
# list (tests/e2e/t0020-layering.sh checks): collect, symbols, analysis,
# profile, util.
COLLECT_SRC = report/collect/collector.c report/collect/build.c report/collect/pymeta.c report/collect/collector-scan.c \
	      report/collect/livetable.c report/collect/procmaps.c report/collect/world.c \
	      report/collect/scan.c report/collect/live-server.c report/collect/wiretables.c \
	      report/collect/replay.c report/collect/samples.c report/collect/rssparts.c report/collect/pynames.c report/collect/pydict.c report/collect/pyglobals.c report/collect/pystale.c report/collect/pyframes.c report/collect/remoteread.c report/collect/runsnap.c report/collect/runload.c report/collect/follow.c \
	      report/collect/pytypes.c
SYMBOLS_SRC = report/symbols/symbols.c report/symbols/scopes.c report/symbols/debugcache.c \
	      report/symbols/symwarm.c report/symbols/pylines.c
ANALYSIS_SRC = report/analysis/group.c report/analysis/site-names.c report/analysis/leaks.c report/analysis/pyleaks.c \
	       report/analysis/loss-records.c report/analysis/diff.c report/analysis/gate.c \
	       report/analysis/suppress.c report/analysis/referrers.c report/analysis/stack-values.c \
	       report/analysis/timeline.c report/analysis/images.c
PROFILE_SRC = report/profile/profile.c report/profile/profile-read.c report/profile/profile-write.c \
	      report/profile/live-client.c
UTIL_SRC = report/util/addrsort.c report/util/json.c report/util/table.c report/util/format.c \
	   report/util/proc.c report/util/privfile.c
CMD_SRC = cmd/main.c cmd/usage.c cmd/out-format.c cmd/alloc-fns.c cmd/summary.c cmd/cmd-run.c cmd/run-children.c cmd/run-options.c cmd/launch.c cmd/cmd-stats.c cmd/cmd-top.c cmd/cmd-diff.c cmd/cmd-snapshot.c cmd/selector.c cmd/report-args.c cmd/cmd-leaks.c cmd/leak-report.c cmd/pyleak-report.c cmd/cmd-refs.c cmd/refs-dot.c cmd/cmd-export.c cmd/export-folded.c cmd/export-svg.c cmd/export-pprof.c cmd/export-massif.c cmd/export-table.c \
	  cmd/cmd-live.c cmd/live-model.c cmd/live-session.c cmd/live-batch.c cmd/tui.c cmd/tui-keys.c cmd/tui-draw.c

TRACER_OBJ = $(TRACER_SRC:%.c=$(B)/%.o)
COLLECT_OBJ = $(COLLECT_SRC:%.c=$(B)/%.o)
SYMBOLS_OBJ = $(SYMBOLS_SRC:%.c=$(B)/%.o)
# analysis, profile and util: no elfutils, no ptrace; unit tests link them alone
PURE_OBJ = $(ANALYSIS_SRC:%.c=$(B)/%.o) $(PROFILE_SRC:%.c=$(B)/%.o) $(UTIL_SRC:%.c=$(B)/%.o)
REPORT_OBJ = $(COLLECT_OBJ) $(SYMBOLS_OBJ) $(PURE_OBJ)
CMD_OBJ = $(CMD_SRC:%.c=$(B)/%.o)
REPORT_H = $(wildcard report/*/*.h)

PROGS = $(patsubst tests/progs/%.c,$(B)/progs/%,$(filter-out tests/progs/lib%.c,$(wildcard tests/progs/*.c)))
PROG_LIBS = $(patsubst tests/progs/lib%.c,$(B)/progs/lib%.so,$(wildcard tests/progs/lib*.c)) $(B)/progs/libdeepnow.so
UNIT_TESTS = $(patsubst tests/unit/%.c,$(B)/unit/%,$(wildcard tests/unit/test-*.c))
BENCH_PROGS = $(patsubst bench/%.c,$(B)/bench/%,$(wildcard bench/*.c))
MANPAGES = $(wildcard man/*.1 man/*.5)

all: heapwise libheapwise.so

.PHONY: all deps test-deps demo check bench fuzz install uninstall clean

deps:
	@tools/deps.sh build

test-deps:
	@tools/deps.sh test

$(B)/tracer/%.o: tracer/%.c tracer/tracer.h tracer/wire.h
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -fPIC -fvisibility=hidden -ftls-model=initial-exec $(UNW_CFLAGS) $(CFLAGS) -c $< -o $@

$(B)/report/%.o: report/%.c $(REPORT_H) tracer/wire.h
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(DEFINES) $(ZLIB_CFLAGS) $(ZSTD_CFLAGS) $(CFLAGS) -c $< -o $@

# only the symbolizer sees elfutils' headers
$(B)/report/symbols/%.o: report/symbols/%.c $(REPORT_H)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(DEFINES) $(DW_CFLAGS) $(CFLAGS) -c $< -o $@

$(B)/cmd/%.o: cmd/%.c $(wildcard cmd/*.h) $(REPORT_H) tracer/wire.h
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(DEFINES) $(CURSES_CFLAGS) $(CFLAGS) -c $< -o $@

libheapwise.so: $(TRACER_OBJ) tracer/exports.map
	$(CC) -shared -o $@ $(TRACER_OBJ) -Wl,--version-script=tracer/exports.map \
		-Wl,-z,now -Wl,-z,nodelete $(UNW_LIBS) -ldl -lpthread $(LDFLAGS)

heapwise: $(CMD_OBJ) $(REPORT_OBJ)
	$(CC) -o $@ $(CMD_OBJ) $(REPORT_OBJ) $(DW_LIBS) $(PROFILE_LIBS) $(CURSES_LIBS) -lpthread -lstdc++ $(LDFLAGS)

# Test programs: unoptimized and with debug info, so their heaps and lines are exact.
$(B)/progs/lib%.so: tests/progs/lib%.c
	@mkdir -p $(@D)
	$(CC) -O0 -g -fPIC -shared -o $@ $<

$(B)/progs/%: tests/progs/%.c
	@mkdir -p $(@D)
	$(CC) -O0 -g -fno-omit-frame-pointer -o $@ $< -lpthread -ldl

# The same program built again with three lines added at its top, under
# the same source path (tests/progs/phases.c) and binary name: a rebuild
# where every site moved, for `diff --ignore-lines`.
$(B)/progs/moved/phases: tests/progs/phases.c
	@mkdir -p $(B)/moved-src/tests/progs $(@D)
	{ printf '/* moved */\n\n\n'; cat $<; } > $(B)/moved-src/tests/progs/phases.c
	cd $(B)/moved-src && $(CC) -O0 -g -fno-omit-frame-pointer -o $(abspath $@) tests/progs/phases.c

# Optimized, without frame pointers: most of its frames are RSP-based.
$(B)/progs/stackmix: tests/progs/stackmix.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -fomit-frame-pointer -o $@ $<

# Linked against a library of ours, whose constructor allocates.
$(B)/progs/ctorreg: tests/progs/ctorreg.c $(B)/progs/libregistry.so
	@mkdir -p $(@D)
	$(CC) -O0 -g -fno-omit-frame-pointer -o $@ $< -L$(B)/progs -lregistry -Wl,-rpath,$(abspath $(B)/progs)

# libdeep again, bound at load time with its GOT read-only (RELRO), as
# distributions build their libraries.
$(B)/progs/libdeepnow.so: tests/progs/libdeep.c
	@mkdir -p $(@D)
	$(CC) -O0 -g -fPIC -shared -Wl,-z,relro,-z,now -o $@ $<

$(B)/progs/static-hello: tests/progs/static-hello.c
	@mkdir -p $(@D)
	$(CC) -O0 -g -static -o $@ $<

# Unit tests of the pure layers link them alone, without elfutils: a test
# that needed more would not link. The live table's and the run loader's
# are of collect.
$(B)/unit/%: tests/unit/%.c tests/unit/heap-graph.h $(PURE_OBJ)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -Wno-missing-prototypes -o $@ $< $(PURE_OBJ) $(CMOCKA_LIBS) $(PROFILE_LIBS)

$(B)/unit/test-livetable: tests/unit/test-livetable.c $(B)/report/collect/livetable.o
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -Wno-missing-prototypes -o $@ $< $(B)/report/collect/livetable.o $(CMOCKA_LIBS)

$(B)/unit/test-runload: tests/unit/test-runload.c $(B)/report/collect/runload.o $(PURE_OBJ)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -Wno-missing-prototypes -o $@ $< $(B)/report/collect/runload.o $(PURE_OBJ) \
		$(CMOCKA_LIBS) $(PROFILE_LIBS)

$(B)/unit/pylines-check: tests/unit/pylines-check.c $(B)/report/symbols/pylines.o
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -o $@ $< $(B)/report/symbols/pylines.o

$(B)/bench/%: bench/%.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -o $@ $< -lpthread

# The fuzzers (tests/fuzz/): clang's libFuzzer with ASan and UBSan, over
# their own build of what they reach. `make fuzz` runs each FUZZ_SECONDS
# (default 300) from seeds made of real profiles; `make check` runs them
# briefly (tests/e2e/t0900-fuzz.sh) when clang is there.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 300
FUZZ_FLAGS = -std=gnu11 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	     -fno-sanitize-recover=undefined $(DEFINES)
FUZZ_PURE_OBJ = $(patsubst %.c,$(B)/fuzz/obj/%.o,$(ANALYSIS_SRC) $(PROFILE_SRC) $(UTIL_SRC))
FUZZ_COLLECT_OBJ = $(patsubst %.c,$(B)/fuzz/obj/%.o,$(COLLECT_SRC) $(SYMBOLS_SRC))
FUZZERS = $(B)/fuzz/fuzz-profile $(B)/fuzz/fuzz-collector
HAVE_FUZZ_CC := $(shell command -v $(FUZZ_CC) 2>/dev/null)

$(B)/fuzz/obj/%.o: %.c $(REPORT_H) tracer/wire.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link $(DW_CFLAGS) -c -o $@ $<

$(B)/fuzz/fuzz-profile: tests/fuzz/fuzz-profile.c $(FUZZ_PURE_OBJ)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_PURE_OBJ) $(PROFILE_LIBS)

$(B)/fuzz/fuzz-collector: tests/fuzz/fuzz-collector.c $(FUZZ_COLLECT_OBJ) $(FUZZ_PURE_OBJ)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer $(DW_CFLAGS) -o $@ $< $(FUZZ_COLLECT_OBJ) $(FUZZ_PURE_OBJ) \
		$(DW_LIBS) $(PROFILE_LIBS) -lpthread

fuzz: all $(PROGS) $(FUZZERS)
	@tests/fuzz/run.sh $(FUZZ_SECONDS)

demo: deps
	@$(MAKE) --no-print-directory all $(B)/progs/leaky
	./heapwise run -o $(B)/demo.hws -- $(B)/progs/leaky
	./heapwise stats $(B)/demo.hws

check: test-deps
	@$(MAKE) --no-print-directory all $(PROGS) $(PROG_LIBS) $(UNIT_TESTS) $(B)/progs/moved/phases $(B)/unit/pylines-check \
		$(if $(HAVE_FUZZ_CC),$(FUZZERS))
	@tests/run.sh

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_PROGS) $(B)/progs/interior $(B)/progs/steadyheap $(B)/progs/bigheap
	@bench/run.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(PKGLIBDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 755 heapwise $(DESTDIR)$(BINDIR)/heapwise
	install -m 644 libheapwise.so $(DESTDIR)$(PKGLIBDIR)/libheapwise.so
	install -m 644 $(filter %.1,$(MANPAGES)) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(filter %.5,$(MANPAGES)) $(DESTDIR)$(MANDIR)/man5/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/heapwise $(DESTDIR)$(PKGLIBDIR)/libheapwise.so
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(filter %.1,$(MANPAGES))))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(filter %.5,$(MANPAGES))))

clean:
	rm -rf $(B) heapwise libheapwise.so
