#!/bin/bash
# trace.sh [GUEST] [MODE] [STEPS]: single-step a guest and print each
# rip with the run answer, like a tiny instruction tracer.  It stops at
# a hlt: single-stepping over hlt gives a debug exit, not a hlt one, so
# it looks at the instruction byte through translate and memory.
set -euo pipefail
. "$(dirname "$0")/common.sh"
guest=${1:-hello16}
mode=${2:-real}
steps=${3:-20}
vm=$(cat "$MNT/vms/new")
trap 'rmdir "$MNT/vms/$vm"' EXIT
cd "$MNT/vms/$vm"
echo 'mem 2M' >ctl
echo "mode $mode" >ctl
cat "$GUESTS/$guest.bin" >memory
for i in $(seq "$steps"); do
	echo step >ctl
	answer=$(cat run)
	printf '%4d %s\n' "$i" "$answer"
	case $answer in debug*) ;; *) break ;; esac
	rip=$(awk '$1 == "rip" { print $2 }' regs)
	base=$(awk '$1 == "cs.base" { print $2 }' sregs)
	echo $((base + rip)) >translate
	phys=$(awk '{ print $3 }' translate)
	if [ "$(xxd -p -s "$phys" -l 1 memory)" = f4 ]; then
		printf '%4s next instruction is hlt at %s\n' "" "$rip"
		break
	fi
done
