#!/bin/sh
# A library loaded, used, unloaded and loaded again: its allocations are
# traced and its frames resolve although it is gone by the end.
. "$(dirname "$0")/lib.sh"

"$HW" run -q -o "$T/d.hws" -- "$P/dlopener" "$P/libplugin.so" > "$T/out"
expect "program ran" "$(cat "$T/out")" "ok"
stats_json "$T/d.hws" > "$T/d.json"
expect "plugin_work site" "$(json "$T/d.json" '[(s["blocks"], s["bytes"], s["file"].split("/")[-1], s["line"]) for s in j["top_sites"] if s["function"] == "plugin_work"]')" "[(8, 1776, 'libplugin.c', 18)]"
expect "constructor site" "$(json "$T/d.json" '[(s["blocks"], s["bytes"]) for s in j["top_sites"] if s["function"] == "plugin_init"]')" "[(2, 222)]"
expect "module recorded" "$(json "$T/d.json" '[s["module"].split("/")[-1] for s in j["top_sites"] if s["function"] == "plugin_work"]')" "['libplugin.so']"
if have valgrind; then
	expect "totals equal valgrind's" "$(heapwise_totals "$T/d.hws")" "$(valgrind_totals "$P/dlopener" "$P/libplugin.so")"
fi

# the last library a program opens, kept open: dlopen maps it after its own first
# allocation, so it is logged at its first stack, constructor included
"$HW" run -q -o "$T/o.hws" -- "$P/dlopener" "$P/libplugin.so" once > "$T/out"
expect "once: program ran" "$(cat "$T/out")" "ok"
"$HW" top -b function -f json "$T/o.hws" > "$T/o.json"
expect "once: its sites have names, lines and their module" \
	"$(json "$T/o.json" 'sorted((g["function"], g["count"], g["module"].split("/")[-1]) for g in j["groups"] if g["function"].startswith("plugin_"))')" \
	"[('plugin_init', 1, 'libplugin.so'), ('plugin_work', 3, 'libplugin.so')]"
expect "once: no site without a module" "$(json "$T/o.json" '[g["function"] for g in j["groups"] if not g["module"] and g["count"]]')" "[]"
if have valgrind; then
	expect "once: totals equal valgrind's" "$(heapwise_totals "$T/o.hws")" "$(valgrind_totals "$P/dlopener" "$P/libplugin.so" once)"
fi
