#!/bin/sh
# Blocks of size 0 are blocks: malloc(0) returns a unique pointer that
# must be freed, so a heap of nothing but them still has a peak, and top
# lists their site.
. "$(dirname "$0")/lib.sh"

cat > "$T/zero.c" <<'EOF'
#include <stdlib.h>

int main(void)
{
	void *keep[3];

	for (int i = 0; i < 3; i++)
		keep[i] = malloc(0);
	free(keep[2]);
	return keep[0] == keep[1];
}
EOF
cc -g -O0 -o "$T/zero" "$T/zero.c" || { not_ok "build the program" "cc failed"; exit 0; }
"$HW" run -o "$T/z.hws" -- "$T/zero" 2> "$T/err"
expect_match "the summary: a peak of 3 blocks of 0 bytes" "$(cat "$T/err")" "^heapwise: peak heap 0 B in 3 blocks at "
stats_json "$T/z.hws" > "$T/z.json"
expect "the peak and exit snapshots hold them" \
	"$(json "$T/z.json" '[(s["name"], s["blocks"], s["bytes"]) for s in j["snapshots"]]')" "[('peak', 3, 0), ('exit', 2, 0)]"
expect "top lists the site of blocks of size 0" "$("$HW" top "$T/z.hws")" \
	"$T/zero.c:8: size=0 B, count=2, average=0 B"
expect "totals equal valgrind's" "$(heapwise_totals "$T/z.hws")" "$(valgrind_totals "$T/zero")"
