"""census.py - objects of known types alive at exit: python3 census.py
OUT.json. Its own atexit callback (run before heapwise's py-exit) writes
gc.get_objects()'s count of the types gc tracks (Session, list) and the
program's own count of those it does not (its 20,000 user names, str; its
7,000 floats) to OUT.json (t0650-python.sh)."""
import atexit
import collections
import gc
import json
import sys


class Session:
    def __init__(self, user):
        self.user = user
        self.history = [0] * 30


cache = {i: Session("user-%d" % i) for i in range(20000)}
floats = [i * 0.5 for i in range(7000)]


def census():
    tracked = collections.Counter(type(o).__name__ for o in gc.get_objects())
    with open(sys.argv[1], "w") as f:
        json.dump({"Session": tracked["Session"], "list": tracked["list"],
                   "names": len({s.user for s in cache.values()}), "floats": len(floats)}, f)


atexit.register(census)
