# A stock Linux kernel booted through kvmfs by a shell script: Debian's
# kernel (the lane's own, fetched by run.sh --print-kernel) and an
# initramfs made here from busybox-static, loaded by
# examples/boot-linux.sh, to a busybox shell on the serial port.  Then a
# command typed into vms/NAME/input must answer in console, and leaving
# the shell must end the run with a shutdown (the initramfs reboots,
# reboot=t makes that a triple fault).
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
mount_kvmfs
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
if wait_for linux '~ # ' $((15 * tf)); then
	pass "the busybox shell's prompt in console after $(($(date +%s) - start)) s"
else
	fail "no shell prompt after $((15 * tf)) s; console ends with: $(tail -c 400 "$V/linux/console" | tr -cd '[:print:]\n')"
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

# Leaving the shell: /init reboots, which reboot=t makes a triple fault.
echo 'exit' >"$V/linux/input"
timeout $((3 * tf)) cat "$V/linux/run" >"$WORK/answer" 2>&1
expect_match "leaving the shell ends the run with a shutdown" "$(cat "$WORK/answer")" "^shutdown"
check "rmdir of the Linux VM" rmdir "$V/linux"
check "server exits 0" unmount_kvmfs
finish
