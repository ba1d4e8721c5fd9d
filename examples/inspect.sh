#!/bin/bash
# inspect.sh [VM]: look inside a VM the way a debugger would — status,
# registers, segment and control registers, a hex dump around rip and
# the translation of rip and rsp.  Without a VM it makes one with the
# long-mode hello guest stopped at its first port write.
set -euo pipefail
. "$(dirname "$0")/common.sh"
vm=${1:-}
if [ -z "$vm" ]; then
	vm=$(cat "$MNT/vms/new")
	trap 'rmdir "$MNT/vms/$vm"' EXIT
	echo 'mem 2M' >"$MNT/vms/$vm/ctl"
	echo 'mode long' >"$MNT/vms/$vm/ctl"
	cat "$GUESTS/hello64.bin" >"$MNT/vms/$vm/memory"
	echo step >"$MNT/vms/$vm/ctl"
	cat "$MNT/vms/$vm/run" >/dev/null
fi
cd "$MNT/vms/$vm"
echo "== status"
grep -E '^(state|exit|exits|error) ' status
echo "== regs"
cat regs
echo "== sregs (control registers and cs)"
grep -E '^(cr[0-4]|efer|cs\.(base|selector|l|db)) ' sregs
rip=$(awk '$1 == "rip" { print $2 }' regs)
rsp=$(awk '$1 == "rsp" { print $2 }' regs)
echo "== translate rip and rsp"
echo "$rip $rsp" >translate
cat translate
phys=$(awk 'NR == 1 { print $3 }' translate)
echo "== 32 bytes at rip (physical $phys)"
xxd -s "$phys" -l 32 memory
