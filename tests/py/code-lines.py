"""Print every code object of the standard library as heapwise's line
decoder sees it, with the lines co_lines() gives, one per line:
    FIRSTLINENO LINETABLE-HEX UNITS LINE-OF-UNIT-0 LINE-OF-UNIT-1 ...
(a line of 0 for an instruction without one). tests/unit/pylines-check
decodes each table and compares."""
import os
import sys
import sysconfig
import warnings

warnings.simplefilter("ignore")


def codes(co):
    yield co
    for c in co.co_consts:
        if hasattr(c, "co_lines"):
            yield from codes(c)


def main():
    lib = sysconfig.get_paths()["stdlib"]
    out = sys.stdout
    n = 0
    for root, dirs, files in os.walk(lib):
        dirs[:] = sorted(d for d in dirs if d not in ("site-packages", "test", "tests"))
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = os.path.join(root, name)
            try:
                with open(path, "rb") as f:
                    top = compile(f.read(), path, "exec", dont_inherit=True)
            except (SyntaxError, ValueError, UnicodeDecodeError):
                continue
            for co in codes(top):
                units = len(co.co_code) // 2
                lines = [0] * units
                for start, end, line in co.co_lines():
                    for u in range(start // 2, min(end // 2, units)):
                        lines[u] = line or 0
                out.write("%d %s %d %s\n" % (co.co_firstlineno, co.co_linetable.hex() or "-", units,
                                             " ".join(map(str, lines))))
                n += 1
    print("# %d code objects" % n, file=sys.stderr)


main()
