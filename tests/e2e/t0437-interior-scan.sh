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
