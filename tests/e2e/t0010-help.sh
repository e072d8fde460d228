#!/bin/sh
# Every command has a man page whose SYNOPSIS is its usage line, every page
# is clean mdoc, and the help paths work.
. "$(dirname "$0")/lib.sh"

# the SYNOPSIS of a page as one line of plain text
synopsis() {
	groff -mdoc -Tascii -P-c -P-b -P-u "$1" 2>/dev/null |
		sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d' | tr -s ' \n' '  ' | sed 's/^ *//; s/ *$//'
}

for cmd in run live stats top diff snapshot leaks refs export; do
	usage=$("$HW" "$cmd" --help | sed -n 's/^usage: //p; s/^   or: //p' | tr '\n' ' ' | sed 's/ *$//')
	expect "$cmd --help matches man/heapwise-$cmd.1" "$(synopsis man/heapwise-$cmd.1)" "$usage"
	expect "help $cmd is $cmd --help" "$("$HW" help "$cmd")" "$("$HW" "$cmd" --help)"
done
for page in man/*.1 man/*.5; do
	out=$(groff -mdoc -ww -z "$page" 2>&1)
	expect "$page is clean mdoc" "$out" ""
done
"$HW" --help > "$T/out"
expect_match "--help lists run" "$(cat "$T/out")" '^   run +run a program and trace its heap$'
expect_match "--help lists stats" "$(cat "$T/out")" '^   stats +show the totals'
"$HW" frobnicate 2> "$T/err"
expect "unknown command: status 2" "$?" 2
expect_match "unknown command: says so" "$(cat "$T/err")" "'frobnicate' is not a heapwise command"
"$HW" stats --format yaml x.hws 2> "$T/err"
expect "unknown format: status 2" "$?" 2
# one --format parser: each command names the formats it writes
for cmd_formats in "stats:text or json" "top:text, json, csv or markdown" \
		   "diff:text, json, csv, markdown or folded" "leaks:text, json or markdown" \
		   "refs:text, json or dot" "export:json, csv, folded, svg, pprof or massif"; do
	cmd=${cmd_formats%%:*}
	"$HW" $cmd --format yaml x.hws y 2> "$T/err"
	expect "$cmd --format yaml: status 2, and the formats it takes" "$? $(head -1 "$T/err")" \
		"2 heapwise: error: --format takes ${cmd_formats#*:}, not 'yaml'"
done
expect_match "version" "$("$HW" --version)" '^heapwise [0-9]+\.[0-9]+'
