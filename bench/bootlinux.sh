#!/bin/bash
# Booting Linux: kvmfs against QEMU on the same KVM, side by side in one
# run (issue 14's benchmark row).  The same kernel (Debian's, the lane's
# own: tests/fullkvm/run.sh --print-kernel), the same busybox initramfs
# (examples/busybox-initramfs.sh), the same command line (the one of
# tests/integration/bootlinux.sh), 256 MiB and one vCPU on both sides;
# N rounds (--runs, default 3), each booting, one after the other:
#
#   kvmfs  a freshly mounted kvmfs and examples/boot-linux.sh MNT ...,
#          timed from the loader's first write (its mkdir of vms/linux:
#          the clock starts at the last line of the layout it prints,
#          which comes right before it) to the first '~ # ' in
#          vms/linux/console; "of it loading" is the part until its
#          'run' to ctl (the loader is a shell script: dd, printf);
#   QEMU   qemu-system-x86_64 -accel kvm -M microvm (--machine, e.g.
#          microvm,pc for both) -cpu host (kvmfs gives the guest KVM's
#          supported CPUID, as -cpu host does) -nodefaults
#          -no-user-config -display none -m 256 -serial file:F -kernel
#          -initrd -append, timed from its start to the first '~ # ' in
#          F; the guest's serial input is nothing, so its shell waits
#          there until QEMU is killed.
#
# Pinned: both VMMs run on one CPU (--cpu, as bench/run.sh pins its
# processes), so that neither gets the lane's second emulated CPU for
# its own threads and the polling does not take the VMMs' CPU.
#
# A boot that does not reach the prompt (in the lane on 2026-12-02,
# 1916213's kvmfs with 1916213's loader never did, 10 times: the
# guest's timer ticks stop at "Run /init"; with the loader's MP table 5
# of 8 did; see
# docs/performance.md, "Booting Linux") is reported after the table,
# with the VM's state, exit and rip, and left out of the medians.
#
# Both prompts are found by grep every 30 ms (a process start itself
# costs 50-200 ms in the lane, so there the resolution is a few tenths
# of a second).  The "/init" columns are the kernel's own timestamp of
# its "Run /init as init process" line (guest clock): the kernel's
# share.  It prints a Markdown table, the medians and the ratio
# kvmfs / QEMU of the medians.
#
# On a machine without a usable /dev/kvm (or with KVMFS_NO_HOST_KVM=1) it
# makes the kernel and initramfs here and runs itself inside the
# full-KVM lane (tests/fullkvm/run.sh --with-qemu --payload DIR --exec,
# docs/testing.md), as bench/run.sh does: both sides then run on the
# lane's nested KVM, and only the ratio means anything elsewhere.
#
# usage: bench/bootlinux.sh [options]
#   -B DIR           build directory with src/kvmfs (default: build/);
#                    nothing is built here
#   --runs N         rounds (default 3)
#   --machine LIST   QEMU machine types, comma-separated (default microvm;
#                    none: kvmfs only)
#   --qemu PATH      the QEMU (default: qemu-system-x86_64 on PATH)
#   --kernel FILE    the bzImage (default: the lane's Debian kernel)
#   --initrd FILE    the initramfs (default: made with busybox-initramfs.sh)
#   --timeout SEC    one boot's limit (default 60; 300 in the lane)
#   --poll MS        how often to look for the prompt (default 30)
#   --cpu N          the CPU that the kvmfs server (all its threads), the
#                    loader and QEMU (all its threads) are pinned to with
#                    taskset (default 0); the polling runs unpinned
#   --no-pin         pin nothing
set -euo pipefail
export LC_ALL=C
args=("$@")

srcdir=$(cd "$(dirname "$0")/.." && pwd)
build=$srcdir/build
runs=3
machines=microvm
qemu=
kernel=
initrd=
timeout=
poll=30
pin=1
cpu=0
cmdline='console=ttyS0 reboot=t panic=-1 io_delay=none pci=off i8042.noaux i8042.nokbd i8042.nopnp'
prompt='~ # '

usage() {
	sed -n 's/^# \{0,1\}//; /^usage:/,/^set -euo/p' "$0" | sed '$d'
}
die() {
	echo "bootlinux: $*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case $1 in
	-B) build=$(realpath -m "$2"); shift ;;
	--runs) runs=$2; shift ;;
	--machine) machines=$2; shift ;;
	--qemu) qemu=$2; shift ;;
	--kernel) kernel=$2; shift ;;
	--initrd) initrd=$2; shift ;;
	--timeout) timeout=$2; shift ;;
	--poll) poll=$2; shift ;;
	--cpu) cpu=$2; shift ;;
	--no-pin) pin=0 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "--runs wants a number, not '$runs'"
[[ -z $timeout || $timeout =~ ^[1-9][0-9]*$ ]] || die "--timeout wants seconds, not '$timeout'"
[[ $poll =~ ^[1-9][0-9]{0,3}$ ]] || die "--poll wants milliseconds (1-9999), not '$poll'"
machine_list=()
[ "$machines" = none ] || IFS=, read -r -a machine_list <<<"$machines"
[ -x "$build/src/kvmfs" ] || die "no kvmfs at $build/src/kvmfs (build first: meson compile -C $build)"

# The kernel and the initramfs: made here (the lane has no cpio, and no
# use for it), unless given.
if [ "${KVMFS_FULLKVM:-}" != 1 ]; then
	if [ -z "$kernel" ] || [ -z "$initrd" ]; then
		made=$build/fullkvm/bootlinux-bench
		mkdir -p "$made"
		if [ -z "$kernel" ]; then
			kernel=$(BUILDDIR=$build KVMFS=$build/src/kvmfs GUESTS=$build/guests \
				bash "$srcdir/tests/fullkvm/run.sh" --quiet --print-kernel | tail -1)
			[ -f "$kernel" ] || die "no kernel: tests/fullkvm/run.sh --print-kernel failed (give --kernel)"
		fi
		if [ -z "$initrd" ]; then
			initrd=$made/initrd.cpio.gz
			bash "$srcdir/examples/busybox-initramfs.sh" "$initrd" >/dev/null
		fi
	fi
fi
[ -f "$kernel" ] || die "no kernel '$kernel'"
[ -f "$initrd" ] || die "no initramfs '$initrd'"

# Without a usable host KVM: the same run inside the lane, with QEMU.
if [ "${KVMFS_FULLKVM:-}" != 1 ] &&
	{ [ "${KVMFS_NO_HOST_KVM:-}" = 1 ] || [ ! -c /dev/kvm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; }; then
	echo "bootlinux: no usable /dev/kvm on this machine: running inside QEMU's emulation (the full-KVM lane), kvmfs and QEMU on its nested KVM"
	# In build/fullkvm/, which run.sh leaves out of the build directory it
	# copies into the lane: the payload goes in once.
	payload=$build/fullkvm/bootlinux-bench/payload
	rm -rf "$payload"
	mkdir -p "$payload"
	cp "$kernel" "$payload/vmlinuz"
	cp "$initrd" "$payload/initrd.cpio.gz"
	# KVMFS_BENCH_REV, when set, says what is measured (e.g. for a copy
	# made with git archive, which has no .git).
	rev=${KVMFS_BENCH_REV:-$(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null || echo unknown)}
	if [ -n "${KVMFS_BENCH_REV:-}" ]; then
		:
	elif [ "$build" != "$srcdir/build" ]; then
		rev="$rev (source tree), kvmfs from $build"
	elif [ -n "$(git -C "$srcdir" status --porcelain -- src examples 2>/dev/null)" ]; then
		rev="$rev with changes in src/ or examples/"
	fi
	lane_cmd="KVMFS_BENCH_REV=$(printf '%q' "$rev") bash bench/bootlinux.sh"
	for a in ${args[@]+"${args[@]}"}; do
		lane_cmd+=" $(printf '%q' "$a")"
	done
	# After the caller's: the lane's own paths win.
	lane_cmd+=" -B /kvmfs/build --kernel /kvmfs/payload/vmlinuz --initrd /kvmfs/payload/initrd.cpio.gz"
	if [ -n "$qemu" ]; then lane_cmd+=" --qemu /usr/bin/qemu-system-x86_64"; fi
	BUILDDIR=$build KVMFS=$build/src/kvmfs GUESTS=$build/guests \
		FULLKVM_TIMEOUT=${FULLKVM_TIMEOUT:-1800} FULLKVM_SILENCE=${FULLKVM_SILENCE:-600} \
		exec bash "$srcdir/tests/fullkvm/run.sh" --with-qemu ${qemu:+--qemu "$qemu"} \
		--payload "$payload" --exec "$lane_cmd"
fi

if [ -z "$qemu" ] && [ ${#machine_list[@]} -gt 0 ]; then
	qemu=$(command -v qemu-system-x86_64) || die "qemu-system-x86_64 not found (in the lane: run.sh --with-qemu)"
fi
if [ -z "$timeout" ]; then
	timeout=60
	[ "${KVMFS_FULLKVM:-}" != 1 ] || timeout=300
fi
kvmfs=$build/src/kvmfs
pinned=()
placement="not pinned (--no-pin)"
if [ $pin = 1 ]; then
	{ [[ $cpu =~ ^[0-9]+$ ]] && [ "$cpu" -lt "$(nproc)" ]; } || die "there is no CPU '$cpu'"
	pinned=(taskset -c "$cpu")
	placement="pinned to CPU $cpu: the kvmfs server, the loader, QEMU (all their threads); the polling not"
fi
for dev in /dev/kvm /dev/fuse; do
	{ [ -r "$dev" ] && [ -w "$dev" ]; } || die "$dev is not usable"
done

tmp=$(mktemp -d /tmp/kvmfs-bootbench.XXXXXX)
server=
qpid=
mnt=

# shellcheck disable=SC2317  # called by the trap
cleanup() {
	set +e
	[ -z "$qpid" ] || { kill "$qpid"; wait "$qpid"; } 2>/dev/null
	if [ -n "$mnt" ] && mountpoint -q "$mnt" 2>/dev/null; then
		fusermount3 -u "$mnt" 2>/dev/null || umount -l "$mnt"
	fi
	[ -z "$server" ] || { kill "$server"; wait "$server"; } 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A sleep of --poll ms without a process: read -t on a FIFO nobody writes.
mkfifo "$tmp/never"
exec {never}<>"$tmp/never"
nap_s=$(awk -v ms="$poll" 'BEGIN { printf "%.3f", ms / 1000 }')
nap() {
	read -r -t "$nap_s" -u "$never" _ || true
}

# elapsed T0 T1: seconds from T0 to T1 (EPOCHREALTIME values), 2 decimals.
elapsed() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'
}

# wait_prompt FILE PID [STATUS]: until FILE holds the prompt (set
# t_prompt, true), or the process PID ends, or the VM whose status file
# is STATUS no longer runs (looked at once a second), or the time limit
# passes (false, with why_not set).
wait_prompt() {
	local limit=$((SECONDS + timeout)) next=$((SECONDS + 1))
	while [ $SECONDS -lt "$limit" ]; do
		if grep -qF -- "$prompt" "$1" 2>/dev/null; then
			t_prompt=$EPOCHREALTIME
			return 0
		fi
		if ! kill -0 "$2" 2>/dev/null; then
			why_not="the process ended"
			return 1
		fi
		if [ -n "${3:-}" ] && [ $SECONDS -ge $next ]; then
			next=$((SECONDS + 1))
			if ! grep -qx 'state running' "$3"; then
				why_not="the VM stopped: $(grep '^exit ' "$3")"
				return 1
			fi
		fi
		nap
	done
	why_not="no prompt after ${timeout}s"
	return 1
}

# failed WHAT RUN LOG: a boot that did not reach the prompt; the round's
# cell says so, and the notes after the table say why and how the
# console ended.
failed() {
	echo "$1, round $2: $why_not; the console ends with: $(tail -c 300 "$3" | tr -d '\r' | tr -c '[:print:]\n' '?' | tail -n 3 | tr '\n' '|')" >>"$tmp/notes"
	echo "$1, round $2: $why_not" >&2
}

# init_time FILE: the kernel's timestamp of "Run /init" in FILE, or -.
init_time() {
	local t
	t=$(tr -d '\r' <"$1" | sed -n 's/^\[ *\([0-9.]*\)\] Run \/init as init process.*/\1/p' | head -1)
	if [ -n "$t" ]; then printf '%.2f\n' "$t"; else echo -; fi
}

# boot_kvmfs RUN: one boot through a fresh mount; records its times.
boot_kvmfs() {
	mnt=$tmp/mnt$1
	mkdir "$mnt"
	${pinned[@]+"${pinned[@]}"} "$kvmfs" -f "$mnt" 2>"$tmp/server$1.log" &
	server=$!
	for _ in $(seq 200); do
		mountpoint -q "$mnt" && [ -r "$mnt/version" ] && break
		kill -0 "$server" 2>/dev/null || die "kvmfs exited at start: $(cat "$tmp/server$1.log")"
		nap
	done
	mountpoint -q "$mnt" || die "kvmfs did not mount on $mnt"
	local t_first=- t_run=- line
	# The loader prints its layout, then makes the VM; it prints the
	# "running:" line right after it wrote 'run' to ctl.
	while IFS= read -r line; do
		echo "$line" >>"$tmp/loader$1.log"
		case $line in
		*' page tables '*) t_first=$EPOCHREALTIME ;;
		*': running: '*) t_run=$EPOCHREALTIME ;;
		esac
	done < <(${pinned[@]+"${pinned[@]}"} bash "$srcdir/examples/boot-linux.sh" "$mnt" "$kernel" "$initrd" "$cmdline" 2>&1; echo "exit $?")
	grep -qx 'exit 0' "$tmp/loader$1.log" || die "boot-linux.sh failed: $(cat "$tmp/loader$1.log")"
	{ [ "$t_first" != - ] && [ "$t_run" != - ]; } || die "boot-linux.sh printed no layout or no 'running:' line: $(cat "$tmp/loader$1.log")"
	local console=$mnt/vms/linux/console
	if wait_prompt "$console" "$server" "$mnt/vms/linux/status"; then
		cp "$console" "$tmp/console-kvmfs$1"
		echo "$(elapsed "$t_first" "$t_prompt") $(elapsed "$t_first" "$t_run") $(init_time "$tmp/console-kvmfs$1")" >"$tmp/r-kvmfs$1"
	else
		cp "$console" "$tmp/console-kvmfs$1"
		why_not+="; $(stat -c %s "$tmp/console-kvmfs$1") console bytes; status: $(grep -E '^(state|exit|exits|exits_io|uart_tx) ' "$mnt/vms/linux/status" | tr '\n' ' ')$(grep '^rip ' "$mnt/vms/linux/regs")"
		failed kvmfs "$1" "$tmp/console-kvmfs$1"
		echo "fail $(elapsed "$t_first" "$t_run") $(init_time "$tmp/console-kvmfs$1")" >"$tmp/r-kvmfs$1"
	fi
	rmdir "$mnt/vms/linux"
	fusermount3 -u "$mnt"
	wait "$server" || true
	server='' mnt=''
}

# boot_qemu MACHINE RUN: one QEMU boot; records its times.
boot_qemu() {
	local ser=$tmp/serial-$1$2 t0
	: >"$ser"
	t0=$EPOCHREALTIME
	${pinned[@]+"${pinned[@]}"} "$qemu" -accel kvm -M "$1" -cpu host -nodefaults -no-user-config -display none \
		-m 256 -serial "file:$ser" -kernel "$kernel" -initrd "$initrd" -append "$cmdline" \
		</dev/null >"$tmp/qemu-$1$2.log" 2>&1 &
	qpid=$!
	if wait_prompt "$ser" "$qpid"; then
		echo "$(elapsed "$t0" "$t_prompt") $(init_time "$ser")" >"$tmp/r-$1$2"
	else
		why_not+="; QEMU said: $(tr '\n' ' ' <"$tmp/qemu-$1$2.log")"
		failed "QEMU -M $1" "$2" "$ser"
		echo "fail $(init_time "$ser")" >"$tmp/r-$1$2"
	fi
	kill "$qpid"
	wait "$qpid" 2>/dev/null || true
	qpid=
}

where="host KVM: $(uname -r), $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo))"
if [ "${KVMFS_FULLKVM:-}" = 1 ]; then
	where="inside the full-KVM lane: QEMU ${KVMFS_FULLKVM_QEMU_VERSION:-?} TCG, $(nproc) emulated CPUs, kernel $(uname -r) with kvm-amd (nested SVM, npt $(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null || echo ?)); kvmfs and QEMU both on that KVM"
fi
echo "boot to the busybox prompt, $(date -u '+%Y-%m-%d %H:%M UTC'), $runs round(s): kvmfs, then QEMU -M ${machines//,/, -M }"
echo "measured $where"
echo "$placement"
if [ -n "${KVMFS_BENCH_REV:-}" ]; then
	echo "kvmfs at commit $KVMFS_BENCH_REV"
elif rev=$(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null); then
	echo "kvmfs at commit $rev"
fi
[ -z "$qemu" ] || "$qemu" --version | head -1
echo "kernel $(basename "$kernel") ($(stat -L -c %s "$kernel") bytes), initramfs $(stat -L -c %s "$initrd") bytes, 256 MiB, 1 vCPU"
echo "command line: $cmdline"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$SECONDS

for r in $(seq "$runs"); do
	echo "round $r/$runs ..." >&2
	boot_kvmfs "$r"
	for m in "${machine_list[@]}"; do
		boot_qemu "$m" "$r"
	done
done

# median FILE: the median of the numbers in FILE (a failed boot's
# "fail" and a missing "-" left out), or - when there are none.
median() {
	grep -E '^[0-9.]+$' "$1" | sort -g | awk '{ v[NR] = $1 }
		END {
			if (NR == 0) { printf "-"; exit }
			printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		}'
}

head_line="| run | kvmfs: first write to prompt (s) | of it loading (s) | kvmfs: kernel's Run /init at (s) |"
rule="|---|---|---|---|"
for m in "${machine_list[@]}"; do
	head_line+=" QEMU -M $m: start to prompt (s) | its Run /init at (s) |"
	rule+="---|---|"
done
echo
echo "$head_line"
echo "$rule"
for r in $(seq "$runs"); do
	read -r kt kl ki <"$tmp/r-kvmfs$r"
	echo "$kt" >>"$tmp/col-kvmfs"
	echo "$kl" >>"$tmp/col-load"
	echo "$ki" >>"$tmp/col-kinit"
	[ "$kt" != fail ] || kt="no prompt"
	row="| $r | $kt | $kl | $ki |"
	for m in "${machine_list[@]}"; do
		read -r qt qi <"$tmp/r-$m$r"
		echo "$qt" >>"$tmp/col-$m"
		echo "$qi" >>"$tmp/col-init-$m"
		[ "$qt" != fail ] || qt="no prompt"
		row+=" $qt | $qi |"
	done
	echo "$row"
done
row="| median | $(median "$tmp/col-kvmfs") | $(median "$tmp/col-load") | $(median "$tmp/col-kinit") |"
for m in "${machine_list[@]}"; do
	row+=" $(median "$tmp/col-$m") | $(median "$tmp/col-init-$m") |"
done
echo "$row"
echo
for m in "${machine_list[@]}"; do
	awk -v k="$(median "$tmp/col-kvmfs")" -v q="$(median "$tmp/col-$m")" -v m="$m" \
		'BEGIN { if (k == "-" || q == "-") printf "kvmfs / QEMU -M %s: no ratio, a side never reached the prompt\n", m
			else printf "kvmfs / QEMU -M %s (medians, to the prompt): %.2f\n", m, k / q }'
done
if [ -s "$tmp/notes" ]; then
	echo "boots that did not reach the prompt (left out of the medians):"
	sed 's/^/  /' "$tmp/notes"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$((SECONDS - start)) s in all"
