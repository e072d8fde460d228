"""gcstate.py - a cycle collector in a known state at exit: python3
gcstate.py OUT.json [disable]. Its own atexit callback (run before
heapwise's, which was registered first) writes gc's own account of it to
OUT.json; heapwise reads the same from outside at py-exit
(t0650-python.sh)."""
import atexit
import gc
import json
import sys

gc.set_threshold(100000, 10, 10)


class Node:
    def __init__(self):
        self.me = self


keep = [Node() for _ in range(3000)]
gc.collect()
junk = [Node() for _ in range(500)]
if sys.argv[2:] == ["disable"]:
    gc.disable()


def report():
    state = {"enabled": gc.isenabled(), "count": gc.get_count(), "threshold": gc.get_threshold(),
             "stats": gc.get_stats()}
    with open(sys.argv[1], "w") as f:
        json.dump(state, f)


atexit.register(report)
