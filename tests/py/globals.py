# globals.py - objects held by modules' globals, to be named as Python
# names them: module __main__ .__dict__['_cache'] and the like. Session
# instances: values of a module-level dict, one held by a global alone,
# one set as a global of another module (json), the items of a
# module-level list, one a closure holds in its cell. Writes, to the file argv[1], the id() of one Session
# of each kind (and of one's bytearray) by the global that holds it.
import json
import sys


class Session:
    def __init__(self, i):
        self.i = i
        self.data = bytearray(100)


_cache = {}
for i in range(2000):
    _cache[i] = Session(i)
one = Session(-1)
json.hw_probe = Session(-2)
items = [Session(i) for i in range(100)]


def make_handler():
    session = Session(-3)

    def handler():
        return session
    return handler


handler = make_handler()    # a closure: its cell holds the Session
with open(sys.argv[1], "w") as f:
    json.dump({"_cache": id(_cache[7]), "one": id(one), "one.data": id(one.data), "hw_probe": id(json.hw_probe),
               "items": id(items[3]), "closure": id(handler.__closure__[0].cell_contents)}, f)
