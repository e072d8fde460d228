# json_workload.py - workload (d) of `make bench`: build, dump and load a
# large JSON document (run with PYTHONMALLOC=malloc so every object is a
# malloc the profilers see).
import json

doc = [{"id": i, "name": "item-%d" % i, "tags": ["a", "b", str(i % 7)],
        "score": i * 0.5, "nested": {"x": i, "y": [i, i + 1]}} for i in range(60000)]
text = json.dumps(doc)
back = json.loads(text)
assert len(back) == len(doc)
