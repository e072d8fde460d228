#!/bin/sh
# Damaged profiles are rejected with a clear message, never a crash.
. "$(dirname "$0")/lib.sh"

"$HW" run -q -o "$T/good.hws" -- "$P/leaky" 2>/dev/null
"$HW" stats "$T/good.hws" > /dev/null
expect "a good profile reads" "$?" 0
size=$(wc -c < "$T/good.hws")

crashes=0; silent=0; accepted=0
# truncations
for len in 0 1 7 8 23 24 100 $((size / 2)) $((size - 1)); do
	head -c "$len" "$T/good.hws" > "$T/bad.hws"
	"$HW" stats "$T/bad.hws" > /dev/null 2> "$T/err"
	s=$?
	[ "$s" -ge 128 ] && crashes=$((crashes + 1))
	[ "$s" -eq 0 ] && accepted=$((accepted + 1))
	grep -q "heapwise: error: '$T/bad.hws'" "$T/err" || silent=$((silent + 1))
done
expect "truncated files rejected" "$crashes $silent $accepted" "0 0 0"

# one byte changed, at offsets across the whole file
crashes=0; silent=0; accepted=0
step=$((size / 150 + 1))
off=0
while [ "$off" -lt "$size" ]; do
	cp "$T/good.hws" "$T/bad.hws"
	orig=$(od -An -tu1 -j "$off" -N1 "$T/good.hws" | tr -d ' ')
	printf "$(printf '\\%03o' $(( (orig + 1) % 256 )))" | dd of="$T/bad.hws" bs=1 seek="$off" conv=notrunc 2>/dev/null
	"$HW" stats "$T/bad.hws" > /dev/null 2> "$T/err"
	s=$?
	[ "$s" -ge 128 ] && crashes=$((crashes + 1))
	if [ "$s" -eq 0 ]; then
		accepted=$((accepted + 1)); echo "# accepted with byte $off changed"
	else
		grep -q "heapwise: error: '$T/bad.hws'" "$T/err" || silent=$((silent + 1))
	fi
	off=$((off + step))
done
expect "changed bytes rejected" "$crashes $silent $accepted" "0 0 0"

"$HW" stats /etc/hostname 2> "$T/err"
expect "not a profile: status 1" "$?" 1
expect_match "not a profile: says so" "$(cat "$T/err")" "is not a heapwise profile"
"$HW" stats "$T/missing.hws" 2> "$T/err"
expect_match "missing file: says so" "$(cat "$T/err")" "cannot open '.*missing.hws': No such file or directory"

# a damaged scan: the reports of the heap alone (top, diff, export) never
# read a scan, so they answer, with the numbers of the good file; those
# that follow pointers (leaks, refs) read it, and say it is corrupt
cp "$T/good.hws" "$T/scan.hws"
python3 - "$T/scan.hws" <<'PY'
import struct, sys
f = open(sys.argv[1], "r+b")
data = f.read()
n = struct.unpack("<I", data[12:16])[0]
for i in range(n):
    kind, _, off, size = struct.unpack("<IIQQ", data[32 + 32 * i:56 + 32 * i])
    if kind == 11:	# SEC_SCAN
        f.seek(off + size // 2)
        f.write(bytes([data[off + size // 2] ^ 0xff]))
PY
expect "damaged scan: top answers as on the good file" \
	"$("$HW" top -n 0 "$T/scan.hws" 2>&1)" "$("$HW" top -n 0 "$T/good.hws" 2>&1)"
expect "damaged scan: diff answers" "$("$HW" diff "$T/scan.hws@peak" "$T/scan.hws@exit" 2>&1 | tail -1)" \
	"$("$HW" diff "$T/good.hws@peak" "$T/good.hws@exit" 2>&1 | tail -1)"
expect "damaged scan: export answers" "$("$HW" export -f folded "$T/scan.hws" | md5sum)" \
	"$("$HW" export -f folded "$T/good.hws" | md5sum)"
"$HW" leaks "$T/scan.hws" > /dev/null 2> "$T/err"
expect "damaged scan: leaks refuses it" "$?" 1
expect_match "damaged scan: and says where" "$(cat "$T/err")" "is corrupt: section [0-9]+ \\(scan\\)"
