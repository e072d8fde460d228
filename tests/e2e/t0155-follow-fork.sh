#!/bin/sh
# --follow-fork: each process the program forks (and what it execs, and
# what posix_spawn starts) gets a profile of its own, FILE.PID, a summary
# line and an exit scan. A forked child's heap starts as its parent's: those
# blocks are the parent's, so the child's scan reads them as roots (a block
# hung off the parent's list is reachable) and judges only its own. Leak
# kinds and totals are cross-checked with memcheck, which follows forks
# and (with --trace-children=yes) execs, one log per process.
. "$(dirname "$0")/lib.sh"

# children FILE: the profiles beside FILE, one per line
children() { ls "$1".* 2> /dev/null; }

# hw_numbers PROFILE: "ALLOCS FREES BYTES | DEF_BYTES DEF_BLOCKS ... REACH_BLOCKS"
hw_numbers() {
	stats_json "$1" > "$T/n.json"
	"$HW" leaks -f json -k all "$1" > "$T/n.leaks"
	echo "$(json "$T/n.json" '"%d %d %d" % (j["allocations"], j["frees"], j["bytes_allocated"])') | $(kinds_of "$T/n.leaks")"
}

# vg_numbers LOG: the same from one memcheck log
vg_numbers() {
	sed -n 's/,//g; s/.*total heap usage: \([0-9]*\) allocs \([0-9]*\) frees \([0-9]*\) bytes allocated.*/\1 \2 \3 |/p;
		s/.*\(definitely\|indirectly\|possibly\) lost: \([0-9]*\) bytes in \([0-9]*\) blocks.*/\2 \3/p;
		s/.*still reachable: \([0-9]*\) bytes in \([0-9]*\) blocks.*/\1 \2/p' "$1" | tr '\n' ' ' | sed 's/ *$//'
}

# memcheck PROG ARGS: run it, one log per process in $T/vg/
memcheck() {
	rm -rf "$T/vg" && mkdir "$T/vg"
	LD_PRELOAD="$PWD/libheapwise.so" valgrind --trace-children=yes --leak-check=full --run-libc-freeres=no \
		--log-file="$T/vg/%p" "$@" > /dev/null 2>&1
}

# without the option, as before: children untraced, no profiles beside
"$HW" run -q -o "$T/no.hws" -- "$P/forkleak" leak > "$T/out"
expect "without --follow-fork: the program ran" "$(cat "$T/out")" "child 3"
expect "without --follow-fork: no child profiles" "$(children "$T/no.hws")" ""

# a forked child that leaks 100 bytes and hangs a node off its parent's list
"$HW" run --follow-fork -o "$T/f.hws" -- "$P/forkleak" leak > "$T/out" 2> "$T/err"
expect "leak: the program ran" "$(cat "$T/out")" "child 3"
expect "leak: one child profile" "$(children "$T/f.hws" | wc -l)" 1
kid=$(children "$T/f.hws")
pid=${kid##*.}
expect "leak: the child's summary line" "$(grep -cxF "heapwise: child $pid ($P/forkleak leak): 2 allocations, 0 frees, 148 B allocated, 148 B in 2 blocks at exit, definitely lost 100 B in 1 blocks; profile written to $kid" "$T/err")" 1
set -- $(hw_numbers "$kid")
expect "leak: the child's own two blocks, the node reachable through the parent's list" "$*" \
	"2 0 148 | 100 1 0 0 0 0 48 1"
hw_lost="$5 $6 $7 $8"
memcheck "$P/forkleak" leak
set -- $(vg_numbers "$(grep -l 'lost: 100 bytes' "$T/vg"/*)")
expect "leak: definitely and indirectly lost equal memcheck's for the child" "$hw_lost" "$5 $6 $7 $8"
expect "leak: the parent's profile has no leak" "$(hw_numbers "$T/f.hws" | cut -d'|' -f2)" \
	" 0 0 0 0 0 0 $((3 * 48 + 4096)) 4"
# heapwise is not its parent: the status is the real one when it saw the child a zombie, else unknown
expect_match "leak: the child's profile gives its real exit status or says it is unknown, never a made-up one" \
	"$("$HW" stats "$kid" | head -1)" \
	"^$P/forkleak leak (exited with code 3|ended \(its exit status went to its parent\)) after [0-9.]+ m?s$"

# --error-exitcode counts a child's leaks
"$HW" run -q --follow-fork --error-exitcode 9 -o "$T/e.hws" -- "$P/forkleak" leak > /dev/null 2>&1
expect "a child's leak makes --error-exitcode's status" "$?" 9

# a grandchild: its own profile; the child that only waited leaks nothing
"$HW" run -q --follow-fork -o "$T/n.hws" -- "$P/forkleak" nest > "$T/out"
expect "nest: the program ran" "$(cat "$T/out")" "child 0"
expect "nest: two profiles, child and grandchild" "$(children "$T/n.hws" | wc -l)" 2
expect "nest: the grandchild's leak, in its own profile" \
	"$(for f in $(children "$T/n.hws"); do hw_numbers "$f"; done | sort)" \
	"$(printf '%s\n' '0 0 0 | 0 0 0 0 0 0 0 0' '2 0 148 | 100 1 0 0 0 0 48 1')"

# a child that execs, and one posix_spawn starts: the exec'd program's numbers are memcheck's
for how in exec spawn; do
	"$HW" run -q --follow-fork -o "$T/$how.hws" -- "$P/forkleak" $how "$P/leaky" > "$T/out" 2> /dev/null
	expect "$how: the program ran" "$(cat "$T/out")" "child 0"
	expect "$how: one child profile" "$(children "$T/$how.hws" | wc -l)" 1
	memcheck "$P/forkleak" $how "$P/leaky"
	expect "$how: the child's totals and leak kinds equal memcheck's for leaky" \
		"$(hw_numbers "$(children "$T/$how.hws")")" "$(vg_numbers "$(grep -l "Command: $P/leaky" "$T/vg"/*)")"
done

# a shell running two programs: dash forks for each, and each execs leaky
"$HW" run -q --follow-fork -o "$T/sh.hws" -- /bin/sh -c "$P/leaky; $P/leaky" > /dev/null 2>&1
expect "sh: a profile for each leaky" "$(children "$T/sh.hws" | wc -l)" 2
memcheck /bin/sh -c "$P/leaky; $P/leaky"
for f in $(children "$T/sh.hws"); do
	expect "sh: leaky ${f##*.}: totals and leak kinds equal memcheck's" "$(hw_numbers "$f")" \
		"$(vg_numbers "$(grep -l "Command: $P/leaky" "$T/vg"/* | head -1)")"
done
# (not its totals: dash copies its environment, which differs between the two runs by
# HEAPWISE_SHM and valgrind's preloads)
expect "sh: the shell itself lost nothing, as memcheck says" "$(hw_numbers "$T/sh.hws" | cut -d' ' -f5-8)" \
	"$(vg_numbers "$(grep -l "Command: /bin/sh" "$T/vg"/*)" | cut -d' ' -f5-8)"

# python's multiprocessing (fork): a profile per worker, each report answers
# (Debian's python3.11: pyenv's python3 is a shell script that runs dozens of programs first)
if [ -x /usr/bin/python3.11 ]; then
	"$HW" run -q --follow-fork -o "$T/mp.hws" -- /usr/bin/python3.11 -c \
		'import multiprocessing as m; p = m.Pool(2); print(sum(p.map(abs, range(100)))); p.close(); p.join()' \
		> "$T/out" 2> "$T/err"
	expect "multiprocessing: the program ran" "$(cat "$T/out")" 4950
	expect "multiprocessing: a profile per worker" "$(children "$T/mp.hws" | wc -l)" 2
	for f in $(children "$T/mp.hws"); do
		"$HW" leaks -f json "$f" > "$T/mp.json" && json "$T/mp.json" 'j["definite"]["blocks"]' > /dev/null ||
			not_ok "multiprocessing: leaks answers on $f"
	done
	expect "multiprocessing: nothing lost, nothing refused" "$(grep -c 'lost events: [1-9]\|untraced' "$T/err")" 0
else
	not_ok "Debian's python3.11 is installed (tools/deps.sh test)"
fi
