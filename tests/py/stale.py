"""stale.py - garbage that only a pointer CPython left behind points at:
python3 stale.py HEAPWISE. With gc disabled, a pair of Node objects that
point at each other is dropped; the last pointer to one of them is a list's
slot past its length, left there by pop() (the list keeps its room). The
program scans itself (heapwise snapshot --scan --label dropped): the pair
must read as an uncollected cycle, the list's spare slot no reference.
(t0650-python.sh)"""
import gc
import os
import subprocess
import sys


class Node:
    def __init__(self):
        self.other = None


gc.disable()
a, b = Node(), Node()
a.other, b.other = b, a
holder = [None] * 8 + [a]
holder.pop()    # its room stays: the slot past its length still holds a
del a, b
subprocess.run([sys.argv[1], "snapshot", "--scan", "--label", "dropped", str(os.getpid())],
               check=True, stdout=subprocess.DEVNULL)
print(len(holder))
