#!/bin/sh
# One allocator-wrapper rule for every command: the built-in wrappers
# (strdup under glibc's __GI_ names, GNU's xmalloc) and the user's own
# (--alloc-fn), which heapwise run keeps in the profile, so run's summary,
# stats, top, leaks, refs and the dashboard all charge a block to the
# wrapper's caller. tests/progs/wrapped.c allocates through pool_alloc,
# an xmalloc and strdup.
. "$(dirname "$0")/lib.sh"

line() { grep -nF -- "$1" tests/progs/wrapped.c | head -1 | cut -d: -f1; }
CONFIG=$(line 'keep[i] = pool_alloc(100)')
ARGS=$(line 'keep[10 + i] = pool_alloc(200)')
STRDUP=$(line 'name = strdup("wrapped")')


# without --alloc-fn: pool_alloc is the site; xmalloc and strdup are known wrappers
"$HW" run -o "$T/a.hws" -- "$P/wrapped" > /dev/null 2> "$T/a.err"
expect_match "run's summary: pool_alloc, unknown, is a site" "$(cat "$T/a.err")" \
	"^heapwise: +2\.1 KiB in +18 blocks  pool_alloc tests/progs/wrapped\.c:[0-9]+$"
"$HW" top -f json -n 0 "$T/a.hws" > "$T/a.json"
expect "top: strdup's block and printf's buffer are their callers'; xmalloc's go on to pool_alloc" \
	"$(json "$T/a.json" 'sorted((g["function"], g["line"], g["count"]) for g in j["groups"] if g["file"].endswith("wrapped.c") and g["count"])')" \
	"[('main', $(line 'keep = calloc(32'), 1), ('main', $STRDUP, 1), ('main', $(line 'printf("%s\n", name)'), 1), ('pool_alloc', $(line 'void *p = malloc(n)'), 18)]"

# heapwise run --alloc-fn: every command after it uses the rule the profile keeps
"$HW" run --alloc-fn 'pool_*' -o "$T/b.hws" -- "$P/wrapped" > /dev/null 2> "$T/b.err"
expect_match "run --alloc-fn: the summary charges the callers" "$(cat "$T/b.err")" \
	"^heapwise: +1000 B in +10 blocks  load_config tests/progs/wrapped\.c:$CONFIG$"
expect_match "run --alloc-fn: ... both of them" "$(cat "$T/b.err")" \
	"^heapwise: +1000 B in +5 blocks  parse_args tests/progs/wrapped\.c:$ARGS$"
stats_json "$T/b.hws" > "$T/b.json"
expect "stats, from the profile's rule" \
	"$(json "$T/b.json" 'sorted((s["function"], s["blocks"]) for s in j["top_sites"] if s["function"] in ("load_config", "parse_args", "pool_alloc"))')" \
	"[('load_config', 10), ('parse_args', 5)]"
"$HW" top -n 2 "$T/b.hws" | sed -n 2p > "$T/b.top"
expect_match "top, from the profile's rule" "$(cat "$T/b.top")" "^tests/progs/wrapped\.c:($CONFIG|$ARGS): size=1000 B, count=(10|5)"
"$HW" leaks -f json "$T/b.hws" > "$T/b.leaks"
expect "leaks: what the lost array owns, by the wrappers' callers" \
	"$(json "$T/b.leaks" 'sorted((o["site"]["function"], o["blocks"]) for r in j["records"] for o in r["owns"] if o["site"]["function"] != "main")')" \
	"[('load_config', 10), ('parse_args', 5)]"
"$HW" refs -f json "$T/b.hws" load_config > "$T/b.refs"
expect "refs: load_config names its blocks" "$(json "$T/b.refs" 'j["matched"]')" "10"

# --alloc-fn given to a command, on a profile made without it
"$HW" stats -f json --alloc-fn pool_alloc "$T/a.hws" > "$T/c.json"
expect "stats --alloc-fn" \
	"$(json "$T/c.json" 'sorted(s["function"] for s in j["top_sites"] if s["function"] in ("load_config", "parse_args", "pool_alloc"))')" \
	"['load_config', 'parse_args']"
"$HW" leaks -f json --alloc-fn pool_alloc "$T/a.hws" > "$T/c.leaks"
expect "leaks --alloc-fn" \
	"$(json "$T/c.leaks" 'sorted(o["site"]["function"] for r in j["records"] for o in r["owns"] if o["site"]["function"] != "main")')" \
	"['load_config', 'parse_args']"
"$HW" refs -f json --alloc-fn pool_alloc "$T/a.hws" parse_args > "$T/c.refs"
expect "refs --alloc-fn" "$(json "$T/c.refs" 'j["matched"]')" "5"
"$HW" refs "$T/a.hws" parse_args > /dev/null 2>&1
expect "refs without it: parse_args allocated nothing itself" "$?" "1"
"$HW" top -f json -n 0 --alloc-fn pool_alloc -b function "$T/a.hws" > "$T/c.top"
expect "top --alloc-fn" \
	"$(json "$T/c.top" 'sorted((g["function"], g["count"]) for g in j["groups"] if g["count"] and g["module"].endswith("wrapped"))')" \
	"[('load_config', 10), ('main', 6), ('parse_args', 5)]"
"$HW" diff -f json -n 0 --alloc-fn pool_alloc -b function "$T/a.hws" "$T/b.hws" > "$T/c.diff"
expect "diff --alloc-fn: the same places in both" "$(json "$T/c.diff" 'sum(abs(g["size_diff"]) for g in j["sites"])')" "0"

# the dashboard: run --live with --alloc-fn shows the callers
"$HW" run -q --live --batch --delay 0.1 --alloc-fn 'pool_*' -o "$T/d.hws" -- "$P/wrapped" > "$T/d.out" 2>/dev/null
expect_match "the dashboard charges the callers" "$(cat "$T/d.out")" \
	"1000 B +[0-9.]+% +10 .* load_config tests/progs/wrapped\.c:$CONFIG$"
expect "the dashboard shows no pool_alloc row" "$(grep -c ' pool_alloc ' "$T/d.out")" "0"
