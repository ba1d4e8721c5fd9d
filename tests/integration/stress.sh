# Load.  Four client processes do random operations on a shared
# set of VMs for STRESS_SECONDS (default 60); afterwards the server is
# alive, every VM answers consistently, and its fd count and RSS are back
# where they started (within a small tolerance) once the VMs are gone.
# In the full-KVM lane this test runs on one emulated CPU: with two, the
# emulated CPU that runs the nested guests wedged twice in a dozen runs
# on 2026-12-01 (an RCU stall, QEMU deaf to SIGTERM), a fault of QEMU's
# emulation under this load, not of kvmfs (docs/testing.md).
KVMFS_LANE_SMP=1
. "$(dirname "$0")/lib.bash"
mount_kvmfs
V=$MNT/vms
pid=$(server_pid)
fds() { ls /proc/"$pid"/fd | wc -l; }
rss() { server_rss "$pid"; }
threads() { server_threads "$pid"; }
# Warm up the worker threads first.
for i in 1 2 3 4; do (mkdir "$V/w$i"; echo 'mem 64K' >"$V/w$i/ctl"; cat "$V/w$i/regs" >/dev/null; rmdir "$V/w$i") & done
wait $(jobs -p | grep -v "^$KVMFS_PID\$") 2>/dev/null
fd0=$(fds) rss0=$(rss) th0=$(threads)

python3 "$(dirname "$0")/stress.py" "$MNT" "$GUESTS" "${STRESS_SECONDS:-60}" 4 "$pid"
case $? in
0) pass "4 clients for ${STRESS_SECONDS:-60} s" ;;
2)
	# A call never returned: what follows would hang on it too.
	fail "4 clients for ${STRESS_SECONDS:-60} s: a client was stuck (above)"
	tail -n 20 "$WORK/server.log"
	finish
	exit
	;;
*) fail "4 clients for ${STRESS_SECONDS:-60} s" ;;
esac

check "server alive" kill -0 "$pid"
expect_eq "version still answers" "$(cat "$MNT/version")" 12
consistent=0 total=0
for d in "$V"/*/; do
	total=$((total + 1))
	echo stop >"$d/ctl" 2>/dev/null
	size=$(stat -c %s "$d/memory")
	st=$(field "$d/status" memory)
	ctl=$(awk '$1 == "mem" { print $2 }' "$d/ctl")
	if [ "$size" = "$st" ] && { [ "$size" = 0 ] || [ $((ctl)) = "$size" ]; } && cat "$d/regs" "$d/sregs" >/dev/null; then
		consistent=$((consistent + 1))
	else
		echo "inconsistent: $d size=$size status=$st ctl=$ctl"
	fi
	rmdir "$d"
done
expect_eq "every VM left is consistent ($total)" "$consistent" "$total"
expect_eq "no guest memory accounted" "$(field "$MNT/status" memory)" 0
fd1=$(fds) rss1=$(rss) th1=$(threads)
expect_eq "fd count back ($fd0)" "$fd1" "$fd0"
# In the lane the server ends 5.7-6.2 MB above where it started in every
# run of 2026-12-01 (libfuse's workers and glibc's arenas as the slow
# emulation's timing makes them), on one emulated CPU with fewer new
# threads to account for it: twice the slack there.
slack=4096
[ "${KVMFS_FULLKVM:-}" = 1 ] && slack=8192
expect_rss_back "RSS back after the stress" "$rss0" "$rss1" "$th0" "$th1" "$slack"
check "server exits 0" unmount_kvmfs
finish
