#!/bin/sh
# The layers of the tree (issue 16, STYLE.md): which folder may include
# which, no circles of includes or calls, nothing of elfutils, libunwind or
# ptrace in analysis/, profile/ and util/, and no printing in report/.
# tools/layering.py checks; first it must catch a tree that breaks it all.
. "$(dirname "$0")/lib.sh"

# a small tree with one breach of each kind
mkdir -p "$T/bad/report/analysis" "$T/bad/report/symbols" "$T/bad/tracer" "$T/bad/cmd" "$T/bad/build"
echo '#define WIRE_VERSION 5' > "$T/bad/tracer/wire.h"
mkdir -p "$T/bad/report/util"
echo '#include "y.h"' > "$T/bad/report/util/x.h"
echo '#include "x.h"' > "$T/bad/report/util/y.h"
cat > "$T/bad/report/symbols/sym.h" <<'EOF'
int sym_lookup(void);
EOF
cat > "$T/bad/report/analysis/a.c" <<'EOF'
#include "../symbols/sym.h"
int dwfl_begin(void);
int b(void);
int a(void) { return dwfl_begin() + b(); }
EOF
cat > "$T/bad/report/analysis/b.c" <<'EOF'
#include <stdio.h>
int a(void);
int b(void) { puts("x"); return a(); }
EOF
cat > "$T/bad/cmd/c.c" <<'EOF'
#include "../report/symbols/sym.h"
#include "../tracer/wire.h"
#include "../report/nowhere.h"
EOF
for f in a b; do
	mkdir -p "$T/bad/build/report/analysis"
	cc -c -o "$T/bad/build/report/analysis/$f.o" "$T/bad/report/analysis/$f.c" 2>/dev/null
done
python3 tools/layering.py build "$T/bad" > "$T/bad.out"
expect "a tree that breaks the layers fails" "$?" 1
expect "every breach is named" "$(sort "$T/bad.out")" \
"a circle of calls: report/analysis/a.c <-> report/analysis/b.c
a circle of includes: report/util/x.h <-> report/util/y.h
cmd/c.c:1: cmd may not include report/symbols/sym.h (report/symbols)
cmd/c.c:2: cmd may not include tracer/wire.h (tracer)
cmd/c.c:3: includes \"../report/nowhere.h\", which is not there
report/analysis/a.c needs dwfl_begin: report/analysis must not use elfutils, libunwind or ptrace
report/analysis/a.c:1: report/analysis may not include report/symbols/sym.h (report/symbols)
report/analysis/b.c uses puts: report/ never prints or exits (cmd/ does)"

# and this tree keeps them
python3 tools/layering.py build > "$T/out"
status=$?
expect "heapwise keeps its layers" "$status $(cat "$T/out")" "0 "

# small files and functions: no file of cmd/ over 500 lines, no function
# over 80 without a "Long:" reason in its comment
expect "no file of cmd/ is over 500 lines" "$(wc -l cmd/*.c cmd/*.h | awk '$2 != "total" && $1 > 500')" ""
python3 tools/long-functions.py > "$T/long"
expect "every function over 80 lines says why" "$? $(cat "$T/long")" "0 "
# the check itself: a 90-line function without a reason is named
mkdir -p "$T/tree/cmd" "$T/tree/tools"
{ echo 'int f(void)'; echo '{'; i=0; while [ $i -lt 90 ]; do echo '	g();'; i=$((i + 1)); done; echo '}'; } > "$T/tree/cmd/x.c"
cp tools/long-functions.py "$T/tree/tools/"
python3 "$T/tree/tools/long-functions.py" > "$T/long.out"
expect "a long function without a reason is named" "$? $(cat "$T/long.out")" "1 cmd/x.c:1 92 int f(void)"
