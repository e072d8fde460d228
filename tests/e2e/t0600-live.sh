#!/bin/sh
# The live dashboard, driven in tmux (send-keys, capture-pane) over
# tests/progs/watched.c, whose heap changes in steps we control:
#   big_few 10 x 100000 B, small_many 5000 x 16 B, lose_some 3 x 64 B lost,
#   churn (64 B, freed at once, all the time); after a line on stdin,
#   grower +500 x 1000 B; after another, exit.
# Attach, detach, attach again, keys, 80x24, NO_COLOR, resize, --batch,
# `live -- PROG`, and the errors.
. "$(dirname "$0")/lib.sh"

if ! have tmux; then
	not_ok "tmux is installed (tools/deps.sh test installs it)"
	exit 0
fi
TM="tmux -L heapwise-t0600-$$ -f /dev/null"
# the tmux server lives on: it must not hold our fifos' write ends open
tm() { $TM "$@" 3>&- 4>&-; }
trap '$TM kill-server 2>/dev/null; rm -rf "$T"' EXIT

# screen SESSION: the pane's text now
screen() { $TM capture-pane -p -t "$1" 2>/dev/null; }

# wait_screen SESSION REGEX: until a line of the pane matches (10 s at most); 0 if it did
wait_screen() {
	i=0
	while [ $i -lt 200 ]; do
		screen "$1" | grep -Eq -- "$2" && return 0
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# check_screen NAME SESSION REGEX
check_screen() {
	if wait_screen "$2" "$3"; then ok "$1"; else not_ok "$1" "no line matches /$3/ in:" "$(screen "$2")"; fi
}

# first_row SESSION: the first site of the table (the line after its header)
first_row() { screen "$1" | sed -n '/LIVE BYTES.*LOCATION/{n;p;q}'; }

# check_first NAME SESSION REGEX: the first row comes to match
check_first() {
	i=0
	while [ $i -lt 100 ] && ! first_row "$2" | grep -Eq -- "$3"; do sleep 0.05; i=$((i + 1)); done
	expect_match "$1" "$(first_row "$2")" "$3"
}

# gone SESSION: the session's command ended (5 s at most)
gone() {
	i=0
	while [ $i -lt 100 ] && $TM has-session -t "$1" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
	! $TM has-session -t "$1" 2>/dev/null
}

wait_file() {
	i=0
	while [ $i -lt 400 ] && ! grep -q "$2" "$1" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
}

BIG='976\.6 KiB +92\.6% +10 +[0-9.k]+ +0 +976\.6 KiB +big_few tests/progs/watched\.c:[0-9]+'
SMALL='78\.1 KiB +7\.4% +5000 +[0-9.k]+ +0 +78\.1 KiB +small_many tests/progs/watched\.c:[0-9]+'
LOST='192 B +0\.0% +3 +[0-9.k]+ +0 +192 B +lose_some tests/progs/watched\.c:[0-9]+'
CHURN='^ *0 B +0\.0% +0 +[1-9][0-9.]*k +0 +[0-9.]+ [KMG]iB +churn tests/progs/watched\.c:[0-9]+'
# a dashboard that started the program marks the program's start: all of it is growth
BIG_LAUNCHED='976\.6 KiB +92\.6% +10 +[0-9.k]+ +\+976\.6 KiB +976\.6 KiB +big_few tests/progs/watched\.c:[0-9]+'

# ------------------------------------------------------------------
# A program run by `heapwise run`, watched from "another terminal"
# ------------------------------------------------------------------
mkfifo "$T/in"
"$HW" run -o "$T/a.hws" -- "$P/watched" < "$T/in" > "$T/out" 2> "$T/err" &
hw=$!
exec 3> "$T/in"
wait_file "$T/out" "ready 1"
pid=$(pgrep -n -P "$hw")

tm new-session -d -s a -x 110 -y 30 "$HW live --delay 0.2 $pid"
check_screen "attach: the header names the command and pid" a "heapwise live +.*watched +pid $pid +running"
check_screen "attach: heap and blocks in the header" a "^heap 1\.0 MiB +peak 1\.0 MiB +RSS [0-9.]+ [KMG]iB +allocs/s [0-9.]+k +frees/s [0-9.]+k"
check_screen "attach: live blocks, threads, lost events" a "^blocks 5013 +threads 1 +lost 0"
check_screen "attach: the graph says its span" a "heap over [0-9.]+ s, top 1\.0 MiB"
check_screen "big_few: 976.6 KiB in 10 blocks" a "$BIG"
check_screen "small_many: 78.1 KiB in 5000 blocks" a "$SMALL"
check_screen "lose_some: 192 B in 3 blocks" a "$LOST"
check_screen "churn: nothing live, thousands of allocations a second" a "$CHURN"
check_first "sorted by live bytes first" a "big_few"

$TM send-keys -t a c
check_first "c sorts by blocks" a "small_many"
$TM send-keys -t a r
check_first "r sorts by allocation rate" a "churn"
$TM send-keys -t a t
check_first "t sorts by bytes allocated" a "churn"
$TM send-keys -t a b
check_first "b sorts by live bytes again" a "big_few"

$TM send-keys -t a g
check_first "g groups by function" a "976\.6 KiB .* big_few$"
$TM send-keys -t a g
check_first "g again: by file, one row for the program's file" a "1\.0 MiB +100\.0% +5013 .* tests/progs/watched\.c$"
$TM send-keys -t a g
check_first "g again: by module" a "1\.0 MiB +100\.0% +5013 .* $P/watched$"
$TM send-keys -t a g
check_first "g again: whole tracebacks" a "big_few tests/progs/watched\.c:[0-9]+ < main"
$TM send-keys -t a g
check_first "g again: back to lines" a "$BIG"

$TM send-keys -t a j Enter
check_screen "Down, Enter: the stack of the second site" a "^stack 1 of 1 of small_many tests/progs/watched\.c:[0-9]+: 78\.1 KiB live in 5000 blocks"
$TM send-keys -t a Escape k Enter
check_screen "Enter: the stack of the selected site" a "^stack 1 of 1 of big_few tests/progs/watched\.c:[0-9]+: 976\.6 KiB live in 10 blocks, 10 allocations"
check_screen "the stack's frames, innermost first" a "#0 +big_few tests/progs/watched\.c:[0-9]+ +\(watched\)"
check_screen "... up to main" a "#1 +main tests/progs/watched\.c:[0-9]+ +\(watched\)"
$TM send-keys -t a Escape
check_first "Esc: back to the table" a "$BIG"

$TM send-keys -t a m
check_screen "m sets the mark" a "mark set: growth counts from"
echo >&3
wait_file "$T/out" "ready 2"
$TM send-keys -t a d
check_first "after the mark grower grew: first by growth" a "488\.3 KiB +[0-9.]+% +500 +[0-9.k]+ +\+488\.3 KiB +488\.3 KiB +grower tests/progs/watched\.c:[0-9]+"
expect_match "the others did not grow" "$(screen a | grep big_few)" " 0 +976\.6 KiB +big_few"

$TM send-keys -t a s
# (and churn's 64-byte block, when the snapshot's moment fell between its malloc and free)
check_screen "s takes a snapshot into the profile" a "snapshot snapshot-1 taken at [0-9.]+ s: 551[34] blocks, 1\.5 MiB"
$TM send-keys -t a l
check_screen "l scans: definitely lost" a "definitely lost +192 B in 3 blocks"
check_screen "l scans: still reachable" a "still reachable +1\.5 MiB in 5510 blocks"
check_screen "l scans: where it is kept" a "heapwise leaks $T/a.hws@snapshot-2"
$TM send-keys -t a x
check_first "any key: back from the scan" a "grower"

$TM send-keys -t a / s m a l l
check_screen "/ shows what is typed" a "^filter: small"
$TM send-keys -t a Enter
check_first "the filter keeps matching sites" a "78\.1 KiB +5\.1% +5000 .* small_many tests/progs/watched\.c:[0-9]+$"
check_screen "only those" a "^1 sites by lineno|\| 1 sites by lineno"
$TM send-keys -t a / Escape
check_first "Esc clears the filter" a "grower"

$TM send-keys -t a Space
check_screen "space pauses the display" a "\[paused\] pid $pid"
sleep 0.3	# a profile asked for before the pause may still come
t1=$(screen a | sed -n 's/.* \([0-9.]*\) s *$/\1/p' | head -1)
sleep 0.8
t2=$(screen a | sed -n 's/.* \([0-9.]*\) s *$/\1/p' | head -1)
expect "paused: the elapsed time stands still" "$t2" "$t1"
$TM send-keys -t a Space
i=0
while [ $i -lt 60 ] && [ "$(screen a | sed -n 's/.* \([0-9.]*\) s *$/\1/p' | head -1)" = "$t1" ]; do sleep 0.05; i=$((i + 1)); done
expect "space again: it moves on" "$([ $i -lt 60 ] && echo yes)" yes

$TM send-keys -t a '?'
check_screen "? shows the keys" a "^ +b +sort by live bytes"
check_screen "... every one" a "^ +q +quit; the program runs on"
$TM send-keys -t a x

$TM send-keys -t a q
expect "q leaves the dashboard" "$(gone a && echo yes)" yes
expect "... and the program runs on" "$(kill -0 "$pid" 2>/dev/null && echo yes)" yes

# ------------------------------------------------------------------
# Attach again: 80x24, no colour, resize
# ------------------------------------------------------------------
tm new-session -d -s b -x 80 -y 24 "NO_COLOR=1 $HW live --delay 0.2 $pid"
check_screen "attach again: 80x24 works, the site cut in its middle" b "976\.6 KiB +63\.3% +10 +[0-9.k]+ +0 +976\.6 KiB +big_few \.\.\.[a-z/]*watched\.c:[0-9]+$"
expect "80x24: 24 lines, the keys last" "$(screen b | sed -n '24p' | cut -c1-13)" "?:help q:quit"
expect_match "80x24: the status line above them" "$(screen b | sed -n '23p')" "sites by lineno, sorted by live bytes"
expect "NO_COLOR: no colour in the escape sequences" \
	"$($TM capture-pane -e -p -t b | grep -Ec '\[(3[0-7]|4[0-7]|38;|48;)')" 0
$TM resize-window -t b -x 120 -y 40
i=0
while [ $i -lt 100 ] && [ "$(screen b | sed -n '40p' | cut -c1-13)" != "?:help q:quit" ]; do sleep 0.05; i=$((i + 1)); done
expect "resized to 120x40: the keys on line 40" "$(screen b | sed -n '40p' | cut -c1-13)" "?:help q:quit"
expect_match "resized: the graph label at the right edge" "$(screen b | sed -n '4p')" "top 1\.5 MiB$"
$TM send-keys -t b q
expect "q again" "$(gone b && echo yes)" yes

# colour when allowed, for the NO_COLOR check to mean something
tm new-session -d -s c -x 100 -y 30 "$HW live --delay 0.2 $pid"
wait_screen c "big_few" >/dev/null
expect_match "colour without NO_COLOR" "$($TM capture-pane -e -p -t c | grep -Ec '\[(3[0-7]|4[0-7]|38;|48;)')" "^[1-9]"

# a stopped dashboard holds nothing up: the program runs and others watch
dash=$(pgrep -n -f "live --delay 0.2 $pid")
kill -STOP "$dash"
"$HW" live --batch --count 2 --delay 0.3 --rows 3 --sort rate "$pid" > "$T/batch" 2> "$T/batch.err"
expect "--batch prints tables while another dashboard is stopped" "$(grep -c '^heapwise live: .* running' "$T/batch")" 2
expect_match "--batch: the header line" "$(head -1 "$T/batch")" \
	"^heapwise live: .*watched \(pid $pid\) running [0-9.]+ s: heap 1\.5 MiB, peak 1\.5 MiB, RSS .*, [0-9.]+k allocs/s, [0-9.]+k frees/s, 5513 blocks, 1 threads, 0 lost$"
expect_match "--batch: the column header" "$(sed -n 2p "$T/batch")" "^LIVE BYTES +% +BLOCKS +ALLOC/S +SINCE MARK +ALLOCATED +LOCATION$"
expect_match "--batch --sort rate: churn first" "$(sed -n 3p "$T/batch")" "$CHURN"
expect "--batch --rows 3: three sites and a count of the rest" "$(sed -n '4,6p' "$T/batch" | sed 's/.*  //')" \
	"$(sed -n '4,5p' "$T/batch" | sed 's/.*  //')
(2 more sites)"
expect "--batch stops after --count" "$(cat "$T/batch.err")" ""
kill -CONT "$dash"

# the end, seen by the dashboard: final state and status until q
exec 3>&-
check_screen "the dashboard shows the exit status" c "pid $pid +exited with 0"
check_screen "... and where the profile went" c "profile written to $T/a.hws; q quits"
wait "$hw"
expect "the run ends with the program's status" "$?" 0
expect "... and the dashboard is still there" "$($TM has-session -t c 2>/dev/null && echo yes)" yes
$TM send-keys -t c q
gone c >/dev/null
stats_json "$T/a.hws" > "$T/a.json"
expect "the dashboard's snapshot and scan are in the profile" \
	"$(json "$T/a.json" '" ".join(s["name"] for s in j["snapshots"] if s["name"].startswith("snapshot"))')" \
	"snapshot-1 snapshot-2"
for snap in snapshot-1 snapshot-2; do
	"$HW" top --by function -n 0 -f json "$T/a.hws@$snap" > "$T/snap.json"
	expect "$snap: the program's 5513 blocks, and at most churn's one in flight" \
		"$(json "$T/snap.json" '(sum(g["count"] for g in j["groups"] if g["function"] != "churn"), sum(g["count"] for g in j["groups"] if g["function"] == "churn") <= 1)')" \
		"(5513, True)"
done
expect_match "heapwise leaks on the dashboard's scan" "$("$HW" leaks "$T/a.hws@snapshot-2" | grep 'definitely lost:')" \
	"definitely lost: 192 bytes in 3 blocks"
expect "the program's output was left alone" "$(cat "$T/out")" "ready 1
ready 2"

# ------------------------------------------------------------------
# heapwise live -- PROG, and run --live --batch
# ------------------------------------------------------------------
mkfifo "$T/in2"
tm new-session -d -s d -x 110 -y 30 -c "$T" "$HW live --delay 0.2 -o $T/d.hws -- $P/watched < $T/in2; echo rc=\$?; sleep 60"
exec 4> "$T/in2"
check_screen "live -- PROG: the dashboard at once, growth since the start" d "$BIG_LAUNCHED"
dpid=$(screen d | sed -n 's/.* pid \([0-9]*\) .*/\1/p' | head -1)
check_screen "live -- PROG: says where the program's output goes" d "program output: heapwise\.watched\.$dpid\.out"
expect "... and it goes there" "$(cat "$T/heapwise.watched.$dpid.out")" "ready 1"
echo >&4
exec 4>&-
check_screen "live -- PROG: the end is shown" d "exited with 0"
check_screen "... until q" d "profile written to $T/d.hws; q quits"
$TM send-keys -t d q
check_screen "after q: heapwise's summary" d "heapwise: profile written to $T/d.hws"
check_screen "... and the program's status" d "^rc=0$"

"$HW" run --live --batch --delay 0.2 -o "$T/e.hws" -- "$P/watched" < /dev/null > "$T/e.out" 2> "$T/e.err"
expect "run --live --batch: the program's status" "$?" 0
expect "run --live --batch: the program's output is kept" "$(grep -c '^ready' "$T/e.out")" 2
expect_match "run --live --batch: the last table is the end" "$(grep '^heapwise live: ' "$T/e.out" | tail -2 | head -1)" \
	"\(pid [0-9]+\) exited with 0 .* 5513 blocks"
expect "run --live --batch: then where the profile went" "$(tail -1 "$T/e.out")" "heapwise live: profile written to $T/e.hws"
expect_match "run --live --batch: the summary on stderr" "$(cat "$T/e.err")" "heapwise: profile written to $T/e.hws"

"$HW" live --batch --program-output "$T/f.log" -o "$T/f.hws" -- "$P/watched" < /dev/null > "$T/f.out" 2>/dev/null
expect "--program-output takes the program's output" "$(cat "$T/f.log")" "ready 1
ready 2"
expect "... off the table's stream" "$(grep -c '^ready' "$T/f.out")" 0

# ------------------------------------------------------------------
# A Python program: gc in the header, g goes on to its objects by type
# ------------------------------------------------------------------
tm new-session -d -s py -x 120 -y 40 "$HW live --delay 0.2 --program-output $T/py.log -o $T/py.hws -- python3 $PWD/tests/py/waiting.py $T/py.done"
check_screen "python: the header has the cycle collector's generations" py "lost 0  gc on [0-9]+/700 [0-9]+/10 [0-9]+/10, [0-9]+ collections"
for i in 1 2 3 4 5; do $TM send-keys -t py g; done
check_screen "python: g after tracebacks groups by type, and says a scan is needed" py "no scan yet: l scans the program"
# scan only once the program has built its Sessions, or the scan sees half of them
wait_file "$T/py.log" ready
$TM send-keys -t py l
check_screen "python: after l, the types of its scan" py "types by type \(objects of scan 'snapshot-1', [0-9.]+ s ago\)"
$TM send-keys -t py Escape
check_screen "python: its 20,000 Session objects" py "^ +[0-9.]+ [KM]iB +[0-9.]+% +20000 +- +.* +- +Session$"
$TM send-keys -t py g
check_first "python: g again: back to lines" py "waiting\.py:[0-9]+$"
touch "$T/py.done"
gone py
expect "python: the dashboard's scan is in the profile, Session counted there too" \
	"$("$HW" top --by type -n 0 -f json "$T/py.hws@snapshot-1" | python3 -c 'import json, sys; print([g["count"] for g in json.load(sys.stdin)["groups"] if g["type"] == "Session"])')" "[20000]"

# ------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------
"$HW" live --batch 2147483646 > /dev/null 2> "$T/err1"
expect "no such process: status 1" "$?" 1
expect "no such process: says so" "$(cat "$T/err1")" "heapwise: error: no process 2147483646"
"$HW" live --batch $$ > /dev/null 2> "$T/err2"
expect "a process heapwise does not trace: says so" "$(cat "$T/err2")" \
	"heapwise: error: process $$ is not traced by heapwise run (or is not ours to watch)"
"$HW" live -d 3 $$ > /dev/null 2> "$T/err3"
expect "run options with a PID: usage error" "$?" 2
"$HW" live --delay 0 -- true > /dev/null 2> "$T/err4"
expect "--delay 0: usage error" "$?" 2
expect_match "--delay 0: says why" "$(head -1 "$T/err4")" "--delay takes seconds from 0.05 to 3600"
"$HW" live > /dev/null 2>&1
expect "nothing to run or watch: usage error" "$?" 2
"$HW" run --batch -- true > /dev/null 2> "$T/err5"
expect_match "--batch without --live: usage error" "$(head -1 "$T/err5")" "go with --live"
setsid -w "$HW" live -- "$P/watched" < /dev/null > /dev/null 2> "$T/err6"
expect "no terminal: status 1" "$?" 1
expect_match "no terminal: points to --batch" "$(cat "$T/err6")" "the dashboard needs a terminal .*--batch prints text instead"
