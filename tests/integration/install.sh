# kvmfs installs and mounts like any FUSE filesystem.
#
# A clean build of the source tree is installed with `meson install
# --destdir`, which must hold the binary, the man page, the guests and the
# mount helper links.  Then, in a private mount namespace (unshare -m, so
# nothing outside sees it and no chroot is needed), the installed files
# are bind-mounted over /usr/local/bin and /usr/local/sbin and a
# throwaway fstab over /etc/fstab, and kvmfs is mounted the ways an
# administrator would: `mount -t fuse.kvmfs`, an fstab line with
# `mount MOUNTPOINT`, and through the helper links as mount(8) runs them
# from /sbin (an overlay of the installed sbin on /usr/sbin).  Each mount
# must answer, unmount with fusermount3 -u, and its server must exit.
#
# The build and the install need no KVM and run on this machine.  Where it
# has no KVM, the mounts run in the full-KVM lane on the installed tree,
# which run.sh --payload puts at /kvmfs/payload there.
KVMFS_LANE_SELF=1
. "$(dirname "$0")/lib.bash"
: "${SRCDIR:?}" "${BUILDDIR:?}"

if [ "$(id -u)" != 0 ]; then
	[ "${CI:-}" = true ] && { echo "FAIL: CI runs as root, this test needs it"; exit 1; }
	skip "needs root for a private mount namespace (unshare -m) and bind mounts"
fi
WORK=$(mktemp -d /tmp/kvmfs-install.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
DEST=$WORK/dest
B=$WORK/build

if on_this_machine; then
for tool in unshare mount meson ninja man; do
	command -v "$tool" >/dev/null || skip "$tool is not installed"
done

# --- a clean build, installed into a destdir -------------------------------
# Only the targets that get installed are built: the fuzzers and benchmarks
# are not needed here.
if ! meson setup "$B" "$SRCDIR" -Dtests=false >"$WORK/setup.log" 2>&1; then
	cat "$WORK/setup.log"
	fail "meson setup of a clean build"
	finish
	exit 1
fi
prefix=$(meson introspect "$B" --buildoptions |
	python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
targets=$(meson introspect "$B" --installed | python3 -c '
import json, os, sys
b = sys.argv[1]
paths = (os.path.relpath(k, b) for k in json.load(sys.stdin))
print(" ".join(sorted({p for p in paths if not p.startswith("..")})))' "$B")
# shellcheck disable=SC2086 # one word per target
check "build what meson install installs" ninja -C "$B" $targets
check "meson install --destdir" meson install -C "$B" --no-rebuild --destdir "$DEST" --quiet

P=$DEST$prefix
check "destdir holds bin/kvmfs" test -x "$P/bin/kvmfs"
check "destdir holds the man page" test -s "$P/share/man/man1/kvmfs.1"
for g in hello16 hello32 hello64 spin flood fault ports mmio count count64 pagewalk; do
	check "destdir holds guest $g.bin" test -s "$P/share/kvmfs/guests/$g.bin"
done
for h in mount.fuse.kvmfs mount.kvmfs; do
	expect_eq "sbin/$h links to the installed kvmfs" "$(readlink "$P/sbin/$h")" "$prefix/bin/kvmfs"
done
expect_eq "man -l renders the installed page without warnings" \
	"$(MANWIDTH=80 man --warnings -l "$P/share/man/man1/kvmfs.1" 2>&1 >/dev/null)" ""
check "the installed page is kvmfs(1)" bash -c \
	"MANWIDTH=80 man -l '$P/share/man/man1/kvmfs.1' 2>/dev/null | grep -q 'kvmfs - Linux KVM virtual machines as files'"

help=$("$P/bin/kvmfs" --help)
expect_match "--help shows the default of -o kvm" "$help" "-o kvm=PATH +.*default: /dev/kvm"
expect_match "--help shows the default of -o max_vms" "$help" "-o max_vms=N +.*default: 4096"
expect_match "--help shows the default of -o max_memory" "$help" "-o max_memory=SIZE.*"$'\n'".*default: half of physical memory"
expect_match "--version names kvmfs and libfuse" "$("$P/bin/kvmfs" --version)" "kvmfs version .*"$'\n'"FUSE library version "

if [ "$prefix" != /usr/local ]; then
	skip "the mount tests expect the default prefix /usr/local, not $prefix"
fi
else
	# In the lane: the tree installed outside.
	DEST=/kvmfs/payload
	prefix=/usr/local
	P=$DEST$prefix
	check "the installed tree came into the lane" test -x "$P/bin/kvmfs"
fi

# --- mounting it, in a private mount namespace ----------------------------
rest_in_lane_unless_host_kvm --payload "$DEST"
need_dev /dev/kvm
need_dev /dev/fuse
for tool in unshare mount findmnt; do
	command -v "$tool" >/dev/null || { fail "$tool is not installed"; finish; exit 1; }
done
M1=$WORK/m1 M2=$WORK/m2 M3=$WORK/m3 M4=$WORK/m4
mkdir "$M1" "$M2" "$M3" "$M4"
printf '# kvmfs install test\nkvmfs %s fuse.kvmfs noauto,max_vms=7 0 0\n' "$M2" >"$WORK/fstab"

cat >"$WORK/inside.sh" <<'EOF'
. "$SRCDIR/tests/integration/lib.bash"
trap 'for m in "$M1" "$M2" "$M3" "$M4"; do fusermount3 -uz "$m" 2>/dev/null; done' EXIT

mount --bind "$P/bin" /usr/local/bin
mount --bind "$P/sbin" /usr/local/sbin
mount --bind "$WORK/fstab" /etc/fstab

# server MOUNTPOINT: the pid of the kvmfs serving it.
server() { pgrep -f -- " $1( |\$)" | head -1; }

# mounted DESC MOUNTPOINT EXE: answers, is served by EXE, unmounts, exits.
mounted() {
	local desc=$1 mnt=$2 exe=$3 pid
	expect_eq "$desc: version" "$(cat "$mnt/version" 2>&1)" 12
	check "$desc: a VM runs" bash -c "mkdir '$mnt/vms/a' && echo 'mem 64K' > '$mnt/vms/a/ctl' &&
		echo 'mode real' > '$mnt/vms/a/ctl' &&
		cat '$P/share/kvmfs/guests/hello16.bin' > '$mnt/vms/a/memory' &&
		grep -q '^hlt ' '$mnt/vms/a/run' && grep -q Hello '$mnt/vms/a/console'"
	expect_eq "$desc: type in the mount table" "$(findmnt -n -o FSTYPE "$mnt")" fuse.kvmfs
	pid=$(server "$mnt")
	if [ -z "$pid" ]; then
		fail "$desc: no server process found"
		return
	fi
	expect_eq "$desc: the server is $exe" "$(tr '\0' ' ' </proc/"$pid"/cmdline | cut -d' ' -f1)" "$exe"
	expect_eq "$desc: the server is the installed binary" "$(readlink /proc/"$pid"/exe)" /usr/local/bin/kvmfs
	check "$desc: fusermount3 -u" fusermount3 -u "$mnt"
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		fail "$desc: the server did not exit after the unmount"
		kill "$pid"
	else
		pass "$desc: the server exited"
	fi
}

# 1. mount(8) with a type: /sbin/mount.fuse (fuse3) runs `kvmfs` from
#    its PATH, which has /usr/local/bin.
check "mount -t fuse.kvmfs kvmfs MNT" mount -t fuse.kvmfs kvmfs "$M1"
mountpoint -q "$M1" && mounted "mount -t fuse.kvmfs" "$M1" kvmfs

# 2. The fstab line, options and all.
check "mount MNT from the fstab line" mount "$M2"
if mountpoint -q "$M2"; then
	expect_eq "fstab options reach kvmfs" "$(field "$M2/status" max_vms)" 7
	mounted "fstab" "$M2" kvmfs
fi

# 3. The helper links where mount(8) looks for them: /sbin (= /usr/sbin).
if mount -t overlay overlay -o "lowerdir=$P/sbin:/usr/sbin" /usr/sbin 2>"$WORK/overlay.log"; then
	check "mount -t fuse.kvmfs through /sbin/mount.fuse.kvmfs" mount -t fuse.kvmfs kvmfs "$M3" -o max_vms=3
	mountpoint -q "$M3" && mounted "mount.fuse.kvmfs" "$M3" /sbin/mount.fuse.kvmfs
	check "mount -t kvmfs through /sbin/mount.kvmfs" mount -t kvmfs kvmfs "$M4"
	mountpoint -q "$M4" && mounted "mount.kvmfs" "$M4" /sbin/mount.kvmfs
	umount /usr/sbin
else
	# No overlayfs here: run the helper the way mount(8) would.
	echo "no overlay on /usr/sbin ($(cat "$WORK/overlay.log")): calling the helper directly"
	check "mount.fuse.kvmfs kvmfs MNT -o rw,noauto" "$P/sbin/mount.fuse.kvmfs" kvmfs "$M3" -o rw,noauto
	mountpoint -q "$M3" && mounted "mount.fuse.kvmfs" "$M3" "$P/sbin/mount.fuse.kvmfs"
fi
echo "$T_PASSES $T_FAILS" >"$WORK/counts"
EOF

export SRCDIR KVMFS GUESTS P WORK M1 M2 M3 M4
unshare -m --propagation private bash "$WORK/inside.sh"
if read -r p f <"$WORK/counts"; then
	T_PASSES=$((T_PASSES + p))
	T_FAILS=$((T_FAILS + f))
else
	fail "the mount tests in the private namespace did not finish"
fi
check "nothing is left mounted outside" bash -c "! grep -q '$WORK' /proc/mounts"
finish
