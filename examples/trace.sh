#!/bin/bash
# trace.sh [GUEST] [MODE] [STEPS]: single-step a guest and print each
# rip with the run answer, like a tiny instruction tracer.
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
done
