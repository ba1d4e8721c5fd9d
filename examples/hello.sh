#!/bin/bash
# hello.sh MODE: kvm-hello-world from the shell.  Creates a VM, puts
# vCPU 0 in MODE (real, protected, paged32 or long), loads the matching
# hello guest at GPA 0, runs it, shows its console and checks the 42 it
# leaves at 0x400, then removes the VM.
set -euo pipefail
. "$(dirname "$0")/common.sh"
mode=${1:?usage: hello.sh real|protected|paged32|long}
case $mode in
real) guest=hello16 ;;
protected | paged32) guest=hello32 ;;
long) guest=hello64 ;;
*) echo "unknown mode $mode" >&2; exit 2 ;;
esac

vm=$(cat "$MNT/vms/new")
trap 'rmdir "$MNT/vms/$vm"' EXIT
cd "$MNT/vms/$vm"
echo 'mem 2M' >ctl
if ! echo "mode $mode" >ctl; then
	echo "mode $mode refused: $(awk '$1 == "error" { $1 = ""; print }' status)" >&2
	exit 3
fi
cat "$GUESTS/$guest.bin" >memory
answer=$(cat run)
echo "run: $answer"
echo "console: $(cat console)"
value=$(od -An -tu4 -j 0x400 -N 4 memory | tr -d ' ')
echo "value at 0x400: $value"
[[ $answer == hlt* ]] && [ "$value" = 42 ]
