# Every script in examples/ runs on a real mount and does what it says.
. "$(dirname "$0")/lib.bash"
: "${SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
mount_kvmfs
export KVMFS_MNT=$MNT KVMFS_GUESTS=$GUESTS
E=$SRCDIR/examples

for mode in real protected long; do
	out=$("$E/hello.sh" "$mode" 2>&1)
	st=$?
	expect_eq "hello.sh $mode exits 0" "$st" 0
	expect_match "hello.sh $mode prints Hello" "$out" "console: Hello, world!"
	expect_match "hello.sh $mode finds 42" "$out" "value at 0x400: 42"
done
out=$("$E/hello.sh" paged32 2>&1)
st=$?
if [ "$st" = 3 ]; then
	expect_match "hello.sh paged32 says why it was refused" "$out" "refused"
else
	expect_eq "hello.sh paged32 exits 0 where supported" "$st" 0
fi

out=$("$E/inspect.sh" 2>&1)
expect_eq "inspect.sh exits 0" "$?" 0
expect_match "inspect.sh shows regs" "$out" "rip 0x"
expect_match "inspect.sh translates rip" "$out" "valid=1 size=2M"
expect_match "inspect.sh dumps code" "$out" "00000001: "

out=$("$E/trace.sh" spin real 7 2>&1)
expect_eq "trace.sh exits 0" "$?" 0
expect_eq "trace.sh prints the rips of spin" \
	"$(sed -n 's/.*rip=0x0*\([0-9a-f]*\)$/\1/p' <<<"$out" | tr '\n' ' ')" "3 6 7 9 6 7 9 "
out=$("$E/trace.sh" hello16 real 500 2>&1)
expect_match "trace.sh stops at hlt" "$(tail -1 <<<"$out")" "next instruction is hlt at 0x000000000000003d"

out=$("$E/snapshot.sh" 2>&1)
expect_eq "snapshot.sh exits 0" "$?" 0
expect_match "snapshot.sh: copies end identical" "$out" "identical"

out=$(bash "$SRCDIR/examples/demo.sh" "$BUILDDIR" 2>&1)
expect_eq "demo.sh exits 0" "$?" 0
expect_match "demo.sh shows the console" "$out" "Hello, world!"

expect_eq "examples left no VM behind" "$(ls "$MNT/vms")" ""
check "server exits 0" unmount_kvmfs
finish
