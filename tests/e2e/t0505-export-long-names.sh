#!/bin/sh
# Exports keep names whole: two C++ functions whose names share their
# first 600 characters are two frames in the folded stacks, the CSV and
# the flame graph, each with its whole name (they were cut at 511
# characters and merged into one).
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
expect "svg: its search reads the names, <, > and all, and finds both" \
	"$(svg_search_share "$T/l.svg" 'leak<A+, [12]>')" "$(folded_share "$T/l.folded" 'leak<A+, [12]>')"
expect "svg: both functions, whole, in the flame graph's data" \
	"$(grep -cF -e "leak&lt;${long}, 1&gt;()" -e "leak<${long}, 1>()" "$T/l.svg" | awk '{ print ($1 > 0) }') $(grep -cF -e "leak&lt;${long}, 2&gt;()" -e "leak<${long}, 2>()" "$T/l.svg" | awk '{ print ($1 > 0) }')" \
	"1 1"
