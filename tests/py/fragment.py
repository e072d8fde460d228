# fragment.py - the memory Python keeps: 400,000 small objects (tuples
# and strs, pymalloc's), all dropped but every 100th, so nearly every
# pool keeps a live object and no arena can go back; then pymalloc's own
# account of its arenas (sys._debugmallocstats, on stderr) for the test
# to hold heapwise's against when run untraced.
import sys

objs = [(i, str(i)) for i in range(400000)]
keep = objs[::100]
del objs
sys._debugmallocstats()
