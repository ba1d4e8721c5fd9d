#!/bin/bash
# The quick start's demonstration: mount kvmfs in a temporary directory,
# run the real-mode hello guest, show its console and the 42 it left at
# 0x400, and unmount.  Usage: examples/demo.sh [BUILDDIR]
set -euo pipefail
build=${1:-build}

# Without a usable /dev/kvm (KVMFS_NO_HOST_KVM=1 pretends so), the same
# demo runs inside the full-KVM lane: Debian's kernel with kvm-amd under
# QEMU's emulation of an AMD CPU (docs/testing.md).
if [ "${KVMFS_FULLKVM:-}" != 1 ] &&
	{ [ "${KVMFS_NO_HOST_KVM:-}" = 1 ] || [ ! -c /dev/kvm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; }; then
	echo "demo: no usable /dev/kvm on this machine: running the demo inside the full-KVM lane (QEMU's emulated AMD CPU with SVM, docs/testing.md)"
	here=$(cd "$(dirname "$0")/.." && pwd)
	build=$(cd "$build" && pwd)
	BUILDDIR=$build KVMFS=$build/src/kvmfs GUESTS=$build/guests \
		exec bash "$here/tests/fullkvm/run.sh" --exec "examples/demo.sh /kvmfs/build"
fi
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
