#!/bin/sh
# run.sh - run every heapwise test: the C unit tests (cmocka) under
# build/unit and the end-to-end scripts tests/e2e/t*.sh. Prints one line per
# test ("ok - NAME" / "not ok - NAME") and ends with "N passed, N failed";
# exits non-zero on any failure. Run from the top of the tree after
# `make check` built everything (make check runs this).
cd "$(dirname "$0")/.." || exit 1
log=$(mktemp -d "${TMPDIR:-/tmp}/heapwise-tests.XXXXXX") || exit 1
trap 'rm -rf "$log"' EXIT
# one debug cache (report/debugcache.h) for all the tests, gone with them
export HEAPWISE_CACHE_DIR="$log/cache"
passed=0
failed=0

for t in build/unit/test-*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	"$t" > "$log/out" 2>&1
	status=$?
	# cmocka prints "[       OK ] case" and "[  FAILED  ] case" per test
	ok=$(grep -c '^\[       OK \]' "$log/out")
	bad=$(grep -c '^\[  FAILED  \] [a-z_]' "$log/out")
	grep '^\[       OK \]' "$log/out" | sed "s/^\[       OK \] */ok - unit\/$name: /"
	passed=$((passed + ok))
	if [ "$status" -ne 0 ] || [ "$bad" -gt 0 ]; then
		[ "$bad" -eq 0 ] && bad=1
		echo "not ok - unit/$name (exit $status)"
		sed 's/^/# /' "$log/out"
		failed=$((failed + bad))
	fi
done

for t in tests/e2e/t*.sh; do
	name=$(basename "$t" .sh)
	sh "$t" > "$log/out" 2>&1
	status=$?
	ok=$(grep -c '^ok - ' "$log/out")
	bad=$(grep -c '^not ok - ' "$log/out")
	grep -E '^(not )?ok - |^# ' "$log/out"
	passed=$((passed + ok))
	failed=$((failed + bad))
	if [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then
		echo "not ok - $name: the script stopped with status $status"
		sed 's/^/# /' "$log/out" | tail -20
		failed=$((failed + 1))
	fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
