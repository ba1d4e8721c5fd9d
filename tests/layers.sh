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
	declare -A def=() und=()
	for o in "${objs[@]}"; do
		def[$o]=$(nm --defined-only -g "$o" | awk '{ print $3 }' | sort -u)
		und[$o]=$(nm -u "$o" | awk '{ print $2 }' | sort -u)
	done
	pairs=0 circles=0
	for ((i = 0; i < ${#objs[@]}; i++)); do
		for ((j = i + 1; j < ${#objs[@]}; j++)); do
			a=${objs[$i]} b=${objs[$j]}
			ab=$(comm -12 <(echo "${und[$a]}") <(echo "${def[$b]}") | head -1)
			ba=$(comm -12 <(echo "${und[$b]}") <(echo "${def[$a]}") | head -1)
			pairs=$((pairs + 1))
			if [ -n "$ab" ] && [ -n "$ba" ]; then
				echo "FAIL: a circle: $(basename "$a") uses $ab of $(basename "$b"), which uses $ba of it"
				fails=$((fails + 1)) circles=$((circles + 1))
			fi
		done
	done
	[ "$circles" -gt 0 ] || echo "ok: no circle among ${#objs[@]} object files ($pairs pairs)"
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
