# Bad input to every writable file.  Each malformed write gets
# its documented errno, the file's state (read before and after) is
# unchanged, and status's error line says why.  Writes are made with
# writes.py so that the exact bytes, offsets and write() calls are known.
. "$(dirname "$0")/lib.bash"
mount_kvmfs -o max_memory=64M
V=$MNT/vms
W="python3 $(dirname "$0")/writes.py"

new_vm b 2M real
load_guest b hello16
cat "$V/b/regs" >/dev/null
$W "$V/b/ctl" 0 'nonsense\n' >/dev/null

# bad FILE ERRNO DESC OFFSET CHUNK...: the write fails with ERRNO and
# changes nothing; status has a new error line.
bad() {
	local file=$1 want=$2 desc=$3 off=$4
	shift 4
	local before after got err
	before=$(md5sum <"$V/b/$file"; stat -c %s "$V/b/$file")
	got=$($W "$V/b/$file" "$off" "$@")
	after=$(md5sum <"$V/b/$file"; stat -c %s "$V/b/$file")
	err=$(field "$V/b/status" error)
	if [ "$got" != "$want" ]; then
		fail "$file: $desc: got $got, want $want"
	elif [ "$before" != "$after" ]; then
		fail "$file: $desc: state changed"
	elif [ "$err" = none ] || [ -z "$err" ] || [[ $err == *"'nonsense'"* ]]; then
		fail "$file: $desc: no new error line ($err)"
	else
		pass "$file: $desc -> $want ($err)"
	fi
	# Make the next case's error line distinguishable.
	$W "$V/b/ctl" 0 'nonsense\n' >/dev/null
}

# 1 MiB in one write(2), which reaches the server as 128 KiB pieces:
# without a newline each piece is a transaction and the first is refused;
# lines cut at every piece are held, joined, and refused when over 256 KiB.
head -c 1048576 /dev/urandom | tr -d '\n' >"$WORK/garbage"
yes 'rax 1' | head -c 1048576 >"$WORK/cutlines"
for f in regs sregs ctl translate; do
	bad $f EINVAL "only spaces" 0 '   \n'
	bad $f EINVAL "unknown name" 0 'bogus 1\n'
	bad $f EINVAL "binary bytes" 0 '\x00\xff\x01\x7f\n'
	bad $f EINVAL "1 MiB of garbage" 0 "@$WORK/garbage"
	bad $f EFBIG "1 MiB of lines cut across writes" 0 "@$WORK/cutlines"
done
for f in regs sregs; do
	name=$([ $f = regs ] && echo rbx || echo cr2)
	bad $f EINVAL "duplicate names" 0 "$name 1\n$name 2\n"
	bad $f EINVAL "number with junk" 0 "$name 12abc\n"
	bad $f EINVAL "65-bit value" 0 "$name 0x10000000000000000\n"
	bad $f EINVAL "negative value" 0 "$name -1\n"
	bad $f EINVAL "three words" 0 "$name 1 2\n"
	bad $f EINVAL "a bad line among good ones" 0 "$name 5\nrzz 1\n"
	bad $f EINVAL "a line split over two writes" 0 "${name:0:2}" "${name:2} 5\n"
	bad $f EINVAL "CRLF line end" 0 "$name 5\r\n"
done
bad sregs EINVAL "value too wide for its field" 0 'cs.dpl 4\n'
bad sregs EINVAL "selector wider than 16 bits" 0 'cs.selector 0x10000\n'
bad ctl EINVAL "mem with junk" 0 'mem 2Mb\n'
bad ctl EINVAL "mem not page aligned" 0 'mem 5000\n'
bad ctl EINVAL "mem without size" 0 'mem\n'
bad ctl ENOMEM "mem over max_memory" 0 'mem 1G\n'
bad ctl EINVAL "console too small" 0 'console 1\n'
bad ctl EINVAL "timeout negative" 0 'timeout -5\n'
bad ctl EINVAL "unknown mode" 0 'mode warp\n'
bad ctl EINVAL "mode with junk option" 0 'mode long fast=1\n'
bad ctl EINVAL "a bad line after a good one" 0 'timeout 5\nfrob\n'
# Well-formed lines that cannot apply are refused before any line is
# applied, checked against the state the lines before them leave.
bad ctl ENOMEM "a good line, then mem over max_memory" 0 'timeout 5\nmem 1G\n'
bad ctl EINVAL "a mode the new memory cannot hold" 0 'timeout 5\nmem 8K\nmode long\n'
state0=$(field "$V/b/status" state)
bad ctl EBUSY "mem after a run in one write" 0 'run\nmem 4M\n'
expect_eq "... and the run did not start" "$(field "$V/b/status" state)" "$state0"
bad translate EINVAL "address with junk" 0 '0x1000 0xzz\n'
bad translate EINVAL "too many addresses" 0 "$(seq -s ' ' 1 5000)\n"
bad memory ENOSPC "write past the end" 2097152 'x'
bad memory ENOSPC "write straddling the end" 2097150 'xyz'
bad memory ENOSPC "write far past the end" 0x7fffffffffff 'x'

# Valid edge cases are accepted.
check "a last line without newline is accepted" bash -c "printf 'rbx 7' > '$V/b/regs'"
expect_eq "rbx set" "$(field "$V/b/regs" rbx)" 0x0000000000000007
check "blank lines between commands are skipped" $W "$V/b/ctl" 0 'timeout 5\n\n\ntimeout 0\n'

# Truncating memory grows it as mem SIZE does, with its checks, and
# never shrinks it.
expect_fail "truncate to 0" "Operation not permitted" truncate -s 0 "$V/b/memory"
expect_fail "truncate to less" "Operation not permitted" truncate -s 4096 "$V/b/memory"
expect_fail "truncate unaligned" "Invalid argument" truncate -s 3000000 "$V/b/memory"
expect_fail "truncate over max_memory" "Cannot allocate memory" truncate -s 1G "$V/b/memory"
expect_eq "memory size unchanged" "$(stat -c %s "$V/b/memory")" 2097152
expect_match "the guest is intact" "$(cat "$V/b/run")" "^hlt"

# Many VMs together beyond max_memory: refused, the others untouched.
for i in $(seq 7); do new_vm m$i 8M; done
head -c 8M /dev/urandom >"$WORK/pattern"
cat "$WORK/pattern" >"$V/m1/memory"
expect_fail "the VM that would pass max_memory" "Cannot allocate memory" new_vm m8 8M
expect_fail "growing one past max_memory" "Cannot allocate memory" bash -c "echo 'mem 16M' > '$V/m1/ctl'"
check "existing memory untouched" cmp "$WORK/pattern" "$V/m1/memory"
expect_eq "host status adds up" "$(field "$MNT/status" memory)" $((7 * 8388608 + 2097152))

check "server exits 0" unmount_kvmfs
finish
