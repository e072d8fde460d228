#!/bin/sh
# top, diff and their formats on a profile the size of a real one: a
# generated program with 2,000 allocation sites, each on its own line, and
# one site reached by 1,024 different stacks. Real profiles have thousands
# of places; `top` once hung on any with more than 256.
. "$(dirname "$0")/lib.sh"

# site_I allocates I+1 bytes at line I+4; walk's malloc, 10 calls deep by
# two call sites each, makes 1,024 tracebacks of one line.
{
	echo '#include <stdlib.h>'
	echo 'static void *keep[4096];'
	echo 'static int nkeep;'
	i=0
	while [ $i -lt 2000 ]; do
		echo "static void site_$i(void) { keep[nkeep++] = malloc($((i + 1))); }"
		i=$((i + 1))
	done
	cat <<'EOF'
static void walk(int depth, unsigned path)
{
	if (depth == 10) {
		keep[nkeep++] = malloc(24);
		return;
	}
	if (path & 1)
		walk(depth + 1, path >> 1);
	else
		walk(depth + 1, path >> 1);
}

int main(void)
{
	static void (*const sites[])(void) = {
EOF
	i=0
	while [ $i -lt 2000 ]; do echo "		site_$i,"; i=$((i + 1)); done
	cat <<'EOF'
	};
	for (size_t i = 0; i < sizeof(sites) / sizeof(sites[0]); i++)
		sites[i]();
	for (unsigned path = 0; path < 1024; path++)
		walk(0, path);
	return 0;
}
EOF
} > "$T/many.c"
if ! cc -g -O0 -fno-omit-frame-pointer -o "$T/many" "$T/many.c"; then
	not_ok "build the many-site program" "cc failed"
	exit 0
fi
"$HW" run -q -o "$T/m.hws" -- "$T/many" < /dev/null

# every report must answer, and fast: 20 s is a hang
hw() { timeout 20 "$HW" "$@"; }

hw top -n 3 "$T/m.hws" > "$T/top" 2>&1
expect "top by line answers, largest first" "$(cat "$T/top")" \
"$T/many.c:2007: size=24.0 KiB, count=1024, average=24 B
$T/many.c:2003: size=2.0 KiB, count=1, average=2.0 KiB
$T/many.c:2002: size=2.0 KiB, count=1, average=2.0 KiB"

hw top -n 0 -f json "$T/m.hws" > "$T/line.json" 2>&1
expect "top by line: 2,001 places, each line once" \
	"$(json "$T/line.json" 'len(j["groups"]), len(set(g["line"] for g in j["groups"])), sum(g["size"] for g in j["groups"]), j["total"]["size"]')" \
	"(2001, 2001, 2025576, 2025576)"
expect "top by line: site I holds I+1 bytes at line I+4" \
	"$(json "$T/line.json" 'all(g["size"] == g["line"] - 3 for g in j["groups"] if g["function"].startswith("site_"))')" "True"

hw top -b traceback -n 0 -f json "$T/m.hws" > "$T/tb.json" 2>&1
expect "top by traceback: 3,024 stacks, json whose frames are objects" \
	"$(json "$T/tb.json" 'len(j["groups"]), all(isinstance(f, dict) for g in j["groups"] for f in g["frames"])')" \
	"(3024, True)"
expect "top by traceback: walk's 1,024 stacks, 11 walk frames each" \
	"$(json "$T/tb.json" 'sorted(set((g["size"], [f["function"] for f in g["frames"]].count("walk")) for g in j["groups"] if g["function"] == "walk")), sum(g["function"] == "walk" for g in j["groups"])')" \
	"([(24, 11)], 1024)"
expect "top by traceback: the largest stack ends in site_1999" \
	"$(json "$T/tb.json" '[f["function"] for f in j["groups"][0]["frames"]][-2:], j["groups"][0]["size"]')" \
	"(['main', 'site_1999'], 2000)"

hw top -b traceback -n 1 "$T/m.hws" > "$T/tb" 2>&1
expect "top by traceback, text" "$(sed -n '1p;$p' "$T/tb")" \
"$T/many.c:2003: size=2.0 KiB, count=1, average=2.0 KiB
  site_1999 $T/many.c:2003"

hw top -c -b function -n 0 -f json "$T/m.hws" > "$T/cum.json" 2>&1
expect "top --cumulative by function: main holds every block, walk once per block" \
	"$(json "$T/cum.json" '[(g["function"], g["count"], g["size"]) for g in j["groups"] if g["function"] in ("main", "walk")]')" \
	"[('main', 3024, 2025576), ('walk', 1024, 24576)]"

for by_n in lineno:2001 traceback:3024; do
	by=${by_n%:*} n=${by_n#*:}
	hw diff -n 0 -b $by -f json "$T/m.hws@peak" "$T/m.hws" > "$T/d.json" 2>&1
	expect "diff by $by of 3,024 blocks against itself" \
		"$(json "$T/d.json" 'j["total"]["size"], j["total"]["size_diff"], len(j["sites"]), sum(g["size_diff"] != 0 for g in j["sites"])')" \
		"(2025576, 0, $n, 0)"
done

# the flame graph's search reports the share of the data, not of the boxes
# drawn: the smallest sites are far too narrow to draw (a few bytes of 2 MB)
hw export -f svg -o "$T/m.svg" "$T/m.hws"
hw export -f folded -o "$T/m.folded" "$T/m.hws"
drawn=$(python3 - "$T/m.svg" <<'PY'
import re, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = {"s": "http://www.w3.org/2000/svg"}
names = [g.get("data-n") for g in root.findall(".//s:g[@id='frames']/s:g", ns)]
print(len([n for n in names if re.search("^site_[0-9]?[0-9]$", n)]), len([n for n in names if n.startswith("site_")]))
PY
)
expect "svg: site_0 to site_99 are too narrow to draw, most others are not" \
	"$(echo "$drawn" | awk '{ print $1, ($2 > 1500) }')" "0 1"
expect "svg: search: the hundred sites too narrow to draw hold a quarter of a percent" \
	"$(svg_search_share "$T/m.svg" '^site_[0-9]?[0-9]$')" 0.25
for pat in site_1 '^site_[0-9]?[0-9]$' walk main; do
	expect "svg: search '$pat' reports the folded stacks' share" \
		"$(svg_search_share "$T/m.svg" "$pat")" "$(folded_share "$T/m.folded" "$pat")"
done
