"""cycleparts.py - the blocks of cycles.py's two parts by leak kind, from
`heapwise leaks -f json -k all`: python3 cycleparts.py LEAKS.json prints
"PAIRS_LOST PAIRS_ALL ALIVE_ALL ALIVE_REACHABLE", the pairs being the
blocks of the Node objects pair() makes at cycles.py:22 (lost: definitely
or indirectly; not its weak references) and the alive ones those of the
Node objects made at line 34 (in a comprehension of its own up to 3.11,
inlined from 3.12) (t0650-python.sh)."""
import json
import sys

counts = {"pairs_lost": 0, "pairs": 0, "alive": 0, "alive_reachable": 0}
for r in json.load(open(sys.argv[1]))["records"]:
    where = [(f.get("function"), f.get("line")) for f in r["frames"][:2] if f.get("file", "").endswith("cycles.py")]
    if ("pair", 22) in where:
        counts["pairs"] += r["blocks"]
        counts["pairs_lost"] += r["blocks"] if r["kind"] in ("definite", "indirect") else 0
    elif any(line == 34 for _, line in where):
        counts["alive"] += r["blocks"]
        counts["alive_reachable"] += r["blocks"] if r["kind"] == "reachable" else 0
print(counts["pairs_lost"], counts["pairs"], counts["alive"], counts["alive_reachable"])
