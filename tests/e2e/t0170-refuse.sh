#!/bin/sh
# What heapwise cannot trace is refused up front, with the reason; a
# program that cannot run gets the shell's statuses.
. "$(dirname "$0")/lib.sh"

"$HW" run -- "$P/static-hello" > "$T/out" 2> "$T/err"
expect "static: status 1" "$?" 1
expect_match "static: says why" "$(cat "$T/err")" "cannot trace '.*static-hello': it is statically linked"
expect "static: program not run" "$(cat "$T/out")" ""

cp "$P/exitcode" "$T/suid"
chmod u+s "$T/suid"
"$HW" run -- "$T/suid" > "$T/out" 2> "$T/err"
expect "setuid: status 1" "$?" 1
expect_match "setuid: says why" "$(cat "$T/err")" "is set-user-ID or set-group-ID"

"$HW" run -- "$T/does-not-exist" 2> "$T/err"
expect "missing program: status 127" "$?" 127
expect_match "missing program: says why" "$(cat "$T/err")" "cannot run '.*does-not-exist': No such file or directory"
printf 'not a program\n' > "$T/noexec"
"$HW" run -- "$T/noexec" 2> "$T/err"
expect "not executable: status 126" "$?" 126

"$HW" run 2> "$T/err"
expect "no program: usage status 2" "$?" 2
"$HW" run --max-depth 0 -- "$P/exitcode" 2> "$T/err"
expect "bad option value: status 2" "$?" 2
expect_match "bad option value: says why" "$(cat "$T/err")" "--max-depth takes a number from 1 to 256, not '0'"

# run takes the dashboard's options only with --live; live takes the
# launch's only when it starts a program
for opts in "--delay 5" "--rows 3" "--by function" "--sort rate" "--batch" "--program-output $T/o"; do
	"$HW" run $opts -- "$P/exitcode" > /dev/null 2> "$T/err"
	expect "run $opts without --live: usage status 2, and why" "$? $(head -1 "$T/err")" \
		"2 heapwise: error: --delay, --batch, --count, --rows, --by, --sort and --program-output go with --live"
done
"$HW" run -q --live --batch --count 1 --delay 0.1 --rows 3 -o "$T/l.hws" -- "$P/exitcode" > /dev/null 2>&1
expect "run --live takes them" "$?" 0
"$HW" live -o "$T/x.hws" $$ > /dev/null 2> "$T/err"
expect "live PID with a launch option: usage status 2" "$? $(head -1 "$T/err")" \
	"2 heapwise: error: the run options and --program-output apply when starting a program, not when watching process $$"
