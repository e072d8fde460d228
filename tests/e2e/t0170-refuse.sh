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
