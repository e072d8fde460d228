#!/bin/sh
# A program built by clang: clang emits no .debug_aranges, and libdw then
# finds no unit for an address, so such programs got no file:line and
# their functions came from the symbol table. tests/progs/leaky.c built by
# clang must read as gcc's build of it does (clang records the source
# path absolute: compared without the directory we built in).
. "$(dirname "$0")/lib.sh"

if ! clang -g -O0 -o "$T/leaky" tests/progs/leaky.c; then
	not_ok "build leaky.c with clang" "clang failed"
	exit 0
fi
if readelf -S "$T/leaky" | grep -q debug_aranges; then
	not_ok "clang's build has no .debug_aranges" "it has one: this test tests nothing"
fi
"$HW" run -q -o "$T/c.hws" -- "$T/leaky" > /dev/null 2>&1
"$HW" run -q -o "$T/g.hws" -- "$P/leaky" > /dev/null 2>&1
expect "top: the same lines as gcc's build" "$("$HW" top "$T/c.hws" | sed "s|$PWD/||")" "$("$HW" top "$T/g.hws")"
expect "top by function: the same functions" "$("$HW" top -b function "$T/c.hws")" "$("$HW" top -b function "$T/g.hws")"
expect "leaks: the same loss records" "$("$HW" leaks "$T/c.hws" | sed "s|$PWD/||" | grep -v '^Snapshot')" \
	"$("$HW" leaks "$T/g.hws" | grep -v '^Snapshot')"
"$HW" top -b traceback -n 1 -f json "$T/c.hws" > "$T/c.json"
expect "a traceback's frames have lines" \
	"$(json "$T/c.json" '[(f["function"], f["line"] > 0) for f in j["groups"][0]["frames"] if f["module"].endswith("leaky")]')" \
	"[('_start', False), ('main', True), ('leak_buffers', True)]"
