#!/bin/bash
# kvmfs against plain KVM ioctls, in one command: build, mount kvmfs in a
# temporary directory, run each benchmark pair alternately (baseline,
# kvmfs, baseline, kvmfs, ...) and print one Markdown table of medians
# with min-max and the target of each ratio, plus the floor: what the
# emptiest FUSE server (bench/nullfs) costs here.  By default the kvmfs
# server, its client, direct.c, nullfs and dd all run on one CPU (taskset),
# because a FUSE round trip between CPUs costs several times more than on
# one CPU on this host (see docs/performance.md); --no-pin shows the other
# case, --rt runs everything SCHED_FIFO to shut out other load.  The
# mounts, the servers and the tmpfs file are always cleaned up.
#
# On a machine without a usable /dev/kvm (or with KVMFS_NO_HOST_KVM=1) it
# runs itself inside the full-KVM lane (tests/fullkvm/run.sh --exec,
# docs/testing.md) with smaller counts (a full run there takes about 5
# minutes): the ratios are comparisons on that emulated machine, and no
# absolute figure of it holds anywhere else.
set -euo pipefail
args=("$@")

srcdir=$(cd "$(dirname "$0")/.." && pwd)
build=$srcdir/build
reps=5
pin=1
rt=0
cpu=0
do_build=1
use_strace=1
only=all
exits=1000000
lifecycles=300
regs_reads=20000
steps=20000
step_batch=64
steps_batched=64000
nvms=1000
idle_vms=256
mem_mib=256
kvmfs_opts=()
lane=0

usage() {
	cat <<EOF
usage: bench/run.sh [options]
  -B DIR         build directory (default: $build)
  --reps N       repetitions of each pair (default: $reps)
  --no-pin       let the scheduler place every process (default: all on one CPU)
  --cpu N        the CPU to pin to (default: $cpu)
  --rt           run every process SCHED_FIFO (chrt -f 50; needs root), so
                 that other load on a shared machine does not get in
  --exits N      outs to 0xE9 for the exit benchmark (default: $exits)
  --step-batch N instructions per run read in the batched single-step
                 benchmark (step N; 1 to 4096, default: $step_batch)
  --only LIST    comma-separated subset of: exits,lifecycle,regs,mem,vms,rss,step,smp
  --no-build     do not run meson
  --no-strace    skip the check that regs reads issue no vCPU ioctl
  -o OPTS        mount options for kvmfs, e.g. -o seccomp (repeatable)
  --lane-counts  the smaller counts of a run inside the full-KVM lane
                 (chosen by itself there)
EOF
}

while [ $# -gt 0 ]; do
	case $1 in
	-B) build=$(realpath -m "$2"); shift ;;
	--reps) reps=$2; shift ;;
	--no-pin) pin=0 ;;
	--cpu) cpu=$2; shift ;;
	--rt) rt=1 ;;
	--exits) exits=$2; shift ;;
	--step-batch) step_batch=$2; shift ;;
	--only) only=$2; shift ;;
	--no-build) do_build=0 ;;
	--no-strace) use_strace=0 ;;
	-o) kvmfs_opts+=(-o "$2"); shift ;;
	--lane-counts) lane=1 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done

want() {
	[ "$only" = all ] || [[ ,$only, == *,$1,* ]]
}

if [ $do_build = 1 ]; then
	if [ ! -f "$build/build.ninja" ]; then
		meson setup "$build" "$srcdir" >/dev/null
	elif ! grep -q 'bench/direct' "$build/build.ninja"; then
		# Configured before bench/ existed.
		meson setup --reconfigure "$build" "$srcdir" >/dev/null
	fi
	meson compile -C "$build" >/dev/null
fi

# Without a usable host KVM: the same run inside the lane.
if [ "${KVMFS_FULLKVM:-}" != 1 ] &&
	{ [ "${KVMFS_NO_HOST_KVM:-}" = 1 ] || [ ! -c /dev/kvm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; }; then
	echo "bench: no usable /dev/kvm on this machine: running inside QEMU's emulation (the full-KVM lane): ratios only, no absolute figure holds"
	rev=$(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null || echo unknown)
	if [ -n "$(git -C "$srcdir" status --porcelain -- src 2>/dev/null)" ]; then
		rev="$rev with changes in src/"
	fi
	lane_cmd="KVMFS_BENCH_REV='$rev' bash bench/run.sh -B /kvmfs/build --no-build --lane-counts"
	for a in ${args[@]+"${args[@]}"}; do
		lane_cmd+=" $(printf '%q' "$a")"
	done
	BUILDDIR=$build KVMFS=$build/src/kvmfs GUESTS=$build/guests \
		FULLKVM_TIMEOUT=${FULLKVM_TIMEOUT:-1800} FULLKVM_SILENCE=${FULLKVM_SILENCE:-900} \
		exec bash "$srcdir/tests/fullkvm/run.sh" --exec "$lane_cmd"
fi
[ "${KVMFS_FULLKVM:-}" != 1 ] || lane=1
if [ $lane = 1 ]; then
	# Inside the lane: a guest gets about 23,000 exits/s and a FUSE
	# request costs about 110 us, so about a fifth of each count (a full
	# run takes about 5 minutes there).
	[ "$exits" != 1000000 ] || exits=100000
	lifecycles=60
	regs_reads=4000
	steps=4000
	steps_batched=12800
	nvms=200
	idle_vms=64
	mem_mib=64
fi

kvmfs=$build/src/kvmfs
direct=$build/bench/direct
client=$build/bench/kvmfs-client
nullfs=$build/bench/nullfs
guests=$build/guests
for f in "$kvmfs" "$direct" "$client" "$nullfs" "$guests/count.bin"; do
	if [ ! -e "$f" ]; then
		echo "run.sh: $f is missing (build first, or drop --no-build)" >&2
		exit 1
	fi
done
for dev in /dev/kvm /dev/fuse; do
	if [ ! -r "$dev" ] || [ ! -w "$dev" ]; then
		echo "run.sh: $dev is not usable" >&2
		exit 1
	fi
done

tmp=$(mktemp -d /tmp/kvmfs-bench.XXXXXX)
mnt=$tmp/mnt
shmfile=$(mktemp /dev/shm/kvmfs-bench.XXXXXX)
mounts=()
servers=()

# shellcheck disable=SC2317  # called by the trap
cleanup() {
	set +e
	local m s
	for m in "${mounts[@]}"; do
		if mountpoint -q "$m" 2>/dev/null; then
			fusermount3 -u "$m" 2>/dev/null || umount -l "$m"
		fi
	done
	for s in "${servers[@]}"; do
		kill "$s" 2>/dev/null
		wait "$s" 2>/dev/null
	done
	rm -f "$shmfile"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ $pin = 1 ]; then
	if [ "$cpu" -ge "$(nproc)" ]; then
		echo "run.sh: there is no CPU $cpu" >&2
		exit 1
	fi
	pinned=(taskset -c "$cpu")
	placement="pinned: kvmfs (all its threads), its client, direct.c, nullfs and dd on CPU $cpu"
else
	pinned=()
	placement="not pinned (--no-pin): the scheduler places every thread"
fi
if [ $rt = 1 ]; then
	if ! chrt -f 50 true 2>/dev/null; then
		echo "run.sh: --rt needs permission to use SCHED_FIFO (root)" >&2
		exit 1
	fi
	pinned=(chrt -f 50 "${pinned[@]}")
	placement="$placement; all SCHED_FIFO 50 (--rt)"
fi

# mount_kvmfs DIR [SERVER FILE]: start kvmfs (or SERVER, which serves
# FILE) on DIR; its pid is left in $server.
mount_kvmfs() {
	mkdir -p "$1"
	mounts+=("$1")
	if [ -n "${2:-}" ]; then
		"${pinned[@]}" "$2" -f "$1" 2>>"$tmp/server.log" &
	else
		"${pinned[@]}" "$kvmfs" ${kvmfs_opts[@]+"${kvmfs_opts[@]}"} -f "$1" 2>>"$tmp/server.log" &
	fi
	server=$!
	servers+=("$server")
	for _ in $(seq 100); do
		if mountpoint -q "$1" && [ -r "$1/${3:-version}" ]; then
			return 0
		fi
		sleep 0.05
	done
	echo "run.sh: kvmfs did not mount on $1:" >&2
	cat "$tmp/server.log" >&2
	exit 1
}

# unmount_kvmfs DIR: unmount and wait for the server in $server.
unmount_kvmfs() {
	fusermount3 -u "$1"
	wait "$server" 2>/dev/null || true
}

mount_kvmfs "$mnt"
main_server=$server
mount_kvmfs "$tmp/null" "$nullfs" f

# Results on stdout; the time breakdowns on stderr go to a log.
run_direct() {
	"${pinned[@]}" "$direct" "$guests" "$@" 2>>"$tmp/breakdown.log"
}

run_client() {
	"${pinned[@]}" "$client" "$mnt" "$guests" "$@" 2>>"$tmp/breakdown.log"
}

# record KEY SIDE VALUE
record() {
	echo "$3" >>"$tmp/$1.$2"
}

# pair KEY ARGS...: one baseline run and one kvmfs run of the same command.
pair() {
	local key=$1 t0=$SECONDS
	shift
	record "$key" base "$(run_direct "$@")"
	record "$key" kvmfs "$(run_client "$@")"
	echo "  $key: $((SECONDS - t0)) s" >&2
}

# dd_rate IF OF BS COUNT [FLAGS]: MiB/s, checking every byte was copied.
dd_rate() {
	local out bytes secs
	out=$(LC_ALL=C "${pinned[@]}" dd if="$1" of="$2" bs="$3" count="$4" \
		${5:+"$5"} conv=notrunc 2>&1 >/dev/null | grep copied)
	bytes=${out%% *}
	secs=$(awk '{ print $(NF - 3) }' <<<"$out")
	if [ "$bytes" != $((mem_mib << 20)) ]; then
		echo "run.sh: dd copied $bytes bytes: $out" >&2
		exit 1
	fi
	awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.1f\n", b / 1048576 / s }'
}

mem_setup() {
	local vm=$mnt/vms/bench-mem
	mkdir "$vm"
	echo "mem ${mem_mib}M" >"$vm/ctl"
	memfile=$vm/memory
	# Fault every page in on both sides first: the rounds measure
	# copying, not first-touch allocation.
	dd if=/dev/zero of="$shmfile" bs=1M count="$mem_mib" status=none
	dd if=/dev/zero of="$memfile" bs=1M count="$mem_mib" conv=notrunc status=none
}

mem_round() {
	local bs count name
	for bs in 1M 128k; do
		case $bs in
		1M) count=$mem_mib ;;
		128k) count=$((mem_mib * 8)) ;;
		esac
		for name in write read; do
			if [ $name = write ]; then
				record "mem-$name-$bs" base "$(dd_rate /dev/zero "$shmfile" "$bs" "$count")"
				record "mem-$name-$bs" kvmfs "$(dd_rate /dev/zero "$memfile" "$bs" "$count")"
			else
				record "mem-$name-$bs" base "$(dd_rate "$shmfile" /dev/null "$bs" "$count" iflag=fullblock)"
				record "mem-$name-$bs" kvmfs "$(dd_rate "$memfile" /dev/null "$bs" "$count" iflag=fullblock)"
			fi
		done
	done
}

echo "kvmfs benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr), $(nproc) CPUs" \
	"($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo))"
if [ "${KVMFS_FULLKVM:-}" = 1 ]; then
	echo "inside QEMU's emulation (the full-KVM lane, QEMU ${KVMFS_FULLKVM_QEMU_VERSION:-?}, an SVM KVM nested under TCG): ratios only, no absolute figure holds; counts scaled down"
fi
echo "$placement; $reps repetitions, each pair alternated (baseline, kvmfs, ...)"
if [ -n "${KVMFS_BENCH_REV:-}" ]; then
	echo "kvmfs at commit $KVMFS_BENCH_REV"
elif rev=$(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null); then
	if [ -n "$(git -C "$srcdir" status --porcelain -- src 2>/dev/null)" ]; then
		rev="$rev with changes in src/"
	fi
	echo "kvmfs at commit $rev"
fi
if [ ${#kvmfs_opts[@]} -gt 0 ]; then
	echo "kvmfs mounted with: ${kvmfs_opts[*]}"
fi
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s)

want mem && mem_setup
for rep in $(seq "$reps"); do
	echo "round $rep/$reps ..." >&2
	want exits && pair exits exits "$exits"
	# Several vCPUs exiting at once (cpus K, a run read per vCPU on its
	# own thread) against K threads of KVM_RUN in one process; each
	# vCPU does a quarter of the exit benchmark's outs.
	if want smp; then
		pair smp2 smp2 $((exits / 4))
		pair smp4 smp4 $((exits / 4))
	fi
	want lifecycle && pair lifecycle lifecycle "$lifecycles"
	if want regs; then
		pair regs regs "$regs_reads"
		record floor-stat kvmfs "$("${pinned[@]}" "$client" "$tmp/null" "$guests" null-stat "$regs_reads")"
		record floor-read kvmfs "$("${pinned[@]}" "$client" "$tmp/null" "$guests" null-read "$regs_reads")"
	fi
	want mem && mem_round
	want vms && pair vms vms "$nvms"
	if want step; then
		pair step step "$steps"
		# The same direct.c baseline; kvmfs steps step_batch at a time.
		record stepb base "$(run_direct step "$steps_batched")"
		record stepb kvmfs "$(run_client stepb "$steps_batched" "$step_batch")"
	fi
	if want rss; then
		# A fresh server for each: memory freed by earlier work would
		# otherwise be reused and hide the cost.
		for variant in rss rss-vcpu rss-cpus; do
			mount_kvmfs "$tmp/mnt-rss"
			record "$variant" kvmfs "$("${pinned[@]}" "$client" "$tmp/mnt-rss" \
				"$guests" "$variant" "$idle_vms" "$server" 2>>"$tmp/rss.log")"
			unmount_kvmfs "$tmp/mnt-rss"
		done
	fi
done
want mem && rmdir "$mnt/vms/bench-mem"

# The regs claim: reading regs of a stopped vCPU issues no vCPU ioctl.
# Count the server's KVM ioctls for 1 read and for 2001 reads (same
# set-up); the difference is what the 2000 extra reads cost.
ioctls_per_read=
if want regs && [ $use_strace = 1 ] && ! command -v strace >/dev/null; then
	ioctls_per_read="(not checked: strace is not installed)"
elif want regs && [ $use_strace = 1 ]; then
	count_ioctls() {
		local log=$tmp/strace.$1 st
		strace -f -qq -e trace=ioctl -e signal=none -o "$log" -p "$main_server" &
		st=$!
		sleep 0.5
		run_client regs "$1" >/dev/null
		sleep 0.2
		kill -INT "$st"
		wait "$st" 2>/dev/null || true
		grep -c 'KVM_' "$log" || true
	}
	one=$(count_ioctls 1)
	many=$(count_ioctls 2001)
	ioctls_per_read=$(awk -v a="$one" -v b="$many" \
		'BEGIN { printf "%.3f KVM ioctls per read in the server (strace)", (b - a) / 2000 }')
fi

# stats FILE: "median (min-max)" and the median alone, tab-separated.
stats() {
	sort -g "$1" | awk '
		{ v[NR] = $1 }
		END {
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%s (%s-%s)\t%s\n", fmt(m), fmt(v[1]), fmt(v[NR]), m
		}
		function fmt(x) {
			if (x >= 1000) return sprintf("%.0f", x)
			if (x >= 100) return sprintf("%.1f", x)
			return sprintf("%.2f", x)
		}'
}

# row KEY TITLE UNIT OP LIMIT: OP is >= (higher is better) or <=; the
# ratio is kvmfs / baseline, or the kvmfs value itself when there is no
# baseline.
failed=0
check() {
	awk -v v="$1" -v op="$2" -v l="$3" \
		'BEGIN { print (op == ">=" ? v + 0 >= l : v + 0 <= l) ? "yes" : "**no**" }'
}

row() {
	local key=$1 title=$2 unit=$3 op=$4 limit=$5 kv km base bm ratio met
	[ -f "$tmp/$key.kvmfs" ] || return 0
	IFS=$'\t' read -r kv km < <(stats "$tmp/$key.kvmfs")
	if [ -f "$tmp/$key.base" ]; then
		IFS=$'\t' read -r base bm < <(stats "$tmp/$key.base")
		ratio=$(awk -v a="$km" -v b="$bm" 'BEGIN { printf "%.2f", a / b }')
		met=$(check "$ratio" "$op" "$limit")
		printf '| %s | %s %s | %s %s | %s | %s %s | %s |\n' "$title" \
			"$base" "$unit" "$kv" "$unit" "$ratio" "$op" "$limit" "$met"
	else
		# An absolute target: the kvmfs median itself is checked.
		met=$(check "$km" "$op" "$limit")
		printf '| %s | - | %s %s | - | %s %s %s | %s |\n' "$title" \
			"$kv" "$unit" "$op" "$limit" "$unit" "$met"
	fi
	[ "$met" = yes ] || failed=$((failed + 1))
}

echo
echo "| metric | baseline | kvmfs | ratio | target | met |"
echo "|---|---|---|---|---|---|"
row exits "guest exits/s inside the server (count guest, $exits outs to 0xE9, console on)" "exits/s" ">=" 0.95
row smp2 "guest exits/s, 2 vCPUs at once (cpus 2, $((exits / 4)) outs each; baseline: 2 threads)" "exits/s" ">=" 0.95
row smp4 "guest exits/s, 4 vCPUs at once (cpus 4, $((exits / 4)) outs each; baseline: 4 threads)" "exits/s" ">=" 0.95
row lifecycle "VM lifecycle: mkdir, mem 2M, load 4 KiB, mode real, run to hlt, rmdir" "us" "<=" 1.3
row regs "regs read: open+read+close vs KVM_GET_REGS" "us" "<=" 3
row mem-read-1M "memory read, dd bs=1M, $mem_mib MiB (baseline: tmpfs file)" "MiB/s" ">=" 0.6
row mem-write-1M "memory write, dd bs=1M, $mem_mib MiB" "MiB/s" ">=" 0.6
row mem-read-128k "memory read, dd bs=128k, $mem_mib MiB" "MiB/s" ">=" 0.45
row mem-write-128k "memory write, dd bs=128k, $mem_mib MiB" "MiB/s" ">=" 0.45
row vms "$nvms VMs: mkdir each, then rmdir each" "ms" "<=" 1.5
row rss "server RSS per idle VM, 2 MiB untouched, no vCPU ($idle_vms VMs)" "KiB" "<=" 64
row rss-vcpu "server RSS per idle VM, 2 MiB untouched, vCPU 0 created ($idle_vms VMs)" "KiB" "<=" 64
row rss-cpus "server RSS per idle vCPU ($idle_vms VMs of cpus 4, the VM's share included)" "KiB" "<=" 64
row step "single-step: steps/s (step > ctl, read run) vs KVM_RUN" "steps/s" ">=" 0.3
row stepb "single-step, batched (step $step_batch > ctl, read run: $step_batch lines) vs KVM_RUN" "steps/s" ">=" 0.3
echo
if [ -f "$tmp/floor-read.kvmfs" ]; then
	echo "FUSE floor here (bench/nullfs, an empty FUSE server, same placement):" \
		"one request (stat) $(stats "$tmp/floor-stat.kvmfs" | cut -f1) us," \
		"open+read+close of a 415-byte file $(stats "$tmp/floor-read.kvmfs" | cut -f1) us"
fi
if [ -n "$ioctls_per_read" ]; then
	echo "regs reads of a stopped vCPU: $ioctls_per_read"
fi
if [ -s "$tmp/rss.log" ]; then
	sed "s/^kvmfs-client: /rss, last round: /" "$tmp/rss.log" | tail -n 3
fi
if [ -s "$tmp/breakdown.log" ]; then
	echo "time breakdown, last round:"
	for what in lifecycle vms step stepb; do
		for prog in direct kvmfs-client; do
			{ grep "^$prog $what " "$tmp/breakdown.log" || true; } |
				tail -n 1 | sed 's/^/  /'
		done
	done
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ratios are kvmfs / baseline of the medians; $(($(date +%s) - start)) s in all"
if [ $failed -gt 0 ]; then
	echo "$failed target(s) missed"
fi
exit 0
