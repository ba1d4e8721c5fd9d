#!/bin/bash
# Runs inside the full-KVM lane's machine (from /init): every test listed
# in /kvmfs/tests (from number FULLKVM_FROM on, 0 being the first), one
# after the other, each with a time limit.  Prints a
# line per test and the lane's summary; exits 0 when every test passed.
# A test that skips (exit 77) is a failure here unless run.sh was given
# --allow-skip: this lane exists to run what the development host skips.
set -uo pipefail
cd "$SRCDIR" || exit 1
: "${FULLKVM_TEST_TIMEOUT:=300}"
: "${FULLKVM_FROM:=0}"
passed=0
failed=0
failures=()
start_all=$(date +%s%N)
n=0
while read -r t; do
	[ -n "$t" ] || continue
	n=$((n + 1))
	[ "$n" -gt "$FULLKVM_FROM" ] || continue
	name=${t#tests/}
	name=${name%.sh}
	echo "=== $name ($t)"
	start=$(date +%s%N)
	st=0
	timeout --kill-after=10 "$FULLKVM_TEST_TIMEOUT" bash "$t" || st=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	secs=$((ms / 1000)).$(printf '%03d' $((ms % 1000)))
	case $st in
	0) verdict=PASS ;;
	77) if [ "$FULLKVM_ALLOW_SKIP" = 1 ]; then verdict=SKIP; else verdict="FAIL (skipped, but the full-KVM lane must run it)"; fi ;;
	124|137) verdict="FAIL (timed out after ${FULLKVM_TEST_TIMEOUT}s)" ;;
	*) verdict="FAIL (exit $st)" ;;
	esac
	echo "--- $name: $verdict in ${secs}s"
	case $verdict in
	FAIL*) failed=$((failed + 1)); failures+=("$name") ;;
	*) passed=$((passed + 1)) ;;
	esac
done </kvmfs/tests
ms=$((($(date +%s%N) - start_all) / 1000000))
echo "fullkvm: suite took $((ms / 1000)).$(printf '%03d' $((ms % 1000)))s${failures[*]:+; failed: ${failures[*]}}"
echo "fullkvm: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
