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
