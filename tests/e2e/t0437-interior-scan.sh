#!/bin/sh
# The exit scan judges interior pointers from what it has read already:
# 2,000 blocks of 8 KiB, every word an interior pointer (2 million), took
# the program 1.4 s stopped with a system call per pointer; it must stay
# stopped well under 0.3 s, and every block is still reachable, as
# memcheck says.
. "$(dirname "$0")/lib.sh"

"$HW" run -q -o "$T/i.hws" -- "$P/interior" 2000 > "$T/out"
expect "the program ran" "$(cat "$T/out")" "2000 blocks"
"$HW" leaks -f json -k all "$T/i.hws" > "$T/k.json"
stopped=$(json "$T/k.json" 'j["scan"]["stopped_ns"] // 1000000')
expect "the program was stopped under 300 ms for 2 million interior pointers (${stopped} ms)" \
	"$([ "$stopped" -lt 300 ] && echo yes)" yes
expect "every block reachable, as memcheck says" "$(kinds_of "$T/k.json")" \
	"$(LD_PRELOAD="$PWD/libheapwise.so" valgrind_kinds "$P/interior" 2000)"

# the referrer graph: an interior pointer is a dashed edge, "+N" its place in the referrer at the
# middle, "M in" how far into the target at the target's end (headlabel), and dot draws it
site=$("$HW" top -n 1 -b function "$T/i.hws" | sed 's/: size=.*//')
"$HW" refs -f dot --depth 1 --fan-in 2 "$T/i.hws" "$site" > "$T/g.dot" 2> "$T/g.err"
expect_match "dot: an interior edge, its offset in the target at the target's end" "$(cat "$T/g.dot")" \
	'^  b[0-9]+ -> b[0-9]+ \[label="\+[0-9]+", style=dashed, headlabel="[0-9]+ in"\];$'
if have dot; then
	expect "dot reads it" "$(dot -Tsvg "$T/g.dot" > /dev/null 2>&1 && echo yes)" yes
else
	not_ok "graphviz is installed (tools/deps.sh test)"
fi
