#!/bin/sh
# The exit scan and stale words: exit()'s own frames lie over stack the
# program last wrote, so a pointer dropped just before main returns used
# to keep its block "still reachable". The exiting thread's stack is now
# scanned from exit()'s caller up; memcheck is the judge.
. "$(dirname "$0")/lib.sh"

leak_kinds() {
	"$HW" leaks -f json -k all "$1" > "$T/k.json"
	kinds_of "$T/k.json"
}

# main returns: hold()'s block, dropped, is definitely lost
"$HW" run -q -o "$T/r.hws" -- "$P/stale"
expect "returning from main: the dropped block is lost" "$(leak_kinds "$T/r.hws")" "1337 1 0 0 0 0 0 0"
expect "returning from main: memcheck's kinds" "$(leak_kinds "$T/r.hws")" \
	"$(LD_PRELOAD="$PWD/libheapwise.so" valgrind_kinds "$P/stale")"

# exit() from leave(): leave's frame is the program's, its block reachable
"$HW" run -q -o "$T/e.hws" -- "$P/stale" exit
expect "exit() from a function: its live local keeps its block" "$(leak_kinds "$T/e.hws")" "1337 1 0 0 0 0 4242 1"
expect "exit() from a function: memcheck's kinds" "$(leak_kinds "$T/e.hws")" \
	"$(LD_PRELOAD="$PWD/libheapwise.so" valgrind_kinds "$P/stale" exit)"

# every block of wrapped.c is lost through one array: 1 definite, 19 under it
"$HW" run -q -o "$T/w.hws" -- "$P/wrapped" > /dev/null
expect "a lost array with everything under it: memcheck's kinds" "$(leak_kinds "$T/w.hws")" \
	"$(LD_PRELOAD="$PWD/libheapwise.so" valgrind_kinds "$P/wrapped")"
expect "... and they are" "$(leak_kinds "$T/w.hws")" "256 1 2200 19 0 0 4096 1"
