"""cycleparts.py - the blocks of cycles.py's two parts by leak kind, from
`heapwise leaks -f json -k all`: python3 cycleparts.py LEAKS.json prints
"PAIRS_LOST PAIRS_ALL ALIVE_ALL ALIVE_REACHABLE", the pairs being the
blocks of the Node objects pair() makes (lost: definitely or indirectly;
not its weak references) and the alive ones those of the Node objects of
the list `alive` (made in a comprehension of its own up to 3.11, inlined
from 3.12) (t0650-python.sh)."""
import json
import os
import sys

# the lines of cycles.py that make the pairs' Nodes and the live ones
source = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "cycles.py")).read().splitlines()
PAIR = 1 + next(i for i, l in enumerate(source) if "a, b = Node(), Node()" in l)
ALIVE = 1 + next(i for i, l in enumerate(source) if "alive = [Node()" in l)
counts = {"pairs_lost": 0, "pairs": 0, "alive": 0, "alive_reachable": 0}
for r in json.load(open(sys.argv[1]))["records"]:
    where = [(f.get("function"), f.get("line")) for f in r["frames"][:2] if f.get("file", "").endswith("cycles.py")]
    if ("pair", PAIR) in where:
        counts["pairs"] += r["blocks"]
        counts["pairs_lost"] += r["blocks"] if r["kind"] in ("definite", "indirect") else 0
    elif any(line == ALIVE for _, line in where):
        counts["alive"] += r["blocks"]
        counts["alive_reachable"] += r["blocks"] if r["kind"] == "reachable" else 0
print(counts["pairs_lost"], counts["pairs"], counts["alive"], counts["alive_reachable"])
