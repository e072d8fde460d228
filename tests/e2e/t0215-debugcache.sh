#!/bin/sh
# The cache of plain copies of compressed debug files (report/debugcache.c):
# a program whose DWARF sits in a separate, zlib-compressed debug file (as
# Debian's debug packages ship it) is symbolized the same with the cache
# on or off; the copy is written, holds no compressed section, is what
# later runs read, and a wrong or broken copy is never believed.
. "$(dirname "$0")/lib.sh"

# the program, its debug info split off and compressed, found by .gnu_debuglink
cc -g -O0 -o "$T/app" tests/progs/leaky.c &&
	objcopy --only-keep-debug --compress-debug-sections=zlib "$T/app" "$T/app.debug" &&
	objcopy --strip-debug --add-gnu-debuglink="$T/app.debug" "$T/app" ||
	not_ok "build the split program" "cc or objcopy failed"
cp "$T/app.debug" "$T/app.debug.orig"
build_id() { readelf -n "$1" 2>/dev/null | awk '/Build ID/ { print $3 }'; }
compressed() { readelf -t "$1" 2>/dev/null | grep -c COMPRESSED; }
id=$(build_id "$T/app")
expect "the debug file is compressed" "$(compressed "$T/app.debug")" 5

# sites CACHE_DIR: the program's top sites, traced with that cache ("" = off)
sites() {
	HEAPWISE_CACHE_DIR=$1 "$HW" run -q -o "$T/p.hws" -- "$T/app" > /dev/null &&
		"$HW" top "$T/p.hws" | sed "s|^$PWD/||"
}

want="tests/progs/leaky.c:28: size=9.8 KiB, count=10, average=1000 B
tests/progs/leaky.c:18: size=4.7 KiB, count=100, average=48 B"
expect "cache off: lines from the debug file" "$(sites "")" "$want"
C=$T/cache
entry=$C/debug/$id.debug
expect "first run: same lines" "$(sites "$C")" "$want"
expect "first run: the copy is written" "$(test -f "$entry" && echo yes)" yes
expect "the copy holds no compressed section" "$(compressed "$entry")" 0
expect "the copy has the program's build-id" "$(build_id "$entry")" "$id"

# without the original, only the copy can give the lines
rm "$T/app.debug"
expect "later runs read the copy" "$(sites "$C")" "$want"
expect "cache off, no debug file: no lines" "$(sites "" | grep -c 'leaky\.c')" 0

# a copy of another file under the program's build-id, or a cut one, is not believed
cp "$T/app.debug.orig" "$T/app.debug"
cp "$PWD/libheapwise.so" "$entry"
expect "a stranger in the cache is ignored" "$(sites "$C")" "$want"
expect "and replaced" "$(build_id "$entry")" "$id"
head -c 100 "$T/app.debug.orig" > "$entry"
expect "a cut copy is ignored" "$(sites "$C")" "$want"
expect "and replaced" "$(compressed "$entry"):$(build_id "$entry")" "0:$id"

# where the cache lives without HEAPWISE_CACHE_DIR
(
	unset HEAPWISE_CACHE_DIR
	XDG_CACHE_HOME=$T/xdg "$HW" run -q -o "$T/x.hws" -- "$T/app" > /dev/null
	HOME=$T/home XDG_CACHE_HOME= "$HW" run -q -o "$T/h.hws" -- "$T/app" > /dev/null
)
expect "under XDG_CACHE_HOME" "$(test -f "$T/xdg/heapwise/debug/$id.debug" && echo yes)" yes
expect "else under ~/.cache" "$(test -f "$T/home/.cache/heapwise/debug/$id.debug" && echo yes)" yes
expect "cache off writes nothing" "$(HOME=$T/off XDG_CACHE_HOME= sites "" > /dev/null; test -e "$T/off" && echo written || echo none)" none

# over the size limit the copies used longest ago go; other files stay
truncate -s 2G "$C/debug/0000old.debug" "$C/debug/notes.txt"
touch -d 2020-01-01 "$C/debug/0000old.debug" "$C/debug/notes.txt"
rm "$entry"
sites "$C" > /dev/null
expect "over the limit: the oldest copy is dropped" "$(test -e "$C/debug/0000old.debug" && echo kept || echo dropped)" dropped
expect "the new copy stays" "$(test -f "$entry" && echo yes)" yes
expect "files not ours stay" "$(test -e "$C/debug/notes.txt" && echo yes)" yes
