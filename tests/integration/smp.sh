# Several vCPUs (ctl cpus N, vms/NAME/cpus/N/, docs/reference.md): the
# smp guest's BSP starts three APs with INIT-SIPI-SIPI through KVM's
# local APICs, every AP's ID arrives in memory and on the console, and
# each cpus/N shows its vCPU halted where the guest halts it; the VM-level
# files stay vCPU 0's; cpus N refuses what it must; one vCPU's triple
# fault leaves another running; a copy clones every vCPU; rmdir takes a
# VM whose four vCPUs run.
. "$(dirname "$0")/lib.bash"
mount_kvmfs
V=$MNT/vms
tf=$(time_factor)

# wait_console VM TEXT SECONDS
wait_console() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qF -- "$2" "$V/$1/console" && return 0
		sleep 0.1
	done
	return 1
}

mkdir "$V/s"
expect_eq "a VM has one vCPU directory" "$(ls "$V/s/cpus" | tr '\n' ' ')" "0 "
check "which is not listed while it is the only one" bash -c "! ls '$V/s' | grep -qx cpus"
check "mem, irqchip and cpus 4" bash -c "printf 'mem 64K\nirqchip\ncpus 4\n' > '$V/s/ctl'"
expect_eq "cpus/ lists four" "$(ls "$V/s/cpus" | tr '\n' ' ')" "0 1 2 3 "
check "and is listed now" bash -c "ls '$V/s' | grep -qx cpus"
expect_eq "status counts them" "$(field "$V/s/status" vcpus)" 4
expect_eq "ctl prints cpus after irqchip" "$(grep -E '^(irqchip|cpus)' "$V/s/ctl" | tr '\n' ' ')" "irqchip cpus 4 "
expect_eq "cpus/2 has the per-vCPU files" "$(ls "$V/s/cpus/2" | tr '\n' ' ')" \
	"debugregs events lapic mpstate msrs regs sregs status translate xcrs xsave "
expect_eq "an AP waits for its SIPI" "$(field "$V/s/cpus/1/status" mpstate)" uninitialized
expect_eq "the BSP does not" "$(field "$V/s/cpus/0/status" mpstate)" runnable
expect_fail "cpus/4 does not exist" "No such file" ls "$V/s/cpus/4"
expect_fail "nor cpus/01" "No such file" ls "$V/s/cpus/01"
expect_fail "fewer vCPUs than exist" "Device or resource busy" bash -c "echo 'cpus 2' > '$V/s/ctl'"
expect_match "says why" "$(field "$V/s/status" error)" "the VM has 4 vCPUs already"
expect_fail "cpus 0" "Invalid argument" bash -c "echo 'cpus 0' > '$V/s/ctl'"
expect_fail "cpus 65" "Invalid argument" bash -c "echo 'cpus 65' > '$V/s/ctl'"
check "cpus 4 again changes nothing" bash -c "echo 'cpus 4' > '$V/s/ctl'"

load_guest s smp
printf '\003\000\000\000' | dd of="$V/s/memory" bs=1 seek=$((0x404)) conv=notrunc status=none
check "mode protected (vCPU 0)" bash -c "echo 'mode protected' > '$V/s/ctl'"
check "run starts every vCPU" bash -c "echo run > '$V/s/ctl'"
if check "the BSP saw its three APs" wait_console s "smp 3" $((5 * tf)); then
	ids=$(tr -cd '0-9' <"$V/s/console" | head -c 3 | fold -w1 | sort | tr -d '\n')
	expect_eq "each AP printed its APIC ID" "$ids" 123
	expect_eq "and stored it at 0x410 + ID" "$(xxd -p -s $((0x411)) -l 3 "$V/s/memory")" 010203
	expect_eq "three APs counted in at 0x400" "$(xxd -p -s $((0x400)) -l 4 "$V/s/memory")" 03000000
fi
for n in 0 1 2 3; do
	expect_eq "cpus/$n runs" "$(field "$V/s/cpus/$n/status" state)" running
done
check "reading cpus/2/regs while all run" grep -q '^rip ' "$V/s/cpus/2/regs"
check "stop stops every vCPU" bash -c "echo stop > '$V/s/ctl'"
for n in 1 2 3; do
	expect_eq "cpus/$n stopped" "$(field "$V/s/cpus/$n/status" state)" stopped
	expect_eq "cpus/$n halted after its hlt (ip 0x1f)" "$(field "$V/s/cpus/$n/regs" rip)" 0x000000000000001f
	expect_eq "cpus/$n runs its start code at 0x1000" "$(field "$V/s/cpus/$n/sregs" cs.base)" 0x0000000000001000
	expect_eq "cpus/$n is halted in KVM" "$(field "$V/s/cpus/$n/status" mpstate)" halted
done
expect_eq "the BSP halted after its hlt (0x67)" "$(field "$V/s/cpus/0/regs" rip)" 0x0000000000000067
check "vms/s/regs is cpus/0/regs" cmp "$V/s/regs" "$V/s/cpus/0/regs"

# reset puts the APs back into their wait for INIT-SIPI.
mkdir "$V/r"
check "a copy of ctl makes the same VM" bash -c "cp '$V/s/ctl' '$V/r/ctl'"
expect_eq "it has four vCPUs" "$(field "$V/r/status" vcpus)" 4

# A copy of every file, cpus/ included (ctl's cpus 4 makes cpus/N first).
mkdir "$V/c"
cp -r "$V/s/." "$V/c/" 2>/dev/null
expect_eq "the copy has four vCPUs" "$(ls "$V/c/cpus" | tr '\n' ' ')" "0 1 2 3 "
for n in 1 2 3; do
	check "the copy's cpus/$n/regs are the original's" cmp "$V/s/cpus/$n/regs" "$V/c/cpus/$n/regs"
	check "and its sregs" cmp "$V/s/cpus/$n/sregs" "$V/c/cpus/$n/sregs"
done
check "rmdir of the copy" rmdir "$V/c" "$V/r"
check "reset" bash -c "echo reset > '$V/s/ctl'"
expect_eq "puts cpus/3 back to wait for its SIPI" "$(field "$V/s/cpus/3/status" mpstate)" uninitialized
expect_eq "and its registers at the reset vector" "$(field "$V/s/cpus/3/regs" rip)" 0x000000000000fff0
printf '\000\000\000\000' | dd of="$V/s/memory" bs=1 seek=$((0x400)) conv=notrunc status=none
check "mode protected and run again" bash -c "printf 'mode protected\nrun\n' > '$V/s/ctl'"
again() { [ "$(grep -c 'smp 3' "$V/s/console")" = 2 ]; }
i=0
while ! again && [ $i -lt $((50 * tf)) ]; do sleep 0.1; i=$((i + 1)); done
check "the APs start again and all count in" again

# rmdir of a VM whose four vCPUs are running.
expect_fail "run when every vCPU runs" "Device or resource busy" bash -c "echo run > '$V/s/ctl'"
expect_match "says so" "$(field "$V/s/status" error)" "every vCPU is running"
check "rmdir of a VM with four running vCPUs" rmdir "$V/s"
check "the server lives" test -e "$MNT/version"

# No irqchip: every vCPU runs from where its registers say.  vCPU 1
# triple-faults, vCPU 0 goes on spinning.
mkdir "$V/t"
check "mem and cpus 2, no irqchip" bash -c "printf 'mem 64K\ncpus 2\nmode real\n' > '$V/t/ctl'"
load_guest t fault
dd if="$GUESTS/spin.bin" of="$V/t/memory" bs=4096 seek=1 conv=notrunc status=none
check "vCPU 0 spins at 0x1000" bash -c "printf 'cs.base 0x1000\ncs.selector 0x100\n' > '$V/t/cpus/0/sregs' && echo 'rip 0' > '$V/t/cpus/0/regs'"
check "vCPU 1 starts at 0" bash -c "printf 'cs.base 0\ncs.selector 0\n' > '$V/t/cpus/1/sregs' && echo 'rip 0' > '$V/t/cpus/1/regs'"
# exits: one loop can follow every vCPU's answers (a read at the end waits).
cat "$V/t/exits" >"$WORK/exits" &
catpid=$!
check "start vCPU 0 alone" bash -c "cat '$V/t/cpus/0/run' > '$WORK/run0' &"
sleep 0.5
expect_match "cpus/1/run answers a shutdown" "$(timeout $((5 * tf)) cat "$V/t/cpus/1/run")" "^shutdown"
expect_eq "cpus/1 is shut down" "$(field "$V/t/cpus/1/status" state)" shutdown
expect_eq "while cpus/0 still runs" "$(field "$V/t/cpus/0/status" state)" running
check "stop" bash -c "echo stop > '$V/t/ctl'"
sleep 0.5
expect_match "cpus/0/run answers stopped" "$(cat "$WORK/run0")" "^stopped"
expect_eq "exits has both answers as they came, vCPU 1's first" \
	"$(cut -d' ' -f1-3 "$WORK/exits" | tr '\n' ,)" "cpu 1 shutdown,cpu 0 stopped,"
check "its reader still waits for more" kill -0 "$catpid"
kill "$catpid"
wait "$catpid" 2>/dev/null
check "a reader waiting in exits is interrupted by a signal" bash -c "! kill -0 $catpid 2>/dev/null"
check "exits is not listed" bash -c "! ls '$V/t' | grep -qx exits"
timeout 10 cat "$V/t/exits" >"$WORK/exits2" &
catpid=$!
sleep 0.3
check "rmdir with a reader waiting in exits" rmdir "$V/t"
wait "$catpid"
expect_eq "which then gets an error, not a hang" "$?" 1

# Stopping one vCPU while another runs: its run read is interrupted.
mkdir "$V/p"
check "two spinning vCPUs" bash -c "printf 'mem 64K\ncpus 2\nmode real\n' > '$V/p/ctl' && cat '$GUESTS/spin.bin' > '$V/p/memory' && printf 'cs.base 0\ncs.selector 0\n' > '$V/p/cpus/1/sregs' && echo 'rip 0' > '$V/p/cpus/1/regs'"
cat "$V/p/cpus/0/run" >"$WORK/p0" &
p0=$!
timeout -s INT 1 cat "$V/p/cpus/1/run" >"$WORK/p1"
expect_match "an interrupted read of cpus/1/run stops vCPU 1" "$(field "$V/p/cpus/1/status" exit)" "^interrupted"
expect_eq "vCPU 0 runs on" "$(field "$V/p/cpus/0/status" state)" running
check "both counted: vCPU 1's ax moved" bash -c "! grep -q '^rax 0x0000000000000000$' '$V/p/cpus/1/regs'"
check "stop" bash -c "echo stop > '$V/p/ctl'"
wait "$p0"
expect_match "vCPU 0's reader gets its stop" "$(cat "$WORK/p0")" "^stopped"
check "rmdir" rmdir "$V/p"

# irqchip after cpus is refused, as after any vCPU.
mkdir "$V/u"
check "cpus 2 without irqchip" bash -c "echo 'cpus 2' > '$V/u/ctl'"
expect_fail "irqchip after cpus" "Device or resource busy" bash -c "echo irqchip > '$V/u/ctl'"
check "rmdir" rmdir "$V/u"
check "server exits 0" unmount_kvmfs
finish
