# Memory above 4 GiB (ctl highmem, docs/reference.md "Memory above
# 4 GiB"): a second KVM slot at GPA 4 GiB, memory's offset still the GPA,
# the hole between mem and 4 GiB reading zeros and taking only zeros; the
# settings printed back, planned with mem in one write, counted under
# max_memory, refused while running and copied by cp.  A guest using it
# is Linux in bootlinux.sh (--mem above 3G).
. "$(dirname "$0")/lib.bash"
mount_kvmfs -o max_memory=16G
V=$MNT/vms
G=$((1 << 30))
FOUR=$((4 * G))

mkdir "$V/a"
expect_fail "highmem before mem" "Invalid argument" bash -c "echo 'highmem 2M' > $V/a/ctl"
expect_match "and the reason says what to do" "$(field "$V/a/status" error)" "echo 'mem SIZE' > ctl first"
check "mem 2M, then highmem 2M" bash -c "echo 'mem 2M' > $V/a/ctl && echo 'highmem 2M' > $V/a/ctl"
expect_eq "status: highmem" "$(field "$V/a/status" highmem)" $((2 << 20))
expect_eq "status: memory is still mem's" "$(field "$V/a/status" memory)" $((2 << 20))
expect_eq "ctl prints both, mem first" "$(grep -E '^(high)?mem ' "$V/a/ctl" | tr '\n' ' ')" "mem 0x200000 highmem 0x200000 "
expect_eq "memory's size: 4 GiB + highmem" "$(stat -c %s "$V/a/memory")" $((FOUR + (2 << 20)))

# The GPA is the offset, in both parts.
printf 'low' | dd of="$V/a/memory" bs=1 seek=4096 conv=notrunc status=none
printf 'high' | dd of="$V/a/memory" bs=1 seek=$((FOUR + 8192)) conv=notrunc status=none
expect_eq "a write at 4 GiB + 8 KiB reads back" \
	"$(dd if="$V/a/memory" bs=1 skip=$((FOUR + 8192)) count=4 status=none)" high
expect_eq "low memory kept its bytes" "$(dd if="$V/a/memory" bs=1 skip=4096 count=3 status=none)" low
expect_eq "the end of highmem is the end of the file" \
	"$(dd if="$V/a/memory" bs=4096 skip=$(((FOUR + (2 << 20)) / 4096)) status=none | wc -c)" 0

# The hole: zeros to read, zeros to write, nothing else.
expect_eq "the hole reads as zeros" \
	"$(dd if="$V/a/memory" bs=1M skip=1024 count=1 status=none | tr -d '\0' | wc -c)" 0
expect_eq "a read across the start of the hole: memory, then zeros" \
	"$(printf 'edge' | dd of="$V/a/memory" bs=1 seek=$(((2 << 20) - 4)) conv=notrunc status=none
	   dd if="$V/a/memory" bs=1 skip=$(((2 << 20) - 4)) count=8 status=none | od -An -c | tr -s ' ')" \
	" e d g e \0 \0 \0 \0"
expect_fail "a byte written into the hole" "Bad address" \
	bash -c "printf x | dd of=$V/a/memory bs=1 seek=$((3 * G)) conv=notrunc status=none"
expect_match "the reason names the hole" "$(field "$V/a/status" error)" "hole 0x200000-0xffffffff"
expect_fail "a write across the hole's end into highmem" "Bad address" \
	bash -c "head -c 8192 /dev/urandom | dd of=$V/a/memory bs=8192 oflag=seek_bytes seek=$((FOUR - 4096)) conv=notrunc status=none"
expect_eq "and highmem kept its bytes" \
	"$(dd if="$V/a/memory" bs=1 skip=$((FOUR + 8192)) count=4 status=none)" high
check "zeros written into the hole are taken" \
	dd if=/dev/zero of="$V/a/memory" bs=1M seek=1024 count=4 conv=notrunc status=none

# Planned with mem in one write; refused whole.
expect_fail "mem past 4 GiB with highmem" "Invalid argument" bash -c "echo 'mem 5G' > $V/a/ctl"
expect_match "says where highmem starts" "$(field "$V/a/status" error)" "passes 4 GiB, where highmem starts"
printf 'highmem 4M\nhighmem 17G\n' >"$WORK/two"
expect_fail "one write whose second line is over max_memory" "Cannot allocate memory" \
	bash -c "cat '$WORK/two' > '$V/a/ctl'"
expect_match "refused whole, naming the line" "$(field "$V/a/status" error)" \
	"^ctl: line 2: highmem: .* over max_memory.*\(no line applied\)$"
expect_eq "applied none of it" "$(field "$V/a/status" highmem)" $((2 << 20))
expect_fail "highmem over max_memory" "Cannot allocate memory" bash -c "echo 'highmem 16G' > $V/a/ctl"
expect_eq "the host counts both parts" "$(field "$MNT/status" memory)" $((4 << 20))

# truncate grows highmem, never shrinks it; highmem 0 removes it.
check "truncate to 4 GiB + 4M grows highmem" truncate -s $((FOUR + (4 << 20))) "$V/a/memory"
expect_eq "highmem after truncate" "$(field "$V/a/status" highmem)" $((4 << 20))
expect_fail "truncate below the end" "Operation not permitted" truncate -s $((FOUR + 4096)) "$V/a/memory"

# A copy: ctl first (it sizes memory), then the bytes.  cp of the whole
# file works too, but reads the hole's 4 GiB of zeros: here, the parts.
mkdir "$V/b"
check "cp of ctl into a new VM" cp "$V/a/ctl" "$V/b/ctl"
expect_eq "the copy has highmem" "$(field "$V/b/status" highmem)" $((4 << 20))
check "dd of low memory, hole and highmem around 4 GiB" bash -c "
	dd if=$V/a/memory of=$V/b/memory bs=1M count=2 conv=notrunc status=none &&
	dd if=$V/a/memory of=$V/b/memory bs=1M skip=4090 seek=4090 conv=notrunc status=none"
expect_eq "and its bytes" "$(dd if="$V/b/memory" bs=1 skip=$((FOUR + 8192)) count=4 status=none)" high
expect_eq "the copy's highmem matches" \
	"$(cmp <(dd if="$V/a/memory" bs=1M skip=4096 status=none) <(dd if="$V/b/memory" bs=1M skip=4096 status=none) && echo same)" same

check "highmem 0 removes it" bash -c "echo 'highmem 0' > $V/a/ctl"
expect_eq "memory is mem's size again" "$(stat -c %s "$V/a/memory")" $((2 << 20))
check "highmem again starts from zeros" bash -c "echo 'highmem 2M' > $V/a/ctl"
expect_eq "no old bytes at 4 GiB + 8 KiB" \
	"$(dd if="$V/a/memory" bs=1 skip=$((FOUR + 8192)) count=4 status=none | tr -d '\0' | wc -c)" 0
check "mem shrinks under highmem" bash -c "echo 'mem 1M' > $V/a/ctl"
expect_eq "what was above it reads as hole" \
	"$(dd if="$V/a/memory" bs=1 skip=$(((2 << 20) - 4)) count=4 status=none | tr -d '\0' | wc -c)" 0

# Not while running.
check "a guest running with highmem" bash -c "cat $GUESTS/spin.bin > $V/a/memory && echo 'mode real' > $V/a/ctl && echo run > $V/a/ctl"
expect_fail "highmem while running" "Device or resource busy" bash -c "echo 'highmem 4M' > $V/a/ctl"
check "stop" bash -c "echo stop > $V/a/ctl"
check "rmdir both" rmdir "$V/a" "$V/b"
expect_eq "the host's memory is back" "$(field "$MNT/status" memory)" 0
finish
