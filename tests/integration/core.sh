# The root files, VM lifecycle, ctl mem, memory as a file,
# status and bad input.
. "$(dirname "$0")/lib.bash"
mount_kvmfs -o max_memory=64M,max_vms=100

expect_eq "version is KVM_GET_API_VERSION" "$(cat "$MNT/version")" 12
for cap in user_memory nr_vcpus max_vcpus immediate_exit sync_regs guest_debug_hw_bps irqchip set_tss_addr; do
	expect_match "caps lists $cap" "$(grep "^$cap " "$MNT/caps")" "^$cap [0-9]+$"
done
expect_eq "sync_regs cap value" "$(field "$MNT/caps" sync_regs)" 7

check "mkdir vms/a" mkdir "$MNT/vms/a"
check "vm dir is listed" test -d "$MNT/vms/a"
expect_eq "state empty before mem" "$(field "$MNT/vms/a/status" state)" empty
expect_eq "memory size 0 before mem" "$(stat -c %s "$MNT/vms/a/memory")" 0
check "mem 16M" sh -c "echo 'mem 16M' > '$MNT/vms/a/ctl'"
expect_eq "ctl reads back mem" "$(grep '^mem ' "$MNT/vms/a/ctl")" "mem 0x1000000"
expect_eq "st_size is 16 MiB" "$(stat -c %s "$MNT/vms/a/memory")" 16777216
expect_eq "state ready" "$(field "$MNT/vms/a/status" state)" ready
expect_eq "status memory" "$(field "$MNT/vms/a/status" memory)" 16777216

head -c 16M /dev/urandom >"$WORK/r"
check "dd 16 MiB into memory" dd if="$WORK/r" of="$MNT/vms/a/memory" bs=1M conv=notrunc status=none
check "cmp memory with what was written" cmp "$WORK/r" "$MNT/vms/a/memory"
printf 'small guest' >"$WORK/small.bin"
check "cat small.bin > memory" sh -c "cat '$WORK/small.bin' > '$MNT/vms/a/memory'"
expect_eq "size stays 16 MiB after O_TRUNC" "$(stat -c %s "$MNT/vms/a/memory")" 16777216
expect_eq "small.bin at offset 0" "$(head -c 11 "$MNT/vms/a/memory")" "small guest"
check "rest of memory kept" cmp -i 11 "$WORK/r" "$MNT/vms/a/memory"
expect_fail "dd past the end" "No space left" dd if="$WORK/small.bin" of="$MNT/vms/a/memory" bs=1M seek=16 conv=notrunc status=none
expect_fail "dd straddling the end" "No space left" dd if="$WORK/r" of="$MNT/vms/a/memory" bs=1M count=1 seek=$((16 * 1048576 - 100)) oflag=seek_bytes conv=notrunc status=none
check "straddling write wrote nothing" cmp -i 11 "$WORK/r" "$MNT/vms/a/memory"
expect_match "error line says why" "$(field "$MNT/vms/a/status" error)" "passes the end"
expect_eq "read past the end is EOF" "$(dd if="$MNT/vms/a/memory" bs=1 skip=16777216 count=1 status=none | wc -c)" 0
check "xxd of memory" sh -c "xxd -s 0 -l 5 '$MNT/vms/a/memory' | grep -q 'small'"

# Resizing keeps the contents up to the smaller size.
check "mem 8M" sh -c "echo 'mem 8M' > '$MNT/vms/a/ctl'"
check "shrunk memory kept its start" cmp -n $((8 * 1048576 - 11)) -i 11:11 "$WORK/r" "$MNT/vms/a/memory"
check "truncate -s 12M memory" truncate -s 12M "$MNT/vms/a/memory"
expect_eq "truncate resized" "$(stat -c %s "$MNT/vms/a/memory")" 12582912
check "grown memory kept the old part" cmp -n $((8 * 1048576 - 11)) -i 11:11 "$WORK/r" "$MNT/vms/a/memory"
expect_eq "grown part is zero" "$(dd if="$MNT/vms/a/memory" bs=1M skip=8 count=4 status=none | tr -d '\0' | wc -c)" 0

# Bad input changes nothing and says why.
before=$(cat "$MNT/vms/a/ctl")
for bad in "mem banana" "mem 0" "mem 3" "mem 4097" "frobnicate" "mem" "mem 1M 2M" "mem -4096" "mem 99999999999999999999999"; do
	expect_fail "ctl '$bad' refused" "Invalid argument" bash -c "echo '$bad' > '$MNT/vms/a/ctl'"
	expect_eq "ctl unchanged after '$bad'" "$(cat "$MNT/vms/a/ctl")" "$before"
	err=$(field "$MNT/vms/a/status" error)
	if [ "$err" = none ] || [ -z "$err" ]; then fail "no error line after '$bad'"; else pass "error line after '$bad': $err"; fi
done
expect_fail "mem over max_memory" "Cannot allocate memory" bash -c "echo 'mem 128M' > '$MNT/vms/a/ctl'"
expect_match "error names max_memory" "$(field "$MNT/vms/a/status" error)" "max_memory"
expect_eq "size unchanged after ENOMEM" "$(stat -c %s "$MNT/vms/a/memory")" 12582912
# One write(2) is all or nothing.  (bash's echo and printf write line by
# line, so the lines go through a file and cat.)
printf 'mem 4M\nbogus 1\n' >"$WORK/two-lines"
expect_fail "one bad line among good ones" "Invalid argument" bash -c "cat '$WORK/two-lines' > '$MNT/vms/a/ctl'"
expect_eq "good line not applied" "$(stat -c %s "$MNT/vms/a/memory")" 12582912

long=$(printf 'x%.0s' $(seq 65))
expect_fail "65-character name" "Invalid argument" mkdir "$MNT/vms/$long"
expect_match "host status says why" "$(field "$MNT/status" error)" "bad VM name"
check "64-character name works" mkdir "$MNT/vms/${long:1}"
check "rmdir it" rmdir "$MNT/vms/${long:1}"
expect_fail "name with a slash" "No such file" mkdir "$MNT/vms/x/y"
expect_fail "name with a space" "Invalid argument" mkdir "$MNT/vms/a b"
expect_fail "mkdir existing" "File exists" mkdir "$MNT/vms/a"
expect_fail "mkdir outside vms" "Operation not permitted" mkdir "$MNT/vms/a/sub"
expect_fail "create a file in a VM dir" "Operation not permitted" touch "$MNT/vms/a/newfile"
expect_fail "write to version" "Permission denied" bash -c "echo 1 > '$MNT/version'"

# vms/new hands out the lowest free number.
expect_eq "cat vms/new" "$(cat "$MNT/vms/new")" 0
expect_eq "cat vms/new again" "$(cat "$MNT/vms/new")" 1
check "rmdir 0" rmdir "$MNT/vms/0"
expect_eq "lowest free reused" "$(cat "$MNT/vms/new")" 0
expect_eq "ls vms" "$(ls "$MNT/vms" | tr '\n' ' ')" "0 1 a "

# A handle opened before rmdir gets ENOENT, not freed memory.
exec 7<"$MNT/vms/a/memory"
check "rmdir a" rmdir "$MNT/vms/a"
expect_fail "read through old handle" "No such file" dd bs=1 count=1 status=none <&7
exec 7<&-
expect_fail "vm gone" "No such file" cat "$MNT/vms/a/status"
expect_eq "host memory back to 0" "$(field "$MNT/status" memory)" 0

# max_vms: EDQUOT.
for i in $(seq 2 99); do mkdir "$MNT/vms/v$i"; done
expect_fail "over max_vms" "quota" mkdir "$MNT/vms/one-too-many"
for i in $(seq 2 99); do rmdir "$MNT/vms/v$i"; done

check "fusermount3 -u; server exits 0" unmount_kvmfs

# A missing or unusable KVM device is a one-line error and exit status 1,
# before anything is mounted.
for dev in /nonexistent/kvm /dev/null; do
	out=$("$KVMFS" -o kvm=$dev "$MNT" 2>&1)
	st=$?
	expect_eq "kvm=$dev: exit status 1" "$st" 1
	expect_eq "kvm=$dev: one line" "$(wc -l <<<"$out")" 1
	expect_match "kvm=$dev: says what is wrong" "$out" "^kvmfs: .*$dev"
	if mountpoint -q "$MNT"; then fail "kvm=$dev: mounted anyway"; fusermount3 -u "$MNT"; else pass "kvm=$dev: nothing mounted"; fi
done
expect_match "--version names kvmfs and libfuse" "$("$KVMFS" --version 2>&1)" "kvmfs version .*FUSE library version"
expect_fail "no mount point" "no mount point" "$KVMFS"
expect_fail "bad max_memory" "bad max_memory" "$KVMFS" -o max_memory=lots "$MNT"
finish
