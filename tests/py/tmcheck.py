"""tmcheck.py - measure a heap with tracemalloc in the program itself, for
heapwise to be compared with (t0650-python.sh).

measure(build, traceback_line) runs build() with tracemalloc tracing 25
frames, writes tracemalloc's statistics for the caller's file (size and
count per line) and the traceback of the blocks made at traceback_line
(frames oldest first) to the JSON file sys.argv[2], stops tracemalloc
(which frees its own bookkeeping), then asks heapwise (sys.argv[1]) for a
snapshot named "tm" of the heap build() made, and returns it."""
import json
import os
import subprocess
import sys
import tracemalloc


def measure(build, traceback_line):
    hw, out = sys.argv[1], sys.argv[2]
    me = os.path.abspath(sys.modules["__main__"].__file__)
    tracemalloc.start(25)
    keep = build()
    snap = tracemalloc.take_snapshot()
    lines = {}
    for stat in snap.statistics("lineno"):
        frame = stat.traceback[0]
        if frame.filename == me:
            lines[frame.lineno] = [stat.size, stat.count]
    traceback = []
    for stat in snap.statistics("traceback"):
        if stat.traceback[-1].filename == me and stat.traceback[-1].lineno == traceback_line:
            traceback = [[f.filename, f.lineno] for f in stat.traceback]
            break
    del snap
    tracemalloc.stop()
    with open(out, "w") as f:
        json.dump({"file": me, "lines": lines, "traceback": traceback}, f)
    subprocess.run([hw, "snapshot", "--label", "tm", str(os.getpid())], check=True, stdout=subprocess.DEVNULL)
    return keep
