"""growth.py - Session objects growing at every step: python3 growth.py
HEAPWISE. 1,000 more before each of three scanned snapshots (s0, s1, s2),
and 1,000 more before py-exit: top --growth --by type finds Session grew
at each (t0650-python.sh)."""
import os
import subprocess
import sys


class Session:
    pass


keep = []
for step in range(4):
    keep += [Session() for _ in range(1000)]
    if step < 3:
        subprocess.run([sys.argv[1], "snapshot", "--scan", "--label", "s%d" % step, str(os.getpid())],
                       check=True, stdout=subprocess.DEVNULL)
