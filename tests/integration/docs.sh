# The documentation cannot drift from the code.
#
# 1. Every ```console block of README.md, docs/reference.md and
#    docs/tutorial.md is a terminal transcript that runs here, against a
#    fresh mount per document, in one bash shell whose working directory
#    is the mount point.  `$ ` starts a command, `> ` continues it (as
#    bash's PS2 shows), every other line is the output the command must
#    print (stdout and stderr together).  In an output line `...` stands
#    for any text; a line that is only `...` stands for any number of
#    lines.  A command must exit 0 unless its transcript shows the error
#    it prints.  Other blocks must be tagged `text` and are not run.
#    Environment: GUESTS (built guests), HOME (a scratch directory), PATH
#    with the built kvmfs in front.
# 2. The reference names every file of the tree and every ctl verb, the
#    man page every option of `kvmfs --help` and every ctl verb.
# 3. `man -l` renders the built page without a warning.
# 4. examples/hello.py runs against a real mount.
# 3 needs no KVM and runs on this machine; where it has no KVM, the rest
# runs in the full-KVM lane (lib.bash's rest_in_lane_unless_host_kvm).
KVMFS_LANE_SELF=1
. "$(dirname "$0")/lib.bash"
: "${SRCDIR:?}" "${BUILDDIR:?}"
: "${GUESTS:?}"

DOCS=(README.md docs/reference.md docs/tutorial.md)
export LC_ALL=C

# --- the man page renders cleanly -----------------------------------------
MAN=$BUILDDIR/docs/kvmfs.1
if ! on_this_machine; then
	echo "the man page was checked outside the lane"
elif [ -f "$MAN" ]; then
	man_err=$(MANWIDTH=80 man --warnings -l "$MAN" 2>&1 >/dev/null)
	expect_eq "man -l renders kvmfs.1 without warnings" "$man_err" ""
	check "the rendered page has its sections" bash -c \
		"MANWIDTH=80 man -l '$MAN' 2>/dev/null | grep -q '^EXIT STATUS'"
else
	fail "man page $MAN was not built"
fi

# --- everything else needs a KVM ------------------------------------------
rest_in_lane_unless_host_kvm


# parse_doc FILE: the transcript commands of FILE into D_LINE (line
# number), D_CMD (command text) and D_WANT (expected output lines, each
# ending in a newline).  Also checks the fence tags.
parse_doc() {
	local file=$1 n=0 inblock=0 line cur=-1 has_out
	D_LINE=() D_CMD=() D_WANT=()
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		# inblock: 0 outside, 1 in a console block, 2 in any other.
		if [ "$inblock" = 0 ]; then
			case $line in
			'```console') inblock=1 cur=-1 ;;
			'```text') inblock=2 ;;
			'```'*)
				fail "$file:$n: fence '$line' (tag it console to run it, text not to)"
				inblock=2
				;;
			esac
			continue
		fi
		if [ "$line" = '```' ]; then
			inblock=0
			continue
		fi
		[ "$inblock" = 2 ] && continue
		if [[ $line == '$ '* ]]; then
			cur=${#D_CMD[@]}
			D_LINE+=("$n")
			D_CMD+=("${line:2}")
			D_WANT+=("")
			has_out=0
		elif [ "$cur" -lt 0 ]; then
			fail "$file:$n: output before any command: '$line'"
		elif [[ $line == '> '* || $line == '>' ]] && [ "$has_out" = 0 ]; then
			D_CMD[cur]+=$'\n'"${line:2}"
		else
			D_WANT[cur]+="$line"$'\n'
			has_out=1
		fi
	done <"$file"
	if [ "$inblock" != 0 ]; then
		fail "$file: a fenced block is not closed"
	fi
}

# glob_of LINE: an expected line as a bash pattern (`...` is any text).
glob_of() {
	local p=$1
	p=${p//\\/\\\\}
	p=${p//\*/\\*}
	p=${p//\?/\\?}
	p=${p//\[/\\[}
	p=${p//.../*}
	printf '%s' "$p"
}

# match I J: expected lines W[I..] match output lines G[J..].
match() {
	local i=$1 j=$2 k
	if [ "$i" -eq "${#W[@]}" ]; then
		[ "$j" -eq "${#G[@]}" ]
		return
	fi
	if [ "${W[i]}" = ... ]; then
		for ((k = j; k <= ${#G[@]}; k++)); do
			match $((i + 1)) "$k" && return 0
		done
		return 1
	fi
	[ "$j" -lt "${#G[@]}" ] || return 1
	# shellcheck disable=SC2053
	[[ ${G[j]} == $(glob_of "${W[i]}") ]] || return 1
	match $((i + 1)) $((j + 1))
}

# run_doc FILE: mount, run every command of FILE, unmount.
run_doc() {
	local file=$1 p f
	parse_doc "$SRCDIR/$file"
	if [ "${#D_CMD[@]}" -eq 0 ]; then
		fail "$file: no console block to run"
		return
	fi
	mount_kvmfs
	mkdir "$WORK/home"
	# The transcript runs in a subshell, so its cd, variables and
	# HOME stay there; the runner's own names start with _d.  Its
	# counts come back through a file.
	# shellcheck disable=SC2030,SC2031
	(
		T_PASSES=0 T_FAILS=0
		export HOME=$WORK/home
		export PATH="$BUILDDIR/src:$PATH"
		_dout=$WORK/out
		cd "$MNT" || exit 1
		for _didx in "${!D_CMD[@]}"; do
			_dshow="$file:${D_LINE[_didx]}: ${D_CMD[_didx]%%$'\n'*}"
			echo "running $_dshow"
			set +u
			{ eval "${D_CMD[_didx]}"; } </dev/null >"$_dout" 2>&1
			_dst=$?
			set -u
			mapfile -t G <"$_dout"
			# Bash names its errors "SCRIPT: line N: "; a terminal
			# shows "bash: ".
			for _di in "${!G[@]}"; do
				if [[ ${G[_di]} == "$0: line "* ]]; then
					_drest=${G[_di]#"$0: line "}
					[[ $_drest =~ ^[0-9]+:\ (.*)$ ]] && G[_di]="bash: ${BASH_REMATCH[1]}"
				fi
			done
			mapfile -t W < <(printf '%s' "${D_WANT[_didx]}")
			_dshows_error=0
			for _dw in "${W[@]}"; do [ "$_dw" != ... ] && _dshows_error=1; done
			if ! match 0 0; then
				fail "$_dshow"
				echo "--- expected:"
				printf '%s' "${D_WANT[_didx]}"
				echo "--- got (exit status $_dst):"
				printf '%s\n' "${G[@]}"
				echo "---"
			elif [ "$_dst" -ne 0 ] && [ "$_dshows_error" = 0 ]; then
				fail "$_dshow: exit status $_dst, and the transcript shows no error"
				printf '%s\n' "${G[@]}"
			else
				pass "$_dshow"
			fi
		done
		echo "$T_PASSES $T_FAILS" >"$WORK/counts"
	)
	read -r p f <"$WORK/counts" || { p=0 f=1; }
	# shellcheck disable=SC2031
	{
		T_PASSES=$((T_PASSES + p))
		T_FAILS=$((T_FAILS + f))
	}
	check "$file: server exits 0 at unmount" unmount_kvmfs
	rm -rf "$WORK"
	WORK=
}

for doc in "${DOCS[@]}"; do
	run_doc "$doc"
done

# --- the reference and the man page name everything ---------------------
REF=$SRCDIR/docs/reference.md
SCD=$SRCDIR/docs/kvmfs.1.scd
mount_kvmfs
mkdir "$MNT/vms/probe"
# new and run are not listed (reading them acts), but documented.
for f in $(ls "$MNT") new $(ls "$MNT/vms/probe") run; do
	check "reference.md has a section for '$f'" grep -Eq "^#+ .*\`(vms/)?(NAME/)?$f\`" "$REF"
	check "man page names '$f'" grep -q "$f" "$SCD"
done
# The verbs, as the server itself lists them when it refuses one.
echo frobnicate >"$MNT/vms/probe/ctl" 2>/dev/null
verbs=$(field "$MNT/vms/probe/status" error | sed -n 's/.*(\(.*\)).*/\1/p' | tr -d ',')
[ -n "$verbs" ] || fail "could not read the ctl verbs from the error line"
for v in $verbs; do
	check "reference.md has a section for ctl '$v'" grep -Eq "^#+ .*\`$v( |\`)" "$REF"
	check "man page describes ctl '$v'" grep -Eq "^\*$v\*" "$SCD"
done
rmdir "$MNT/vms/probe"
check "server exits 0" unmount_kvmfs

opts=$("$KVMFS" --help | sed -n 's/^ *-o \([a-z_]*\).*/\1/p' | sort -u)
[ -n "$opts" ] || fail "kvmfs --help lists no -o option"
for o in $opts; do
	check "man page describes -o $o" grep -q -- "-o $o" "$SCD"
done
for o in $("$KVMFS" --help | sed -n 's/^ *\(-[a-np-zA-Z]\)[ ,].*/\1/p'); do
	check "man page describes $o" grep -q -- "\*$o\*" "$SCD"
done

# --- examples/hello.py: plain files are the API --------------------------
mount_kvmfs
if out=$(python3 "$SRCDIR/examples/hello.py" "$MNT" "$GUESTS" 2>&1); then
	pass "examples/hello.py ran"
else
	fail "examples/hello.py failed: $out"
fi
printf '%s\n' "$out"
for mode in real protected long; do
	expect_match "hello.py: a guest in $mode mode said hello" "$out" "$mode: hlt rip=0x[0-9a-f]{16} console 'Hello, world!'"
done
expect_eq "hello.py left no VM behind" "$(ls "$MNT/vms")" ""
check "server exits 0" unmount_kvmfs

finish
