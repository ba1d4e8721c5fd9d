# What shell users do by habit, from their side: writers that send one
# line per write(2), a line split across writes, the error line after a
# success, dd without conv=notrunc, tools that read every file they find
# (grep -r, tar, find), cmp -s trusting sizes, and the examples run from
# inside the mount.
. "$(dirname "$0")/lib.bash"
W="python3 $(dirname "$0")/writes.py"
mount_kvmfs
V=$MNT/vms
mkdir "$V/a"
echo 'mem 64K' >"$V/a/ctl"
echo 'mode real' >"$V/a/ctl"

# --- one write(2), one transaction, at any offset -------------------------
printf 'rip 0x10\nrax 1\n' >"$V/a/regs"
expect_eq "printf of two lines: rip" "$(field "$V/a/regs" rip)" 0x0000000000000010
expect_eq "printf of two lines: rax" "$(field "$V/a/regs" rax)" 0x0000000000000001
echo -e 'rbx 2\nrcx 3' >"$V/a/regs"
expect_eq "echo -e of two lines" "$(field "$V/a/regs" rbx) $(field "$V/a/regs" rcx)" \
	"0x0000000000000002 0x0000000000000003"
var=$'rdx 4\nrsi 5'
echo "$var" >"$V/a/regs"
expect_eq "echo \"\$var\"" "$(field "$V/a/regs" rdx) $(field "$V/a/regs" rsi)" \
	"0x0000000000000004 0x0000000000000005"
check "two os.write calls on one descriptor" python3 -c "
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
os.write(fd, b'rdi 6\n'); os.write(fd, b'rbp 7\n'); os.close(fd)" "$V/a/regs"
expect_eq "both taken" "$(field "$V/a/regs" rdi) $(field "$V/a/regs" rbp)" \
	"0x0000000000000006 0x0000000000000007"
expect_eq "a write at offset 9 is taken like one at 0" "$($W "$V/a/regs" 9 'r8 8\n')" ok
expect_eq "r8" "$(field "$V/a/regs" r8)" 0x0000000000000008
expect_eq "a line split across writes is joined" "$($W "$V/a/regs" 0 'r9 9\nr10 0x' 'a\nr11 11\n')" ok
expect_eq "r9 r10 r11" "$(field "$V/a/regs" r9) $(field "$V/a/regs" r10) $(field "$V/a/regs" r11)" \
	"0x0000000000000009 0x000000000000000a 0x000000000000000b"
expect_eq "a split line finished by the last close" "$($W "$V/a/regs" 0 'r12 12\nr13 0x' 'd')" ok
expect_eq "r13" "$(field "$V/a/regs" r13)" 0x000000000000000d
before=$(cat "$V/a/regs")
expect_eq "one write of many lines is all or nothing" "$($W "$V/a/regs" 0 'r14 14\nbogus 1\nr15 15\n')" EINVAL
expect_eq "nothing of it applied" "$(cat "$V/a/regs")" "$before"
expect_match "the error line names the file and the line" "$(field "$V/a/status" error)" "^regs: line 2: unknown register 'bogus'"
# guests/README.md's count guest, set up with a two-line printf.
echo 'mode real' >"$V/a/ctl"
load_guest a count
printf 'rcx 3\nrax 0x2e\n' >"$V/a/regs"
expect_match "count guest runs to hlt" "$(cat "$V/a/run")" "^hlt "
expect_eq "it printed rcx times rax's low byte" "$(cat "$V/a/console")" "..."

# --- the error line belongs to the latest write ----------------------------
expect_fail "a bad size is refused" "Invalid argument" bash -c "echo 'mem 2MB' > '$V/a/ctl'"
expect_match "error says why" "$(field "$V/a/status" error)" "bad size '2MB'"
echo 'mem 128K' >"$V/a/ctl"
expect_eq "after a good write: error none" "$(field "$V/a/status" error)" none
expect_fail "regs while running is refused" "Device or resource busy" bash -c "
	echo 'mode real' > '$V/a/ctl' && cat '$GUESTS/spin.bin' > '$V/a/memory' && echo run > '$V/a/ctl' && echo 'rax 1' > '$V/a/regs'"
echo stop >"$V/a/ctl"
echo reset >"$V/a/ctl"
expect_eq "after stop and reset: error none" "$(field "$V/a/status" error)" none

# --- dd without conv=notrunc keeps guest memory -----------------------------
mkdir "$V/d"
echo 'mem 64K' >"$V/d/ctl"
printf 'keep' >"$V/d/memory"
out=$(printf AB | dd of="$V/d/memory" bs=4096 seek=4 status=none 2>&1)
expect_match "dd seek= without notrunc fails at the truncate" "$out" "failed to truncate.*Operation not permitted"
expect_eq "memory keeps its size" "$(stat -c %s "$V/d/memory")" 65536
expect_eq "and its bytes" "$(head -c 4 "$V/d/memory")" keep
expect_match "the error line says to use conv=notrunc" "$(field "$V/d/status" error)" "only 'mem SIZE' in ctl shrinks it \(with dd, add conv=notrunc\)"
printf AB | dd of="$V/d/memory" bs=4096 seek=4 conv=notrunc status=none
expect_eq "with conv=notrunc the bytes land" "$(dd if="$V/d/memory" bs=1 skip=16384 count=2 status=none)" AB
check "truncate that grows still works" truncate -s 128K "$V/d/memory"
expect_eq "grown" "$(stat -c %s "$V/d/memory")" 131072

# --- st_size of a text file is what a read returns ---------------------------
cat "$V/a/regs" >"$WORK/regs.saved"
check "cmp -s of a saved regs and regs says same" cmp -s "$WORK/regs.saved" "$V/a/regs"
echo 'rax 0x99' >"$V/a/regs"
expect_fail "cmp -s after a change says different" "" cmp -s "$WORK/regs.saved" "$V/a/regs"
for f in ctl status regs sregs; do
	expect_eq "st_size of $f is its length" "$(stat -c %s "$V/a/$f")" "$(wc -c <"$V/a/$f")"
done
expect_eq "st_size of version" "$(stat -c %s "$MNT/version")" "$(wc -c <"$MNT/version")"
mkdir "$V/fresh"
expect_eq "a fresh VM's regs: size 0" "$(stat -c %s "$V/fresh/regs")" 0
ls -l "$V/fresh" >/dev/null
expect_eq "stat and ls -l made no vCPU" "$(field "$V/fresh/status" vcpus)" 0
rmdir "$V/fresh"

# --- tools that read every file they find ----------------------------------
runs() { field "$V/a/status" runs; }
runs0=$(runs)
nvms=$(ls "$V" | wc -l)
expect_eq "ls vms lists the VMs only" "$(ls "$V" | tr '\n' ' ')" "a d "
check "vms/new is there by name" test -e "$V/new"
check "run is there by name" test -e "$V/a/run"
timeout $((20 * $(time_factor))) grep -r '^state' "$MNT" >"$WORK/grep.out" 2>&1
expect_eq "grep -r finds each VM's state" "$(grep -c ':state ' "$WORK/grep.out")" 2
timeout $((20 * $(time_factor))) tar cf "$WORK/mnt.tar" -C "$MNT" . 2>"$WORK/tar.err"
check "tar c read the tree" test -s "$WORK/mnt.tar"
timeout $((20 * $(time_factor))) find "$MNT" -type f -exec cat {} + >/dev/null 2>&1
expect_eq "no VM was made by grep -r, tar or find" "$(ls "$V" | wc -l)" "$nvms"
expect_eq "no guest was run by them" "$(runs)" "$runs0"

# --- cp -r: a clone into a VM that exists; a new directory fails cleanly --
mkdir "$V/src"
echo 'mem 64K' >"$V/src/ctl"
echo 'mode real' >"$V/src/ctl"
load_guest src hello16
for i in $(seq 12); do echo step >"$V/src/ctl"; cat "$V/src/run" >/dev/null; done
expect_eq "twelve steps printed H" "$(cat "$V/src/console")" H
mkdir "$V/clone"
cp -r "$V/src/." "$V/clone/" 2>"$WORK/cp.err"
expect_eq "cp -r SRC/. DST/ refuses only the read-only files" \
	"$(sed 's/.*clone\/\.\///' "$WORK/cp.err" | sort | tr '\n' ' ')" \
	"console': Permission denied status': Permission denied "
check "the clone has the source's regs" cmp "$V/src/regs" "$V/clone/regs"
check "and its sregs" cmp "$V/src/sregs" "$V/clone/sregs"
check "and its memory" cmp "$V/src/memory" "$V/clone/memory"
expect_match "the clone finishes the guest" "$(cat "$V/clone/run")" "^hlt "
expect_eq "its console has the rest of the greeting" "$(cat "$V/clone/console")" "ello, world!"
expect_eq "cp -r ran no guest of the source" "$(field "$V/src/status" runs)" 12
expect_fail "cp -r SRC NEW fails" "File exists" cp -r "$V/src" "$V/new2"
expect_eq "leaving NEW an empty VM" "$(field "$V/new2/status" memory) $(field "$V/new2/status" vcpus)" "0 0"
expect_eq "and the source as it was" "$(field "$V/src/status" runs) $(cat "$V/src/console")" "12 H"
rmdir "$V/src" "$V/clone" "$V/new2"

# --- messages that say what to do -------------------------------------------
mkdir "$V/m"
echo 'mem 64K' >"$V/m/ctl"
expect_fail "a run without a mode is refused" "Invalid argument" cat "$V/m/run"
expect_match "it names the reset vector and the fix" "$(field "$V/m/status" error)" \
	"reset vector 0xfffffff0 .*outside memory.*echo 'mode real' > ctl"
expect_eq "nothing ran" "$(field "$V/m/status" runs)" 0
mkdir "$V/n"
expect_fail "loading before mem" "No space left on device" bash -c "cat '$GUESTS/hello16.bin' > '$V/n/memory'"
expect_match "says there is no memory yet" "$(field "$V/n/status" error)" "no memory yet \(echo 'mem SIZE' > ctl first\)"
echo 'mode real' >"$V/m/ctl"
before=$(cat "$V/m/sregs")
expect_fail "efer 0x500 in real mode" "Invalid argument" bash -c "echo 'efer 0x500' > '$V/m/sregs'"
expect_match "names the long mode rule" "$(field "$V/m/status" error)" "^sregs: efer bit 10 \(LMA\) says long mode is active, which needs"
expect_fail "cs.l 1 outside long mode" "Invalid argument" bash -c "echo 'cs.l 1' > '$V/m/sregs'"
expect_match "names the rule" "$(field "$V/m/status" error)" "cs.l 1 \(64-bit code\) needs long mode"
if echo 'cr4 0x1000000' >"$V/m/sregs" 2>/dev/null; then
	pass "this KVM takes cr4 bit 24 (PKS)"
	echo 'cr4 0' >"$V/m/sregs"
else
	expect_match "cr4 0x1000000: names what KVM refused" "$(field "$V/m/status" error)" \
		"KVM refused the state .*: it does not support cr4 0x0 -> 0x1000000"
fi
expect_eq "sregs unchanged by the refusals" "$(cat "$V/m/sregs")" "$before"
expect_fail "rip in sregs" "Invalid argument" bash -c "echo 'rip 1' > '$V/m/sregs'"
expect_eq "says rip is in regs" "$(field "$V/m/status" error)" "sregs: line 1: rip is in regs (echo 'rip VALUE' > regs)"
expect_fail "rip=0x10" "Invalid argument" bash -c "echo 'rip=0x10' > '$V/m/regs'"
expect_match "explains NAME VALUE" "$(field "$V/m/status" error)" "^regs: line 1: 'rip=0x10': write 'NAME VALUE', with a space"
echo 'mode Long' >"$V/m/ctl"
echo 'MEM 128k' >"$V/m/ctl"
expect_eq "mode Long and MEM 128k are taken like mode long and mem 128K" \
	"$(grep -E '^(mem|mode)' "$V/m/ctl" | tr '\n' ' ')" "mem 0x20000 mode long "
rmdir "$V/m" "$V/n"

# --- the examples from inside the mount, with GUESTS ------------------------
out=$(cd "$MNT" && env -u KVMFS_MNT -u KVMFS_GUESTS GUESTS="$GUESTS" bash "$SRCDIR/examples/hello.sh" long 2>&1)
expect_match "examples/hello.sh long from inside the mount" "$out" "Hello, world!"
expect_eq "it left no VM behind" "$(ls "$V" | wc -l)" "$nvms"

rmdir "$V/a" "$V/d"
check "server exits 0" unmount_kvmfs
finish
