#!/bin/sh
# The real-program tier: programs nobody here wrote, each traced by
# heapwise and run under valgrind with the same binary, input and
# environment (lib.sh's real_run), cross-checked number by number:
# allocations, frees and bytes allocated against memcheck's "total heap
# usage", leak kinds against its LEAK SUMMARY, the peak against massif's
# (--heap-admin=0 --peak-inaccuracy=0); and top, leaks and refs must answer
# on each profile within seconds, with JSON that parses.
#
# Where heapwise and valgrind differ, the check says so and bounds it.
# The packages come from tools/deps.sh.
. "$(dirname "$0")/lib.sh"

# every report answers on the profile, fast, in JSON that parses
reports_answer() {
	for cmd in "top -n 20" "top -b traceback -n 20" "top -c -b function" "leaks -k all" "stats"; do
		timeout 20 "$HW" $cmd -f json "$T/$1.hws" > "$T/$1.report" 2> "$T/$1.report.err" &&
			python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$T/$1.report" 2>> "$T/$1.report.err" ||
			{ not_ok "$1: $cmd answers in JSON within 20 s" "$(tail -3 "$T/$1.report.err")"; return; }
	done
	site=$("$HW" top -n 1 -b function "$T/$1.hws" | sed 's/: size=.*//')
	timeout 20 "$HW" refs -f json -n 3 "$T/$1.hws" "$site" > "$T/$1.refs" 2> "$T/$1.refs.err"
	status=$?
	# a site of the exit snapshot's largest place: refs finds its blocks (status 0), unless the
	# place holds no live block (status 1, said so)
	if [ $status -le 1 ] && { [ $status = 1 ] || python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$T/$1.refs"; }; then
		ok "$1: top, leaks, stats and refs ('$site') answer in JSON within 20 s"
	else
		not_ok "$1: refs '$site' answers" "status $status" "$(tail -3 "$T/$1.refs.err")"
	fi
}

# exact: the same numbers as memcheck, and the peak as massif's
exact() {
	name=$1
	shift
	real_run "$name" "$@"
	expect "$name: allocations, frees, bytes and leak kinds equal memcheck's" "$(real_heapwise "$name")" \
		"$(real_memcheck "$@")"
	reports_answer "$name"
}

peak_equals_massif() {
	name=$1
	shift
	expect "$name: the peak equals massif's" "$(json "$T/$name.json" 'j["peak_bytes"]')" "$(real_massif_peak "$@")"
}

mkdir -p "$T/in"
python3 -c '
import json, random
random.seed(1)
print(json.dumps([{"id": i, "name": "n%d" % i, "tags": ["a", "b"][:i % 3], "v": random.random()} for i in range(2000)]))' \
	> "$T/in/data.json"
{
	echo "create table t(a integer primary key, b text);"
	echo "begin;"
	i=1
	while [ $i -le 3000 ]; do echo "insert into t(b) values('row $i');"; i=$((i + 1)); done
	echo "commit;"
	echo "select count(*), max(length(b)) from t;"
} > "$T/in/script.sql"

# sqlite3: a few thousand inserts and a query, in memory
exact sqlite3 /usr/bin/sqlite3 -init /dev/null :memory: ".read $T/in/script.sql"
peak_equals_massif sqlite3 /usr/bin/sqlite3 -init /dev/null :memory: ".read $T/in/script.sql"

# jq over a generated file
exact jq /usr/bin/jq '[.[] | .v] | add' "$T/in/data.json"
peak_equals_massif jq /usr/bin/jq '[.[] | .v] | add' "$T/in/data.json"

# git on a small repository made here (git copies its environment)
git init -q "$T/repo" && for i in 1 2 3; do echo "line $i" > "$T/repo/f$i"; done &&
	git -C "$T/repo" add . && git -C "$T/repo" -c user.name=t -c user.email=t@t commit -qm init
exact git /usr/bin/git -C "$T/repo" log --stat

# cmake --version: GnuTLS and libtasn1 allocate in their constructors
exact cmake /usr/bin/cmake --version
peak_equals_massif cmake /usr/bin/cmake --version

# C++: iostream, std::map, exceptions, a lost std::string (libstdc++'s pool at load)
cat > "$T/in/cxx.cc" <<'EOF'
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

static int parse(const std::string &s)
{
	if (s.empty() || s[0] == 'x')
		throw std::runtime_error("cannot parse '" + s + "'");
	return std::stoi(s);
}

int main()
{
	std::map<std::string, std::vector<int>> index;
	int failures = 0;

	for (int i = 0; i < 2000; i++) {
		std::string key = "key-" + std::to_string(i % 300);
		try {
			index[key].push_back(parse(i % 7 ? std::to_string(i) : "x" + key));
		} catch (const std::exception &e) {
			failures++;
		}
	}
	new std::string("a string long enough to live on the heap, and lost");
	std::cout << index.size() << " keys, " << failures << " failures" << std::endl;
	return 0;
}
EOF
g++ -g -O1 -o "$T/in/cxx" "$T/in/cxx.cc"
exact cxx "$T/in/cxx"
peak_equals_massif cxx "$T/in/cxx"
expect "cxx: the lost std::string is definitely lost, its buffer under it" \
	"$(json "$T/cxx.leaks" '(j["definite"]["blocks"], j["indirect"]["blocks"])')" "(1, 1)"

# a C program built by clang
cat > "$T/in/list.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node { struct node *next; char *name; };
static struct node *keep;

int main(void)
{
	void *lost;

	for (int i = 0; i < 100; i++) {
		struct node *n = malloc(sizeof(*n));

		n->name = strdup("a name");
		n->next = keep;
		keep = n;
	}
	free(malloc(1000));
	lost = malloc(123);
	printf("%p %p\n", (void *)keep, lost);
	return 0;
}
EOF
clang -g -O0 -o "$T/in/clanged" "$T/in/list.c"
exact clanged "$T/in/clanged"
peak_equals_massif clanged "$T/in/clanged"

# gawk building an array (gawk copies its environment into ENVIRON)
exact gawk /usr/bin/gawk 'BEGIN { for (i = 0; i < 3000; i++) a[i] = i "x"; n = 0; for (k in a) n++; print n }'

# perl building a hash, its hash seed fixed (perl copies its environment into %ENV)
exact perl /usr/bin/perl -e 'my %h; $h{$_} = $_ x 3 for 1 .. 5000; print scalar(keys %h), "\n"'

# g++'s compiler proper on a small file. GCC sizes its garbage collector from the machine's
# memory and limits, which valgrind and a loaded machine change: fixed here. Its hash tables
# follow the addresses of what they hold, so it runs without address randomization (valgrind
# lays the program out the same way every time). What is left: the layout is valgrind's own,
# so heapwise's run may have a collector block or two (ggc_internal_alloc) more or fewer:
# bounded by two, and by 8 KiB
CC1PLUS=$(g++ -print-prog-name=cc1plus)
CC1ARGS="-quiet --param ggc-min-expand=100 --param ggc-min-heapsize=131072"
echo 'template <class T> struct A { T t; }; int f(A<int> a) { return a.t; }' > "$T/in/small.cc"
REAL_WRAP="setarch x86_64 -R" real_run cc1plus "$CC1PLUS" $CC1ARGS "$T/in/small.cc" -o /dev/null
set -- $(real_heapwise cc1plus)
hw_c="$1 $2 $3" hw_def="$5 $6 $7 $8"
set -- $(real_memcheck "$CC1PLUS" $CC1ARGS "$T/in/small.cc" -o /dev/null)
expect "cc1plus: allocations within 2, frees equal, bytes within 8 KiB of memcheck's" \
	"$(set -- $hw_c $1 $2 $3; d1=$(($1 - $4)) d3=$(($3 - $6));
	   [ ${d1#-} -le 2 ] && [ $2 = $5 ] && [ ${d3#-} -le 8192 ] && echo yes || echo "no: $*")" "yes"
expect "cc1plus: definitely and indirectly lost equal memcheck's" "$hw_def" "$5 $6 $7 $8"
REAL_WRAP="setarch x86_64 -R" real_run cc1plus-again "$CC1PLUS" $CC1ARGS "$T/in/small.cc" -o /dev/null
expect "cc1plus: without address randomization, two runs allocate the same" \
	"$(real_heapwise cc1plus-again | cut -d'|' -f1)" "$(echo "$hw_c ")"
reports_answer cc1plus

# python3 with its own allocator, traced as native code (--python=off: memcheck sees malloc
# only; t0600 checks Python mode against tracemalloc). pymalloc's arenas are the program's own
# mappings, merged by the kernel with big blocks' and scanned around them. The leak kinds are
# memcheck's; the totals are one allocation apart (python3 allocates once more under valgrind,
# not explained yet), so they are bounded by one
REAL_RUN_OPTS=--python=off
real_run python3 /usr/bin/python3.11 -c 'import json; print(len(json.dumps([{"a": i} for i in range(1000)])))'
REAL_RUN_OPTS=
set -- $(real_heapwise python3)
hw_p="$1 $2 $3"
shift 4
hw_kinds="$*"
set -- $(real_memcheck /usr/bin/python3.11 -c 'import json; print(len(json.dumps([{"a": i} for i in range(1000)])))')
expect "python3: allocations and frees within 1, bytes within 1 KiB of memcheck's" \
	"$(set -- $hw_p $1 $2 $3; d1=$(($1 - $4)) d2=$(($2 - $5)) d3=$(($3 - $6));
	   [ ${d1#-} -le 1 ] && [ ${d2#-} -le 1 ] && [ ${d3#-} -le 1024 ] && echo yes || echo "no: $*")" "yes"
shift 4
expect "python3: leak kinds equal memcheck's" "$hw_kinds" "$*"
reports_answer python3

# redis-server on a unix socket in the test directory (no port to collide on), fed a few hundred
# requests by redis-cli, then shut down. Debian's redis allocates through jemalloc, which
# valgrind replaces only when told its name. Not exact: redis sizes its strings by
# malloc_usable_size, which is jemalloc's size class under heapwise and the size asked for under
# valgrind, so under valgrind it reallocates more (each realloc is one allocation and one free)
# and keeps a few more blocks: bounded by 2% of the allocations and frees, 5% of the bytes and
# 1% of the blocks still allocated at exit. The server is stripped: its frames are hex.
redis_client() {
	i=0
	until [ "$(redis-cli -s "$T/redis.sock" ping 2> /dev/null)" = PONG ]; do
		i=$((i + 1))
		[ $i -gt 400 ] && { pkill -f "unixsocket $T/redis.sock"; return; }
		sleep 0.05
	done
	redis-cli -s "$T/redis.sock" eval "for i = 1, 300 do redis.call('set', 'k' .. i, string.rep('v', i)) end return 1" 0 > /dev/null
	i=0
	while [ $i -lt 100 ]; do echo "SET key$i value$i"; echo "GET key$i"; echo "LPUSH list $i"; i=$((i + 1)); done |
		redis-cli -s "$T/redis.sock" > /dev/null
	redis-cli -s "$T/redis.sock" shutdown nosave > /dev/null 2>&1
}
REDIS_ARGS="--port 0 --unixsocket $T/redis.sock --save '' --appendonly no --dir $T --logfile $T/redis.log --hz 1"
if have redis-server && have redis-cli; then
	redis_client &
	eval real_run redis /usr/bin/redis-server "$REDIS_ARGS"
	wait
	set -- $(real_heapwise redis)
	hw_r="$1 $2 $3" hw_def="$5 $6 $7 $8" hw_inuse=$(($6 + $8 + ${10} + ${12}))
	redis_client &
	set -- $(eval REAL_VG_OPTS="--soname-synonyms=somalloc=*jemalloc*" real_memcheck /usr/bin/redis-server "$REDIS_ARGS")
	wait
	expect "redis: allocations and frees within 2%, bytes within 5%, blocks at exit within 1% of memcheck's" \
		"$(set -- $hw_r $hw_inuse $1 $2 $3 $(($6 + $8 + ${10} + ${12}));
		   d1=$(($1 - $5)) d2=$(($2 - $6)) d3=$(($3 - $7)) d4=$(($4 - $8));
		   [ $((${d1#-} * 50)) -le $5 ] && [ $((${d2#-} * 50)) -le $6 ] && [ $((${d3#-} * 20)) -le $7 ] &&
		   [ $((${d4#-} * 100)) -le $8 ] && [ $1 -gt 20000 ] && echo yes || echo "no: $*")" "yes"
	expect "redis: definitely and indirectly lost equal memcheck's" "$hw_def" "$5 $6 $7 $8"
	reports_answer redis
else
	not_ok "redis-server and redis-cli are installed (tools/deps.sh test)"
fi
