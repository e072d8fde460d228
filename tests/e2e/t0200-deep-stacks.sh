#!/bin/sh
# Stacks are kept whole up to --max-depth (256 by default); deeper ones are
# cut, counted, and rooted in a "[truncated]" frame in every report. The
# tracer's own walk goes 66 frames deep: deeper stacks are walked again by
# libunwind, and must come out whole, and the same as a shallow walk would.
. "$(dirname "$0")/lib.sh"

# folded NAME: "FRAMES ROOT LEAF VALUE" of each folded line of $T/NAME.hws
folded() { "$HW" export -f folded "$T/$1.hws" | awk '{ n = split($1, f, ";"); print n, f[1], f[n], $2 }'; }

"$HW" run -q -d 8 -o "$T/d8.hws" -- "$P/deep" 40
stats_json "$T/d8.hws" > "$T/d8.json"
expect "cut at 8 frames, counted" "$(json "$T/d8.json" '(j["truncated_stacks"], j["max_depth"], j["allocations"])')" "(10, 8, 10)"
expect "cut at 8: the 8 innermost frames under a [truncated] root" "$(folded d8)" "9 [truncated] descend 640"

"$HW" run -q -o "$T/d40.hws" -- "$P/deep" 40
stats_json "$T/d40.hws" > "$T/d40.json"
expect "40 deep: whole, by default" "$(json "$T/d40.json" '(j["truncated_stacks"], j["max_depth"], j["live_blocks"], j["live_bytes"])')" \
	"(0, 256, 10, 640)"
d40=$(folded d40 | cut -d' ' -f1)

# 100 deep: past the tracer's own walk; libunwind's walk, whole, 60 frames more than 40 deep
"$HW" run -q -o "$T/d100.hws" -- "$P/deep" 100
stats_json "$T/d100.hws" > "$T/d100.json"
expect "100 deep: not cut" "$(json "$T/d100.json" '(j["truncated_stacks"], j["live_blocks"])')" "(0, 10)"
expect "100 deep: the whole stack, from _start to the allocation" "$(folded d100)" "$((d40 + 60)) _start descend 640"

# 300 deep: cut at 256, under a [truncated] root, in exports and tracebacks
"$HW" run -q -o "$T/d300.hws" -- "$P/deep" 300
stats_json "$T/d300.hws" > "$T/d300.json"
expect "300 deep: cut, counted" "$(json "$T/d300.json" '(j["truncated_stacks"], j["live_blocks"])')" "(10, 10)"
expect "300 deep: 256 frames under a [truncated] root" "$(folded d300)" "257 [truncated] descend 640"
"$HW" export -f svg -o "$T/d300.svg" "$T/d300.hws"
expect "300 deep: the flame graph's one box under the root is [truncated], holding every byte" \
	"$(python3 - "$T/d300.svg" <<'EOF'
import sys, xml.etree.ElementTree as ET
ns = {"s": "http://www.w3.org/2000/svg"}
frames = ET.parse(sys.argv[1]).getroot().findall(".//s:g[@id='frames']/s:g", ns)
print([(f.get("data-n"), f.get("data-w")) for f in frames if f.get("data-d") == "1"])
EOF
)" "[('[truncated]', '640')]"
"$HW" top --by traceback -n 1 "$T/d300.hws" > "$T/tb"
expect "300 deep: the traceback starts at [truncated]" "$(sed -n 2p "$T/tb")" "  [truncated]"
expect "300 deep: and ends at the allocation" "$(sed -n '$p' "$T/tb")" "  descend tests/progs/deep.c:12"
"$HW" leaks -f json -k all -d 0 "$T/d300.hws" > "$T/leaks.json"
expect "300 deep: leaks' record (every frame) says it was cut" \
	"$(json "$T/leaks.json" '(len(j["records"][0]["frames"]), j["records"][0]["frames"][-1]["function"])')" "(257, '[truncated]')"

# Python: its frames are the stack (Python's view), cut the same way
if have python3; then
	cat > "$T/deep.py" <<'PY'
import sys
sys.setrecursionlimit(2000)
def down(n):
    return down(n - 1) if n else [0] * 100
kept = [down(50), down(300)]
PY
	"$HW" run -q -o "$T/py.hws" -- python3 "$T/deep.py"
	"$HW" top --by traceback -n 0 -f json -i "$T/deep.py" "$T/py.hws" > "$T/py.json"
	expect "python: 50 deep is whole, 300 deep is 256 frames under [truncated]" \
		"$(json "$T/py.json" 'sorted((len(g["frames"]), g["frames"][0]["function"]) for g in j["groups"] if g["frames"][-1]["function"] == "down" and g["size"] >= 800)')" \
		"[(52, '<module>'), (257, '[truncated]')]"
fi
