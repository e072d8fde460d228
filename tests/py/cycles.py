"""cycles.py - garbage only the cycle collector can free: python3
cycles.py HEAPWISE OUT.json [LEAKEXT_DIR]. With gc disabled, 500 pairs of
Node objects that point at each other are dropped (a weak reference to one
of each pair is kept: it must not keep them alive), 300 Node objects stay
reachable from a module global, and, given the directory of leakext.so,
its leak(100) loses 100 dicts; the program scans itself (heapwise snapshot
--scan --label cycles); then gc.collect() frees the pairs (OUT.json gets
how many objects it found unreachable) and it scans itself again (--label
collected). (t0650-python.sh)"""
import gc
import json
import os
import subprocess
import sys
import weakref


class Node:
    def __init__(self):
        self.other = None
        self.payload = [0] * 10


def pair():
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def scan(label):
    subprocess.run([sys.argv[1], "snapshot", "--scan", "--label", label, str(os.getpid())],
                   check=True, stdout=subprocess.DEVNULL)


gc.disable()
refs = [pair() for _ in range(500)]
alive = [Node() for _ in range(300)]
if len(sys.argv) > 3:
    sys.path.insert(0, sys.argv[3])
    import leakext
    leakext.leak(100)
scan("cycles")
found = gc.collect()
scan("collected")
# after the scan: json's pure-Python encoder makes cycles of its own (its
# closures' cells), which with gc disabled would be uncollected cycles there
with open(sys.argv[2], "w") as f:
    json.dump({"unreachable": found}, f)
