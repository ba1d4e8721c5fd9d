# With -o seccomp, vCPU threads run under a seccomp filter
# (src/vcpu/sandbox.h); without it, none does.  What the filter allows and
# refuses is checked by the unit test (tests/test_sandbox.c); here: it is
# on exactly the vCPU threads, and every vCPU path still works under it.
# CI's sanitizer lane runs the whole suite with -o seccomp as well.
. "$(dirname "$0")/lib.bash"
KVMFS_MOUNT_OPTS=	# this test picks its own

# "filtered unfiltered other": the server's vCPU threads with and
# without the filter, and its other threads that are filtered.
thread_filters() {
	local pid=$1 t f=0 u=0 other=0 sec
	for t in /proc/"$pid"/task/*; do
		sec=$(awk '/^Seccomp:/ { print $2 }' "$t/status" 2>/dev/null)
		case "$(cat "$t/comm" 2>/dev/null)" in
		kvmfs-vcpu)
			if [ "$sec" = 2 ] && grep -q '^NoNewPrivs:[[:space:]]*1' "$t/status"; then
				f=$((f + 1))
			else
				u=$((u + 1))
			fi
			;;
		kvm-*) ;;	# KVM's own kernel workers
		*) [ "$sec" = 0 ] || other=$((other + 1)) ;;
		esac
	done
	echo "$f $u $other"
}

# thread_check NAME WANT: the thread counts, unless the server runs
# under a wrapper (valgrind), whose threads are named after it.
thread_check() {
	local pid
	pid=$(server_pid)
	if [ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm)" = kvmfs ]; then
		expect_eq "$1" "$(thread_filters "$pid")" "$2"
	else
		pass "$1: not checked, the server runs under ${KVMFS_WRAPPER:-a wrapper}"
	fi
}

mount_kvmfs -o seccomp
V=$MNT/vms
expect_eq "status: seccomp 1" "$(field "$MNT/status" seccomp)" 1

new_vm a 64K real && load_guest a hello16
expect_eq "hello16 runs under the filter" "$(cat "$V/a/run")" "hlt rip=0x000000000000003e"
expect_eq "console" "$(cat "$V/a/console")" "Hello, world!"
expect_eq "regs from the vCPU thread" "$(field "$V/a/regs" rax)" 0x000000000000002a
echo "rax 7" >"$V/a/regs"
expect_eq "regs written by the vCPU thread" "$(field "$V/a/regs" rax)" 0x0000000000000007
echo "mode long" >"$V/a/ctl"
expect_eq "sregs set and read back" "$(field "$V/a/sregs" cs.l)" 1
echo 0x1234 >"$V/a/translate"
expect_match "KVM_TRANSLATE" "$(cat "$V/a/translate")" "0x0000000000001234 -> 0x0000000000001234 valid=1"
echo reset >"$V/a/ctl"

new_vm b 64K real && load_guest b spin
echo "step 3" >"$V/b/ctl"
expect_eq "single steps (KVM_SET_GUEST_DEBUG)" "$(cat "$V/b/run" | wc -l)" 3
echo "timeout 200" >"$V/b/ctl"
expect_match "a timeout kicks the vCPU out (timer, signal)" "$(cat "$V/b/run")" "^timeout "
echo run >"$V/b/ctl"
sleep 0.1
expect_match "live regs of a running vCPU" "$(cat "$V/b/regs")" "rip 0x"
echo stop >"$V/b/ctl"
expect_eq "stopped" "$(field "$V/b/status" state)" stopped
thread_check "-o seccomp: both vCPU threads filtered, no other thread" "2 0 0"
rmdir "$V/a" "$V/b"
check "server exits 0" unmount_kvmfs

mount_kvmfs
expect_eq "default: status says seccomp 0" "$(field "$MNT/status" seccomp)" 0
new_vm a 64K real && load_guest a hello16
expect_eq "default: hello16 runs" "$(cat "$MNT/vms/a/run")" "hlt rip=0x000000000000003e"
thread_check "default: no thread filtered" "0 1 0"
check "server exits 0" unmount_kvmfs
finish
