#!/bin/sh
# The exit scan and `heapwise leaks` on tests/progs/reach.c, whose heap
# shape is known exactly: memcheck's kinds (and memcheck's own numbers when
# valgrind is installed), owners, the leaked cycle, suppressions, --fail-on,
# run --error-exitcode, the formats, and a scan that cannot be made.
. "$(dirname "$0")/lib.sh"

# the line of reach.c that holds a piece of code
at() { echo "reach.c:$(grep -nF -- "$1" tests/progs/reach.c | head -1 | cut -d: -f1)"; }
leaf_line=$(at 'owner[i] = malloc(32)' | cut -d: -f2)

# --- every kind, exactly ---------------------------------------------------
"$HW" run -q -o "$T/n.hws" -- "$P/reach" nothread
"$HW" leaks -f json -k all "$T/n.hws" > "$T/n.json"
# definite: 3x48 + 112 + the tree's 64 + one cycle member 80; indirect: 4x32 + 2x80;
# possible: 96; reachable: 128 + 144 + 160 + 208 + 224 + 240
expect "kinds (nothread)" "$(kinds_of "$T/n.json")" "400 6 288 6 96 1 1104 6"
expect "suppressed and unscanned are empty" "$(json "$T/n.json" '(j["suppressed"], j["unscanned"])')" \
	"({'blocks': 0, 'bytes': 0}, {'blocks': 0, 'bytes': 0})"
if have valgrind; then
	expect "kinds equal memcheck's (nothread)" "$(kinds_of "$T/n.json")" "$(valgrind_kinds "$P/reach" nothread)"
else
	not_ok "valgrind is not installed: memcheck comparison not made" "make test-deps installs it"
fi

# the tree's owner holds its four leaves
expect "the tree: one owner, four owned" \
	"$(json "$T/n.json" '[(r["bytes"], r["indirect_blocks"], r["indirect_bytes"], [(o["blocks"], o["site"]["line"]) for o in r["owns"]]) for r in j["records"] if r["frames"][0]["function"] == "lose_tree" and r["kind"] == "definite"]')" \
	"[(64, 4, 128, [(4, $leaf_line)])]"
# the cycle of three, each member pointing at the next at +16, closing the ring
expect "the leaked cycle" \
	"$(json "$T/n.json" '[(c["blocks"], c["bytes"], sorted(m["kind"] for m in c["members"]), [p["offset"] for m in c["members"] for p in m["pointers"]]) for c in j["cycles"]]')" \
	"[(3, 240, ['definite', 'indirect', 'indirect'], [16, 16, 16])]"
expect "the ring closes" \
	"$(json "$T/n.json" 'sorted(p["to"] for m in j["cycles"][0]["members"] for p in m["pointers"]) == sorted(m["address"] for m in j["cycles"][0]["members"])')" "True"
expect "the XOR-hidden block is lost" \
	"$(json "$T/n.json" '[(r["kind"], r["bytes"]) for r in j["records"] if r["frames"][0]["function"] == "hide_by_xor"]')" \
	"[('definite', 112)]"
expect "interior only: possibly lost" \
	"$(json "$T/n.json" '[(r["kind"], r["bytes"]) for r in j["records"] if r["frames"][0]["function"] == "hold_interior"]')" \
	"[('possible', 96)]"

# text: memcheck's shape
"$HW" leaks "$T/n.hws" > "$T/n.txt"
expect_match "text: the owner's record" "$(cat "$T/n.txt")" \
	"^192 \(64 direct, 128 indirect\) bytes in 1 blocks are definitely lost in loss record [0-9]+ of [0-9]+$"
expect_match "text: owned blocks under it" "$(cat "$T/n.txt")" "^      128 bytes in 4 blocks from lose_tree tests/progs/reach.c:$leaf_line$"
expect_match "text: the cycle" "$(cat "$T/n.txt")" "^cycle 1: 3 blocks, 240 bytes$"
expect "text: the summary" "$(tail -6 "$T/n.txt")" "LEAK SUMMARY:
   definitely lost: 400 bytes in 6 blocks
   indirectly lost: 288 bytes in 6 blocks
     possibly lost: 96 bytes in 1 blocks
   still reachable: 1,104 bytes in 6 blocks
        suppressed: 0 bytes in 0 blocks"
expect_match "text: the stop time is stated" "$(head -1 "$T/n.txt")" \
	"^Snapshot 'exit' of .*reach nothread: scanned with the program stopped for [0-9.]+ (ms|s) \(1 threads"
expect "default kinds: definite and possible records only" \
	"$(grep -Eo 'are (definitely lost|indirectly lost|possibly lost|still reachable)' "$T/n.txt" | sort -u | tr '\n' ,)" \
	"are definitely lost,are possibly lost,"
"$HW" leaks -k reachable "$T/n.hws" > "$T/r.txt"
expect "--kinds reachable" "$(grep -c 'still reachable in loss record' "$T/r.txt")" "6"
"$HW" leaks -f markdown "$T/n.hws" > "$T/n.md"
expect_match "markdown: summary table" "$(cat "$T/n.md")" "^\| definitely lost \| 400 \| 6 \|$"

# --- roots of every kind, with a thread -------------------------------------
"$HW" run -q -o "$T/s.hws" -- "$P/reach" shapes
"$HW" leaks -f json -k all "$T/s.hws" > "$T/s.json"
# as nothread, plus the thread's 176 bytes on its stack and the thread's DTV, which
# the dynamic loader made (reachable by rule; memcheck says possibly lost: it sees a
# pointer 16 bytes into it)
dtv=$(json "$T/s.json" 'sum(r["bytes"] for r in j["records"] if any(f["function"] == "allocate_dtv" for f in r["frames"]))')
expect "kinds (with a thread)" "$(kinds_of "$T/s.json")" "400 6 288 6 96 1 $((1104 + 176 + dtv)) 8"
if have valgrind; then
	set -- $(LD_PRELOAD="$PWD/libheapwise.so" valgrind_kinds "$P/reach" shapes)
	expect "with a thread: memcheck's, but the loader's block" "$1 $2 $3 $4 $(($5 - dtv)) $(($6 - 1)) $(($7 + dtv)) $(($8 + 1))" \
		"$(kinds_of "$T/s.json")"
fi
refs_of() {
	"$HW" refs -f json "$T/s.hws" "$1" > "$T/refs.json"
	json "$T/refs.json" '[(r["type"], r["name"], r["offset"]) for b in j["blocks"] for r in b["referrers"]]'
}
expect "a global" "$(refs_of "$(at 'g_keep = malloc')")" "[('global', 'g_keep', 0)]"
expect "a static struct's member" "$(refs_of "$(at 'g_struct.ptr = malloc')")" "[('global', 'g_struct', 8)]"
expect_match "a thread-local" "$(refs_of "$(at 't_keep = malloc')")" "^\[\('tls', '', -[0-9]+\)\]$"
# keeper's own frame holds it; the libc read() it waits in may keep copies of
# its registers, the pointer among them (glibc 2.36-9+deb12u14 does: two
# slots in __libc_read's frame), which are on that thread's stack too
refs_of keeper > "$T/keeper"
expect "another thread's stack, in its frame" \
	"$(python3 -c 'import ast, sys; r = ast.literal_eval(open(sys.argv[1]).read()); print(all(t == "stack" for t, _, _ in r), [(n, o >= 0) for t, n, o in r if n == "keeper"])' "$T/keeper")" \
	"True [('keeper', True)]"
expect "the loader's block" "$("$HW" refs -f json "$T/s.hws" allocate_dtv | python3 -c 'import json,sys; print(sorted(r["type"] for b in json.load(sys.stdin)["blocks"] for r in b["referrers"]))')" \
	"['loader', 'tls']"

# --- _exit skips destructors; the scan still happens -------------------------
"$HW" run -q -o "$T/u.hws" -- "$P/reach" _exit
"$HW" leaks -f json -k all "$T/u.hws" > "$T/u.json"
expect "scan at _exit" "$(kinds_of "$T/u.json")" "400 6 288 6 96 1 1104 6"

# --- suppressions -------------------------------------------------------------
cat > "$T/supp1" <<'EOF'
# LeakSanitizer's format: other sanitizers' lines are left alone
race:lose_tree
leak:lose_tree
EOF
printf 'leak:^hide_by_$\nleak:by_xor$\n' > "$T/supp2"
"$HW" leaks -f json -s "$T/supp1" -s "$T/supp2" "$T/n.hws" > "$T/sup.json"
# lose_tree: owner and four leaves; hide_by_xor by its anchored tail ($); ^hide_by_$ matches nothing
expect "suppressed: the owner takes its leaves along" "$(json "$T/sup.json" '(j["suppressed"]["blocks"], j["suppressed"]["bytes"], j["definite"]["blocks"], j["indirect"]["blocks"])')" \
	"(6, 304, 4, 2)"
printf 'leak:reach.c\n' > "$T/supp3"
"$HW" leaks -f json -s "$T/supp3" "$T/n.hws" > "$T/sup3.json"
expect "a file name suppresses everything lost" "$(kinds_of "$T/sup3.json")" "0 0 0 0 0 0 1104 6"
printf 'leak\n' > "$T/bad"
"$HW" leaks -s "$T/bad" "$T/n.hws" > /dev/null 2> "$T/err"
expect "a malformed suppression" "$? $(cat "$T/err")" \
	"1 heapwise: error: $T/bad:1: a suppression is TYPE:PATTERN, like leak:my_function, not 'leak'"

# --- gates ----------------------------------------------------------------------
"$HW" leaks --fail-on definite "$T/n.hws" > /dev/null 2> "$T/err"
expect "--fail-on definite: exit 3" "$? $(cat "$T/err")" \
	"3 heapwise: definitely lost: 400 bytes in 6 blocks (--fail-on definite)"
"$HW" leaks --fail-on possible -s "$T/supp3" "$T/n.hws" > /dev/null
expect "--fail-on with everything suppressed: exit 0" "$?" "0"
"$HW" leaks --fail-on bogus "$T/n.hws" > /dev/null 2>&1
expect "--fail-on with a bad kind: usage error" "$?" "2"
"$HW" run -q --error-exitcode 7 -o "$T/e.hws" -- "$P/reach" nothread 2> "$T/err"
expect "run --error-exitcode" "$? $(cat "$T/err")" \
	"7 heapwise: leaks found, exiting with 7 (--error-exitcode): definitely lost 6 blocks, possibly lost 1 blocks"
"$HW" run -q --error-exitcode 7 -o "$T/e.hws" -- "$P/exitcode" 4 > /dev/null
expect "run --error-exitcode, no leak: the program's status" "$?" "4"
"$HW" run -q --error-exitcode 7 --errors-for-leak-kinds reachable -o "$T/e.hws" -- "$P/reach" nothread 2> /dev/null
expect "--errors-for-leak-kinds reachable" "$?" "7"
"$HW" run -q --error-exitcode 7 --no-scan -- "$P/reach" nothread 2> /dev/null
expect "--error-exitcode with --no-scan: usage error" "$?" "2"

# --- no scan ------------------------------------------------------------------
"$HW" run -q --no-scan -o "$T/ns.hws" -- "$P/reach" nothread
"$HW" leaks "$T/ns.hws" > /dev/null 2> "$T/err"
expect_match "--no-scan: leaks says why there is nothing" "$? $(cat "$T/err")" \
	"^1 heapwise: error: snapshot 'exit' of '.*' has no reachability scan: scans are taken at exit"
# a program that is already traced: no scan, no hang, its status kept, the reason kept
timeout 20 "$HW" run -o "$T/d.hws" -- "$P/debugged" 2> "$T/err"
expect "already traced: the program's status" "$?" "5"
expect_match "already traced: run says why" "$(cat "$T/err")" \
	"^heapwise: no leak check at exit: cannot stop the program: the program is already traced by process [0-9]+"
"$HW" leaks "$T/d.hws" > /dev/null 2> "$T/err"
expect_match "already traced: leaks says why" "$(cat "$T/err")" "has no reachability scan: cannot stop the program: the program is already traced"
"$HW" leaks -k nothing "$T/n.hws" > /dev/null 2>&1
expect "--kinds with a bad kind: usage error" "$?" "2"

# ptrace forbidden: a non-dumpable program, heapwise not root (as nobody, when we are root)
if [ "$(id -u)" = 0 ] && have setpriv; then
	chmod 777 "$T"
	timeout 20 setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$HW" run -o "$T/nd.hws" -- "$P/debugged" nodump 2> "$T/err"
	expect "ptrace forbidden: the program's status" "$?" "5"
	expect_match "ptrace forbidden: run says why" "$(cat "$T/err")" \
		"^heapwise: no leak check at exit: cannot stop the program: ptrace was refused: the program made itself non-dumpable"
else
	not_ok "ptrace forbidden: not checked (needs root and setpriv to run heapwise as nobody)"
fi
