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
