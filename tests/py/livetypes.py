"""livetypes.py - 20,000 Session objects, then a scanned snapshot of
itself (heapwise snapshot --scan --label census), then a while alive for
the dashboard to show them by type: python3 livetypes.py HEAPWISE
OUT.json. OUT.json gets gc.get_threshold() (t0650-python.sh)."""
import gc
import json
import os
import subprocess
import sys
import time


class Session:
    def __init__(self, user):
        self.user = user


cache = [Session("user-%d" % i) for i in range(20000)]
subprocess.run([sys.argv[1], "snapshot", "--scan", "--label", "census", str(os.getpid())],
               check=True, stdout=subprocess.DEVNULL)
with open(sys.argv[2], "w") as f:
    json.dump({"threshold": gc.get_threshold()}, f)
time.sleep(1.5)
