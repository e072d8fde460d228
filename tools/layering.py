#!/usr/bin/env python3
"""layering.py - check that the source tree keeps its layers (issue 16).

Each folder may include only the folders its layer lies on, and no object
of report/ may call into one that calls back into it (directly or around a
circle). Objects of analysis/, profile/ and util/ must not need elfutils,
libunwind or ptrace, and report/ must not print or exit.

    tools/layering.py [BUILD_DIR [ROOT]]   prints one line per breach; exit 1 if any

BUILD_DIR (default build) holds the objects, ROOT (default this tree) the
sources; tests/e2e/t0020-layering.sh also runs it on a small tree that
breaks every rule, to see each one caught.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# layer -> the layers it may include (besides itself)
ALLOWED = {
    'cmd': {'report/collect', 'report/analysis', 'report/profile', 'report/util'},
    'report/collect': {'report/symbols', 'report/profile', 'report/util', 'tracer/wire.h'},
    'report/symbols': {'report/util'},
    'report/analysis': {'report/profile', 'report/util'},
    'report/profile': {'report/util'},
    'report/util': set(),
    'tracer': set(),
    # report/symbols for pylines-check, which links the line decoder alone
    'tests/unit': {'report/collect', 'report/analysis', 'report/profile', 'report/util', 'report/symbols'},
}

# symbols no object of these layers may need
PURE_FORBIDDEN = re.compile(r'^(dwfl_|dwarf_|elf_|elf32_|elf64_|gelf_|_U|unw_|ptrace$|process_vm_readv$|waitpid$)')
QUIET_FORBIDDEN = re.compile(r'^(printf|puts|perror|exit|_exit|__printf_chk|stderr|stdout|putchar|vprintf|abort)$')
PURE_LAYERS = ('report/analysis', 'report/profile', 'report/util')


def layer_of(path):
    for layer in sorted(ALLOWED, key=len, reverse=True):
        if path == layer or path.startswith(layer + '/'):
            return layer
    return None


def sources():
    files = []
    for top in ('cmd', 'report', 'tracer', 'tests/unit'):
        for dirpath, _, names in os.walk(os.path.join(ROOT, top)):
            files += [os.path.relpath(os.path.join(dirpath, n), ROOT) for n in names if n.endswith(('.c', '.h'))]
    return sorted(files)


def check_includes(files, breaches):
    graph = {}
    for f in files:
        here = layer_of(f)
        graph[f] = []
        with open(os.path.join(ROOT, f)) as fh:
            for n, line in enumerate(fh, 1):
                m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                if not m:
                    continue
                target = os.path.normpath(os.path.join(os.path.dirname(f), m.group(1)))
                if not os.path.exists(os.path.join(ROOT, target)):
                    breaches.append('%s:%d: includes "%s", which is not there' % (f, n, m.group(1)))
                    continue
                graph[f].append(target)
                there = layer_of(target)
                if there == here or here is None:
                    continue
                if there in ALLOWED[here] or target in ALLOWED[here]:
                    continue
                breaches.append('%s:%d: %s may not include %s (%s)' % (f, n, here, target, there))
    find_cycles(graph, 'includes', breaches)


def find_cycles(graph, what, breaches):
    """Report each circle of the directed graph once (Tarjan's SCCs)."""
    index, low, stack, on, sccs = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1 or v in graph.get(v, ()):
                sccs.append(sorted(scc))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    for scc in sccs:
        breaches.append('a circle of %s: %s' % (what, ' <-> '.join(scc)))


def nm(obj, flag):
    out = subprocess.check_output(['nm', flag, obj], text=True)
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


def check_objects(build, breaches):
    objs = {}
    for dirpath, _, names in os.walk(os.path.join(build, 'report')):
        for name in names:
            if name.endswith('.o'):
                obj = os.path.join(dirpath, name)
                src = os.path.relpath(obj, build)[:-2] + '.c'
                if os.path.exists(os.path.join(ROOT, src)):	# not a stale one
                    objs[src] = obj
    if not objs:
        breaches.append('no objects under %s/report: build first' % build)
        return
    defined, undefined = {}, {}
    for src, obj in objs.items():
        undefined[src] = nm(obj, '-u')
        for sym in nm(obj, '--defined-only') - set():
            defined.setdefault(sym, src)
    graph = {}
    for src in sorted(objs):
        layer = layer_of(src)
        graph[src] = sorted({defined[s] for s in undefined[src] if s in defined and defined[s] != src})
        for s in sorted(undefined[src]):
            if layer in PURE_LAYERS and PURE_FORBIDDEN.match(s):
                breaches.append('%s needs %s: %s must not use elfutils, libunwind or ptrace' % (src, s, layer))
            if QUIET_FORBIDDEN.match(s):
                breaches.append('%s uses %s: report/ never prints or exits (cmd/ does)' % (src, s))
        for dep in graph[src]:
            there = layer_of(dep)
            if there != layer and there not in ALLOWED[layer]:
                breaches.append('%s calls into %s: %s may not use %s' % (src, dep, layer, there))
    find_cycles(graph, 'calls', breaches)


def main():
    global ROOT
    if len(sys.argv) > 2:
        ROOT = os.path.abspath(sys.argv[2])
    build = os.path.join(ROOT, sys.argv[1] if len(sys.argv) > 1 else 'build')
    breaches = []
    check_includes(sources(), breaches)
    check_objects(build, breaches)
    for b in breaches:
        print(b)
    return 1 if breaches else 0


if __name__ == '__main__':
    sys.exit(main())
