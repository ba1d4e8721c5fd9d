#!/bin/bash
# Build the libFuzzer targets with clang, ASan and UBSan in build-fuzz/
# (configured on first use), replay every input in fuzz/regressions/, then
# fuzz each target for SECONDS (default 60) starting from a copy of its
# seed corpus, so the repository is never modified.  Prints one line per
# target and exits non-zero if any target crashed; a crashing input is
# kept in build-fuzz/crashes/TARGET/.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# KVMFS_FUZZ_BUILD overrides the build directory.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${KVMFS_FUZZ_BUILD:-$root/build-fuzz}
secs=${1:-60}
shift || true
all_targets=(regs sregs ctl translate size pagewalk exit)
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

passed=0
failed=0
for t in "${targets[@]}"; do
	bin=$build/fuzz/fuzz_$t
	work=$tmp/$t
	mkdir -p "$work/corpus" "$work/artifacts"
	status=ok

	# Inputs that once crashed: each must now run clean.
	regressions=()
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
		tail -n 30 "$work/replay.log" >&2
	fi

	if [ "$status" = ok ]; then
		cp -r "$root/fuzz/corpus/$t/." "$work/corpus/"
		seeds=$(find "$work/corpus" -type f | wc -l)
		if ! "$bin" -max_total_time="$secs" -print_final_stats=1 \
			-max_len="$(max_len "$t")" -timeout=10 \
			-rss_limit_mb=2048 -artifact_prefix="$work/artifacts/" \
			"$work/corpus" >"$work/fuzz.log" 2>&1; then
			status=CRASH
			tail -n 40 "$work/fuzz.log" >&2
		fi
	fi

	if [ "$status" != ok ]; then
		mkdir -p "$build/crashes/$t"
		cp -r "$work/artifacts/." "$build/crashes/$t/"
		cp "$work"/*.log "$build/crashes/$t/" 2>/dev/null || true
		printf '%-10s %s: inputs and logs in %s\n' "$t" "$status" \
			"$build/crashes/$t"
		failed=$((failed + 1))
		continue
	fi
	execs=$(stat_of number_of_executed_units "$work/fuzz.log")
	rate=$(stat_of average_exec_per_sec "$work/fuzz.log")
	added=$(stat_of new_units_added "$work/fuzz.log")
	cover=$(sed -n 's/.*DONE *cov: *\([0-9]*\).*/\1/p' "$work/fuzz.log" |
		tail -n 1)
	printf '%-10s ok: %s execs in %ss, %s exec/s, cov %s, corpus %s+%s, %s regressions replayed\n' \
		"$t" "${execs:-?}" "$secs" "${rate:-?}" "${cover:-?}" \
		"$seeds" "${added:-?}" "${#regressions[@]}"
	passed=$((passed + 1))
done

echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
