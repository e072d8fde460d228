#!/bin/sh
# fork: the child is not traced and the parent's numbers are its own.
# exec: a wrapper that execs the real program is traced through the exec.
. "$(dirname "$0")/lib.sh"

"$HW" run -q -o "$T/f.hws" -- "$P/forker" > "$T/out"
expect "forker ran" "$(cat "$T/out")" "child 0"
stats_json "$T/f.hws" > "$T/f.json"
# parent: 10 x 1000 bytes, 5 freed; plus the stdout buffer
expect "parent's numbers only" "$(json "$T/f.json" '(j["allocations"], j["frees"], j["bytes_allocated"], j["images"])')" "(11, 5, 14096, 1)"

printf '#!/bin/sh\nexec "$@"\n' > "$T/wrap.sh"
chmod +x "$T/wrap.sh"
"$HW" run -q -o "$T/w.hws" -- "$T/wrap.sh" "$P/leaky" > "$T/out" 2>/dev/null
stats_json "$T/w.hws" > "$T/w.json"
expect "exec traced: two images" "$(json "$T/w.json" 'j["images"]')" 2
expect "exec: the program's heap at exit" "$(json "$T/w.json" '(j["live_blocks"], j["live_bytes"])')" "(110, 14800)"
expect "exec: the shell's blocks released" "$(json "$T/w.json" 'j["exec_released_blocks"] > 0')" True
expect "exec: sites of the exec'd program" "$(json "$T/w.json" '[s["function"] for s in j["top_sites"]][:2]')" "['leak_buffers', 'make_node']"

# the wrapper's heap apart from the program's: in the summary, stats, and top/diff --program
"$HW" run -o "$T/w2.hws" -- "$T/wrap.sh" "$P/leaky" > /dev/null 2> "$T/err"
stats_json "$T/w2.hws" > "$T/w2.json"
sh_path=$(json "$T/w2.json" 'j["by_image"][0]["program"]')
expect "by image: the shell, then the program" \
	"$(json "$T/w2.json" '[(i["image"], i["program"].split("/")[-1], i["live_bytes"]) for i in j["by_image"]][1:]')" \
	"[(2, 'leaky', 14800)]"
expect "by image: every allocation is one program's" \
	"$(json "$T/w2.json" 'sum(i["allocations"] for i in j["by_image"]) == j["allocations"]')" True
expect_match "the summary names each program's totals" "$(cat "$T/err")" \
	"^heapwise:   2 $P/leaky: 1110 allocations, 77.0 KiB allocated, 14.5 KiB in 110 blocks at exit$"
# top's allocations: all of them, or one program's, as stats counts them
top_allocs() { "$HW" top -f json --sort allocations -n 0 "$@" "$T/w2.hws@exit" > "$T/top.json" &&
	json "$T/top.json" '(sum(g["allocations"] for g in j["groups"]), j["total"]["size"])'; }
shell_allocs=$(json "$T/w2.json" 'j["by_image"][0]["allocations"]')
expect "top: every program" "$(top_allocs)" "($(json "$T/w2.json" 'j["allocations"]'), 14800)"
expect "top --program N: the shell's alone" "$(top_allocs --program 1)" "($shell_allocs, 0)"
expect "top --program PATTERN: the program's alone" "$(top_allocs --program 'leak*')" "(1110, 14800)"
expect "top --program PATH: the same" "$(top_allocs --program "$P/leaky")" "(1110, 14800)"
"$HW" top -f json --sort allocations -n 0 --program 1 "$T/w2.hws@exit" > "$T/top.json"
expect "top --program 1: only the shell's frames" \
	"$(json "$T/top.json" '{g["module"] for g in j["groups"]} == {"'"$sh_path"'"}')" True
"$HW" top --program perl "$T/w2.hws" > /dev/null 2> "$T/err"
expect "top --program: no such program fails" "$?" 1
expect_match "top --program: no such program, and what ran" "$(cat "$T/err")" \
	"^heapwise: error: no program in $T/w2.hws is 'perl'; it ran:$"
expect_match "top --program: what ran, by number" "$(cat "$T/err")" "^  2 $P/leaky$"
"$HW" diff -f json --program leaky "$T/w.hws@exit" "$T/w2.hws@exit" > "$T/diff.json"
expect "diff --program PATTERN: the program's blocks on both sides" \
	"$(json "$T/diff.json" '[j["total"][k] for k in ("size", "size_diff", "count", "count_diff")]')" "[14800, 0, 110, 0]"
"$HW" diff -f json --program 1 "$T/w.hws@exit" "$T/w2.hws@exit" > "$T/diff.json"
expect "diff --program N: the shell left nothing" \
	"$(json "$T/diff.json" '[j["total"][k] for k in ("size", "count")]')" "[0, 0]"
expect "diff -f folded --program 1: nothing of the program's" \
	"$("$HW" diff -f folded --program 1 "$T/w.hws@exit" "$T/w2.hws@exit" | grep -c leak_buffers)" 0
expect "diff -f folded: the program's stacks otherwise" \
	"$("$HW" diff -f folded --program 2 "$T/w.hws@exit" "$T/w2.hws@exit" | grep -c leak_buffers)" 1
# export --program: one program's stacks in every format that is per stack
"$HW" export -f json --program leaky "$T/w2.hws@exit" > "$T/ex.json"
expect "export -f json --program: the program's sites and totals alone" \
	"$(json "$T/ex.json" '(j["allocations"], sum(s["allocations"] for s in j["sites"]), sum(s["live_bytes"] for s in j["sites"]), {s["frames"][0]["module"] for s in j["sites"]} == {"'"$P/leaky"'"})')" \
	"(1110, 1110, 14800, True)"
expect "export -f json --program 1: the shell's allocations alone" \
	"$("$HW" export -f json --program 1 "$T/w2.hws@exit" | json /dev/stdin '(j["allocations"], sum(s["allocations"] for s in j["sites"]))')" \
	"($shell_allocs, $shell_allocs)"
expect "export -f csv --program: the same sites" \
	"$("$HW" export -f csv --program leaky "$T/w2.hws@exit" | python3 -c 'import csv, sys; r = list(csv.DictReader(sys.stdin)); print(sum(int(x["allocations"]) for x in r), sum(int(x["live_bytes"]) for x in r))')" \
	"1110 14800"
expect "export -f folded --program 1: nothing of the program's" \
	"$("$HW" export -f folded --program 1 "$T/w2.hws@exit" | grep -c leak_buffers)" 0
expect "export -f folded --program 2: the program's live bytes, all of them" \
	"$("$HW" export -f folded --program 2 "$T/w2.hws@exit" | awk '{ s += $NF } END { print s }')" 14800
"$HW" export -f pprof --program leaky -o "$T/ex.pb.gz" "$T/w2.hws@exit"
expect "export -f pprof --program: written" "$?" 0
"$HW" export -f pprof -o "$T/all.pb.gz" "$T/w2.hws@exit"
expect "export -f pprof --program: fewer samples than every program's" \
	"$(test "$(stat -c %s "$T/ex.pb.gz")" -lt "$(stat -c %s "$T/all.pb.gz")" && echo smaller)" smaller
# what was allocated over the run has the shell's frames too, unless --program leaves them out
sh_name=$(basename "$sh_path")
"$HW" export -f svg -V allocated "$T/w2.hws@exit" > "$T/all.svg"
"$HW" export -f svg -V allocated --program 2 "$T/w2.hws@exit" > "$T/ex.svg"
expect "export -f svg: every program's frames" \
	"$(grep -q leak_buffers "$T/all.svg" && grep -q "$sh_name" "$T/all.svg" && echo both)" both
expect "export -f svg --program 2: the program's frames, not the shell's" \
	"$(grep -q leak_buffers "$T/ex.svg" && ! grep -q "$sh_name" "$T/ex.svg" && echo program)" program
"$HW" export -f massif --program 2 "$T/w2.hws" > /dev/null 2> "$T/err"
expect "export -f massif --program: usage error" "$?" 2
expect_match "export -f massif --program: says why" "$(head -1 "$T/err")" \
	"--program does not apply to massif: its heap over time counts every program"
"$HW" export -f json --program perl "$T/w2.hws" > /dev/null 2> "$T/err"
expect "export --program: no such program fails, and says what ran" "$? $(head -1 "$T/err")" \
	"1 heapwise: error: no program in $T/w2.hws is 'perl'; it ran:"

# python3, however it is installed (pyenv's shims are shell scripts that exec it)
if have python3; then
	"$HW" run -q -o "$T/py.hws" -- python3 -c 'import json; print(len(json.dumps(list(range(5000)))))' > "$T/out"
	expect "python ran" "$(cat "$T/out")" 28890
	stats_json "$T/py.hws" > "$T/py.json"
	expect "python traced" "$(json "$T/py.json" 'j["allocations"] > 5000 and j["lost_events"] == 0')" True
	expect "python's own modules in the sites" "$(json "$T/py.json" 'any("python" in s["module"] for s in j["top_sites"])')" True
	# through a pyenv shim (bash, env, bash, ... then python): the interpreter's own totals
	"$HW" top -f json --sort allocations -n 0 --program 'python3*' "$T/py.hws@exit" > "$T/top.json"
	expect "python: top --program python3* counts what stats says the interpreter allocated" \
		"$(json "$T/top.json" 'sum(g["allocations"] for g in j["groups"])')" \
		"$(json "$T/py.json" '[i["allocations"] for i in j["by_image"] if i["program"].split("/")[-1].startswith("python3")][-1]')"
fi

# an exec heapwise cannot trace is said, by name, and the heap it left is not "at exit"
"$HW" run -o "$T/w.hws" -- "$T/wrap.sh" "$P/leaky" > /dev/null 2> "$T/err"
expect "a traced exec: no warning about it" "$(grep -c 'could not trace' "$T/err")" "0"
"$HW" run -o "$T/e.hws" -- env -i "$P/leaky" > /dev/null 2> "$T/err"
expect_match "env -i: the exec that dropped LD_PRELOAD is named" "$(cat "$T/err")" \
	"^heapwise: warning: the program exec'd '$P/leaky', which heapwise could not trace"
expect_match "env -i: the summary says tracing stopped there" "$(cat "$T/err")" \
	"^heapwise: not traced after the exec of $P/leaky$"
stats_json "$T/e.hws" > "$T/e.json"
expect "env -i: env's heap is released by the exec, not still allocated at exit" \
	"$(json "$T/e.json" '(j["live_blocks"], j["exec_released_blocks"] > 0)')" "(0, True)"
"$HW" leaks "$T/e.hws" > /dev/null 2> "$T/err"
expect_match "env -i: leaks says why there is no exit scan" "$(cat "$T/err")" \
	"no reachability scan: the program exec'd '$P/leaky', which heapwise could not trace"
"$HW" run -q -o "$T/s.hws" -- sh -c "exec $P/static-hello" > /dev/null 2> "$T/err"
expect_match "a static program exec'd is named" "$(cat "$T/err")" "exec'd '$P/static-hello', which heapwise could not trace"
# an exec that fails leaves the program traced, and unwarned
"$HW" run -q -o "$T/n.hws" -- sh -c "exec $T/nowhere 2>/dev/null; echo still" > "$T/out" 2> "$T/err"
expect "a failed exec: no warning" "$(grep -c 'could not trace' "$T/err")" "0"
