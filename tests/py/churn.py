"""churn.py - code objects that die and are born again at the same
address: 2000 functions made by exec, each called once and dropped, each
allocating a list of a length only it has (i % 7 + 1 items); then a module
reloaded with its function moved two lines down. heapwise must name every
block after the function that made it (t0650-python.sh)."""
import importlib
import os
import sys

keep = []
for i in range(2000):
    ns = {}
    exec("def f%d():\n    return [0] * %d\n" % (i, i % 7 + 1), ns)
    keep.append(ns["f%d" % i]())
    del ns

where = sys.argv[1]
sys.path.insert(0, where)
with open(os.path.join(where, "mod.py"), "w") as f:
    f.write("def make():\n    return [1] * 1000\n")
import mod
keep.append(mod.make())
with open(os.path.join(where, "mod.py"), "w") as f:
    f.write("\n\ndef make():\n    return [2] * 1000\n")
os.utime(os.path.join(where, "mod.py"), (0, 1 << 30))
importlib.reload(mod)
keep.append(mod.make())
print(len(keep))
