# The full-KVM lane's own test: 32-bit paging, which the development host's
# KVM refuses (docs/testing.md).  hello32 runs unchanged under `mode paged32` (one
# page directory of 4 MiB pages), prints "Hello, world!" and leaves 42 at
# GPA 0x400; KVM_TRANSLATE and kvmfs's own page walk agree on every address
# tried.  On a host that refuses 32-bit paging this skips with the reason
# kvmfs reported, except in the full-KVM lane (KVMFS_FULLKVM=1), where a
# refusal is a failure.  Run it there: tests/fullkvm/run.sh --test paged32
. "$(dirname "$0")/../integration/lib.bash"
mount_kvmfs
V=$MNT/vms

new_vm p 2M
load_guest p hello32
if ! out=$(echo 'mode paged32' 2>&1 >"$V/p/ctl"); then
	reason=$(field "$V/p/status" error)
	if [[ $out == *"not supported"* ]] && [ "${KVMFS_FULLKVM:-}" != 1 ]; then
		skip "this KVM refuses 32-bit paging: $reason"
	fi
	fail "mode paged32 refused: $out; error: $reason"
	finish
	exit 1
fi
pass "mode paged32 accepted"

# The mode stuck: paging on, PSE for the 4 MiB pages, no long mode.
cr0=$(field "$V/p/sregs" cr0)
cr4=$(field "$V/p/sregs" cr4)
efer=$(field "$V/p/sregs" efer)
cr3=$(field "$V/p/sregs" cr3)
check "cr0 has PG and PE ($cr0)" test $((cr0 & 0x80000001)) -eq $((0x80000001))
check "cr4 has PSE, not PAE ($cr4)" test $((cr4 & 0x30)) -eq $((0x10))
check "efer has no LME/LMA ($efer)" test $((efer & 0x500)) -eq 0
expect_eq "cr3 is the page directory at the top of memory" "$cr3" 0x00000000001ff000
expect_eq "page directory entry 0 maps 0-4 MiB (P RW US PS)" \
	"$(xxd -p -s 0x1ff000 -l 8 "$V/p/memory")" 8700000000000000

# The guest itself.
expect_eq "run halts where hello32 halts" "$(cat "$V/p/run")" "hlt rip=0x000000000000002a"
expect_eq "console says hello" "$(cat "$V/p/console")" "Hello, world!"
expect_eq "42 at 0x400" "$(xxd -p -s 0x400 -l 4 "$V/p/memory")" 2a000000
expect_eq "rax is 42" "$(field "$V/p/regs" rax)" 0x000000000000002a
expect_eq "state halted" "$(field "$V/p/status" state)" halted
cr0_after=$(field "$V/p/sregs" cr0)
check "paging still on after the run ($cr0_after)" test $((cr0_after & 0x80000000)) -ne 0

# translate: KVM_TRANSLATE and the walk must agree on every address (kvmfs
# marks a disagreement with "mismatch" or a failed ioctl with "kvm-error").
# linear -> what the walk must say.
declare -A want=(
	[0x0]="0x0000000000000000 valid=1 size=4M writable=1 user=1 nx=0"
	[0x400]="0x0000000000000400 valid=1 size=4M writable=1 user=1 nx=0"
	[0x2a]="0x000000000000002a valid=1 size=4M writable=1 user=1 nx=0"
	[0x1ff123]="0x00000000001ff123 valid=1 size=4M writable=1 user=1 nx=0"
	[0x200000]="0x0000000000200000 valid=1 size=4M writable=1 user=1 nx=0"
	[0x3fffff]="0x00000000003fffff valid=1 size=4M writable=1 user=1 nx=0"
	[0x400000]="invalid valid=0 reason=not-present level=2"
	[0x7fffff]="invalid valid=0 reason=not-present level=2"
	[0xc0000000]="invalid valid=0 reason=not-present level=2"
	[0xfffff000]="invalid valid=0 reason=not-present level=2"
)
addrs=(0x0 0x400 0x2a 0x1ff123 0x200000 0x3fffff 0x400000 0x7fffff 0xc0000000 0xfffff000)
printf '%s\n' "${addrs[@]}" >"$WORK/addrs"
check "write the addresses to translate" bash -c "cat '$WORK/addrs' > '$V/p/translate'"
cat "$V/p/translate" >"$WORK/tr"
expect_eq "one line per address" "$(wc -l <"$WORK/tr")" "${#addrs[@]}"
i=0
while read -r line; do
	a=${addrs[$i]}
	expect_eq "translate $a" "$line" "$(printf '0x%016x' "$a") -> ${want[$a]}"
	case $line in
	*mismatch*|*kvm-error*) fail "KVM_TRANSLATE and the walk disagree on $a: $line" ;;
	*) pass "KVM_TRANSLATE and the walk agree on $a" ;;
	esac
	i=$((i + 1))
done <"$WORK/tr"

# More memory: a second page directory entry, and the same guest again.
new_vm q 8M
load_guest q hello32
check "mode paged32 with 8 MiB" bash -c "echo 'mode paged32' > '$V/q/ctl'"
expect_eq "two 4 MiB pages mapped" "$(xxd -p -s 0x7ff000 -l 8 "$V/q/memory")" 8700000087004000
expect_eq "hello32 again" "$(cat "$V/q/run")" "hlt rip=0x000000000000002a"
expect_eq "console again" "$(cat "$V/q/console")" "Hello, world!"
printf '0x400000\n0x7ff010\n0x800000\n' >"$WORK/addrs2"
check "translate in the second 4 MiB page" bash -c "cat '$WORK/addrs2' > '$V/q/translate'"
expect_eq "translate of the 8 MiB VM" "$(cat "$V/q/translate")" \
	"0x0000000000400000 -> 0x0000000000400000 valid=1 size=4M writable=1 user=1 nx=0
0x00000000007ff010 -> 0x00000000007ff010 valid=1 size=4M writable=1 user=1 nx=0
0x0000000000800000 -> invalid valid=0 reason=not-present level=2"

check "rmdir both" rmdir "$V/p" "$V/q"
check "fusermount3 -u; server exits 0" unmount_kvmfs
finish
