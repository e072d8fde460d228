#!/bin/sh
# Tracing starts at the first allocator call, whoever makes it: other
# libraries' constructors run before libheapwise.so's (libstdc++'s
# emergency exception pool, a registry of tests/progs/libregistry.c), and
# their blocks must be counted as valgrind counts them, and scanned as
# reachable from the library's data, not called lost.
. "$(dirname "$0")/lib.sh"

# a registry made in a library constructor: 17 blocks before our constructor ran
"$HW" run -q -o "$T/r.hws" -- "$P/ctorreg" > "$T/out"
expect "ctorreg ran" "$(cat "$T/out")" "registry of 8"
stats_json "$T/r.hws" > "$T/r.json"
expect "the constructor's blocks are traced, from their site" \
	"$(json "$T/r.json" 'sorted((s["function"], s["blocks"], s["bytes"]) for s in j["top_sites"] if s["function"] == "registry_init")')" \
	"[('registry_init', 8, 384), ('registry_init', 8, 800)]"
expect "totals equal valgrind's" "$(heapwise_totals "$T/r.hws")" "$(valgrind_totals "$P/ctorreg")"
"$HW" leaks -f json -k all "$T/r.hws" > "$T/k.json"
expect "the registry is reachable, the program's block lost: memcheck's kinds" "$(kinds_of "$T/k.json")" \
	"$(LD_PRELOAD="$PWD/libheapwise.so" valgrind_kinds "$P/ctorreg")"
# reachable: 8 entries of 48 and 8 names of 100 bytes, and stdout's 4 KiB buffer (a pipe)
expect "the kinds themselves" "$(kinds_of "$T/k.json")" "77 1 0 0 0 0 $((8 * 48 + 8 * 100 + 4096)) 17"

# C++: libstdc++'s emergency pool is allocated in its constructor
cat > "$T/hello.cc" <<'EOF'
#include <iostream>
int main() { std::cout << "hello" << std::endl; return 0; }
EOF
if ! g++ -g -O0 -o "$T/hello" "$T/hello.cc"; then
	not_ok "build the C++ program" "g++ failed"
	exit 0
fi
"$HW" run -q -o "$T/c.hws" -- "$T/hello" > "$T/out"
expect "C++ hello: totals equal valgrind's (the pool included)" "$(heapwise_totals "$T/c.hws")" \
	"$(valgrind_totals "$T/hello")"
stats_json "$T/c.hws" > "$T/c.json"
expect "C++ hello: the pool is libstdc++'s, at load" \
	"$(json "$T/c.json" '[s["blocks"] for s in j["top_sites"] if s["bytes"] >= 65536 and s["module"].split("/")[-1].startswith("libstdc++")]')" "[1]"
expect "C++ hello: the stream's buffer is charged to the line that printed" \
	"$("$HW" top "$T/c.hws" | grep 'hello.cc')" "$T/hello.cc:2: size=4.0 KiB, count=1, average=4.0 KiB"
