#!/bin/sh
# Memory the program mapped itself is a root, in the shapes that used to
# be skipped (tests/progs/mapped.c): a mapping the kernel merged with a
# big block's, the writable half of a reservation after its PROT_NONE
# half, a 64 MiB-aligned reservation that is not malloc's arena. Each
# holds the only pointer to a block, which must be still reachable.
# (memcheck cannot judge this one: under valgrind's allocator the layout
# the program builds around malloc's mapping does not exist.)
. "$(dirname "$0")/lib.sh"

"$HW" run -q -o "$T/m.hws" -- "$P/mapped" 2> "$T/err"
expect "the program laid out its mappings" "$? $(cat "$T/err")" "0 "
"$HW" leaks -f json -k all "$T/m.hws" > "$T/k.json"
expect "nothing lost: the big block and the three held from mappings are reachable" "$(kinds_of "$T/k.json")" \
	"0 0 0 0 0 0 $((262144 + 1111 + 2222 + 3333)) 4"
"$HW" refs -f json "$T/m.hws" main > "$T/r.json"
expect "each is held by mapped memory" \
	"$(json "$T/r.json" 'sorted((b["size"], [r["type"] for r in b["referrers"]]) for b in j["blocks"])')" \
	"[(1111, ['mapping']), (2222, ['mapping']), (3333, ['mapping'])]"
