"""waiting.py - 20,000 Session objects alive until FILE exists (30 s at
most): python3 waiting.py FILE. Prints "ready" once they all exist. A
program for the dashboard to scan and show by type (t0600-live.sh)."""
import os
import sys
import time


class Session:
    def __init__(self, user):
        self.user = user


cache = [Session("user-%d" % i) for i in range(20000)]
print("ready", flush=True)
for _ in range(600):
    if os.path.exists(sys.argv[1]):
        break
    time.sleep(0.05)
