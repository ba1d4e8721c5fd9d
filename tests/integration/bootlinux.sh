# A stock Linux kernel booted through kvmfs by a shell script: Debian's
# kernel (the lane's own, fetched by run.sh --print-kernel) and an
# initramfs made here from busybox-static, loaded by
# examples/boot-linux.sh, to a busybox shell on the serial port.  Then a
# command typed into vms/NAME/input must answer in console; a copy of the
# running VM's files into a new VM must give a second working shell; and
# leaving a shell must end its run with a shutdown (the initramfs
# reboots, reboot=t makes that a triple fault).
#
# The kernel and the initramfs are made on this machine (the initramfs
# needs cpio and busybox, which the lane's machine has no use for); where
# it has no KVM, the boot runs in the full-KVM lane, with them as run.sh's
# --payload.  There it is nested and slow (about two minutes to the
# prompt): the time limits grow with time_factor.
KVMFS_LANE_SELF=1
. "$(dirname "$0")/lib.bash"
: "${SRCDIR:?}" "${BUILDDIR:?}"

if on_this_machine; then
	P=$BUILDDIR/bootlinux
	rm -rf "$P" && mkdir -p "$P"
	vmlinuz=$(bash "$SRCDIR/tests/fullkvm/run.sh" --quiet --print-kernel | tail -1)
	[ -f "$vmlinuz" ] ||
		{ fail "no Debian kernel (tests/fullkvm/run.sh --print-kernel)"; finish; exit 1; }
	check "Debian's kernel is there" cp "$vmlinuz" "$P/vmlinuz"
	check "busybox-initramfs.sh makes an initramfs" \
		bash "$SRCDIR/examples/busybox-initramfs.sh" "$P/initrd.cpio.gz"
	basename "$vmlinuz" | sed 's/^vmlinuz-//' >"$P/release"
else
	P=/kvmfs/payload
	check "the kernel and initramfs came into the lane" test -s "$P/initrd.cpio.gz"
fi
rest_in_lane_unless_host_kvm --payload "$P"

need_dev /dev/kvm
# 256 MiB VMs, then one of 4.5 GiB (sparse: Linux touches a few percent).
mount_kvmfs -o max_memory=6G
V=$MNT/vms
release=$(cat "$P/release")
tf=$(time_factor)

# wait_for VM TEXT SECONDS: until console holds TEXT (a fixed string);
# wait_line VM LINE SECONDS: until it has a line that is LINE (the
# serial console ends lines with \r\n).
wait_for() {
	local i
	for ((i = 0; i < $3; i++)); do
		grep -qF -- "$2" "$V/$1/console" && return 0
		sleep 1
	done
	return 1
}
wait_line() {
	local i
	for ((i = 0; i < $3; i++)); do
		grep -qxF -- "$2"$'\r' "$V/$1/console" && return 0
		sleep 1
	done
	return 1
}

# why VM: where a VM that missed its prompt is (for the failure's line).
why() {
	echo "status: $(grep -E '^(state|exit|exits|exits_io|uart_tx|irqchip) ' "$V/$1/status" | tr '\n' ' ')"
	echo "regs: $(grep -E '^(rip|rsp|rflags) ' "$V/$1/regs" | tr '\n' ' ')"
	echo "sregs: $(grep -E '^(cr0|cr3|cr4|efer|cs.selector|cs.base) ' "$V/$1/sregs" | tr '\n' ' ')"
}

CMDLINE='console=ttyS0 reboot=t panic=-1 io_delay=none pci=off i8042.noaux i8042.nokbd i8042.nopnp'
start=$(date +%s)
if ! out=$(bash "$SRCDIR/examples/boot-linux.sh" "$MNT" "$P/vmlinuz" "$P/initrd.cpio.gz" "$CMDLINE" 2>&1); then
	fail "boot-linux.sh failed: $out"
	finish
	exit 1
fi
pass "boot-linux.sh loads and starts the kernel"
expect_match "it checked the setup header" "$out" "protocol 2\.[0-9]+, [0-9]+ setup sectors, relocatable"
expect_eq "the VM has the irqchip" "$(field "$V/linux/status" irqchip)" 1
if wait_for linux '~ # ' $((10 * tf)); then
	pass "the busybox shell's prompt in console after $(($(date +%s) - start)) s"
else
	fail "no shell prompt after $((10 * tf)) s; console ends with: $(tail -c 400 "$V/linux/console" | tr -cd '[:print:]\n')"
	why linux
	finish
	exit 1
fi
expect_match "the kernel's boot log is in console" "$(head -c 300 "$V/linux/console")" "Linux version $release"
check "and its command line" grep -qF "Command line: $CMDLINE" "$V/linux/console"
check "the kernel ran /init" grep -qF "Run /init as init process" "$V/linux/console"

echo 'uname -r; echo $((6*7))' >"$V/linux/input"
check "typed into input, uname -r answers" wait_line linux "$release" $((2 * tf))
check "and echo \$((6*7)) answers 42" wait_line linux 42 $((2 * tf))
expect_eq "the guest read every byte typed" "$(field "$V/linux/status" uart_queued)" 0
expect_eq "the run goes on: a Linux VM does not end on hlt" "$(field "$V/linux/status" state)" running
check "the UART counted what it sent" test "$(field "$V/linux/status" uart_tx)" -gt 1000

# A clone of the running system: stop it, copy its files into a new VM
# (cp -r in listing order, which is the order a restore needs; console and
# status are read-only), run both, and each shell answers on its own.
echo stop >"$V/linux/ctl"
mkdir "$V/clone"
t0=$(date +%s)
cp -r "$V/linux/." "$V/clone/" 2>"$WORK/cp.err"
expect_eq "cp -r refuses only the read-only files" \
	"$(sed 's/.*clone\/\.\///' "$WORK/cp.err" | sort | tr '\n' ' ')" \
	"console': Permission denied status': Permission denied "
pass "the copy took $(($(date +%s) - t0)) s"
echo "clone's error line: $(field "$V/clone/status" error)"
# The same state, but for what time moves on: the TSC (an MSR), kvm-clock,
# the local APIC's and the PIT's counters.
for f in ctl regs sregs xsave xcrs mpstate events debugregs uart; do
	check "the clone's $f is the original's" cmp "$V/linux/$f" "$V/clone/$f"
done
# MSRs: all but the TSC, and SYSENTER_ESP/EIP, of which an AMD KVM keeps
# only the low 32 bits when they come from userspace (64-bit Linux on AMD
# does not use SYSENTER).
msrs_of() { grep -Ev '^0x(00000010|00000175|00000176) ' "$1" | tr '\n' ' '; }
expect_eq "the clone's MSRs are the original's" "$(msrs_of "$V/clone/msrs")" "$(msrs_of "$V/linux/msrs")"
echo run >"$V/clone/ctl"
echo run >"$V/linux/ctl"
echo 'echo $((7*8))' >"$V/clone/input"
check "the clone's shell answers" wait_line clone 56 $((3 * tf))
echo 'echo $((6*9))' >"$V/linux/input"
check "and the original's" wait_line linux 54 $((3 * tf))
check "the clone did not get the original's typing" bash -c "! grep -qx $'54\r' '$V/clone/console'"

# Leaving the shell: /init reboots, which reboot=t makes a triple fault.
for vm in linux clone; do
	echo 'exit' >"$V/$vm/input"
	timeout $((3 * tf)) cat "$V/$vm/run" >"$WORK/answer" 2>&1
	expect_match "leaving $vm's shell ends the run with a shutdown" "$(cat "$WORK/answer")" "^shutdown"
done
check "rmdir of the Linux VMs" rmdir "$V/linux" "$V/clone"

# Two vCPUs and memory above 4 GiB, in one boot: --cpus 2 makes vCPU 1
# (ctl cpus 2) and lists it in the MP table, Linux's BSP starts it with
# INIT-SIPI-SIPI; --mem above 3G puts 3G at 0 and the rest at 4 GiB (ctl
# highmem, a second KVM slot), which Linux finds in e820 and uses (its
# memory map is allocated top down, so it writes there at once).
if ! out=$(bash "$SRCDIR/examples/boot-linux.sh" --name big --cpus 2 --mem 4608M "$MNT" "$P/vmlinuz" "$P/initrd.cpio.gz" "$CMDLINE" 2>&1); then
	fail "boot-linux.sh --cpus 2 --mem 4608M failed: $out"
else
	expect_eq "the VM has two vCPUs" "$(ls "$V/big/cpus" | tr '\n' ' ')" "0 1 "
	expect_match "the loader put 1.5 GiB at 4 GiB" "$out" "memory 0x120000000: 0xc0000000 at 0, 0x60000000 at 0x100000000"
	expect_eq "the VM has highmem" "$(field "$V/big/status" highmem)" $((1536 << 20))
	if wait_for big '~ # ' $((10 * tf)); then
		pass "the 2-vCPU, 4.5 GiB Linux reached its prompt"
		check "Linux brought up both CPUs" grep -qF "smp: Brought up 1 node, 2 CPUs" "$V/big/console"
		echo 'nproc' >"$V/big/input"
		check "nproc in its shell says 2" wait_line big 2 $((2 * tf))
		expect_eq "cpus/1 runs" "$(field "$V/big/cpus/1/status" state)" running
		check "its e820 has the memory at 4 GiB" \
			grep -qF "BIOS-e820: [mem 0x0000000100000000-0x000000015fffffff] usable" "$V/big/console"
		echo 'grep MemTotal /proc/meminfo' >"$V/big/input"
		check "it answers with MemTotal" wait_for big 'MemTotal:' $((2 * tf))
		sleep 1
		kb=$(tr -d '\r' <"$V/big/console" | awk '$1 == "MemTotal:" { print $2 }' | tail -1)
		check "MemTotal is over 4 GiB ($kb kB)" test "${kb:-0}" -gt $((4 << 20))
		n=$(dd if="$V/big/memory" bs=1M skip=$(((4 << 10) + 1536 - 64)) count=64 status=none | tr -d '\0' | wc -c)
		check "Linux wrote into the top of highmem ($n non-zero bytes in its last 64 MiB)" test "$n" -gt 0
	else
		fail "the 4.5 GiB Linux: no prompt after $((10 * tf)) s; console ends with: $(tail -c 400 "$V/big/console" | tr -cd '[:print:]\n')"
		why big
	fi
	check "rmdir of the 4.5 GiB VM" rmdir "$V/big"
fi
check "server exits 0" unmount_kvmfs
finish
