"""frames.py - objects only a running function's locals hold: python3
frames.py HEAPWISE OUT. work() keeps a Session in its local 'session' and
a bytearray in 'buffer' (neither is reused from a free list: each is a
block of its own), then scans itself (heapwise snapshot --scan --label
inside) from inside the call, and writes the two objects' id()s to OUT.
(t0650-python.sh)"""
import os
import subprocess
import sys


class Session:
    def __init__(self):
        self.data = bytearray(100)


def work(heapwise):
    session = Session()
    buffer = bytearray(1000)
    subprocess.run([heapwise, "snapshot", "--scan", "--label", "inside", str(os.getpid())],
                   check=True, stdout=subprocess.DEVNULL)
    return "%d %d" % (id(session), id(buffer))


out = work(sys.argv[1])
with open(sys.argv[2], "w") as f:
    f.write(out)
