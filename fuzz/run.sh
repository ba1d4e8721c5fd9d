#!/bin/bash
# Build the libFuzzer targets with clang, ASan and UBSan in build-fuzz/
# (configured on first use), replay every input in fuzz/regressions/, then
# fuzz each target for SECONDS (default 60) starting from a copy of its
# seed corpus, so the repository is never modified.  Prints one line per
# target and exits non-zero if any target crashed (targets run in
# parallel, one per CPU); a crashing input is
# kept in build-fuzz/crashes/TARGET/.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# KVMFS_FUZZ_BUILD overrides the build directory; KVMFS_FUZZ_JOBS the
# number of targets fuzzed at once (default: the number of CPUs).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${KVMFS_FUZZ_BUILD:-$root/build-fuzz}
secs=${1:-60}
shift || true
all_targets=(regs sregs ctl translate size pagewalk exit uart join bus)
if [ $# -gt 0 ]; then
	targets=("$@")
else
	targets=("${all_targets[@]}")
fi

if ! [[ $secs =~ ^[0-9]+$ ]] || [ "$secs" -lt 1 ]; then
	echo "usage: $0 [SECONDS] [TARGET...]" >&2
	exit 2
fi
if ! command -v clang >/dev/null; then
	echo "fuzz/run.sh needs clang and libFuzzer (clang, libclang-rt-14-dev)" >&2
	exit 2
fi

if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" "$root" \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debugoptimized >"$build.setup.log" 2>&1 || {
		cat "$build.setup.log" >&2
		exit 1
	}
	rm -f "$build.setup.log"
fi
ninja_targets=()
for t in "${targets[@]}"; do
	ninja_targets+=("fuzz/fuzz_$t")
done
known=$(ninja -C "$build" -t targets all)
if ! grep -q '^fuzz/fuzz_regs:' <<<"$known"; then
	echo "$build has no libFuzzer targets: configure it with clang" \
		"(rm -rf $build)" >&2
	exit 1
fi
ninja -C "$build" "${ninja_targets[@]}" >/dev/null

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Leaks are bugs too; UBSan findings stop the run (-fno-sanitize-recover
# already makes them fatal; this covers a build without it).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# Inputs must hold a whole page image for the binary formats.
max_len() {
	case $1 in
	pagewalk) echo 20480 ;;
	exit) echo 12298 ;;
	*) echo 4096 ;;
	esac
}

stat_of() {
	sed -n "s/^stat::$1: *//p" "$2" | tail -n 1
}

# fuzz_one TARGET: replay its regressions, fuzz it, and leave one result
# line in $tmp/TARGET/result (and what to show of a failure in
# $tmp/TARGET/failure).  Returns 1 when the target failed.
fuzz_one() {
	local t=$1
	local bin=$build/fuzz/fuzz_$t
	local work=$tmp/$t
	local status=ok seeds execs rate added cover
	local regressions=()
	mkdir -p "$work/corpus" "$work/artifacts"

	# Inputs that once crashed: each must now run clean.
	if [ -d "$root/fuzz/regressions/$t" ]; then
		while IFS= read -r -d '' f; do
			regressions+=("$f")
		done < <(find "$root/fuzz/regressions/$t" -type f \
			! -name '.*' -print0 | sort -z)
	fi
	if [ ${#regressions[@]} -gt 0 ] &&
	   ! "$bin" -artifact_prefix="$work/artifacts/" \
		"${regressions[@]}" >"$work/replay.log" 2>&1; then
		status="REGRESSION"
		tail -n 30 "$work/replay.log" >"$work/failure"
	fi

	if [ "$status" = ok ]; then
		cp -r "$root/fuzz/corpus/$t/." "$work/corpus/"
		seeds=$(find "$work/corpus" -type f | wc -l)
		if ! "$bin" -max_total_time="$secs" -print_final_stats=1 \
			-max_len="$(max_len "$t")" -timeout=10 \
			-rss_limit_mb=2048 -artifact_prefix="$work/artifacts/" \
			"$work/corpus" >"$work/fuzz.log" 2>&1; then
			status=CRASH
			tail -n 40 "$work/fuzz.log" >"$work/failure"
		fi
	fi

	if [ "$status" != ok ]; then
		mkdir -p "$build/crashes/$t"
		cp -r "$work/artifacts/." "$build/crashes/$t/"
		cp "$work"/*.log "$build/crashes/$t/" 2>/dev/null || true
		printf '%-10s %s: inputs and logs in %s\n' "$t" "$status" \
			"$build/crashes/$t" >"$work/result"
		return 1
	fi
	execs=$(stat_of number_of_executed_units "$work/fuzz.log")
	rate=$(stat_of average_exec_per_sec "$work/fuzz.log")
	added=$(stat_of new_units_added "$work/fuzz.log")
	cover=$(sed -n 's/.*DONE *cov: *\([0-9]*\).*/\1/p' "$work/fuzz.log" |
		tail -n 1)
	printf '%-10s ok: %s execs in %ss, %s exec/s, cov %s, corpus %s+%s, %s regressions replayed\n' \
		"$t" "${execs:-?}" "$secs" "${rate:-?}" "${cover:-?}" \
		"$seeds" "${added:-?}" "${#regressions[@]}" >"$work/result"
}

# As many targets at once as there are CPUs (KVMFS_FUZZ_JOBS to change):
# each fuzzes for SECONDS either way.
jobs=${KVMFS_FUZZ_JOBS:-$(nproc)}
running=0
for t in "${targets[@]}"; do
	fuzz_one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n || true
		running=$((running - 1))
	fi
done
wait || true

passed=0
failed=0
for t in "${targets[@]}"; do
	if [ -f "$tmp/$t/failure" ]; then
		echo "--- $t:" >&2
		cat "$tmp/$t/failure" >&2
	fi
	if [ -f "$tmp/$t/result" ]; then
		cat "$tmp/$t/result"
	else
		echo "$t: no result (the fuzzing job died)"
	fi
	if grep -q "^$t *ok:" "$tmp/$t/result" 2>/dev/null; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done

echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
