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
