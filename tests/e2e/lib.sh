# lib.sh - shared helpers for the end-to-end tests. Each test script sources
# it, runs heapwise on programs from build/progs, and reports every check as
# "ok - NAME" or "not ok - NAME" followed by "# " lines saying why.

cd "$(dirname "$0")/../.." || exit 1
HW=$PWD/heapwise
P=$PWD/build/progs
TEST=$(basename "$0" .sh)
T=$(mktemp -d "${TMPDIR:-/tmp}/heapwise-$TEST.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
# heapwise's debug cache: run.sh's for the whole run, else this test's own (never ~/.cache)
export HEAPWISE_CACHE_DIR="${HEAPWISE_CACHE_DIR-$T/cache}"

ok() { echo "ok - $TEST: $1"; }
not_ok() { echo "not ok - $TEST: $1"; shift; for l in "$@"; do echo "# $l"; done; }

# expect NAME GOT WANT
expect() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got:  $2" "want: $3"; fi
}

# expect_match NAME TEXT REGEX
expect_match() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then ok "$1"; else not_ok "$1" "no line matches /$3/ in:" "$2"; fi
}

# json FILE EXPR: evaluate a Python expression over the parsed JSON `j`
json() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); r=eval(sys.argv[2]); print(r)' "$1" "$2"
}

# stats_json PROFILE > FILE
stats_json() { "$HW" stats --format json -n 1000 "$1"; }

# valgrind_totals PROG ARGS...: "INUSE_BYTES INUSE_BLOCKS ALLOCS FREES BYTES" as memcheck counts them,
# without the libc/libstdc++ freeres valgrind runs at exit (heapwise reports the program as it ran).
# The program runs with libheapwise.so preloaded but not attached (a pure pass-through): the tracer
# brings two modules with TLS, which makes glibc's per-thread DTV 32 bytes larger, and both runs
# must load the same modules for their byte counts to be comparable.
valgrind_totals() {
	LD_PRELOAD="$PWD/libheapwise.so${LD_PRELOAD:+:$LD_PRELOAD}" \
	valgrind --run-libc-freeres=no --run-cxx-freeres=no "$@" 2>&1 >/dev/null |
		sed -n 's/,//g; s/.*in use at exit: \([0-9]*\) bytes in \([0-9]*\) blocks.*/inuse \1 \2/p;
			s/.*total heap usage: \([0-9]*\) allocs \([0-9]*\) frees \([0-9]*\) bytes allocated.*/total \1 \2 \3/p' |
		sort | awk '{ for (i = 2; i <= NF; i++) printf "%s ", $i } END { print "" }' | sed 's/ *$//'
}

# heapwise_totals PROFILE: the same five numbers from a heapwise profile, same order as valgrind_totals
heapwise_totals() {
	stats_json "$1" > "$T/totals.json"
	json "$T/totals.json" '"%d %d %d %d %d" % (j["live_bytes"], j["live_blocks"], j["allocations"], j["frees"], j["bytes_allocated"])'
}

# kinds_of LEAKS_JSON: "DEF_BYTES DEF_BLOCKS IND_BYTES IND_BLOCKS POS_BYTES POS_BLOCKS REACH_BYTES REACH_BLOCKS"
# from `heapwise leaks -f json -k all`
kinds_of() {
	json "$1" '" ".join("%d %d" % (j[k]["bytes"], j[k]["blocks"]) for k in ("definite", "indirect", "possible", "reachable"))'
}

# valgrind_kinds PROG ARGS...: the same from memcheck's LEAK SUMMARY (no freeres: heapwise scans the program as it ran)
valgrind_kinds() {
	valgrind --leak-check=summary --run-libc-freeres=no --run-cxx-freeres=no "$@" 2>&1 >/dev/null |
		sed -n 's/,//g; s/.*\(definitely\|indirectly\|possibly\) lost: \([0-9]*\) bytes in \([0-9]*\) blocks.*/\2 \3/p;
			s/.*still reachable: \([0-9]*\) bytes in \([0-9]*\) blocks.*/\1 \2/p' | tr '\n' ' ' | sed 's/ *$//'
}

have() { command -v "$1" >/dev/null 2>&1; }

# svg_search_share SVG PATTERN: the share (a percentage, two decimals) the
# flame graph's Search reports for PATTERN, its own script run by node
svg_search_share() {
	python3 - "$1" "$2" > "$T/search.js" <<'PY'
import sys, xml.etree.ElementTree as ET
print("var document = {};")
for s in ET.parse(sys.argv[1]).getroot().findall("{http://www.w3.org/2000/svg}script"):
    print(s.text)
print("console.log((100 * share(new RegExp(%r))).toFixed(2))" % sys.argv[2])
PY
	node "$T/search.js"
}

# mono_advance: the width (px) of a character of 12 px monospace as a viewer
# draws it: fontconfig's monospace font, its advance from its hhea and head
mono_advance() {
	python3 - "$(fc-match -f '%{file}' monospace)" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
tables = {data[12 + 16 * i:16 + 16 * i].decode("latin-1"): struct.unpack(">I", data[20 + 16 * i:24 + 16 * i])[0]
          for i in range(struct.unpack(">H", data[4:6])[0])}
units = struct.unpack(">H", data[tables["head"] + 18:tables["head"] + 20])[0]
widest = struct.unpack(">H", data[tables["hhea"] + 10:tables["hhea"] + 12])[0]
print(12 * widest / units)
PY
}

# folded_share FOLDED PATTERN: the share of the stacks with a frame matching PATTERN
folded_share() {
	python3 - "$1" "$2" <<'PY'
import re, sys
lines = [l.rsplit(" ", 1) for l in open(sys.argv[1]).read().splitlines()]
total = sum(int(v) for _, v in lines)
hit = sum(int(v) for s, v in lines if any(re.search(sys.argv[2], f) for f in s.split(";")))
print("%.2f" % (100 * hit / total))
PY
}

# ---------------------------------------------------------------------
# The real-program tier: other people's programs under heapwise and under
# valgrind with the same environment, so that programs that copy their
# environment (gawk's ENVIRON, perl's %ENV, git) allocate the same. Both
# get REAL_ENV; valgrind adds LD_LIBRARY_PATH=/usr/lib/debug and its own
# preloads, so heapwise's run gets that LD_LIBRARY_PATH and an LD_PRELOAD
# padded with ':' to the same length, and valgrind's run the HEAPWISE_SHM
# heapwise's had (its pid, and the memfd heapwise makes first: fd 3).
REAL_ENV="PATH=/usr/bin:/bin HOME=$T PWD=$PWD GLIBCPP_FORCE_NEW=1 GLIBCXX_FORCE_NEW=1 LC_ALL=C
	PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0 PYTHONHASHSEED=0"
VG_PRELOADS="/usr/libexec/valgrind/vgpreload_core-amd64-linux.so:/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so:"

# real_run NAME PROG ARGS...: trace it into $T/NAME.hws (input /dev/null, output dropped);
# REAL_SHM is then the HEAPWISE_SHM the program saw. REAL_WRAP, if set, runs heapwise
# under that command (setarch -R: a program whose allocations follow its addresses)
real_run() {
	name=$1
	shift
	env -i $REAL_ENV LD_LIBRARY_PATH=/usr/lib/debug \
		LD_PRELOAD="$(printf '%*s' $((${#VG_PRELOADS} - 1)) '' | tr ' ' ':')" \
		$REAL_WRAP "$HW" run -q $REAL_RUN_OPTS -o "$T/$name.hws" -- "$@" < /dev/null > /dev/null 2> "$T/$name.err" &
	REAL_SHM=/proc/$!/fd/3	# env execs heapwise: the same pid
	wait $!
}

# real_heapwise NAME: "ALLOCS FREES BYTES | DEF_BYTES DEF_BLOCKS ... REACH_BLOCKS" of $T/NAME.hws
real_heapwise() {
	stats_json "$T/$1.hws" > "$T/$1.json"
	"$HW" leaks -f json -k all "$T/$1.hws" > "$T/$1.leaks"
	echo "$(json "$T/$1.json" '"%d %d %d" % (j["allocations"], j["frees"], j["bytes_allocated"])') | $(kinds_of "$T/$1.leaks")"
}

# real_memcheck PROG ARGS...: the same numbers from one memcheck run (after real_run);
# REAL_VG_OPTS, if set, are more options for valgrind
real_memcheck() {
	env -i $REAL_ENV HEAPWISE_SHM="$REAL_SHM" LD_PRELOAD="$PWD/libheapwise.so" \
		valgrind --leak-check=summary --run-libc-freeres=no --run-cxx-freeres=no $REAL_VG_OPTS \
		"$@" 2>&1 >/dev/null < /dev/null |
		sed -n 's/,//g; s/.*total heap usage: \([0-9]*\) allocs \([0-9]*\) frees \([0-9]*\) bytes allocated.*/\1 \2 \3 |/p;
			s/.*\(definitely\|indirectly\|possibly\) lost: \([0-9]*\) bytes in \([0-9]*\) blocks.*/\2 \3/p;
			s/.*still reachable: \([0-9]*\) bytes in \([0-9]*\) blocks.*/\1 \2/p' | tr '\n' ' ' | sed 's/ *$//'
}

# real_massif_peak PROG ARGS...: massif's peak heap bytes (no admin bytes, exact peak)
real_massif_peak() {
	env -i $REAL_ENV HEAPWISE_SHM="$REAL_SHM" LD_PRELOAD="$PWD/libheapwise.so" \
		valgrind --tool=massif --heap-admin=0 --peak-inaccuracy=0 --massif-out-file="$T/massif.out" \
		"$@" > /dev/null 2>&1 < /dev/null
	sed -n 's/^mem_heap_B=//p' "$T/massif.out" | sort -n | tail -1
}

# phases_with_snapshots PROFILE: run tests/progs/phases, snapshot p1 p2 p3 after each phase
# (the first by heapwise's pid, the others by the program's); $run_status is the run's
phases_with_snapshots() {
	mkfifo "$T/ctl"
	"$HW" run -q -o "$1" -- "$P/phases" < "$T/ctl" > "$T/out" &
	hw=$!
	exec 3> "$T/ctl"
	for n in 1 2 3; do
		i=0
		while ! grep -q "ready $n" "$T/out" 2>/dev/null && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
		# the first by heapwise's pid, the others by the program's
		if [ $n = 1 ]; then target=$hw; else target=$(pgrep -n -P "$hw"); fi
		"$HW" snapshot --label "p$n" "$target" >> "$T/snap.out" 2>> "$T/snap.err"
		echo go >&3
	done
	exec 3>&-
	wait "$hw"
	run_status=$?
	rm -f "$T/ctl"
}

# screenshot SVG NAME: Chromium's rendering of SVG (headless, at the SVG's own size) into
# build/test-output/TEST/NAME.png, for a person to look at; checks that it drew a picture of
# that size with something on it besides the background (the set-up installs chromium)
screenshot() {
	out=$PWD/build/test-output/$TEST
	if ! command -v chromium > /dev/null 2>&1; then
		not_ok "$2: not drawn, chromium is not installed" "make test-deps installs chromium"
		return
	fi
	mkdir -p "$out"
	rm -f "$out/$2.png"
	size=$(python3 -c 'import sys, xml.etree.ElementTree as ET; r = ET.parse(sys.argv[1]).getroot(); print("%d,%d" % (float(r.get("width")), float(r.get("height"))))' "$1")
	HOME="$T" timeout 60 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$T/chromium" --window-size="$size" --screenshot="$out/$2.png" "file://$1" \
		> "$T/chromium.log" 2>&1
	expect "$2: Chromium draws it, $size px, not blank ($out/$2.png)" "$(python3 - "$out/$2.png" <<'PY'
import struct, sys, zlib
try:
    data = open(sys.argv[1], "rb").read()
except OSError as e:
    print("no picture: %s" % e)
    sys.exit()
pos, idat = 8, b""
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    if kind == b"IHDR":
        w, h, depth, color = struct.unpack(">IIBB", data[pos + 8:pos + 18])
    elif kind == b"IDAT":
        idat += data[pos + 8:pos + 8 + n]
    pos += 12 + n
bpp = {2: 3, 6: 4}[color]
raw, rows, prev = zlib.decompress(idat), [], bytearray(w * bpp)
for y in range(h):
    f, line = raw[y * (w * bpp + 1)], bytearray(raw[y * (w * bpp + 1) + 1:(y + 1) * (w * bpp + 1)])
    for i in range(len(line)):
        a, b, c = line[i - bpp] if i >= bpp else 0, prev[i], prev[i - bpp] if i >= bpp else 0
        p = a + b - c
        pred = [0, a, b, (a + b) // 2, a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else b if abs(p - b) <= abs(p - c) else c][f]
        line[i] = (line[i] + pred) & 255
    rows.append(bytes(line))
    prev = line
pixels = [r[i:i + 3] for r in rows for i in range(0, len(r), bpp)]
background = max(set(pixels[::97]), key=pixels[::97].count)
print("%d,%d" % (w, h), "drawn" if sum(p != background for p in pixels) > len(pixels) // 200 else "blank")
PY
)" "$size drawn"
}
