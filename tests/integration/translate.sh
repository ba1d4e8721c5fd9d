# translate on the pagewalk guest.  The expected translations
# come from the table in guests/README.md (the guest's own contract), so
# the guest, its documentation and kvmfs are checked against each other.
# kvmfs's page walk and KVM_TRANSLATE must agree on every address.
. "$(dirname "$0")/lib.bash"
: "${SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
mount_kvmfs
V=$MNT/vms

new_vm pw 4M long
load_guest pw pagewalk
expect_match "pagewalk halts" "$(cat "$V/pw/run")" "^hlt"
features=$(( 0x$(xxd -p -s 0x404 -l 1 "$V/pw/memory") ))
nx=$(( features & 1 ))
gig=$(( (features >> 1) & 1 ))
echo "pagewalk features: nx=$nx 1g=$gig"

# Rows: | linear | physical or "not present, level L" | page | w | u | nx | ...
rows=$(sed -n '/^### Test addresses/,/^#/p' "$SRCDIR/guests/README.md" |
	grep -E '^\| 0x[0-9a-f]{16} \|')
[ -n "$rows" ] || fail "no address table in guests/README.md"
addrs=$(awk -F'|' '{ gsub(/ /, "", $2); print $2 }' <<<"$rows")
echo $addrs >"$V/pw/translate"
out=$(cat "$V/pw/translate")
expect_eq "one line per address" "$(wc -l <<<"$out")" "$(wc -l <<<"$rows")"
if grep -q mismatch <<<"$out"; then
	fail "page walk and KVM_TRANSLATE disagree: $(grep mismatch <<<"$out")"
else
	pass "page walk and KVM_TRANSLATE agree on every address"
fi

while IFS='|' read -r _ lin phys page w u x what; do
	lin=${lin// /} phys=$(sed 's/^ *//; s/ *$//' <<<"$phys")
	page=${page// /} w=${w// /} u=${u// /} x=${x// /}
	line=$(grep "^$lin " <<<"$out")
	if [[ $phys == "not present, level "* ]]; then
		want="$lin -> invalid valid=0 reason=not-present level=${phys##* }"
	elif [[ $phys == non-canonical* ]]; then
		want="$lin -> invalid valid=0 reason=non-canonical level=0"
	else
		size=${page/KiB/K}; size=${size/MiB/M}; size=${size/GiB/G}
		[ "$nx" = 1 ] || x=0
		want="$lin -> $phys valid=1 size=$size writable=$w user=$u nx=$x"
		if [ "$size" = 1G ] && [ "$gig" = 0 ]; then
			want="$lin -> invalid valid=0 reason=not-present level=3"
		fi
	fi
	expect_eq "translate $lin ($(sed 's/^ *//; s/ *|.*//' <<<"$what"))" "$line" "$want"
done <<<"$rows"

# The request is kept per VM: written once, read twice.
echo 0x400 >"$V/pw/translate"
first=$(cat "$V/pw/translate")
expect_eq "read again gives the same" "$(cat "$V/pw/translate")" "$first"

# Bad input changes nothing.
expect_fail "junk address" "Invalid argument" bash -c "echo '0x12zz' > '$V/pw/translate'"
expect_fail "nothing to translate" "Invalid argument" bash -c "echo '   ' > '$V/pw/translate'"
expect_eq "request kept after refusals" "$(cat "$V/pw/translate")" "$first"
expect_match "error line" "$(field "$V/pw/status" error)" "not an address|no address"

# A sweep: walk and KVM agree on 4096 addresses spread over the low 4 GiB
# and the top of the address space.
for i in $(seq 0 1999); do
	printf '0x%x 0x%x\n' $((i * 2147483 + 123)) $((-1 - i * 1048573))
done >"$WORK/sweep2"
check "write 4000 addresses" bash -c "cat '$WORK/sweep2' > '$V/pw/translate'"
out=$(cat "$V/pw/translate")
expect_eq "4000 answers" "$(wc -l <<<"$out")" 4000
expect_eq "no disagreement in the sweep" "$(grep -c mismatch <<<"$out")" 0

check "server exits 0" unmount_kvmfs
finish
