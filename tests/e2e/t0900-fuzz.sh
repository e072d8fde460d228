#!/bin/sh
# The fuzzers, briefly (make fuzz runs them as long as asked): the profile
# reader and the reports over a mutated real profile, and the collector
# over a region a hostile program wrote. Each must run without a crash,
# sanitizer report or hang for its time.
. "$(dirname "$0")/lib.sh"

if [ ! -x build/fuzz/fuzz-profile ] || [ ! -x build/fuzz/fuzz-collector ]; then
	not_ok "the fuzzers are built (clang, from tools/deps.sh)"
	exit 0
fi
tests/fuzz/run.sh "${FUZZ_CHECK_SECONDS:-30}" > "$T/fuzz.out" 2>&1
for f in fuzz-profile fuzz-collector; do
	expect_match "$f runs without a crash" "$(grep "^$f:" "$T/fuzz.out")" "^$f: [0-9]+ runs in [0-9]+ s, no crash$"
done
