#!/bin/sh
# Python programs in Python's terms, on every interpreter of the machine:
# blocks charged to Python lines, checked against tracemalloc run in the
# same program (tests/py/lines.py: each of its lines within 5% of
# tracemalloc's bytes and 2% of its blocks, and a traceback frame for
# frame); code objects dying and born again at the same address never
# misname a block (tests/py/churn.py); the line decoder agrees with
# co_lines() on every code object of the standard library; --python=off,
# and an interpreter heapwise cannot read, say so and trace native code.
. "$(dirname "$0")/lib.sh"

PY=$PWD/tests/py
listdir_line=$(grep -n 'os.listdir' "$PY/lines.py" | cut -d: -f1)

# compare NAME: the lines and the traceback of $T/NAME.json (tracemalloc's) and $T/NAME.hws@tm
compare() {
	"$HW" top -n 0 -f json "$T/$1.hws@tm" > "$T/$1.top"
	"$HW" top -n 0 -b traceback -f json "$T/$1.hws@tm" > "$T/$1.tb"
	python3 - "$T/$1.json" "$T/$1.top" "$T/$1.tb" <<'PYEOF'
import json, sys
tm = json.load(open(sys.argv[1]))
top = json.load(open(sys.argv[2]))["groups"]
tb = json.load(open(sys.argv[3]))["groups"]
hw = {g["line"]: (g["size"], g["count"]) for g in top if g["file"] == tm["file"]}
bad = []
for line, (size, count) in sorted(tm["lines"].items(), key=lambda kv: int(kv[0])):
    if size < 100000:
        continue
    got = hw.get(int(line), (0, 0))
    if abs(got[0] - size) > 0.05 * size or abs(got[1] - count) > 0.02 * count:
        bad.append("line %s: heapwise %d B in %d, tracemalloc %d B in %d" % (line, got[0], got[1], size, count))
checked = sum(1 for size, count in tm["lines"].values() if size >= 100000)
want = [tuple(f) for f in tm["traceback"]]
found = [[(f["file"], f["line"]) for f in g["frames"]] for g in tb]
print("%d lines checked%s" % (checked, "".join("; " + b for b in bad)))
print("traceback %s" % ("equal" if want and want in found else "differs: %s not among %d" % (want, len(found))))
PYEOF
}

for py in python3 /usr/bin/python3.11 "$HOME/.pyenv/versions/3.12.1/bin/python3" "$HOME/.pyenv/versions/3.13.0/bin/python3"; do
	v=$("$py" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
	name=py$v
	[ "$py" = /usr/bin/python3.11 ] && name=debian$v
	"$HW" run -o "$T/$name.hws" -- "$py" "$PY/lines.py" "$HW" "$T/$name.json" > "$T/$name.out" 2> "$T/$name.err"
	expect_match "$name: the summary says Python is on" "$(cat "$T/$name.err")" \
		"^heapwise: python $v \((libpython3\.[0-9]+\.so\.1\.0|python3\.11)\): Python frames on, pymalloc traced$"
	compare "$name" > "$T/$name.cmp"
	expect_match "$name: each line as tracemalloc measures it (size 5%, count 2%)" "$(head -1 "$T/$name.cmp")" \
		"^[5-9] lines checked$"
	expect "$name: a traceback as tracemalloc's, frame for frame" "$(tail -1 "$T/$name.cmp")" "traceback equal"
	# opendir's buffer, allocated while os.listdir has released the lock (freed: over the run)
	"$HW" top --sort allocated -n 0 -f json "$T/$name.hws" > "$T/$name.run"
	expect "$name: C code that released the lock: its malloc on the Python line that called it" \
		"$(json "$T/$name.run" 'any(g["bytes_allocated"] >= 100 * 32768 for g in j["groups"] if g["file"].endswith("lines.py") and g["line"] == '"$listdir_line"')')" True

	mkdir -p "$T/$name-mod"
	"$HW" run -q -o "$T/$name-churn.hws" -- "$py" "$PY/churn.py" "$T/$name-mod" > /dev/null
	"$HW" top -b function --sort allocations -n 0 -f json "$T/$name-churn.hws" > "$T/$name-churn.json"
	# fK's list has K % 7 + 1 items: its bytes tell which function made it
	expect "$name: 2000 functions born at one another's addresses, each block under its own" \
		"$(python3 -c '
import json, sys
g = json.load(open(sys.argv[1]))["groups"]
r = {x["function"]: x["bytes_allocated"] for x in g if x["function"][:1] == "f" and x["function"][1:].isdigit()}
print(len(r), sorted({r[k] - r.get("f0", 0) - 8 * (int(k[1:]) % 7) for k in r}))' "$T/$name-churn.json")" "2000 [0]"
	"$HW" top --sort allocations -n 0 -f json "$T/$name-churn.hws" > "$T/$name-churn.lines"
	expect "$name: a reloaded module's function at its new line" \
		"$(json "$T/$name-churn.lines" 'sorted((g["line"], g["function"]) for g in j["groups"] if g["file"].endswith("mod.py") and g["function"] == "make")')" \
		"[(2, 'make'), (4, 'make')]"

	"$py" "$PY/code-lines.py" 2> /dev/null | "$PWD/build/unit/pylines-check" > "$T/$name.lines"
	expect_match "$name: the line decoder agrees with co_lines() on the standard library" \
		"$(tail -1 "$T/$name.lines")" "^[0-9]{4,} code objects, [0-9]+ instructions, 0 wrong$"
done

# greenlets switching in the middle of each other's loops (Debian's python3.11 has greenlet)
"$HW" run -q -o "$T/greenlets.hws" -- /usr/bin/python3.11 "$PY/greenlets.py" "$HW" "$T/greenlets.json"
compare greenlets > "$T/greenlets.cmp"
expect "greenlets: each line as tracemalloc measures it" "$(head -1 "$T/greenlets.cmp")" "3 lines checked"
expect "greenlets: a greenlet's traceback as tracemalloc's" "$(tail -1 "$T/greenlets.cmp")" "traceback equal"

# pprof: Python names whole ("<module>" is not a C++ template to cut), each function's first
# line, and -list from another directory (Python names its files from the root)
if have go; then
	mkdir -p "$T/rel/pkgdir"
	printf 'def build():\n    return [bytearray(1000) for i in range(5000)]\n' > "$T/rel/pkgdir/relmod.py"
	printf 'import relmod\nkeep = relmod.build()\n' > "$T/rel/main.py"
	(cd "$T/rel" && PYTHONPATH=pkgdir "$HW" run -q -o "$T/rel.hws" -- python3 main.py > /dev/null)
	"$HW" export -f pprof -o "$T/rel.pb.gz" "$T/rel.hws"
	(cd / && HOME="$T" GOCACHE="$T/go-cache" go tool pprof -raw "$T/rel.pb.gz" 2> /dev/null) > "$T/rel.raw"
	expect_match "pprof: a Python function, its file and its first line" \
		"$(cat "$T/rel.raw")" " M=[0-9]+ build $T/rel/pkgdir/relmod\.py:2 s=1\(\)\$"
	expect_match "pprof: <module> kept whole" "$(cat "$T/rel.raw")" " M=[0-9]+ <module> $T/rel/main\.py:2 s=1\(\)\$"
	(cd / && HOME="$T" GOCACHE="$T/go-cache" go tool pprof -list '^build$' -sample_index=inuse_space "$T/rel.pb.gz" 2> /dev/null) > "$T/rel.list"
	expect_match "pprof -list from another directory: the Python line weighed" "$(cat "$T/rel.list")" \
		"^ +[.0-9]+[kMG]?B? +5\.[0-9]+MB +2: +return \[bytearray\(1000\)"
else
	not_ok "go is not installed: pprof of a Python run not checked" "make test-deps installs golang-go"
fi

# referrers in Python's words: each of tests/py/names.py's 2,827 Sessions is named by the
# pointer that holds it, as the program itself names them (written with their id()s): the
# value of an int-keyed and of a str-keyed dict by its key, a list's and a tuple's item by its
# index; each one's bytearray by the attribute that holds it (values apart on 3.11 and 3.12,
# inside the instance on 3.13); and the chain from a root to one ends in that name
for py in python3 /usr/bin/python3.11 "$HOME/.pyenv/versions/3.12.1/bin/python3" "$HOME/.pyenv/versions/3.13.0/bin/python3"; do
	v=$("$py" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
	"$HW" run -q -o "$T/names-$v.hws" -- "$py" "$PY/names.py" "$T/names-$v.ids" > /dev/null 2>&1
	"$HW" refs -n 0 -f json "$T/names-$v.hws@py-exit" type:Session > "$T/names-$v.json"
	expect "$v: refs type:Session: every Session named as Python names it" "$(python3 - "$T/names-$v.ids" "$T/names-$v.json" <<'PYEOF'
import collections, json, sys
ids = {int(a): n for a, n in json.load(open(sys.argv[1])).items()}
named = collections.Counter()
for b in json.load(open(sys.argv[2]))["blocks"]:
    want = [ids[b["address"] + off] for off in (0, 16, 32) if b["address"] + off in ids]
    got = {r.get("python") for r in b["referrers"]}
    named[want[0].split("[")[0] + (" named" if want[0] in got else " not named") if want else "no id"] += 1
print(sorted(named.items()))
PYEOF
)" "[('dict named', 2520), ('list named', 300), ('tuple named', 7)]"
	expect "$v: a list's spare room past its 300 items holds stale pointers, named as no item" \
		"$(json "$T/names-$v.json" 'sorted({r["python"] for b in j["blocks"] for r in b["referrers"] if r.get("python", "").startswith("list[") and int(r["python"][5:-1]) >= 300})')" "[]"
	expect "$v: each Session's bytearray named by its attribute, .data" \
		"$("$HW" refs -n 0 -f json "$T/names-$v.hws@py-exit" type:bytearray | json /dev/stdin '(len(j["blocks"]), sum(any(r.get("python") == ".data" for r in b["referrers"]) for b in j["blocks"]))')" \
		"(2827, 2827)"
	# the chain's Session: a str-keyed dict's value that nothing else points at (a stale
	# pointer left in a free slot would be a second, shorter way in), and its key
	set -- $(python3 - "$T/names-$v.ids" "$T/names-$v.json" <<'PYEOF'
import json, sys
ids = {int(a): n for a, n in json.load(open(sys.argv[1])).items()}
for b in sorted(json.load(open(sys.argv[2]))["blocks"], key=lambda b: b["address"]):
    name = next((ids[b["address"] + off] for off in (0, 16, 32) if b["address"] + off in ids), "")
    if name.startswith("dict['user") and [r.get("python") for r in b["referrers"]] == [name]:
        print(hex(b["address"]), name)
        break
PYEOF
)
	addr=$1 key=$2
	expect "$v: refs --chain: the last hop is the dict's key, $key" \
		"$("$HW" refs --chain -f json "$T/names-$v.hws@py-exit" "${addr:-none}" | json /dev/stdin 'j["blocks"][0]["chain"][-1].get("python")')" "${key:-no Session held by its dict alone}"
done
expect_match "refs: a referrer's Python name in the text" \
	"$("$HW" refs "$T/names-$v.hws@py-exit" "$addr")" "^    dict\['user[0-9]+'\] in block 0x[0-9a-f]+ \([0-9]+ bytes, still reachable, from"

# a chain from a module global checked hop by hop (tests/py/globals.py): each object's
# referrers named as Python names them, and its chain's named hops ending in the global
# and then the container's key, index or attribute (the hops before it are the module's
# own, sys.modules or none, as its objects are blocks or not), on every interpreter. What CPython
# holds but does not use is no referrer: free slots of pymalloc's pools, the free lists'
# slots past their counts, the frames' stack above its top (each a second way in before)
for py in python3 /usr/bin/python3.11 "$HOME/.pyenv/versions/3.12.1/bin/python3" "$HOME/.pyenv/versions/3.13.0/bin/python3"; do
	v=$("$py" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
	"$HW" run -q -o "$T/globals-$v.hws" -- "$py" "$PY/globals.py" "$T/globals-$v.ids" > /dev/null 2>&1
	for k in _cache one one.data hw_probe items closure; do
		addr=$(json "$T/globals-$v.ids" "hex(j['$k'])")
		"$HW" refs --chain -f json "$T/globals-$v.hws@py-exit" "$addr" > "$T/globals-$v-$k.json"
	done
	expect "$v: globals: each object's referrers, in Python's words" "$(for k in _cache one one.data hw_probe items closure; do
		json "$T/globals-$v-$k.json" '[r.get("python") for r in j["blocks"][0]["referrers"]]'; done | tr '\n' ' ')" \
		"['dict[7]'] [\"module __main__ .__dict__['one']\"] ['.data'] [\"module json .__dict__['hw_probe']\"] ['list[3]'] ['.cell_contents'] "
	# a closure's: its function's __closure__, the tuple's item, the cell's contents
	expect "$v: globals: a closure's chain, hop by hop" \
		"$(json "$T/globals-$v-closure.json" '[h["python"] for h in j["blocks"][0]["chain"] if h.get("python")][-3:]')" \
		"['.__closure__', 'tuple[0]', '.cell_contents']"
	expect "$v: globals: each chain's named hops end in the global, then the container's" "$(for k in _cache one one.data hw_probe items; do
		json "$T/globals-$v-$k.json" '(lambda n: n[max(i for i, x in enumerate(n) if x.startswith("module ")):])([h["python"] for h in j["blocks"][0]["chain"] if h.get("python")])'; done | tr '\n' ' ')" \
		"[\"module __main__ .__dict__['_cache']\", 'dict[7]'] [\"module __main__ .__dict__['one']\"] [\"module __main__ .__dict__['one']\", '.data'] [\"module json .__dict__['hw_probe']\"] [\"module __main__ .__dict__['items']\", 'list[3]'] "
done
# pyenv's 3.11 grew __main__'s table after the tracer came: a block, and the global its hop
expect_match "refs --chain: a global in the text" \
	"$("$HW" refs --chain "$T/globals-3.11.7.hws@py-exit" "$(json "$T/globals-3.11.7.ids" "hex(j['items'])")")" \
	"^    at \+[0-9]+ module __main__ \.__dict__\['items'\] -> 0x[0-9a-f]+ \(16 bytes in\): 56 bytes from"
"$HW" refs --format dot "$T/globals-$v.hws@py-exit" "$(json "$T/globals-$v.ids" "hex(j['one'])")" > "$T/globals.dot"
expect_match "refs --format dot: a global's name on its edge" "$(cat "$T/globals.dot")" "module __main__ \.__dict__\[.one.\]"

# a running function's locals (tests/py/frames.py scans itself from inside work()): what
# only a local holds is named by it, the frame's function and the local's name
for py in python3 /usr/bin/python3.11 "$HOME/.pyenv/versions/3.12.1/bin/python3" "$HOME/.pyenv/versions/3.13.0/bin/python3"; do
	v=$("$py" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
	"$HW" run -q -o "$T/frames-$v.hws" -- "$py" "$PY/frames.py" "$HW" "$T/frames-$v.ids" > /dev/null 2>&1
	set -- $(cat "$T/frames-$v.ids" 2> /dev/null) 0 0
	expect "$v: frames: a local's object named by its frame and name, the other local's too" "$(for a in "$1" "$2"; do
		"$HW" refs -f json "$T/frames-$v.hws@inside" "$(printf '0x%x' "$a")" |
			json /dev/stdin '[r.get("python") for r in j["blocks"][0]["referrers"] if r["type"] != "block"]'; done | tr '\n' ' ')" \
		"[\"frame work, local 'session'\"] [\"frame work, local 'buffer'\"] "
done

# the memory Python keeps (del, and RSS does not shrink): at py-exit the resident set in parts,
# pymalloc's free space held against pymalloc's own account of its arenas in an untraced run
# of the same program (arenas less the bytes in allocated blocks), within 10%
for py in python3 /usr/bin/python3.11 "$HOME/.pyenv/versions/3.12.1/bin/python3" "$HOME/.pyenv/versions/3.13.0/bin/python3"; do
	v=$("$py" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
	"$py" "$PY/fragment.py" 2> "$T/frag-$v.stats"
	arena_free=$(awk -F= '/bytes\/arena/ { gsub(/[ ,]/, "", $2); t = $2 } /bytes in allocated blocks/ { gsub(/[ ,]/, "", $2); u = $2 } END { print t - u }' "$T/frag-$v.stats")
	arenas=$(awk -F= '/arenas allocated current/ { gsub(/ /, "", $2); print $2 }' "$T/frag-$v.stats")
	"$HW" run -q -o "$T/frag-$v.hws" -- "$py" "$PY/fragment.py" 2> /dev/null
	stats_json "$T/frag-$v.hws" > "$T/frag-$v.json"
	expect "$v: py-exit's resident set in parts: pymalloc's free space as its own count, the live heap far less" \
		"$(json "$T/frag-$v.json" '(lambda r: (r["snapshot"], abs(r["pymalloc_free"] - '"$arena_free"') <= 0.1 * '"$arena_free"', r["live_heap"] < r["pymalloc_free"] / 5, r["live_heap"] + r["pymalloc_free"] + r["allocator_free"] + r["other"] == r["rss"]))(j["rss_breakdown"])')" \
		"('py-exit', True, True, True)"
	# its arenas as pymalloc counts them (within 10%), nearly all mostly free, kept by the line
	# that made the objects it keeps one in a hundred of
	expect "$v: pymalloc's arenas counted, the mostly free kept by the line that made what is kept" \
		"$(json "$T/frag-$v.json" '(lambda a: (abs(a["count"] - '"$arenas"') <= 0.1 * '"$arenas"', a["mostly_free"] >= 0.9 * a["count"], (a["kept_by"][0]["file"].endswith("fragment.py"), a["kept_by"][0]["line"])))(j["rss_breakdown"]["pymalloc_arenas"])')" \
		"(True, True, (True, $(grep -n '^objs = ' "$PY/fragment.py" | cut -d: -f1)))"
done
expect_match "stats: pymalloc's arenas and what keeps them" "$("$HW" stats "$T/frag-$v.hws")" \
	"^    [^ ]+ .*fragment\.py:$(grep -n '^objs = ' "$PY/fragment.py" | cut -d: -f1): [0-9]+ blocks, [0-9.]+ KiB$"
expect_match "stats: the resident set at py-exit in parts" "$("$HW" stats "$T/frag-$v.hws")" \
	"^resident set at py-exit: [0-9.]+ MiB = live heap [0-9.]+ [KM]iB \+ free in malloc's heaps [0-9.]+ [KM]?i?B \+ free in pymalloc's arenas 5[0-9]\.[0-9] MiB \+ other [0-9.]+ MiB$"

# a C program embedding pyenv's libpython3.11
pyc=$HOME/.pyenv/versions/3.11.7/bin/python3-config
gcc $($pyc --cflags) -o "$T/embed" tests/py/embed.c $($pyc --embed --ldflags) -Wl,-rpath,"$($pyc --prefix)/lib"
"$HW" run --native -o "$T/embed.hws" -- "$T/embed" "$HW" 2> "$T/embed.err"
expect_match "embedded: the interpreter inside a C program is found" "$(cat "$T/embed.err")" \
	"^heapwise: python 3\.11\.7 \(libpython3\.11\.so\.1\.0\): Python frames on, pymalloc traced$"
"$HW" top -n 1 -f json "$T/embed.hws@tm" > "$T/embed.json"
expect "embedded: the strings on their Python line" \
	"$(json "$T/embed.json" '[(g["file"], g["line"], g["count"] >= 50000) for g in j["groups"]]')" "[('<string>', 2, True)]"
"$HW" top -n 1 -b traceback --native -f json "$T/embed.hws@tm" > "$T/embed.tb"
expect "embedded: run --native, top --native: main, then the Python frames it ran" \
	"$(json "$T/embed.tb" '[f["function"] for f in j["groups"][0]["frames"] if f["function"] in ("main", "PyRun_SimpleStringFlags") or f["file"] == "<string>"]')" \
	"['main', 'PyRun_SimpleStringFlags', '<module>', 'grow', 'grow.<locals>.<listcomp>']"

# forked multiprocessing workers, with --follow-fork: the workers' profiles name their line,
# with every block of both tasks (which worker takes which is the pool's choice)
rm -rf "$T/pool" && mkdir "$T/pool"
"$HW" run -q --follow-fork -o "$T/pool/p.hws" -- python3 "$PY/pool.py" > "$T/pool.out" 2> /dev/null
bytes=0
for f in "$T"/pool/p.hws.*; do
	"$HW" top --sort allocated -n 0 -f json "$f" > "$T/pool.json"
	bytes=$((bytes + $(json "$T/pool.json" 'sum(g["bytes_allocated"] for g in j["groups"] if g["file"].endswith("pool.py") and g["line"] == 8 and g["function"] == "work")')))
done
expect "forked workers: the pool ran" "$(cat "$T/pool.out")" 700
expect "forked workers: their profiles name their line, with both tasks' blocks" \
	"$([ "$bytes" -ge $((700 * 2000)) ] && echo yes || echo "no: $bytes bytes")" yes

# the py-exit snapshot: after the program, before the interpreter frees its objects
cat > "$T/cache.py" <<'PYEOF'
class Session:
    def __init__(self, user):
        self.user = user
        self.history = [0] * 30

cache = {i: Session("user-%d" % i) for i in range(20000)}
PYEOF
"$HW" run -o "$T/cache.hws" -- python3 "$T/cache.py" 2> "$T/cache.err"
expect_match "py-exit: the summary's top sites are Python's exit's" "$(cat "$T/cache.err")" \
	"^heapwise: top sites by bytes live at Python's exit \(before it freed its objects\):
heapwise: +[0-9.]+ MiB in  [0-9]+ blocks  Session.__init__ $T/cache.py:4$"
expect_match "py-exit: the leak check is still the exit scan's" "$(cat "$T/cache.err")" \
	"^heapwise: leak check at exit \(the program was stopped [0-9]+ ms for it\):$"
expect "py-exit: a heap this size is scanned too: Python's leak kinds in the summary" \
	"$(grep -A2 "^heapwise: Python's leaks at py-exit" "$T/cache.err" | sed 's/ ([^)]*ms for the scan)//')" \
	"heapwise: Python's leaks at py-exit:
heapwise:    uncollected cycles: 0 cycles, 0 objects, 0 bytes in 0 blocks
heapwise:     leaked references: 0 objects, 0 bytes in 0 blocks"
expect "py-exit: leaks FILE@py-exit: the cache's 20,000 Session objects reachable, none lost" \
	"$("$HW" leaks -f json -k all "$T/cache.hws@py-exit" | python3 -c 'import json, sys; j = json.load(sys.stdin); print(sum(r["blocks"] for r in j["records"] if r["kind"] == "reachable" and r["frames"] and r["frames"][0]["line"] == 4) >= 20000, j["python"]["uncollected_cycles"]["count"], j["python"]["leaked_references"]["count"])')" \
	"True 0 0"
"$HW" top -n 1 -f json "$T/cache.hws@py-exit" > "$T/cache.json"
expect "py-exit: FILE@py-exit holds the program's objects" \
	"$(json "$T/cache.json" '[(g["line"], g["count"] >= 20000) for g in j["groups"]]')" "[(4, True)]"
expect "py-exit: a bare FILE is FILE@py-exit" "$("$HW" top -n 1 "$T/cache.hws")" "$("$HW" top -n 1 "$T/cache.hws@py-exit")"
expect_match "py-exit: @exit is still the heap after finalization" "$("$HW" top -n 1 -f json "$T/cache.hws@exit")" \
	'"name": "exit"'
"$HW" leaks -f json "$T/cache.hws" > "$T/cache.leaks"
expect "py-exit: leaks of a bare FILE reads the exit scan" "$(json "$T/cache.leaks" 'j["snapshot"]["name"]')" exit
expect "py-exit: the exit scan (after Py_Finalize) is read as C's: no Python kinds there" \
	"$(json "$T/cache.leaks" '"python" in j')" False
# a heap of a million objects, each named by its type
printf 'keep = [("item", i, [i]) for i in range(340000)]\n' > "$T/million.py"
"$HW" run -q -o "$T/million.hws" -- python3 "$T/million.py"
"$HW" top --by type -n 0 -f json "$T/million.hws" > "$T/million.json"
expect "py-exit: a million objects by type" \
	"$(json "$T/million.json" 'sorted((g["type"], g["count"] >= 340000) for g in j["groups"] if g["type"] in ("tuple", "list", "int"))')" \
	"[('int', True), ('list', True), ('tuple', True)]"
# ... scanned at py-exit with the program stopped under a second (issue 20), nothing lost
"$HW" run -o "$T/million2.hws" -- python3 "$T/million.py" 2> "$T/million.out"
expect_match "py-exit: a million objects scanned, the program stopped under a second for it" \
	"$(grep "^heapwise: Python's leaks at py-exit" "$T/million.out")" "stopped [0-9]{1,3} ms for the scan"
expect "py-exit: the million objects' scan: no uncollected cycle, no leaked reference" \
	"$("$HW" leaks -f json "$T/million2.hws@py-exit" | json /dev/stdin '(j["python"]["uncollected_cycles"]["count"], j["python"]["leaked_references"]["count"], j["reachable"]["blocks"] > 1000000)')" \
	"(0, 0, True)"
# more than the scan takes at py-exit: leaks says why there is none
printf 'keep = [("item", i, [i]) for i in range(500000)]\n' > "$T/more.py"
"$HW" run -q -o "$T/more.hws" -- python3 "$T/more.py"
"$HW" leaks "$T/more.hws@py-exit" > /dev/null 2> "$T/more.err"
expect_match "py-exit: two million blocks are not scanned there, and leaks says why" "$(cat "$T/more.err")" \
	"^heapwise: error: snapshot 'py-exit' of '$T/more.hws@py-exit' has no reachability scan: a Python program's py-exit snapshot is scanned up to 1,500,000 live blocks"

# gc from outside: the cycle collector at py-exit, as gc itself says just before (counts move
# by the few objects its report makes)
for case in python3:disable python3:enabled /usr/bin/python3.11:enabled \
	    "$HOME/.pyenv/versions/3.12.1/bin/python3:enabled" "$HOME/.pyenv/versions/3.13.0/bin/python3:enabled"; do
	py=${case%:*} how=${case##*:}
	v=$("$py" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
	"$HW" run -q -o "$T/gc-$how.hws" -- "$py" "$PY/gcstate.py" "$T/gc-$how.json" $how
	stats_json "$T/gc-$how.hws" > "$T/gc-$how.stats"
	python3 - "$T/gc-$how.json" "$T/gc-$how.stats" > "$T/gc-$how.cmp" <<'PYEOF'
import json, sys
mine = json.load(open(sys.argv[1]))
hw = json.load(open(sys.argv[2]))["python"]["gc"]
gens = hw["generations"]
same = (hw["enabled"] == mine["enabled"] and
        [g["threshold"] for g in gens] == list(mine["threshold"]) and
        [(g["collections"], g["collected"], g["uncollectable"]) for g in gens] ==
        [(s["collections"], s["collected"], s["uncollectable"]) for s in mine["stats"]] and
        all(0 <= g["count"] - c <= 100 for g, c in zip(gens, mine["count"])))
print("same" if same else "differs: %s / %s" % (hw, mine))
PYEOF
	expect "gc $how ($v): generations, thresholds, collections and counts as gc says" "$(cat "$T/gc-$how.cmp")" same
	[ "$how" = disable ] && cp "$T/gc-disable.hws" "$T/gc-off.hws"
done
expect_match "gc: stats says it" "$("$HW" stats "$T/gc-off.hws")" \
	"^python gc at py-exit: disabled; generation 0: [0-9]+ of 100000, [0-9]+ collections; generation 1: 0 of 10, 2 collections; generation 2: 0 of 10, 1 collections; [0-9]+ objects collected, 0 uncollectable$"

# types: each object of the py-exit heap by its type, as gc counts those it tracks and the
# program counts the rest (str and float, which gc does not track)
for py in python3 /usr/bin/python3.11 "$HOME/.pyenv/versions/3.12.1/bin/python3" "$HOME/.pyenv/versions/3.13.0/bin/python3"; do
	v=$("$py" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
	"$HW" run -q -o "$T/census.hws" -- "$py" "$PY/census.py" "$T/census.json"
	"$HW" top --by type -n 0 -f json "$T/census.hws" > "$T/census.top"
	python3 - "$T/census.json" "$T/census.top" > "$T/census.cmp" <<'PYEOF'
import json, sys
own = json.load(open(sys.argv[1]))
hw = {g["type"]: g["count"] for g in json.load(open(sys.argv[2]))["groups"]}
ok = (hw.get("Session") == own["Session"] and abs(hw.get("list", 0) - own["list"]) <= own["list"] // 100 and
      own["names"] <= hw.get("str", 0) and own["floats"] <= hw.get("float", 0) <= own["floats"] + 100)
print("same" if ok else "differs: heapwise %s, the program %s" % (
    {k: hw.get(k) for k in ("Session", "list", "str", "float")}, own))
PYEOF
	expect "types ($v): Session and list as gc counts them, str and float as the program does" \
		"$(cat "$T/census.cmp")" same
done
# diff --by type: objgraph's show_growth between two runs
printf 'import sys\nclass Session:\n    pass\ncache = [Session() for _ in range(int(sys.argv[1]))]\n' > "$T/grow.py"
"$HW" run -q -o "$T/grow1.hws" -- python3 "$T/grow.py" 1000
"$HW" run -q -o "$T/grow2.hws" -- python3 "$T/grow.py" 5000
"$HW" diff --by type -n 0 -f json "$T/grow1.hws" "$T/grow2.hws" > "$T/grow.json"
expect "types: diff --by type says how many more of a type there are" \
	"$(json "$T/grow.json" '[(g["count"], g["count_diff"]) for g in j["sites"] if g["type"] == "Session"]')" "[(5000, 4000)]"
# top --growth --by type: objgraph's show_growth over the scanned snapshots of one run
"$HW" run -q -o "$T/growth.hws" -- python3 "$PY/growth.py" "$HW"
"$HW" top --growth -k 3 --by type -n 0 -f json "$T/growth.hws" > "$T/growth.json"
expect "types: top --growth --by type finds the type that grew at each step" \
	"$(json "$T/growth.json" '[(g["type"], g["count"], g["growth"] > 0) for g in j["groups"] if g["type"] == "Session"]')" \
	"[('Session', 4000, True)]"
expect_match "types: a snapshot without them says why" "$("$HW" top --by type "$T/census.hws@peak" 2>&1)" \
	"^heapwise: error: snapshot 'peak' has no Python types: they are read when a Python program is scanned"

# Python-aware leak kinds: gc's own links and weak references keep nothing alive, a pointer
# past an object's pre-header is a start pointer, and what CPython keeps unused (pymalloc's
# free slots, its free lists and what is on them, the frames' stack above its top, a dict's
# values' prefix) holds no reference: pairs dropped with gc disabled are lost (99% of their
# blocks; a pair may stay "possibly lost" where a str's bytes read as a pointer into it),
# the live Nodes reachable, and after gc.collect() the pairs are gone (tests/py/cycles.py)
for py in python3 /usr/bin/python3.11 "$HOME/.pyenv/versions/3.12.1/bin/python3" "$HOME/.pyenv/versions/3.13.0/bin/python3"; do
	v=$("$py" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
	"$HW" run -q -o "$T/cycles.hws" -- "$py" "$PY/cycles.py" "$HW" "$T/gc.json"
	"$HW" leaks -f json -k all "$T/cycles.hws@cycles" > "$T/cycles.json"
	"$HW" leaks -f json -k all "$T/cycles.hws@collected" > "$T/collected.json"
	# the uncollected cycles are what gc.collect() then found unreachable (99% of it at least),
	# 500 pairs, Node objects and their lists
	found=$(json "$T/gc.json" 'j["unreachable"]')
	expect "leaks ($v): its uncollected cycles hold the objects gc.collect() then freed" \
		"$(json "$T/cycles.json" '(lambda c: "yes" if 0.99 * '"${found:-0}"' <= c["objects"] <= '"${found:-0}"' and 495 <= c["count"] <= 500 and set(c["types"]) == {"Node", "list"} else c)(j["python"]["uncollected_cycles"])')" yes
	expect "leaks ($v): no leaked reference among them" "$(json "$T/cycles.json" 'j["python"]["leaked_references"]["objects"]')" 0
	expect "leaks ($v): after gc.collect(), no uncollected cycle" "$(json "$T/collected.json" 'j["python"]["uncollected_cycles"]["count"]')" 0
	if [ "$py" = python3 ]; then
		# refs type:NAME: every object of a type (objgraph's by_type), each naming its type
		"$HW" refs -n 0 -f json "$T/cycles.hws@cycles" type:Node > "$T/refs.json"
		expect "refs type:Node: the 1,300 Node objects, each a Node" \
			"$(json "$T/refs.json" '(j["matched"], len(j["blocks"]), {b["type"] for b in j["blocks"]})')" "(1300, 1300, {'Node'})"
		expect "refs type:Node: the 300 live ones among them reachable" \
			"$(json "$T/refs.json" 'sum(b["kind"] == "reachable" for b in j["blocks"]) >= 300')" True
		expect_match "refs type:NAME: none of that type, and how to list them" \
			"$("$HW" refs "$T/cycles.hws@cycles" type:Nope 2>&1)" \
			"^heapwise: error: no live block of snapshot 'cycles' holds a 'Nope' object \(heapwise top --by type lists them\)$"
	fi
	set -- $(python3 "$PY/cycleparts.py" "$T/cycles.json") 0 0 0 0
	expect "leaks ($v): the pairs' blocks (about 3 or 4 per Node, 1,000 Nodes) are there" \
		"$([ "$2" -ge 2900 ] && echo yes || echo "no: $2")" yes
	expect "leaks ($v): 99% of them lost, though a weak reference to each pair lives" \
		"$([ $(($1 * 100)) -ge $(($2 * 99)) ] && echo yes || echo "no: $1 of $2")" yes
	expect "leaks ($v): the 300 live Nodes' blocks all reachable" "$4 of $3" "$3 of $3"
	expect "leaks ($v): 300 live Nodes, 3 or 4 blocks each" "$([ "$3" -ge 900 ] && echo yes || echo "no: $3")" yes
	set -- $(python3 "$PY/cycleparts.py" "$T/collected.json") 0 0 0 0
	expect "leaks ($v): after gc.collect() no block of the pairs is left, and the live Nodes are reachable" \
		"$1 $2 $4" "0 0 $3"
done

# a dropped pair whose last pointer is a list's slot past its length (pop() keeps the room,
# and the pointer): an uncollected cycle all the same (tests/py/stale.py)
for py in python3 /usr/bin/python3.11 "$HOME/.pyenv/versions/3.12.1/bin/python3" "$HOME/.pyenv/versions/3.13.0/bin/python3"; do
	v=$("$py" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
	"$HW" run -q -o "$T/stale-$v.hws" -- "$py" "$PY/stale.py" "$HW" > /dev/null 2>&1
	expect "$v: a list's spare slot keeps nothing alive: the pair it points at is an uncollected cycle" \
		"$("$HW" leaks -f json -k all "$T/stale-$v.hws@dropped" | json /dev/stdin '(j["python"]["uncollected_cycles"]["count"], j["python"]["uncollected_cycles"]["types"])')" \
		"(1, {'Node': 2})"
done

# a C extension's missing Py_DECREF: 100 dicts nothing points at, leaked references, charged
# to the Python line that called it (tests/py/leakext.c, built with the interpreter's headers)
inc=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
mkdir -p "$T/ext"
if gcc -shared -fPIC -O1 -I"$inc" -o "$T/ext/leakext$(python3 -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')" \
	"$PY/leakext.c" 2> "$T/ext.err"; then
	"$HW" run -q -o "$T/ext.hws" -- python3 "$PY/cycles.py" "$HW" "$T/gc.json" "$T/ext"
	"$HW" leaks -f json -k all -d 0 "$T/ext.hws@cycles" > "$T/ext.json"
	# (the last one or two may stay reachable from a stale copy in a register or the C stack)
	expect "leaked references: the 100 dicts the extension dropped" \
		"$(json "$T/ext.json" '(lambda r: "yes" if 98 <= r["count"] <= 100 and r["types"] == {"dict": r["count"]} else r)(j["python"]["leaked_references"])')" yes
	line=$(grep -n 'leakext.leak(100)' "$PY/cycles.py" | cut -d: -f1)
	expect "leaked references: allocated at the line that called the extension" \
		"$(json "$T/ext.json" '[r["kind"] for r in j["records"] if r["frames"] and r["frames"][0]["file"].endswith("cycles.py") and r["frames"][0]["line"] == '"${line:-0}"' and r["blocks"] >= 95]')" \
		"['definite']"
	expect "leaked references: gc.collect() could not free them" \
		"$("$HW" leaks -f json "$T/ext.hws@collected" | python3 -c 'import json, sys; print(json.load(sys.stdin)["python"]["leaked_references"]["count"] >= 95)')" True
else
	not_ok "leaked references: the test's extension builds" "$(cat "$T/ext.err")"
fi

# the dashboard by type (--batch here): the objects of the last scan, and gc now
"$HW" live --batch --by type --delay 0.3 -o "$T/live.hws" -- python3 "$PY/livetypes.py" "$HW" "$T/live.json" \
	< /dev/null > "$T/live.out" 2> /dev/null
expect_match "live by type: before a scan, says there is none" "$(sed -n 2,3p "$T/live.out")" \
	"^objects by type: no scan yet"
threshold=$(json "$T/live.json" '"%d/%d/%d" % tuple(j["threshold"])')
scanned=$("$HW" top --by type -n 0 "$T/live.hws@census" | sed -n 's/^Session: size=\([^,]*\), count=\([0-9]*\),.*/\1 \2/p')
expect "live: the header has gc's generations, thresholds as gc.get_threshold() says" \
	"$(grep '^python: gc on ' "$T/live.out" | tail -1 | sed 's|^python: gc on [0-9]*/\([0-9]*\) [0-9]*/\([0-9]*\) [0-9]*/\([0-9]*\), [0-9]* collections$|\1/\2/\3|')" \
	"${threshold:-the program's gc.get_threshold()}"
# the last table while it ran: Session as top --by type counts it in the scanned snapshot
expect "live by type: Session's bytes and count while it ran are the scan's" \
	"$(awk '/running/ { on = 0 } /as the scan .census./ { on = 1; row = "" } on && / Session$/ { row = $1 " " $2 " " $4 } END { print row }' "$T/live.out")" \
	"${scanned:-Session in top --by type of the census}"
expect "live by type: 20,000 of them" "$("$HW" top --by type -n 0 -f json "$T/live.hws@census" | python3 -c 'import json, sys; print([g["count"] for g in json.load(sys.stdin)["groups"] if g["type"] == "Session"])')" "[20000]"

# the tracer's table for each version holds what that version's headers say
# (Debian's 3.11.2 shares 3.11.7's table: its headers, python3.11-dev's, say so too)
for v in 3.11.7:311 3.12.1:312 3.13.0:313 debian3.11.2:311; do
	case $v in
	debian*) dir=/usr/include/python3.11 ;;
	*) dir=$HOME/.pyenv/versions/${v%:*}/include/python${v%.*:*} ;;
	esac
	gcc -I "$dir" -o "$T/layout" tests/py/layout.c 2> "$T/layout.err"
	"$T/layout" > "$T/layout.$v" 2>&1
	expect "${v%:*}: the cycle collector's state as wire.h says" "$(grep '^gc ' "$T/layout.$v")" "gc 12 24 24 16 20 128 24"
	expect "${v%:*}: the free lists' slots and a stack chunk's size as wire.h says" \
		"$(grep '^slots \|^chunk ' "$T/layout.$v" | tr '\n' ' ')" "slots 80 80 80 80 80 20 2000 chunk 8 "
	expect "${v%:*}: the fields refs names: a function's, a cell's, a module's dict" \
		"$(grep '^fields ' "$T/layout.$v")" "fields 16 32 40 48 56 64 72 16 16"
	sed -i '/^gc \|^slots \|^chunk \|^fields /d' "$T/layout.$v"
	sed -n "/^static const struct py_layout layout_${v#*:} = {/,/^};/p" tracer/python.c | tr ',' '\n' |
		sed 's/^[[:space:]]*//; /^$/d' > "$T/table.$v"
	expect "${v%:*}: the tracer's offsets are the headers'" \
		"$(grep -c . "$T/layout.$v") $(grep -cvxFf "$T/table.$v" "$T/layout.$v")" "42 0"
done

mkdir -p "$T/off-mod"
"$HW" run --python=off -o "$T/off.hws" -- python3 "$PY/churn.py" "$T/off-mod" > /dev/null 2> "$T/off.err"
expect_match "--python=off: said" "$(cat "$T/off.err")" "^heapwise: python 3\.11\.7 \(libpython3\.11\.so\.1\.0\): --python=off: native frames only$"
expect "--python=off: no Python line" "$("$HW" top -n 0 --sort allocations "$T/off.hws" | grep -c 'churn\.py\|<string>')" 0
expect "--python=off: CPython's allocator functions charge their callers" \
	"$("$HW" top -b function -n 0 --sort allocations "$T/off.hws" | grep -c '^_*Py\(Object\|Mem\)_\|^gc_alloc\|^PyType_GenericAlloc')" 0
# GCC inlines some of libpython's functions into their own out-of-line
# copies (PyUnicode_New in PyUnicode_New, pyinit_main's caller twice):
# one frame each, not the name twice at one address
"$HW" top --by traceback --native -n 0 -f json "$T/off.hws" > "$T/off.json"
expect "--python=off: no libpython function twice at one return address" \
	"$(json "$T/off.json" 'sorted({a["function"] for g in j["groups"] for a, b in zip(g["frames"], g["frames"][1:]) if a["function"] == b["function"] and a["address"] == b["address"] and "libpython" in a["module"]})')" "[]"
expect "--python=off: PyUnicode_New's blocks are charged (its stacks were read)" \
	"$(json "$T/off.json" 'any(f["function"] == "PyUnicode_New" for g in j["groups"] for f in g["frames"])')" True
"$HW" run -o "$T/old.hws" -- "$HOME/.pyenv/versions/3.10.13/bin/python3" -c 'pass' 2> "$T/old.err"
expect_match "3.10: native frames only, and why" "$(cat "$T/old.err")" \
	"^heapwise: python 3\.10\.13 \(libpython3\.10\.so\.1\.0\): a version heapwise cannot read: native frames only$"
