"""cycles.py - garbage only the cycle collector can free: python3
cycles.py HEAPWISE. With gc disabled, 500 pairs of Node objects that
point at each other are dropped (a weak reference to one of each pair is
kept: it must not keep them alive), 300 Node objects stay reachable from a
module global, and the program scans itself (heapwise snapshot --scan
--label cycles); then gc.collect() frees the pairs and it scans itself
again (--label collected). (t0650-python.sh)"""
import gc
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
scan("cycles")
gc.collect()
scan("collected")
