#!/bin/sh
# Stacks deeper than --max-depth are cut, and the cut is counted.
. "$(dirname "$0")/lib.sh"

"$HW" run -q -d 8 -o "$T/d8.hws" -- "$P/deep" 40
stats_json "$T/d8.hws" > "$T/d8.json"
expect "cut at 8 frames, counted" "$(json "$T/d8.json" '(j["truncated_stacks"], j["max_depth"], j["allocations"])')" "(10, 8, 10)"
"$HW" run -q -o "$T/d64.hws" -- "$P/deep" 40
stats_json "$T/d64.hws" > "$T/d64.json"
expect "40 deep fits in 64 frames" "$(json "$T/d64.json" '(j["truncated_stacks"], j["live_blocks"], j["live_bytes"])')" "(0, 10, 640)"
