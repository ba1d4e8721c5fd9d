#!/bin/bash
# The quick start's demonstration: mount kvmfs in a temporary directory,
# run the real-mode hello guest, show its console and the 42 it left at
# 0x400, and unmount.  Usage: examples/demo.sh [BUILDDIR]
set -euo pipefail
build=${1:-build}
kvmfs=$build/src/kvmfs
guests=$build/guests
mnt=$(mktemp -d /tmp/kvmfs-demo.XXXXXX)
trap 'fusermount3 -u "$mnt" 2>/dev/null; rmdir "$mnt"' EXIT

"$kvmfs" "$mnt"
echo "\$ cat $mnt/version"
cat "$mnt/version"
vm=$(cat "$mnt/vms/new")
echo "\$ vm=\$(cat vms/new)            # -> $vm"
echo 'mem 2M' >"$mnt/vms/$vm/ctl"
echo 'mode real' >"$mnt/vms/$vm/ctl"
cat "$guests/hello16.bin" >"$mnt/vms/$vm/memory"
echo "\$ cat vms/$vm/run"
cat "$mnt/vms/$vm/run"
echo "\$ cat vms/$vm/console"
cat "$mnt/vms/$vm/console"
echo "\$ xxd -s 0x400 -l 4 vms/$vm/memory"
xxd -s 0x400 -l 4 "$mnt/vms/$vm/memory"
rmdir "$mnt/vms/$vm"
