# names.py - objects whose place Python names: Session instances as the
# values of an int-keyed and two str-keyed dicts (one's keys too long to
# name whole: cut at 40 characters), the items of a list and of a tuple,
# each holding a bytearray in its attribute .data. Writes, to the file
# argv[1], each Session's id() (its address) with the name Python would
# give the pointer that holds it. The ids are kept as str keys: an int key's
# hash is the int itself, and a dict of ids would hold every address in its
# keys table, a second way in to each Session that the chain could take.
import json
import sys


class Session:
    def __init__(self, i):
        self.i = i
        self.data = bytearray(100)


by_id = {}
for i in range(2000):
    by_id[i] = Session(i)
by_name = {"user%d" % i: Session(i) for i in range(500)}
by_long = {"k%02d" % i + "x" * 60: Session(i) for i in range(20)}
items = [Session(i) for i in range(300)]
pair = tuple(Session(i) for i in range(7))
names = {str(id(s)): "dict[%d]" % k for k, s in by_id.items()}
names.update({str(id(s)): "dict['%s']" % k for k, s in by_name.items()})
names.update({str(id(s)): "dict['%s...']" % k[:40] for k, s in by_long.items()})  # keys cut at 40
names.update({str(id(s)): "list[%d]" % k for k, s in enumerate(items)})
names.update({str(id(s)): "tuple[%d]" % k for k, s in enumerate(pair)})
with open(sys.argv[1], "w") as f:
    json.dump(names, f)
