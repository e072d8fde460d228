"""greenlets.py - two greenlets taking turns, each allocating on its own
lines, each switch in the middle of the other's loop: every block must be
charged to the greenlet's own line and traceback, as tracemalloc charges
it (tmcheck.py). Needs greenlet (Debian's python3-greenlet, for
/usr/bin/python3.11)."""
import greenlet

from tmcheck import measure

keep = []


def left(n):
    for i in range(n):
        keep.append(bytearray(200 + i % 5))
        right_g.switch(n)


def right(n):
    for i in range(n):
        keep.append([i] * (30 + i % 3))
        left_g.switch()


def build():
    left_g.switch(10000)
    return keep


left_g = greenlet.greenlet(left)
right_g = greenlet.greenlet(right)
measure(build, right.__code__.co_firstlineno + 2)
