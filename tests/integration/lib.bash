# Shared by the integration tests: mount a real kvmfs in a fresh
# temporary directory, always unmount (trap), and small assertions.
# Sourced, not run.  Needs KVMFS (the binary) and GUESTS (built guests).

set -u
: "${KVMFS:?KVMFS must point at the kvmfs binary}"
: "${GUESTS:=}"

T_FAILS=0
T_PASSES=0

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

# server_pid: pid of the kvmfs serving MNT.
server_pid() {
	pgrep -f -- "^$KVMFS .*$MNT\$" | head -1
}

cleanup_mount() {
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
	[ -n "${WORK:-}" ] && rm -rf "$WORK"
}

# mount_kvmfs [OPTIONS...]: mount in a fresh directory, set MNT, WORK.
# The server runs in the foreground in the background of this shell so
# that its exit status and output can be checked.
mount_kvmfs() {
	need_dev /dev/kvm
	need_dev /dev/fuse
	WORK=$(mktemp -d /tmp/kvmfs-test.XXXXXX)
	MNT=$WORK/mnt
	mkdir "$MNT"
	trap cleanup_mount EXIT
	"$KVMFS" -f "$@" "$MNT" 2>"$WORK/server.log" &
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
