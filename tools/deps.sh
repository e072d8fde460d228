#!/bin/sh
# deps.sh - make sure the Debian packages heapwise builds and tests with are
# installed. `deps.sh build` checks the build dependencies, `deps.sh test`
# the test tools too. Missing packages are installed with apt-get when we
# are root; otherwise the exact command to run is printed and we fail.
set -eu

build_pkgs="gcc make pkg-config libunwind-dev libdw-dev libelf-dev zlib1g-dev libzstd-dev libncurses-dev"
test_pkgs="libcmocka-dev groff-base python3 valgrind graphviz golang-go tmux g++ nodejs fontconfig fonts-dejavu-core chromium
	   sqlite3 jq git gawk cmake clang redis-server redis-tools python3-greenlet python3.11-dev"

want=$build_pkgs
[ "${1:-build}" = test ] && want="$build_pkgs $test_pkgs"

missing=
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "heapwise: missing packages:$missing" >&2
	echo "heapwise: install them with: sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "heapwise: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2 || true
apt-get install -y -q $missing >&2
