#!/bin/sh
# `heapwise refs` on tests/progs/reach.c: referrers by address and by site,
# the chain from a root checked hop by hop, registers as roots (through
# `heapwise snapshot --scan` while the program waits), and the dot graph.
. "$(dirname "$0")/lib.sh"

at() { echo "reach.c:$(grep -nF -- "$1" tests/progs/reach.c | head -1 | cut -d: -f1)"; }

"$HW" run -q -o "$T/s.hws" -- "$P/reach" shapes

# the chain global g_chain -> 208 -> (+24) 224 -> (+40) 240, hop by hop
"$HW" refs -c -f json "$T/s.hws" "$(at 'b[5] = malloc(240)')" > "$T/c.json"
expect "the chain, root first" \
	"$(json "$T/c.json" '[(h["type"], h.get("name", ""), h.get("size", 0), h.get("offset"), h.get("target_offset", 0)) for h in j["blocks"][0]["chain"]]')" \
	"[('global', 'g_chain', 0, 0, 0), ('block', '', 208, 0, 0), ('block', '', 224, 24, 0), ('block', '', 240, 40, 0)]"
expect "each hop's block is the one the pointer holds" \
	"$(json "$T/c.json" '[h["site"]["line"] for h in j["blocks"][0]["chain"][1:]]')" \
	"[$(at 'a = malloc(208)' | cut -d: -f2), $(at 'b = malloc(224)' | cut -d: -f2), $(at 'b[5] = malloc(240)' | cut -d: -f2)]"
expect "the chain ends at the block asked for" \
	"$(json "$T/c.json" 'j["blocks"][0]["chain"][-1]["address"] == j["blocks"][0]["address"]')" "True"
"$HW" refs -c "$T/s.hws" "$(at 'b[5] = malloc(240)')" > "$T/c.txt"
expect_match "text: the chain starts at the global" "$(cat "$T/c.txt")" "^    global g_chain\+0 in reach$"
expect_match "text: a hop" "$(cat "$T/c.txt")" "^    at \+40 -> 0x[0-9a-f]+: 240 bytes from hold_reachable tests/progs/reach.c:[0-9]+$"

# by address, also from inside the block; a lost block has no chain
addr=$(json "$T/c.json" 'hex(j["blocks"][0]["address"] + 5)')
"$HW" refs "$T/s.hws" "$addr" > "$T/a.txt"
expect_match "an address inside the block" "$(head -1 "$T/a.txt")" "^0x[0-9a-f]+: 240 bytes, still reachable, allocated at hold_reachable"
expect_match "its referrer, with the offset" "$(cat "$T/a.txt")" "^    block 0x[0-9a-f]+ \(224 bytes, still reachable, from hold_reachable tests/progs/reach.c:[0-9]+\), at \+40$"
"$HW" refs -c "$T/s.hws" hide_by_xor > "$T/x.txt"
expect "a definitely lost block: nothing, no chain" "$(sed 1d "$T/x.txt")" "  nothing points to it
  no chain of pointers from a root reaches it"
"$HW" refs "$T/s.hws" hold_interior > "$T/i.txt"
expect_match "an interior referrer says how far in" "$(cat "$T/i.txt")" "^    global g_interior\+0 in reach -> 40 bytes into the block$"
"$HW" refs -f json "$T/s.hws" lose_cycle > "$T/cy.json"
expect "a site: all its blocks, each pointed to by the next" \
	"$(json "$T/cy.json" '(j["matched"], [[(r["type"], r["offset"]) for r in b["referrers"]] for b in j["blocks"]])')" \
	"(3, [[('block', 16)], [('block', 16)], [('block', 16)]])"

# a site by any name the reports print: as run's summary and leaks name it,
# as top names its line, and by the tail of its path
site=$(at 'b[5] = malloc(240)')
for name in "hold_reachable tests/progs/$site" "tests/progs/$site" "progs/$site" "hold_reachable"; do
	"$HW" refs -f json "$T/s.hws" "$name" > "$T/n.json" 2> "$T/err"
	expect "a site named '$name'" "$(json "$T/n.json" 'j["matched"] >= 1 and all(b["site"]["function"] == "hold_reachable" for b in j["blocks"])' 2>&1)" "True"
done
"$HW" refs "$T/s.hws" "s/$site" > /dev/null 2>&1
expect "a part of a file's name is no site" "$?" "1"

# errors
"$HW" refs "$T/s.hws" 0x10 > /dev/null 2> "$T/err"
expect "no block there" "$? $(cat "$T/err")" "1 heapwise: error: no live block of snapshot 'exit' holds address 0x10"
"$HW" refs "$T/s.hws" nowhere.c:1 > /dev/null 2> "$T/err"
expect "no block from there" "$?" "1"
"$HW" refs "$T/s.hws" 0xzz > /dev/null 2>&1
expect "not an address: usage error" "$?" "2"
"$HW" refs "$T/s.hws" > /dev/null 2>&1
expect "no address: usage error" "$?" "2"

# registers: a block only in r12, another only in xmm5, while the program waits on stdin
mkfifo "$T/in"
"$HW" run -q -o "$T/g.hws" -- "$P/reach" regs < "$T/in" > "$T/out" &
hw=$!
exec 3> "$T/in"
for _ in $(seq 100); do grep -q ready "$T/out" 2>/dev/null && break; sleep 0.05; done
sleep 0.2	# into the read system call, past the line that said ready
"$HW" snapshot --scan --label regs "$hw" > "$T/snap.txt"
expect_match "snapshot --scan says how long the program stopped" "$(cat "$T/snap.txt")" \
	"^snapshot regs taken: [0-9]+ blocks, .*; scanned, the program was stopped for [0-9.]+ (ms|s)$"
echo x >&3
exec 3>&-
wait "$hw"
expect "the program ran on" "$?" "0"
"$HW" refs -f json "$T/g.hws@regs" regs > "$T/g.json"
expect "a general register and a vector register" \
	"$(json "$T/g.json" 'sorted((b["size"], r["type"], r["name"]) for b in j["blocks"] for r in b["referrers"] if r["type"] == "register")')" \
	"[(272, 'register', 'r12'), (288, 'register', 'xmm5')]"
expect "both still reachable" "$(json "$T/g.json" '[b["kind"] for b in j["blocks"]]')" "['reachable', 'reachable']"
"$HW" leaks -f json -k all "$T/g.hws@regs" > "$T/gl.json"
expect "leaks on a snapshot taken with --scan" "$(json "$T/gl.json" '(j["snapshot"]["name"], j["reachable"]["blocks"] >= 2)')" "('regs', True)"

# dot: the target highlighted, offsets on the edges, fan-in capped
"$HW" refs -f dot "$T/s.hws" "$(at 'b[5] = malloc(240)')" > "$T/g.dot"
expect_match "dot: the target is filled" "$(cat "$T/g.dot")" '^  b[0-9]+ \[label="0x[0-9a-f]+\\n240 bytes, still reachable\\nhold_reachable tests/progs/reach.c:[0-9]+", style=filled'
expect_match "dot: an edge with its offset" "$(cat "$T/g.dot")" '^  b[0-9]+ -> b[0-9]+ \[label="\+40"\];$'
expect_match "dot: the root" "$(cat "$T/g.dot")" '^  r[0-9]+ \[label="global g_chain\+0 in reach", shape=ellipse'
"$HW" refs -f dot --depth 1 "$T/s.hws" "$(at 'b[5] = malloc(240)')" > "$T/d1.dot"
expect "--depth 1: the target and one level" "$(grep -c 'label="0x' "$T/d1.dot")" "2"
"$HW" refs -f dot --fan-in 1 "$T/s.hws" allocate_dtv > "$T/f.dot"
expect_match "--fan-in 1: the rest as one node" "$(cat "$T/f.dot")" '^  more[0-9]+ \[label="1 more", shape=ellipse, style=dashed\];$'
if have dot; then
	dot -Tsvg "$T/g.dot" > "$T/g.svg" 2> "$T/err"
	expect "dot reads it" "$? $(cat "$T/err")" "0 "
else
	not_ok "graphviz is not installed: dot output not checked by dot" "make test-deps installs it"
fi
