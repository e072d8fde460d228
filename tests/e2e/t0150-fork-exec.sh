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

# python3, however it is installed (pyenv's shims are shell scripts that exec it)
if have python3; then
	"$HW" run -q -o "$T/py.hws" -- python3 -c 'import json; print(len(json.dumps(list(range(5000)))))' > "$T/out"
	expect "python ran" "$(cat "$T/out")" 28890
	stats_json "$T/py.hws" > "$T/py.json"
	expect "python traced" "$(json "$T/py.json" 'j["allocations"] > 5000 and j["lost_events"] == 0')" True
	expect "python's own modules in the sites" "$(json "$T/py.json" 'any("python" in s["module"] for s in j["top_sites"])')" True
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
