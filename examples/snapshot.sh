#!/bin/bash
# snapshot.sh [STEPS]: stop a guest part-way, copy it into a new VM with
# cp (ctl, memory, regs, sregs: the files are the state), then finish
# both and show that they end the same.
set -euo pipefail
. "$(dirname "$0")/common.sh"
steps=${1:-40}
a=$(cat "$MNT/vms/new")
b=$(cat "$MNT/vms/new")
trap 'rmdir "$MNT/vms/$a" "$MNT/vms/$b"' EXIT
cd "$MNT/vms"
echo 'mem 2M' >"$a/ctl"
echo 'mode real' >"$a/ctl"
cat "$GUESTS/hello16.bin" >"$a/memory"
for _ in $(seq "$steps"); do
	echo step >"$a/ctl"
	cat "$a/run" >/dev/null
done
echo "original stopped at $(awk '$1 == "rip" { print $2 }' "$a/regs"), console so far: '$(cat "$a/console")'"
for f in ctl memory regs sregs; do cp "$a/$f" "$b/$f"; done
echo "original: $(cat "$a/run")"
echo "copy:     $(cat "$b/run")"
echo "original console: $(cat "$a/console")"
echo "copy console:     $(cat "$b/console")"
if cmp -s "$a/regs" "$b/regs" && cmp -s "$a/memory" "$b/memory"; then
	echo "final registers and memory are identical"
else
	echo "the copies differ" >&2
	exit 1
fi
