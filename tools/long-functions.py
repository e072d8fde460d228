#!/usr/bin/env python3
"""long-functions.py - list the functions of cmd/ and report/ longer than
80 lines whose opening comment does not say why ("Long: ..."), as issue 16
and STYLE.md ask. Prints FILE:LINE LENGTH NAME per breach; exit 1 if any."""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIMIT = 80


def main():
    bad = 0
    for f in sorted(glob.glob(os.path.join(ROOT, 'cmd', '*.c')) + glob.glob(os.path.join(ROOT, 'report', '*', '*.c'))):
        lines = open(f).read().split('\n')
        start = None
        for i, line in enumerate(lines):
            if start is None and re.match(r'^[a-z_].*\(', line) and not line.rstrip().endswith(';') \
                    and not line.startswith(('static const', 'const ')) and '=' not in line:
                start = i
            elif start is not None and line == '}':
                if i - start > LIMIT:
                    above = '\n'.join(lines[max(0, start - 15):start])
                    comment = above[above.rfind('/*'):] if '/*' in above else ''
                    if 'Long:' not in comment:
                        print('%s:%d %d %s' % (os.path.relpath(f, ROOT), start + 1, i - start, line and lines[start][:60]))
                        bad += 1
                start = None
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
