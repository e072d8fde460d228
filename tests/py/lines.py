"""lines.py - a Python heap whose lines are known, measured by tracemalloc
in the same program: python3 lines.py HEAPWISE OUT.json

Builds its heap with tracemalloc tracing (25 frames), writes tracemalloc's
statistics for this file's lines and the traceback of one line to OUT.json,
stops tracemalloc (which frees its own bookkeeping), then asks heapwise
for a snapshot named "tm" of the heap it keeps. tests/e2e/t0650-python.sh
compares the two."""
import bz2
import json
import os
import subprocess
import sys
import threading
import tracemalloc


class Session:
    def __init__(self, i):
        self.name = "session-%05d" % i
        self.items = [i] * (i % 13 + 1)


def sessions(n):
    return [Session(i) for i in range(n)]


def blobs(n):
    return [bytes(600 + i % 300) for i in range(n)]  # past 512 bytes: pymalloc hands them to malloc


def strings(n):
    return {"key-%d" % i: "v" * (i % 50) for i in range(n)}


def in_thread(out):
    out.append([bytearray(100 + i % 7) for i in range(5000)])


def compressed(n):
    return [bz2.compress(bytes(range(256)) * 40 + b"%d" % i) for i in range(n)]  # the lock released inside


def main():
    hw, out = sys.argv[1], sys.argv[2]
    me = os.path.abspath(__file__)
    tracemalloc.start(25)
    keep = [sessions(20000), blobs(3000), strings(20000), compressed(50)]
    worker_out = []
    worker = threading.Thread(target=in_thread, args=(worker_out,))
    worker.start()
    worker.join()
    snap = tracemalloc.take_snapshot()
    lines = {}
    for stat in snap.statistics("lineno"):
        frame = stat.traceback[0]
        if frame.filename == me:
            lines[frame.lineno] = [stat.size, stat.count]
    items_line = Session.__init__.__code__.co_firstlineno + 2
    traceback = []
    for stat in snap.statistics("traceback"):  # frames oldest first
        if stat.traceback[-1].filename == me and stat.traceback[-1].lineno == items_line:
            traceback = [[f.filename, f.lineno] for f in stat.traceback]
            break
    del snap, stat
    tracemalloc.stop()
    with open(out, "w") as f:
        json.dump({"file": me, "lines": lines, "traceback": traceback}, f)
    subprocess.run([hw, "snapshot", "--label", "tm", str(os.getpid())], check=True, stdout=subprocess.DEVNULL)
    return keep, worker_out


main()
