# ctl mode in each CPU mode with the hello guests, the way
# kvm-hello-world runs them; translate in each unpaged mode; refusals.
. "$(dirname "$0")/lib.bash"
mount_kvmfs
V=$MNT/vms

for pair in real:hello16 protected:hello32 long:hello64; do
	mode=${pair%%:*} guest=${pair#*:}
	new_vm "$mode" 2M "$mode"
	expect_eq "$mode: ctl prints the mode" "$(grep '^mode' "$V/$mode/ctl")" "mode $mode"
	expect_eq "$mode: rflags" "$(field "$V/$mode/regs" rflags)" 0x0000000000000002
	expect_eq "$mode: rip at entry 0" "$(field "$V/$mode/regs" rip)" 0x0000000000000000
	load_guest "$mode" "$guest"
	expect_match "$mode: run answers hlt" "$(cat "$V/$mode/run")" "^hlt rip="
	expect_eq "$mode: console" "$(cat "$V/$mode/console")" "Hello, world!"
	expect_eq "$mode: 42 at 0x400" "$(xxd -p -s 0x400 -l 4 "$V/$mode/memory")" 2a000000
	expect_eq "$mode: 42 in eax" "$(field "$V/$mode/regs" rax)" 0x000000000000002a
	# kvm-hello-world's exit sequence: 14 port writes, then hlt.
	expect_eq "$mode: 14 console exits" "$(field "$V/$mode/status" console_exits)" 14
	expect_eq "$mode: one hlt" "$(field "$V/$mode/status" exits_hlt)" 1
done

# What each mode puts in the registers.
expect_eq "real: cs.selector" "$(field "$V/real/sregs" cs.selector)" 0x0000
expect_eq "protected: CR0.PE" $(( $(field "$V/protected/sregs" cr0) & 1 )) 1
expect_eq "protected: cs.db" "$(field "$V/protected/sregs" cs.db)" 1
expect_eq "protected: cs.g" "$(field "$V/protected/sregs" cs.g)" 1
expect_eq "long: cs.l" "$(field "$V/long/sregs" cs.l)" 1
expect_eq "long: EFER.LME|LMA" $(( $(field "$V/long/sregs" efer) & 0x500 )) $((0x500))
expect_eq "long: CR4.PAE" $(( $(field "$V/long/sregs" cr4) & 0x20 )) 32
pt=$(field "$V/long/sregs" cr3)
expect_eq "long: page tables at the top of memory" "$pt" 0x00000000001fd000
expect_eq "long: translate through them" "$(echo 0x1234 >"$V/long/translate"; cat "$V/long/translate")" \
	"0x0000000000001234 -> 0x0000000000001234 valid=1 size=2M writable=1 user=1 nx=0"
for mode in real protected; do
	echo "0x1000 0x1fffff" >"$V/$mode/translate"
	expect_eq "$mode: translate is the identity" "$(cat "$V/$mode/translate")" \
"0x0000000000001000 -> 0x0000000000001000 valid=1 size=none writable=1 user=1 nx=0
0x00000000001fffff -> 0x00000000001fffff valid=1 size=none writable=1 user=1 nx=0"
done

# pt= and entry= move the tables and the start.
new_vm moved 4M
check "mode long pt= entry=" bash -c "echo 'mode long pt=0x100000 entry=0x2000' > '$V/moved/ctl'"
expect_eq "cr3 at pt=" "$(field "$V/moved/sregs" cr3)" 0x0000000000100000
expect_eq "rip at entry=" "$(field "$V/moved/regs" rip)" 0x0000000000002000
expect_eq "rsp below the tables" "$(field "$V/moved/regs" rsp)" 0x0000000000100000
expect_eq "ctl prints pt and entry" "$(grep '^mode' "$V/moved/ctl")" "mode long pt=0x100000 entry=0x2000"

# Refusals change nothing.
new_vm tiny 8K
before=$(cat "$V/tiny/sregs")
expect_fail "long mode in 8 KiB" "Invalid argument" bash -c "echo 'mode long' > '$V/tiny/ctl'"
expect_match "error says memory is too small" "$(field "$V/tiny/status" error)" "too small"
expect_eq "sregs unchanged" "$(cat "$V/tiny/sregs")" "$before"
expect_fail "misaligned pt" "Invalid argument" bash -c "echo 'mode long pt=0x100001' > '$V/moved/ctl'"
expect_fail "pt outside memory" "Invalid argument" bash -c "echo 'mode long pt=0x400000' > '$V/moved/ctl'"
expect_fail "unknown mode" "Invalid argument" bash -c "echo 'mode turbo' > '$V/moved/ctl'"
expect_fail "entry outside memory" "Invalid argument" bash -c "echo 'mode real entry=0x400000' > '$V/moved/ctl'"
expect_eq "moved VM kept its mode" "$(field "$V/moved/sregs" cr3)" 0x0000000000100000
new_vm nomem 4K
check "mode real fits in 4 KiB" bash -c "echo 'mode real' > '$V/nomem/ctl'"

# Illegal CPU state KVM refuses leaves the VM usable.
new_vm bad 2M real
load_guest bad hello16
before=$(cat "$V/bad/sregs")
printf 'cr0 0x80000011\ncr4 0\nefer 0x500\n' >"$WORK/lma-no-pae"
expect_fail "long mode without CR4.PAE refused" "Invalid argument" bash -c "cat '$WORK/lma-no-pae' > '$V/bad/sregs'"
expect_eq "sregs as before" "$(cat "$V/bad/sregs")" "$before"
expect_fail "CR0.PG without PE refused" "" bash -c "echo 'cr0 0x80000000' > '$V/bad/sregs'"
expect_match "error line says why" "$(field "$V/bad/status" error)" "KVM refused|refuses 32-bit paging|needs protected mode"
expect_eq "sregs as before" "$(cat "$V/bad/sregs")" "$before"
expect_match "VM still runs" "$(cat "$V/bad/run")" "^hlt"

check "server exits 0" unmount_kvmfs
finish
