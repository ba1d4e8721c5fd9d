#!/bin/bash
# The layers of src/ (src/meson.build, docs/architecture.md): a file may
# include only headers of its own folder or of a folder lower in the
# order below, never one above it; and no two .c files of the server may
# call each other (a circle), which the linker cannot see but `nm` can:
# for each pair of object files, A's undefined symbols defined by B and
# B's defined by A.  Needs no KVM.  usage: layers.sh SRCDIR [OBJDIR]
set -u
src=${1:?usage: layers.sh SRCDIR [OBJDIR]}/src
objdir=${2:-}
order=(lib x86 formats devices vcpu vm fuse main)
declare -A rank=()
for i in "${!order[@]}"; do rank[${order[$i]}]=$i; done
fails=0 checked=0
for f in "$src"/*/*.[ch] "$src"/*.c; do
	rel=${f#"$src"/}
	case $rel in */*) layer=${rel%%/*} ;; *) layer=main ;; esac
	[ -n "${rank[$layer]:-}" ] || { echo "FAIL: $rel: folder '$layer' is not a layer"; fails=$((fails + 1)); continue; }
	while read -r inc; do
		checked=$((checked + 1))
		case $inc in
		config.h) continue ;;
		*/*) to=${inc%%/*} ;;
		*) echo "FAIL: $rel includes \"$inc\": name its folder"; fails=$((fails + 1)); continue ;;
		esac
		if [ -z "${rank[$to]:-}" ]; then
			echo "FAIL: $rel includes \"$inc\" from no layer"; fails=$((fails + 1))
		elif [ "${rank[$to]}" -gt "${rank[$layer]}" ]; then
			echo "FAIL: $rel ($layer) includes \"$inc\" from $to, a higher layer"; fails=$((fails + 1))
		fi
	done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
done
echo "ok: $checked includes follow the layers ${order[*]}"

# Circles between object files: A uses something of B and B of A.
if [ -n "$objdir" ]; then
	mapfile -t objs < <(find "$objdir" -name '*.c.o' | sort)
	# One pass: every object's defined (D) and undefined (U) globals,
	# then, for each ordered pair, the first symbol one takes from the
	# other (one awk, not a process per pair: the test stays fast on a
	# loaded machine).
	n=${#objs[@]} pairs=$((${#objs[@]} * (${#objs[@]} - 1) / 2))
	report=$(for o in "${objs[@]}"; do
		nm --defined-only -g "$o" | awk -v o="$(basename "$o")" 'NF >= 3 { print o, $3, "D" }'
		nm -u "$o" | awk -v o="$(basename "$o")" 'NF >= 2 { print o, $2, "U" }'
	done | sort | awk '
		$3 == "D" { def[$2] = def[$2] " " $1; next }
		{ use[NR] = $1 " " $2 }
		END {
			for (k in use) {
				split(use[k], p, " ")
				if (!(p[2] in def)) continue
				m = split(def[p[2]], ds, " ")
				for (i = 1; i <= m; i++)
					if (ds[i] != p[1] && !((p[1] SUBSEP ds[i]) in first))
						first[p[1] SUBSEP ds[i]] = p[2]
			}
			for (pr in first) {
				split(pr, q, SUBSEP)
				if (q[1] < q[2] && ((q[2] SUBSEP q[1]) in first))
					print "FAIL: a circle: " q[1] " uses " first[pr] " of " q[2] ", which uses " first[q[2] SUBSEP q[1]] " of it"
			}
		}')
	circles=0
	if [ -n "$report" ]; then
		echo "$report"
		circles=$(grep -c . <<<"$report")
		fails=$((fails + circles))
	fi
	[ "$circles" -gt 0 ] || echo "ok: no circle among $n object files ($pairs pairs)"
fi
# Files of one job: none over about 600 lines.
while read -r n f; do
	[ "$f" = total ] && continue
	if [ "$n" -gt 650 ]; then
		echo "FAIL: $f has $n lines (one job per file, about 600 at most)"; fails=$((fails + 1))
	fi
done < <(wc -l "$src"/*/*.[ch] "$src"/*.c)
if [ "$fails" = 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
[ "$fails" = 0 ]
