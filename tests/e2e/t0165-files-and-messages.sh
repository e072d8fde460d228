#!/bin/sh
# Files heapwise writes are private and never replace what is not a regular
# file; a profile that cannot be written is found out before the program
# runs, and one lost at the end is an error. A summary written to a pipe
# that closed early does not change the exit status; names with terminal
# escapes are printed harmless; a run of another user says so.
. "$(dirname "$0")/lib.sh"

# mode_of FILE: its permission bits, octal
mode_of() { stat -c %a "$1"; }

"$HW" run -q -o "$T/p.hws" -- "$P/leaky" > /dev/null 2>&1
expect "a profile is private (0600), whatever the umask" "$(mode_of "$T/p.hws")" 600
(umask 000 && "$HW" run -q -o "$T/p2.hws" -- "$P/leaky" > /dev/null 2>&1)
expect "a profile is private under umask 000 too" "$(mode_of "$T/p2.hws")" 600
"$HW" run -q --live --batch --program-output "$T/prog.out" -o "$T/l.hws" -- "$P/leaky" > /dev/null 2>&1
expect "live's program-output file is private" "$(mode_of "$T/prog.out")" 600
"$HW" export -f folded -o "$T/x.folded" "$T/p.hws"
expect "an export is private" "$(mode_of "$T/x.folded")" 600

# the temporary file is made with O_EXCL, beside the target, with a name nobody picked
if have strace; then
	strace -f -e trace=openat -o "$T/trace" "$HW" run -q -o "$T/s.hws" -- "$P/leaky" > /dev/null 2>&1
	expect_match "the profile goes through a fresh temporary file (O_EXCL) in its directory" \
		"$(grep "$T/\.s\.hws\." "$T/trace")" "O_RDWR\|O_CREAT\|O_EXCL"
else
	not_ok "strace is installed"
fi

# refused, before the program runs: what is there and is not a regular file, and what cannot be made
mkfifo "$T/fifo"
mknod "$T/dev" c 1 3
ln -s "$T/p.hws" "$T/link"
mkdir "$T/dir"
cp "$T/p.hws" "$T/p.keep"
for case in "fifo:a FIFO" "dev:a device" "link:a symbolic link" "dir:a directory" \
	    "missing/p.hws:No such file" ":no file name"; do
	target=${case%%:*} why=${case#*:}
	out="$T/$target"
	[ -n "$target" ] || out=""
	"$HW" run -o "$out" -- sh -c "echo ran > $T/ran" > /dev/null 2> "$T/err"
	status=$?
	expect "-o '$target': exit 1, the program not run" "$status $(cat "$T/ran" 2> /dev/null)" "1 "
	expect_match "-o '$target': says why, with the path" "$(cat "$T/err")" \
		"^heapwise: error: cannot write '$out': .*$why.*\(the program was not run\)$"
	rm -f "$T/ran"
done
expect "the FIFO is still a FIFO" "$(stat -c %F "$T/fifo")" "fifo"
expect "the device is still a device" "$(stat -c %F "$T/dev")" "character special file"
expect "the link is still a link, its target untouched" \
	"$(stat -c %F "$T/link") $(cmp -s "$T/p.hws" "$T/p.keep" && echo same)" "symbolic link same"
expect "no temporary files left" "$(ls -A "$T" | grep -c '^\.')" 0

# the directory goes away while the program runs: the profile is lost, and that is an error
mkdir "$T/gone"
"$HW" run -o "$T/gone/p.hws" -- rmdir "$T/gone" > /dev/null 2> "$T/err"
expect "a profile lost at the end: heapwise exits 1" "$?" 1
expect_match "a profile lost at the end: said" "$(cat "$T/err")" \
	"^heapwise: error: the profile is lost: cannot write '$T/gone/p.hws': No such file or directory$"

# the summary goes to a pipe that closes early: the status is the program's
{ "$HW" run -o "$T/pipe.hws" -- sh -c 'echo first; exit 7' 2>&1; echo $? > "$T/status"; } | head -1 > /dev/null
expect "a closed pipe does not make the status 141" "$(cat "$T/status")" 7
expect "the profile is written all the same" "$(test -s "$T/pipe.hws" && echo yes)" yes

# names the program made, escapes and all: printed with '?' in their place
esc=$(printf 'x\033]0;owned\007y')
"$HW" run -o "$T/esc.hws" -- "$P/leaky" "$esc" > /dev/null 2> "$T/err"
expect "run's summary sends no escape" "$(grep -c "$(printf '\033')" "$T/err")" 0
expect_match "the name is there, made harmless" "$(grep exited "$T/err")" "leaky x\?\]0;owned\?y exited"
expect "stats sends no escape" "$("$HW" stats "$T/esc.hws" | grep -c "$(printf '\033\|\007')")" 0

# someone else's run: said so, not "went away without a word"
if have setpriv; then
	U=$(mktemp -d /tmp/heapwise-nobody.XXXXXX)
	chmod 755 "$U"
	cp "$HW" "$U/heapwise"
	"$HW" run -q -o "$T/own.hws" -- "$P/steady" 50 > /dev/null &
	run=$!
	i=0
	while [ -z "$(pgrep -P $run)" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	prog=$(pgrep -P $run)
	setpriv --reuid=65534 --regid=65534 --clear-groups "$U/heapwise" snapshot "$prog" > /dev/null 2> "$T/err"
	expect "another user's run: refused, exit 1" "$?" 1
	expect "another user's run: said so" "$(cat "$T/err")" \
		"heapwise: error: process $prog is traced by heapwise run $run of another user: only that user or root can watch it"
	wait $run
	rm -rf "$U"
else
	not_ok "setpriv is installed (util-linux)"
fi
