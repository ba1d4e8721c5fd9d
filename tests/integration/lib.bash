# Shared by the integration tests: mount a real kvmfs in a fresh
# temporary directory, always unmount (trap), and small assertions.
# Sourced, not run.  Needs KVMFS (the binary) and GUESTS (built guests).

set -u
: "${KVMFS:?KVMFS must point at the kvmfs binary}"
: "${GUESTS:=}"

T_FAILS=0
T_PASSES=0
: "${SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"

# host_kvm_usable: this machine's /dev/kvm can be opened for reading and
# writing.  KVMFS_NO_HOST_KVM=1 makes the suite act as if it could not,
# to try the no-KVM path on a machine that has a KVM.
host_kvm_usable() {
	[ "${KVMFS_NO_HOST_KVM:-}" != 1 ] && [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]
}

# in_lane_unless_host_kvm: where this machine has no usable KVM, run the
# calling test inside the full-KVM lane (KVMFS_LANE_SMP: its emulated
# CPUs, 2 unless the test set it before sourcing this file) instead (tests/fullkvm/run.sh,
# docs/testing.md), with one line saying so, and exit with its verdict.
# Without QEMU the lane skips (exit 77), and under CI=true it fails.
# Inside the lane (KVMFS_FULLKVM=1) it does nothing.  Extra arguments go
# to run.sh (e.g. --payload DIR).  Called when lib.bash is sourced, unless
# the test set KVMFS_LANE_SELF=1 first to choose what runs where itself.
in_lane_unless_host_kvm() {
	[ "${KVMFS_FULLKVM:-}" = 1 ] && return 0
	host_kvm_usable && return 0
	local name
	name=${1:-integration/$(basename "$0" .sh)}
	shift || true
	echo "no usable /dev/kvm on this machine: running $name in the full-KVM lane (docs/testing.md)"
	exec bash "$SRCDIR/tests/fullkvm/run.sh" --quiet --smp "${KVMFS_LANE_SMP:-2}" --test "$name" "$@"
}
[ "${KVMFS_LANE_SELF:-}" = 1 ] || in_lane_unless_host_kvm

# on_this_machine: true outside the lane.  A split test (KVMFS_LANE_SELF=1)
# runs its parts that need no KVM (a build, man) only here.
on_this_machine() {
	[ "${KVMFS_FULLKVM:-}" != 1 ]
}

# rest_in_lane_unless_host_kvm [RUN.SH-ARGS...]: for a split test, after
# its part that needs no KVM.  Where this machine has a usable KVM, or
# inside the lane, it returns and the test goes on.  Otherwise it runs
# this same script in the lane (which skips the parts done here, see
# on_this_machine), counts its verdict as one check, and ends the test.
rest_in_lane_unless_host_kvm() {
	[ "${KVMFS_FULLKVM:-}" = 1 ] && return 0
	host_kvm_usable && return 0
	local name st=0
	name=integration/$(basename "$0" .sh)
	echo "no usable /dev/kvm on this machine: running the rest of $name in the full-KVM lane (docs/testing.md)"
	bash "$SRCDIR/tests/fullkvm/run.sh" --quiet --test "$name" "$@" || st=$?
	case $st in
	0) pass "the rest of $name, in the full-KVM lane" ;;
	77) [ "${CI:-}" = true ] && fail "the full-KVM lane cannot run here (CI requires it)"
	    echo "$T_PASSES passed, $T_FAILS failed"
	    [ "$T_FAILS" -eq 0 ] || exit 1
	    exit 77 ;;
	*) fail "the rest of $name, in the full-KVM lane (exit $st)" ;;
	esac
	finish
	exit
}

skip() {
	echo "SKIP: $*"
	exit 77
}

# A missing device is a skip on a developer's machine, a failure in CI.
need_dev() {
	local dev=$1
	if [ ! -c "$dev" ] || [ ! -r "$dev" ] || [ ! -w "$dev" ]; then
		if [ "${CI:-}" = true ]; then
			echo "FAIL: $dev is missing or not usable (CI requires it)"
			exit 1
		fi
		skip "$dev is missing or not usable"
	fi
}

fail() {
	echo "FAIL: $*"
	T_FAILS=$((T_FAILS + 1))
}

pass() {
	echo "ok: $*"
	T_PASSES=$((T_PASSES + 1))
}

# check DESC CMD...: run CMD, pass if it succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then pass "$desc"; else fail "$desc"; fi
}

# expect_eq DESC GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1: got '$2', want '$3'"
	fi
}

# expect_match DESC GOT REGEX
expect_match() {
	if [[ $2 =~ $3 ]]; then
		pass "$1"
	else
		fail "$1: '$2' does not match '$3'"
	fi
}

# expect_errno DESC ERRNO-TEXT CMD...: CMD must fail with that message.
expect_fail() {
	local desc=$1 want=$2
	shift 2
	local out
	if out=$("$@" 2>&1); then
		fail "$desc: succeeded, should fail with '$want'"
	elif [[ $out == *"$want"* ]]; then
		pass "$desc"
	else
		fail "$desc: failed with '$out', want '$want'"
	fi
}

# field FILE NAME: the value of "NAME value" in FILE.
field() {
	awk -v n="$2" '$1 == n { $1 = ""; sub(/^ /, ""); print; exit }' "$1"
}

# The server's resident memory and thread count, for leak checks.
server_rss() { awk '/VmRSS/ { print $2 }' /proc/"$1"/status; }
server_threads() { awk '/Threads/ { print $2 }' /proc/"$1"/status; }

# expect_rss_back DESC RSS0 RSS1 THREADS0 THREADS1 SLACK_KIB: RSS came back
# within SLACK_KIB, plus 1.1 MiB for each FUSE worker thread libfuse
# started meanwhile (its 1 MiB request buffer is touched when
# MALLOC_PERTURB_ is set, as meson does).  Under a sanitizer
# (KVMFS_SANITIZED=1) RSS says nothing about leaks — LeakSanitizer does
# that job — so the check is reported and not made.
expect_rss_back() {
	local desc=$1 r0=$2 r1=$3 t0=$4 t1=$5 slack=$6
	local allow=$((slack + 1100 * (t1 > t0 ? t1 - t0 : 0)))
	if [ "${KVMFS_SANITIZED:-}" = 1 ]; then
		pass "$desc: not checked under a sanitizer (${r0} -> ${r1} KiB)"
	elif [ $((r1 - r0)) -lt "$allow" ]; then
		pass "$desc (${r0} -> ${r1} KiB, threads ${t0} -> ${t1})"
	else
		fail "$desc: RSS grew from ${r0} to ${r1} KiB (threads ${t0} -> ${t1})"
	fi
}

# Time bounds are for a plain build on an idle machine; a sanitized
# build is several times slower, and the full-KVM lane (QEMU's emulation,
# docs/testing.md) sets KVMFS_TIME_FACTOR.
time_factor() {
	if [ -n "${KVMFS_TIME_FACTOR:-}" ]; then
		echo "$KVMFS_TIME_FACTOR"
	elif [ "${KVMFS_SANITIZED:-}" = 1 ]; then
		echo 10
	else
		echo 1
	fi
}

# load_count N: how many VMs or processes a load test uses: N, but N/20
# (at least 10) in the full-KVM lane, where a process start costs
# 50-200 ms instead of 1-2 ms.
load_count() {
	if [ "${KVMFS_FULLKVM:-}" = 1 ]; then
		echo $(($1 / 20 > 10 ? $1 / 20 : 10))
	else
		echo "$1"
	fi
}

# server_pid: pid of the kvmfs serving MNT.
server_pid() {
	pgrep -f -- "$KVMFS .*$MNT\$" | head -1
}

# Sanitizer reports in the server's log fail the test (the ASan lane).
sanitizer_errors() {
	[ -n "${WORK:-}" ] && [ -f "$WORK/server.log" ] &&
		grep -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|ERROR SUMMARY: [1-9]|definitely lost: [1-9]|^==[0-9]+== [A-Z]" "$WORK/server.log"
}

cleanup_mount() {
	local st=$?
	if [ -n "${MNT:-}" ] && mountpoint -q "$MNT" 2>/dev/null; then
		fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT" 2>/dev/null
	fi
	if [ -n "${KVMFS_PID:-}" ]; then
		for _ in $(seq 50); do
			kill -0 "$KVMFS_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$KVMFS_PID" 2>/dev/null
	fi
	if sanitizer_errors >/dev/null; then
		echo "FAIL: sanitizer report in the server log:"
		cat "$WORK/server.log"
		st=1
	fi
	[ -n "${WORK:-}" ] && rm -rf "$WORK"
	exit $st
}

# mount_kvmfs [OPTIONS...]: mount in a fresh directory, set MNT, WORK.
# The server runs in the foreground in the background of this shell so
# that its exit status and output can be checked.
mount_kvmfs() {
	need_dev /dev/kvm
	need_dev /dev/fuse
	# A test that mounts again: check the last server's log first.
	if [ -n "${WORK:-}" ] && [ -d "$WORK" ]; then
		if sanitizer_errors >/dev/null; then
			fail "sanitizer report in the server log"
			cat "$WORK/server.log"
		fi
		rm -rf "$WORK"
	fi
	WORK=$(mktemp -d /tmp/kvmfs-test.XXXXXX)
	MNT=$WORK/mnt
	mkdir "$MNT"
	trap cleanup_mount EXIT
	# KVMFS_WRAPPER runs the server under a tool, e.g. valgrind
	# (docs/robustness.md); KVMFS_MOUNT_OPTS adds options to every mount,
	# e.g. "-o seccomp" (CI's sanitizer lane).
	# shellcheck disable=SC2086
	${KVMFS_WRAPPER:-} "$KVMFS" -f ${KVMFS_MOUNT_OPTS:-} "$@" "$MNT" 2>"$WORK/server.log" &
	KVMFS_PID=$!
	for _ in $(seq 100); do
		if mountpoint -q "$MNT"; then
			return 0
		fi
		if ! kill -0 "$KVMFS_PID" 2>/dev/null; then
			echo "kvmfs exited at start:"
			cat "$WORK/server.log"
			exit 1
		fi
		sleep 0.05
	done
	echo "kvmfs did not mount"
	exit 1
}

# unmount_kvmfs: unmount and return the server's exit status.
unmount_kvmfs() {
	fusermount3 -u "$MNT"
	local st=0
	wait "$KVMFS_PID" || st=$?
	KVMFS_PID=
	return $st
}

# new_vm NAME SIZE [MODE]: a VM with memory (and a mode).
new_vm() {
	mkdir "$MNT/vms/$1" && echo "mem $2" >"$MNT/vms/$1/ctl" || return 1
	if [ -n "${3:-}" ]; then echo "mode $3" >"$MNT/vms/$1/ctl" || return 1; fi
}

# load_guest VM NAME: copy a built guest to GPA 0.
load_guest() {
	cat "$GUESTS/$2.bin" >"$MNT/vms/$1/memory"
}

finish() {
	echo "$T_PASSES passed, $T_FAILS failed"
	[ "$T_FAILS" -eq 0 ]
}
