# 32-bit paging.  A kvm-pvm host refuses it (docs/testing.md): then `mode
# paged32` must fail with EOPNOTSUPP and an error line that says so, and
# the test skips with that reason.  Where KVM supports it (the full-KVM
# lane sets KVMFS_FULLKVM=1, where a refusal is a failure), the paged
# hello guest runs.
. "$(dirname "$0")/lib.bash"
mount_kvmfs
V=$MNT/vms

new_vm p 8M
load_guest p hello32
before=$(cat "$V/p/sregs")
expect_match "host status says whether 32-bit paging works" "$(field "$MNT/status" paging32)" "^[01]$"
if ! out=$(echo 'mode paged32' 2>&1 >"$V/p/ctl"); then
	reason=$(field "$V/p/status" error)
	expect_match "refused with EOPNOTSUPP" "$out" "Operation not supported"
	expect_match "error line names the dropped bit" "$reason" "paged32.*(cr0|32-bit paging)"
	expect_eq "sregs unchanged by the refusal" "$(cat "$V/p/sregs")" "$before"
	expect_eq "host status agrees" "$(field "$MNT/status" paging32)" 0
	load_guest p hello32
	echo 'mode protected' >"$V/p/ctl"
	expect_match "the refusal left the vCPU fine" "$(cat "$V/p/run")" "^hlt"
	expect_eq "guest image not overwritten" "$(cmp -n "$(stat -c %s "$GUESTS/hello32.bin")" "$GUESTS/hello32.bin" "$V/p/memory" && echo same)" same
	if [ "${KVMFS_FULLKVM:-}" = 1 ] || [ "$T_FAILS" -ne 0 ]; then
		fail "paged32 refused where it must work: $reason"
		finish
		exit 1
	fi
	echo "$T_PASSES passed, $T_FAILS failed"
	skip "this KVM refuses 32-bit paging: $reason"
fi
expect_eq "cr0 has PG" $(( $(field "$V/p/sregs" cr0) >> 31 )) 1
expect_eq "cr4 has PSE" $(( $(field "$V/p/sregs" cr4) & 0x10 )) 16
expect_match "paged32 runs to hlt" "$(cat "$V/p/run")" "^hlt"
expect_eq "paged32 console" "$(cat "$V/p/console")" "Hello, world!"
expect_eq "paged32 42 at 0x400" "$(xxd -p -s 0x400 -l 4 "$V/p/memory")" 2a000000
# The page walk and KVM_TRANSLATE agree on 4 MiB pages.
echo "0x1234 0x400000 0x7fffff 0x800000" >"$V/p/translate"
expect_eq "translate 4 MiB pages" "$(cat "$V/p/translate")" \
"0x0000000000001234 -> 0x0000000000001234 valid=1 size=4M writable=1 user=1 nx=0
0x0000000000400000 -> 0x0000000000400000 valid=1 size=4M writable=1 user=1 nx=0
0x00000000007fffff -> 0x00000000007fffff valid=1 size=4M writable=1 user=1 nx=0
0x0000000000800000 -> invalid valid=0 reason=not-present level=2"
check "server exits 0" unmount_kvmfs
finish
