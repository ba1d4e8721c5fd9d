# Devices, from the user's side: ctl irqchip (before the vCPU only), the
# pio/mmio policy (ranges printed back, counted in status, bad ones and a
# 17th refused with nothing changed), the ports guest with and without an
# ignore range, vms/NAME/input (hidden, bounded, EAGAIN when full,
# write-only), and the uarthammer guest (guests/README.md), which hammers
# the UART, unknown ports and MMIO with and without the irqchip: the
# guest cannot crash the server through the UART, the irqchip or the
# port policy.
. "$(dirname "$0")/lib.bash"
mount_kvmfs
V=$MNT/vms
TF=$(time_factor)

# mem32 VM ADDR: the dword at guest-physical ADDR, in decimal.
mem32() { od -An -tu4 -j "$(($2))" -N 4 "$V/$1/memory" | tr -d ' '; }
# write_bytes FILE N BYTE...: one os.write of N bytes per N, each answer
# (the count taken, or the errno's name) on a line of its own.
write_bytes() {
	python3 - "$@" <<'EOF'
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
for n in sys.argv[2:]:
    try:
        print(os.write(fd, b'i' * int(n)))
    except OSError as e:
        print(errno.errorcode[e.errno])
os.close(fd)
EOF
}

# --- irqchip: on a new VM only ------------------------------------------------
mkdir "$V/ic"
check "irqchip on a new VM" bash -c "echo irqchip > '$V/ic/ctl'"
expect_eq "ctl prints it" "$(grep -c '^irqchip$' "$V/ic/ctl")" 1
expect_eq "status says irqchip 1" "$(field "$V/ic/status" irqchip)" 1
check "irqchip twice is fine" bash -c "echo irqchip > '$V/ic/ctl'"
expect_eq "still one irqchip line in ctl" "$(grep -c '^irqchip$' "$V/ic/ctl")" 1
expect_eq "error none" "$(field "$V/ic/status" error)" none
mkdir "$V/late"
cat "$V/late/regs" >/dev/null
expect_fail "irqchip after cat regs made the vCPU" "Device or resource busy" \
	bash -c "echo irqchip > '$V/late/ctl'"
expect_match "the error line says why and what to do" "$(field "$V/late/status" error)" \
	"^irqchip: the vCPU exists already .*write irqchip to the ctl of a new VM first"
expect_eq "that VM has no irqchip" "$(field "$V/late/status" irqchip)" 0
expect_eq "and ctl does not print one" "$(grep -c '^irqchip' "$V/late/ctl")" 0
mkdir "$V/order"
printf 'mem 64K\nmode real\nirqchip\n' >"$WORK/order"
expect_fail "irqchip after mode in one write" "Device or resource busy" \
	bash -c "cat '$WORK/order' > '$V/order/ctl'"
expect_match "refused whole, naming the line" "$(field "$V/order/status" error)" \
	"^ctl: line 3: irqchip: the vCPU exists already.*\(no line applied\)$"
expect_eq "no line applied: no memory, no vCPU" \
	"$(field "$V/order/status" memory) $(field "$V/order/status" vcpus)" "0 0"
rmdir "$V/order" "$V/late"

# With the irqchip KVM handles hlt itself: hello32 halts with IF clear and
# sleeps until the timeout, its words on the console.
echo 'mem 64K' >"$V/ic/ctl"
echo 'mode protected' >"$V/ic/ctl"
echo "timeout $((300 * TF))" >"$V/ic/ctl"
load_guest ic hello32
expect_match "hello32 with the irqchip: the run ends on the timeout" \
	"$(timeout $((5 * TF)) cat "$V/ic/run")" "^timeout rip=0x[0-9a-f]{16}$"
expect_eq "its words on the console" "$(cat "$V/ic/console")" "Hello, world!"
expect_eq "no hlt exit" "$(field "$V/ic/status" exits_hlt)" 0
rmdir "$V/ic"

# --- pio and mmio ranges --------------------------------------------------------
mkdir "$V/pp"
echo 'pio 0x80-0x8f ignore' >"$V/pp/ctl"
echo 'mmio 0xd0000000-0xdfffffff ignore' >"$V/pp/ctl"
expect_eq "ctl prints the ranges back" "$(grep -E '^(pio|mmio) ' "$V/pp/ctl" | tr '\n' ';')" \
	"pio 0x80-0x8f ignore;mmio 0xd0000000-0xdfffffff ignore;"
expect_eq "status has a policy line each, counting 0" "$(grep '^policy ' "$V/pp/status" | tr '\n' ';')" \
	"policy pio 0x80-0x8f ignore 0;policy mmio 0xd0000000-0xdfffffff ignore 0;"
before=$(cat "$V/pp/ctl")
for bad in 'pio 0x90-0x80 ignore' 'pio 0x10000 ignore' 'pio 0x80-0x10000 ignore' \
	'pio 0x80 frob' 'pio 0x80-0x8f' 'pio 0x80- ignore' 'pio -0x8f ignore' \
	'pio 0x80 ignore now' 'mmio 0x2000-0x1000 stop' 'mmio 0xd0000000-0x10000000000000000 ignore'; do
	expect_fail "'$bad' refused" "Invalid argument" bash -c "echo '$bad' > '$V/pp/ctl'"
	expect_eq "'$bad' changed nothing" "$(cat "$V/pp/ctl")" "$before"
done
echo 'pio 0x90-0x80 ignore' >"$V/pp/ctl" 2>/dev/null
expect_eq "a backwards range: the reason" "$(field "$V/pp/status" error)" \
	"ctl: line 1: pio: range '0x90-0x80' must go upwards and end by 0xffff"
echo 'pio 0x10000 ignore' >"$V/pp/ctl" 2>/dev/null
expect_eq "a port over 0xffff: the reason" "$(field "$V/pp/status" error)" \
	"ctl: line 1: pio: range '0x10000' must go upwards and end by 0xffff"
echo 'pio 0x80 frob' >"$V/pp/ctl" 2>/dev/null
expect_eq "an unknown action: the reason" "$(field "$V/pp/status" error)" \
	"ctl: line 1: pio: unknown action 'frob' (ignore, stop)"
printf 'pio 0x100 ignore\npio 0x200 frob\n' >"$WORK/two"
expect_fail "a good range and a bad one in one write" "Invalid argument" \
	bash -c "cat '$WORK/two' > '$V/pp/ctl'"
expect_eq "neither applied" "$(cat "$V/pp/ctl")" "$before"
echo 'pio 0x70 ignore' >"$V/pp/ctl"
expect_eq "one port is a range of one" "$(grep -c '^pio 0x70-0x70 ignore$' "$V/pp/ctl")" 1
echo 'pio 0x80-0x8f stop' >"$V/pp/ctl"
expect_eq "the same range again replaces its action" \
	"$(grep -E '^pio 0x80-0x8f ' "$V/pp/ctl" | tr '\n' ';')" "pio 0x80-0x8f stop;"
expect_eq "three ranges" "$(grep -c '^policy ' "$V/pp/status")" 3
for i in $(seq 13); do
	echo "pio $((0x1000 + i)) ignore" >"$V/pp/ctl" || fail "range $((3 + i)) refused"
done
expect_eq "sixteen ranges taken" "$(grep -c '^policy ' "$V/pp/status")" 16
before=$(cat "$V/pp/ctl")
expect_fail "a 17th pio range is refused" "No space left on device" \
	bash -c "echo 'pio 0x2000 ignore' > '$V/pp/ctl'"
expect_eq "the error line says the limit" "$(field "$V/pp/status" error)" "pio: more than 16 ranges"
expect_fail "a 17th mmio range too" "No space left on device" \
	bash -c "echo 'mmio 0xe0000000 ignore' > '$V/pp/ctl'"
expect_eq "nothing changed" "$(cat "$V/pp/ctl")" "$before"
expect_eq "still sixteen policy lines" "$(grep -c '^policy ' "$V/pp/status")" 16
check "replacing a range of a full table is fine" bash -c "echo 'pio 0x70 stop' > '$V/pp/ctl'"
expect_eq "it took the new action" "$(grep -c '^pio 0x70-0x70 stop$' "$V/pp/ctl")" 1
rmdir "$V/pp"
mkdir "$V/p17"
for i in $(seq 17); do echo "pio $i ignore"; done >"$WORK/17"
expect_fail "17 ranges in one write" "No space left on device" \
	bash -c "cat '$WORK/17' > '$V/p17/ctl'"
expect_match "refused at the 17th line" "$(field "$V/p17/status" error)" \
	"^ctl: line 17: pio: more than 16 ranges \(no line applied\)$"
expect_eq "none of them applied" "$(grep -c '^policy ' "$V/p17/status")" 0
head -16 "$WORK/17" >"$WORK/16"
check "16 in one write are taken" bash -c "cat '$WORK/16' > '$V/p17/ctl'"
expect_eq "sixteen policy lines" "$(grep -c '^policy ' "$V/p17/status")" 16
rmdir "$V/p17"

# --- the ports guest: out 0x10, in 0x60, out 0x11, in 0x62, hlt -------------
new_vm pg 64K real
load_guest pg ports
expect_match "no range: the out to 0x10 ends the run" "$(cat "$V/pg/run")" \
	"^io out port=0x0010 size=1 count=1 data=0x42 rip="
echo 'pio 0x60 ignore' >"$V/pg/ctl"
expect_match "0x60 ignored: the run goes past the in, to the out to 0x11" "$(cat "$V/pg/run")" \
	"^io out port=0x0011 size=2 count=1 data=0x1234 rip="
expect_eq "the range counted the in" "$(grep '^policy ' "$V/pg/status")" "policy pio 0x60-0x60 ignore 1"
echo 'pio 0x62 ignore' >"$V/pg/ctl"
expect_match "0x62 ignored too: the run ends on hlt" "$(cat "$V/pg/run")" "^hlt rip=0x000000000000001a$"
expect_eq "ignored reads gave all ones" "$(xxd -p -s 0x400 -l 8 "$V/pg/memory")" ff000000ffffffff
expect_eq "four io exits over three runs" "$(field "$V/pg/status" exits_io) $(field "$V/pg/status" runs)" "4 3"
new_vm pa 64K real
echo 'pio 0x0-0xffff ignore' >"$V/pa/ctl"
echo 'pio 0x11 stop' >"$V/pa/ctl"
load_guest pa ports
expect_match "ignore everything but a newer stop at 0x11" "$(cat "$V/pa/run")" \
	"^io out port=0x0011 size=2 count=1 data=0x1234 rip="
expect_eq "each range counted what it decided" "$(grep '^policy ' "$V/pa/status" | tr '\n' ';')" \
	"policy pio 0x0-0xffff ignore 2;policy pio 0x11-0x11 stop 1;"
expect_match "then on to hlt" "$(cat "$V/pa/run")" "^hlt "
expect_eq "the wide range counted the in from 0x62" "$(grep '^policy pio 0x0-0xffff' "$V/pa/status")" \
	"policy pio 0x0-0xffff ignore 3"
echo 'pio 0x0-0xffff stop' >"$V/pa/ctl"
echo 'mode real' >"$V/pa/ctl"
load_guest pa hello16
expect_match "a stop range over 0xE9: the console is a device and comes first" \
	"$(cat "$V/pa/run")" "^hlt "
expect_eq "the console has the greeting" "$(cat "$V/pa/console")" "Hello, world!"
new_vm pm 2M protected
echo 'mmio 0xd0000000-0xd0000fff ignore' >"$V/pm/ctl"
load_guest pm mmio
expect_match "the mmio guest with its addresses ignored runs to hlt" "$(cat "$V/pm/run")" "^hlt "
expect_eq "an ignored MMIO read gives all ones" "$(field "$V/pm/regs" rax)" 0x00000000ffffffff
expect_eq "both accesses counted" "$(grep '^policy ' "$V/pm/status")" \
	"policy mmio 0xd0000000-0xd0000fff ignore 2"
rmdir "$V/pg" "$V/pa" "$V/pm"

# --- input: hidden, bounded, write-only ---------------------------------------
mkdir "$V/in"
expect_eq "input is not listed" "$(ls -a "$V/in" | grep -c '^input$')" 0
check "but is there by name" test -e "$V/in/input"
printf 'abc' >"$V/in/input"
expect_eq "printf abc > input: 3 bytes queued" "$(field "$V/in/status" uart_queued)" 3
expect_eq "one write of 5000 takes what fits, then a byte more is refused" \
	"$(write_bytes "$V/in/input" 5000 1 | tr '\n' ' ')" "4093 EAGAIN "
expect_eq "the queue is full" "$(field "$V/in/status" uart_queued)" 4096
expect_eq "the refusal counted" "$(field "$V/in/status" uart_refused)" 1
expect_match "and explained" "$(field "$V/in/status" error)" "^input: the UART's queue is full \(4096 bytes\)"
expect_fail "a shell write to a full queue" "Resource temporarily unavailable" \
	bash -c "printf z > '$V/in/input'"
expect_fail "input cannot be read" "Permission denied" cat "$V/in/input"
expect_fail "nor opened read-write" "Permission denied" python3 -c "
import os, sys
os.open(sys.argv[1], os.O_RDWR)" "$V/in/input"
expect_eq "still 4096 queued" "$(field "$V/in/status" uart_queued)" 4096
rmdir "$V/in"

# --- uarthammer with the irqchip, every port and MMIO above memory ignored
rss0=$(server_rss "$(server_pid)")
thr0=$(server_threads "$(server_pid)")
mkdir "$V/h"
cat >"$V/h/ctl" <<EOF
irqchip
mem 1M
pio 0x0-0xffff ignore
mmio 0x100000-0xffffffff ignore
mode protected
EOF
expect_eq "the hammer VM: irqchip, mem, two ranges, mode in one write" \
	"$(grep -cE '^(irqchip|mem 0x100000|pio 0x0-0xffff ignore|mmio 0x100000-0xffffffff ignore|mode protected)$' "$V/h/ctl")" 5
load_guest h uarthammer
expect_eq "1000 bytes typed for the guest" "$(write_bytes "$V/h/input" 1000)" 1000
echo run >"$V/h/ctl"
done_lines() { grep -ac 'uarthammer done' "$V/$1/console"; }
# Done: both greetings out and the phase count at 11 (the instruction
# after the last byte to 0xE9).
for ((i = 0; i < 30 * TF; i++)); do
	[ "$(done_lines h)" -ge 2 ] && [ "$(mem32 h 0x400)" = 11 ] && break
	sleep 0.2
done
expect_eq "uarthammer done, through the UART and through 0xE9" "$(done_lines h)" 2
expect_eq "the server still answers" "$(cat "$MNT/version")" 12
expect_eq "the guest counted 11 phases" "$(mem32 h 0x400)" 11
expect_eq "it sleeps in KVM's hlt: still running" "$(field "$V/h/status" state)" running
st=$(cat "$V/h/status")
stv() { awk -v n="$1" '$1 == n { print $2 }' <<<"$st"; }
uart_exits=$(stv uart_exits)
if [ "$uart_exits" -gt 12000 ]; then pass "uart_exits $uart_exits"; else fail "uart_exits $uart_exits, want over 12000"; fi
if [ "$(stv uart_rx)" -ge 4353 ]; then pass "uart_rx $(stv uart_rx): typed bytes and loopback read"; else fail "uart_rx $(stv uart_rx), want at least 4353"; fi
if [ "$(stv uart_tx)" -ge 572 ]; then pass "uart_tx $(stv uart_tx)"; else fail "uart_tx $(stv uart_tx), want at least 572"; fi
expect_eq "loopback into a full queue: 104 bytes overran" "$(stv uart_overruns)" 104
expect_eq "FCR 7 at the end emptied the queue" "$(stv uart_queued)" 0
expect_eq "no exit ended a run" "$(stv runs) $(stv exits_hlt) $(stv exits_shutdown)" "1 0 0"
pio_hits=$(grep '^policy pio 0x0-0xffff ignore ' <<<"$st" | awk '{ print $5 }')
mmio_hits=$(grep '^policy mmio 0x100000-0xffffffff ignore ' <<<"$st" | awk '{ print $5 }')
if [ "${pio_hits:-0}" -gt 20000 ]; then pass "the pio range took $pio_hits accesses"; else fail "the pio range took '${pio_hits:-}' accesses"; fi
if [ "${mmio_hits:-0}" -ge 2048 ]; then pass "the mmio range took $mmio_hits accesses"; else fail "the mmio range took '${mmio_hits:-}' accesses"; fi
expect_eq "typing still works" "$(write_bytes "$V/h/input" 3)" 3
echo stop >"$V/h/ctl"
expect_eq "stop ends the run" "$(field "$V/h/status" state)" stopped
expect_match "with the answer stopped" "$(field "$V/h/status" exit)" "^stopped rip=0x[0-9a-f]{16}$"

# --- uarthammer without the irqchip and without ranges: every port access
# outside the UART and 0xE9 ends the run with an io answer.  Phases 1-5
# touch only the UART; phase 6 starts at port 0, six accesses a port
# (out/in of 1, 2 and 4 bytes), every 13th port.
new_vm n 1M protected
load_guest n uarthammer
sizes=(1 1 2 2 4 4)
dirs=(out in)
bad=0
answers=$(load_count 2400)
for ((k = 0; k < answers; k++)); do
	a=
	read -r a <"$V/n/run" || { fail "run $k: no answer"; bad=$((bad + 1)); break; }
	s=${sizes[k % 6]}
	want="^io ${dirs[k % 2]} port=$(printf '0x%04x' $((13 * (k / 6)))) size=$s count=1 "
	[ $((k % 2)) = 0 ] && want+="data=0x[0-9a-f]{$((2 * s))} "
	want+="rip=0x[0-9a-f]{16}\$"
	[[ $a =~ $want ]] || { bad=$((bad + 1)); [ "$bad" -le 5 ] && echo "run $k: '$a', want /$want/"; }
done
expect_eq "$answers runs, each an io answer of the sweep in order" "$bad" 0
expect_eq "the guest is in phase 6" "$(mem32 n 0x400)" 6
expect_eq "the server still answers" "$(cat "$MNT/version")" 12
n_uart=$(field "$V/n/status" uart_exits)
if [ "$n_uart" -gt 12000 ]; then pass "the UART phases ran without a stop ($n_uart UART exits)"; else fail "uart_exits $n_uart"; fi
expect_eq "exits_io: the UART's, the answers" \
	"$(( $(field "$V/n/status" exits_io) - n_uart ))" "$answers"
# The rest with every port and MMIO above memory ignored: to hlt, which
# without the irqchip ends the run.
echo 'pio 0x0-0xffff ignore' >"$V/n/ctl"
echo 'mmio 0x100000-0xffffffff ignore' >"$V/n/ctl"
expect_match "with ranges the rest runs to hlt" "$(timeout $((5 * TF)) cat "$V/n/run")" \
	"^hlt rip=0x[0-9a-f]{16}$"
expect_eq "uarthammer done, twice" "$(done_lines n)" 2
expect_eq "eax 0x600d" "$(field "$V/n/regs" rax)" 0x000000000000600d
expect_eq "11 phases" "$(mem32 n 0x400)" 11
# Phase 6 makes 6 * (5042 + 22) accesses, the first $answers of them
# answered before the range existed.
expect_eq "the pio range took the rest of the sweep" "$(grep '^policy pio' "$V/n/status")" \
	"policy pio 0x0-0xffff ignore $((6 * (5042 + 22) - answers))"
mmio_hits=$(grep '^policy mmio' "$V/n/status" | awk '{ print $5 }')
if [ "${mmio_hits:-0}" -ge 2048 ]; then pass "the mmio range took $mmio_hits accesses (the APICs' too)"; else fail "the mmio range took '${mmio_hits:-}' accesses"; fi
expect_eq "the server still answers" "$(cat "$MNT/version")" 12
rss1=$(server_rss "$(server_pid)")
thr1=$(server_threads "$(server_pid)")
expect_rss_back "the server's RSS after both hammers" "$rss0" "$rss1" "$thr0" "$thr1" 16384

rmdir "$V/h" "$V/n"
expect_eq "no VM left" "$(ls "$V" | wc -l)" 0
check "server exits 0" unmount_kvmfs
finish
