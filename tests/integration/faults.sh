# Faults.  Guest faults become run answers and states; the
# server survives kill -9 of itself cleanly for its clients, exits 0
# within 2 s on SIGTERM or unmount while vCPUs are in KVM_RUN; races
# between run, rmdir, reset and interrupts give one answer each.
. "$(dirname "$0")/lib.bash"
mount_kvmfs
V=$MNT/vms

# --- exit reasons as answers and states
new_vm ie 64K real
printf '\x0f\x0b' >"$V/ie/memory"	# ud2 with no IDT
a=$(timeout 10 cat "$V/ie/run")
case $a in
internal_error*)
	pass "internal error answered: $a"
	expect_eq "state failed" "$(field "$V/ie/status" state)" failed
	expect_eq "counted" "$(field "$V/ie/status" exits_internal_error)" 1 ;;
shutdown*)
	pass "this host turns the fault into a shutdown: $a"
	expect_eq "state shutdown" "$(field "$V/ie/status" state)" shutdown ;;
*) fail "ud2 without IDT answered '$a'" ;;
esac

# An invalid guest state KVM accepts but cannot enter: fail_entry where
# the host has it; this paravirtualised host reports a shutdown instead.
new_vm fe 64K protected
printf '\xf4' >"$V/fe/memory"
echo 'ss.dpl 3' >"$V/fe/sregs"
a=$(timeout 10 cat "$V/fe/run")
case $a in
fail_entry*) pass "fail_entry answered: $a"
	expect_eq "state failed" "$(field "$V/fe/status" state)" failed ;;
shutdown*) pass "host reports the bad state as: $a"
	expect_eq "state shutdown" "$(field "$V/fe/status" state)" shutdown ;;
hlt*) pass "host entered the state anyway: $a" ;;
*) fail "invalid state answered '$a'" ;;
esac
expect_eq "the server still answers" "$(cat "$MNT/version")" 12

new_vm mm 2M protected
load_guest mm mmio
expect_match "mmio write" "$(cat "$V/mm/run")" "^mmio write addr=0x00000000d0000000 len=4 data=0x12345678 "
expect_match "mmio read" "$(cat "$V/mm/run")" "^mmio read addr=0x00000000d0000004 len=4 "
expect_match "then hlt" "$(cat "$V/mm/run")" "^hlt"
expect_eq "unhandled MMIO reads zeros" "$(field "$V/mm/regs" rax)" 0x0000000000000000
expect_eq "mmio exits counted" "$(field "$V/mm/status" exits_mmio)" 2

# Running again after a shutdown is allowed and answers again.
new_vm tf 64K real
load_guest tf fault
expect_match "triple fault" "$(cat "$V/tf/run")" "^shutdown"
# On AMD, KVM INITs the vCPU on a shutdown (the VMCB is undefined after
# one): it restarts at the reset vector, where this guest has no memory,
# and may run until the timeout.
echo "timeout $((2000 * $(time_factor)))" >"$V/tf/ctl"
# There a run is refused: the first instruction would be fetched from
# outside memory.
if a=$(timeout $((5 * $(time_factor))) cat "$V/tf/run" 2>&1); then
	expect_match "run after shutdown answers" "$a" "^(shutdown|internal_error|hlt|io|mmio|timeout)"
else
	expect_match "run after shutdown at the reset vector is refused" "$(field "$V/tf/status" error)" "^run: the vCPU is at the reset vector"
fi
echo 'timeout 0' >"$V/tf/ctl"
check "reset after shutdown" bash -c "echo reset > '$V/tf/ctl'"
expect_eq "state ready after reset" "$(field "$V/tf/status" state)" ready

# --- races
new_vm r 64K real
load_guest r spin
# rmdir while another process reads run: the reader gets an error.
cat "$V/r/run" >"$WORK/out" 2>"$WORK/err" &
reader=$!
sleep 0.2
check "rmdir while a reader waits on run" rmdir "$V/r"
if wait "$reader"; then fail "reader of a removed VM succeeded: $(cat "$WORK/out")"; else pass "reader got: $(cat "$WORK/err")"; fi

# Two readers of one run share the answer.
new_vm two 64K real
load_guest two spin
cat "$V/two/run" >"$WORK/r1" &
p1=$!
cat "$V/two/run" >"$WORK/r2" &
p2=$!
sleep 0.3
echo stop >"$V/two/ctl"
wait "$p1" "$p2"
expect_match "first reader answered" "$(cat "$WORK/r1")" "^stopped"
expect_eq "second reader got the same answer" "$(cat "$WORK/r2")" "$(cat "$WORK/r1")"

# reset during a run stops it, then resets.
cat "$V/two/run" >"$WORK/r3" &
p3=$!
sleep 0.2
check "reset during a run" bash -c "echo reset > '$V/two/ctl'"
wait "$p3"
expect_match "the run was stopped" "$(cat "$WORK/r3")" "^stopped"
expect_eq "state ready" "$(field "$V/two/status" state)" ready

# Interrupts that land just as the guest halts: one answer each time.
new_vm h 2M real
load_guest h hello16
bad=0
for i in $(seq 100); do
	echo 'mode real' >"$V/h/ctl"
	out=$(timeout -s INT 0.00$((i % 9 + 1)) cat "$V/h/run" 2>/dev/null)
	lines=$(printf '%s' "$out" | grep -c .)
	[ "$lines" -le 1 ] || { bad=$((bad + 1)); echo "two answers: $out"; }
	[[ -z $out || $out == hlt* || $out == interrupted* ]] || { bad=$((bad + 1)); echo "odd answer: $out"; }
done
expect_eq "one answer per run, never two" "$bad" 0
expect_match "the VM is fine afterwards" "$(echo 'mode real' >"$V/h/ctl"; cat "$V/h/run")" "^hlt"

# --- load: 1000 VMs each run to hlt once; 16 spinning while others
# come and go.
cp "$GUESTS/hello16.bin" "$WORK/g"
n=$(load_count 1000)
for i in $(seq "$n"); do
	d=$V/once$i
	mkdir "$d" && echo 'mem 64K' >"$d/ctl" && echo 'mode real' >"$d/ctl" &&
		cat "$WORK/g" >"$d/memory" && read -r a <"$d/run" && [[ $a == hlt* ]] &&
		rmdir "$d" || { fail "VM once$i: $a"; break; }
done
pass "$n VMs ran to hlt and were removed"
for i in $(seq 16); do
	new_vm sp$i 64K real && load_guest sp$i spin && echo run >"$V/sp$i/ctl"
done
for i in $(seq "$(load_count 200)"); do
	mkdir "$V/churn$i" && echo 'mem 64K' >"$V/churn$i/ctl" && rmdir "$V/churn$i" || fail "churn $i"
done
running=0
for i in $(seq 16); do [ "$(field "$V/sp$i/status" state)" = running ] && running=$((running + 1)); done
expect_eq "16 VMs still running after the churn" "$running" 16

# --- unmount while vCPUs are in KVM_RUN: exit 0 within 2 s.
start=$(date +%s%N)
check "fusermount3 -u with 16 running vCPUs; server exits 0" unmount_kvmfs
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ "$ms" -lt $((2000 * $(time_factor))) ]; then pass "server gone in $ms ms"; else fail "server took $ms ms"; fi

# --- SIGTERM while vCPUs run: the same.
mount_kvmfs
V=$MNT/vms
for i in 1 2 3 4; do new_vm s$i 64K real && load_guest s$i spin && echo run >"$V/s$i/ctl"; done
cat "$V/s1/run" >/dev/null 2>&1 &
# A directory and a file still open when the server is told to go: it
# never sees their release, and must free them itself (a leak is a
# non-zero exit under the sanitizers).
exec 8<"$V" 9<"$V/s2/status"
start=$(date +%s%N)
kill -TERM "$KVMFS_PID"
st=0
wait "$KVMFS_PID" || st=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
KVMFS_PID=
expect_eq "SIGTERM: exit status 0" "$st" 0
if [ "$ms" -lt $((2000 * $(time_factor))) ]; then pass "SIGTERM: gone in $ms ms"; else fail "SIGTERM took $ms ms"; fi
if mountpoint -q "$MNT"; then fail "still mounted after SIGTERM"; else pass "unmounted after SIGTERM"; fi
exec 8<&- 9<&-
wait

# --- kill -9: clients get an error, not a hang; the mount point can be
# cleaned and reused.
mkdir -p "$WORK/m2"
MNT=$WORK/m2
"$KVMFS" -f "$MNT" 2>/dev/null &
KVMFS_PID=$!
for _ in $(seq 100); do mountpoint -q "$MNT" && break; sleep 0.05; done
V=$MNT/vms
new_vm k 64K real && load_guest k spin
timeout 10 cat "$V/k/run" >"$WORK/k.out" 2>"$WORK/k.err" &
reader=$!
sleep 0.3
kill -9 "$KVMFS_PID"
wait "$KVMFS_PID" 2>/dev/null
KVMFS_PID=
st=0
wait "$reader" || st=$?
if [ "$st" = 124 ]; then fail "reader hung after kill -9"; else pass "reader got an error: $(cat "$WORK/k.err")"; fi
expect_fail "new clients get an error" "not connected" ls "$MNT/vms"
check "fusermount3 -u cleans the dead mount" fusermount3 -u "$MNT"
"$KVMFS" -f "$MNT" 2>/dev/null &
KVMFS_PID=$!
for _ in $(seq 100); do mountpoint -q "$MNT" && break; sleep 0.05; done
expect_eq "a new kvmfs mounts there" "$(cat "$MNT/version")" 12
check "and exits 0" unmount_kvmfs

# With -o auto_unmount the mount goes away with the server.
"$KVMFS" -f -o auto_unmount "$MNT" 2>/dev/null &
KVMFS_PID=$!
for _ in $(seq 100); do mountpoint -q "$MNT" && break; sleep 0.05; done
kill -9 "$KVMFS_PID"
wait "$KVMFS_PID" 2>/dev/null
KVMFS_PID=
for _ in $(seq 40); do mountpoint -q "$MNT" || break; sleep 0.05; done
if mountpoint -q "$MNT"; then fail "auto_unmount left the mount"; fusermount3 -u "$MNT"; else pass "auto_unmount removed the mount"; fi

finish
