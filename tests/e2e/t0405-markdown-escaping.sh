#!/bin/sh
# leaks --format markdown on C++ names: GFM reads `<...>` as HTML and
# `*`/`_` as emphasis, so each is escaped with a backslash; the escaped
# text, unescaped, is the name as the text report prints it.
. "$(dirname "$0")/lib.sh"

cat > "$T/boxes.cc" <<'CC'
#include <vector>
template <class T> struct Box { T value; };
template <class T> __attribute__((noinline)) Box<T> *make_box_() { return new Box<T>(); }
int main() { make_box_<std::vector<int>>(); return 0; }
CC
if ! g++ -g -O0 -o "$T/boxes" "$T/boxes.cc"; then
	not_ok "build the C++ program" "g++ failed"
	exit 0
fi
"$HW" run -q -o "$T/b.hws" -- "$T/boxes" > /dev/null
"$HW" leaks -f markdown "$T/b.hws" > "$T/b.md"
"$HW" leaks "$T/b.hws" > "$T/b.txt"
# the site as the text report prints it: "by NAME FILE:LINE" under "operator new"
site=$(sed -n 's/^   by \(.*make_box_.*\)$/\1/p' "$T/b.txt")
expect "the text report names the C++ site" "$(echo "$site" | grep -c '^Box<std::vector<int, std::allocator<int> > >\* make_box_<')" 1
cell=$(grep '^| 1 | definitely lost | 24 | 1 |' "$T/b.md" | sed 's/^.*| 24 | 1 | \(.*\) |$/\1/')
expect "markdown escapes every <, >, * and _ of it" "$(echo "$cell" | grep -c '^Box\\<std::vector\\<int, std::allocator\\<int\\> \\> \\>\\\* make\\_box\\_\\<')" 1
expect "unescaped, the cell is the site" "$(printf '%s\n' "$cell" | sed 's/\\\([][\\`*_<>|&~]\)/\1/g')" "$site"
expect "no character GFM reads as markup is left bare in the table's rows" \
	"$(grep '^|' "$T/b.md" | sed 's/\\[][\\`*_<>|&~]//g' | grep -c '[][`*_<>&~]')" 0
