#!/bin/sh
# A program that limits its address space (RLIMIT_AS) keeps most of it:
# the tracer maps its region in pieces, as they are needed, and never
# more than half of what the program has left. Where there is too little
# room to trace it at all, heapwise says so instead of going silent.
. "$(dirname "$0")/lib.sh"

untraced=$("$P/aslimit" 200)
traced=$("$HW" run -q -o "$T/a.hws" -- "$P/aslimit" 200)
got() { echo "$1" | sed 's/got \([0-9]*\) MiB/\1/'; }
expect "limited to 200 MiB: untraced it gets most of it" "$([ "$(got "$untraced")" -ge 190 ] && echo yes)" yes
expect "limited to 200 MiB: traced, it gets at least 150 MiB of them ($untraced untraced, $traced traced)" \
	"$([ "$(got "$traced")" -ge 150 ] && echo yes)" yes
stats_json "$T/a.hws" > "$T/a.json"
# its 1 MiB blocks and stdout's buffer
expect "limited to 200 MiB: every block traced" \
	"$(json "$T/a.json" '(j["allocations"], j["lost_events"])')" "($(($(got "$traced") + 1)), 0)"

# the limit set, then an exec: the new image attaches under it
traced=$("$HW" run -q -o "$T/e.hws" -- "$P/aslimit" 200 exec)
expect "exec'd under 200 MiB: traced, and it gets at least 150 MiB" \
	"$([ "$(got "$traced")" -ge 150 ] && echo yes) $("$HW" stats "$T/e.hws" | grep -c 'allocations, .* frees')" "yes 1"

# 25 MiB: no room for the region without starving the program: untraced, and said
untraced=$("$P/aslimit" 25 exec)
"$HW" run -o "$T/n.hws" -- "$P/aslimit" 25 exec > "$T/out" 2> "$T/err"
expect "exec'd under 25 MiB: the program gets what it gets untraced" "$(cat "$T/out")" "$untraced"
expect_match "exec'd under 25 MiB: said, with the reason" "$(cat "$T/err")" \
	"^heapwise: warning: the program exec'd '/proc/self/exe', which could not map heapwise's shared memory: Cannot allocate memory \(its address-space limit, RLIMIT_AS, is too low\): the profile ends at the exec$"
