# The full-KVM lane can fail: run its paged32 test
# with kvmfs-broken-paged32, a test-only build whose `mode paged32` leaves
# CR4.PSE clear (src/x86/modes.c, KVMFS_TEST_BREAK_PAGED32).  The host lane
# cannot see that (this host refuses 32-bit paging, and the unit tests use
# the correct code); the lane must boot, load kvm_amd, run the test and
# report it failed.  Run by meson (suite fullkvm), not inside the lane.
set -u
: "${BROKEN_KVMFS:?BROKEN_KVMFS must point at kvmfs-broken-paged32}"
here=$(cd "$(dirname "$0")" && pwd)
# Its own console log, so that the real lane's log stays for reading.
export FULLKVM_LOG=${FULLKVM_CACHE:-${BUILDDIR:-$here/../../build}/fullkvm}/canfail-console.log
log=$(mktemp)
trap 'rm -f "$log"' EXIT

set -o pipefail
st=0
KVMFS=$BROKEN_KVMFS bash "$here/run.sh" --test fullkvm/paged32 2>&1 | tr -d '\r' >"$log" || st=$?
# Show what the lane said about the test, and how it ended.
grep -E '^(fullkvm|--- |FAIL: )' "$log"
fails=0
want() {
	if grep -qE "$2" "$log"; then
		echo "ok: $1"
	else
		echo "FAIL: $1 (no line matching '$2')"
		fails=$((fails + 1))
	fi
}
want "the lane loaded kvm_amd" 'kvm_amd loaded'
want "the broken build fails the paged32 test" '^--- fullkvm/paged32: FAIL'
want "and a check inside it says why" '^FAIL: '
want "the lane counts the failure" '^fullkvm: 0 passed, 1 failed'
if [ "$st" = 1 ]; then
	echo "ok: run.sh exits 1"
else
	echo "FAIL: run.sh exits $st, want 1"
	[ "$st" = 77 ] && echo "(77: the lane could not run; see above)"
	fails=$((fails + 1))
fi
[ "$fails" = 0 ]
