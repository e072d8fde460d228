#!/bin/sh
# Exports keep names whole: two C++ functions whose names share their
# first 600 characters are two frames in the folded stacks, the CSV and
# the flame graph, each with its whole name (they were cut at 511
# characters and merged into one); the flame graph's search reads them, and
# a name longer than its box is cut to the box as the viewer's font draws it.
. "$(dirname "$0")/lib.sh"

long=$(printf 'A%.0s' $(seq 600))
cat > "$T/long.cc" <<CC
struct ${long} {};
template <class T, int N> __attribute__((noinline)) void *leak() { return new char[N * 16]; }
int main() { leak<${long}, 1>(); leak<${long}, 2>(); return 0; }
CC
if ! g++ -g -O0 -o "$T/long" "$T/long.cc"; then
	not_ok "build the C++ program" "g++ failed"
	exit 0
fi
"$HW" run -q -o "$T/l.hws" -- "$T/long" > /dev/null
one="void* leak<${long}, 1>()" two="void* leak<${long}, 2>()"
"$HW" export -f folded -V live-bytes "$T/l.hws" > "$T/l.folded"
expect "folded: each function whole, on its own line, with its own bytes" \
	"$(grep -F -e "$one" -e "$two" "$T/l.folded" | sed 's/.*leak<A*, \([12]\)>().* \([0-9]*\)$/\1 \2/' | sort)" \
	"$(printf '1 16\n2 32')"
"$HW" export -f csv "$T/l.hws" > "$T/l.csv"
expect "csv: two rows, each with the whole name" \
	"$(grep -cF -e "$one" -e "$two" "$T/l.csv")" 2
"$HW" export -f svg -o "$T/l.svg" "$T/l.hws"
# a name longer than its box, a quarter of the graph: its label is cut to
# the box by the width a viewer's monospace font gives each character
wide=$(printf 'w%.0s' $(seq 300))
printf '#include <stdlib.h>\n__attribute__((noinline)) void *%s(void) { return malloc(1 << 20); }\n%s\n%s\n' \
	"$wide" '__attribute__((noinline)) void *other(void) { return malloc(3 << 20); }' \
	"int main(void) { return !$wide() || !other(); }" > "$T/wide.c"
cc -g -O0 -o "$T/wide" "$T/wide.c" && "$HW" run -q -o "$T/w.hws" -- "$T/wide" > /dev/null
"$HW" export -f svg -o "$T/w.svg" "$T/w.hws"
screenshot "$T/w.svg" flame-graph-long-name
advance=$(mono_advance)
expect_match "svg: the monospace font's advance at 12 px" "$advance" "^7\.[0-9]+$"
expect "svg: the long name cut to its box, by the font's own metrics" \
	"$(python3 - "$T/w.svg" "$advance" <<'PY'
import sys, xml.etree.ElementTree as ET
ns = {"s": "http://www.w3.org/2000/svg"}
cut = over = 0
for f in ET.parse(sys.argv[1]).getroot().findall(".//s:g[@id='frames']/s:g", ns):
    r, t = f.find("s:rect", ns), f.find("s:text", ns)
    if t.text and t.text.endswith(".."):
        cut += 1
        over += float(t.get("x")) + float(sys.argv[2]) * len(t.text) > float(r.get("x")) + float(r.get("width"))
print(cut > 0, over)
PY
)" "True 0"
expect "svg: its search reads the names, <, > and all, and finds both" \
	"$(svg_search_share "$T/l.svg" 'leak<A+, [12]>')" "$(folded_share "$T/l.folded" 'leak<A+, [12]>')"
expect "svg: both functions, whole, in the flame graph's data" \
	"$(grep -cF -e "leak&lt;${long}, 1&gt;()" -e "leak<${long}, 1>()" "$T/l.svg" | awk '{ print ($1 > 0) }') $(grep -cF -e "leak&lt;${long}, 2&gt;()" -e "leak<${long}, 2>()" "$T/l.svg" | awk '{ print ($1 > 0) }')" \
	"1 1"
