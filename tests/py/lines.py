"""lines.py - a Python heap whose lines are known, measured by tracemalloc
in the same program (tmcheck.py): python3 lines.py HEAPWISE OUT.json"""
import bz2
import os
import threading

from tmcheck import measure


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


def listings(n):
    return [len(os.listdir("/")) for _ in range(n)]  # opendir's 32 KiB buffer, with the lock released


def build():
    keep = [sessions(20000), blobs(3000), strings(20000), compressed(50), listings(100)]
    worker = threading.Thread(target=in_thread, args=(keep,))
    worker.start()
    worker.join()
    return keep


measure(build, Session.__init__.__code__.co_firstlineno + 2)
