#!/bin/sh
# heapwise keeps out of the program's way: same stdout, same arguments,
# same exit status, no file descriptor of ours left in it.
. "$(dirname "$0")/lib.sh"

for code in 0 3 42; do
	"$P/exitcode" "$code" "two words" '$HOME' > "$T/plain.out"
	"$HW" run -q -o "$T/x.hws" -- "$P/exitcode" "$code" "two words" '$HOME' > "$T/traced.out"
	expect "exit status $code passed through" "$?" "$code"
	expect "stdout unchanged ($code)" "$(cmp "$T/plain.out" "$T/traced.out" && echo same)" same
done
"$HW" run -q -o "$T/fd.hws" -- sh -c 'ls /proc/self/fd | wc -l' > "$T/traced.out"
sh -c 'ls /proc/self/fd | wc -l' > "$T/plain.out"
expect "no extra file descriptors" "$(cat "$T/traced.out")" "$(cat "$T/plain.out")"
# the summary goes to stderr, never stdout
"$HW" run -o "$T/y.hws" -- "$P/exitcode" 0 > "$T/out" 2> "$T/err"
expect "summary not on stdout" "$(grep -c heapwise "$T/out")" 0
expect_match "summary on stderr" "$(cat "$T/err")" '^heapwise: profile written to '
