#!/bin/bash
# The full-KVM lane: run kvmfs's integration tests on an ordinary SVM KVM.
#
# Our machines' /dev/kvm is a nested, paravirtualised KVM that refuses
# 32-bit paging (see docs/testing.md).  This script boots Debian's own
# kernel under QEMU's software emulation of an AMD CPU with SVM and nested
# paging (-accel tcg -cpu qemu64,+svm,+npt), loads kvm-amd there, mounts
# kvmfs inside that machine on its /dev/kvm and runs the tests.  The result
# comes back over the serial console and becomes this script's exit status.
#
# Nothing is installed on this machine: the kernel package is fetched with
# `apt-get download` and unpacked with `dpkg -x` into a cache in the build
# directory; the initramfs is built from busybox-static, the kernel
# modules, kvmfs, the guests, the tests and this machine's own bash,
# coreutils, grep, ... with the shared libraries they need.
#
# Usage: tests/fullkvm/run.sh [options]
#   --test NAME      run only this test (repeatable, or comma-separated):
#                    NAME is a script of tests/integration/ or tests/fullkvm/
#                    without .sh, e.g. --test vcpu --test paged32
#   (default)        every test but those in tests/fullkvm/not-in-lane
#                    (too slow under emulation), unless FULLKVM_TESTS is set
#   --all            every test, even those in not-in-lane
#   --complement     the default selection where this machine has a usable
#                    /dev/kvm; where it has none, only tests/fullkvm/*.sh,
#                    because each integration test then runs itself in the
#                    lane (meson's fullkvm test uses this)
#   --qemu PATH      the qemu-system-x86_64 to use (default: $QEMU, or the
#                    one on PATH)
#   --timeout SEC    kill QEMU after SEC seconds, each boot (default 900,
#                    or $FULLKVM_TIMEOUT)
#   --time-factor N  tests multiply their time limits by N (lib.bash's
#                    time_factor; default 20, or $KVMFS_TIME_FACTOR)
#   --smp N          vCPUs of the emulated machine (default 2)
#   --memory SIZE    its memory (default 2G)
#   --allow-skip     a test that exits 77 (skip) does not fail the lane
#   --shell          boot to a shell on this terminal instead of the tests
#   --list           list the tests the lane would run, and exit
#   --print-kernel   fetch the lane's kernel if needed (Debian's, see
#                    FULLKVM_KERNEL), print the path of its vmlinuz, exit
#   --exec CMD       run the shell command CMD inside (in a copy of the
#                    source tree, with the environment below) instead of
#                    the tests; print only its output; exit with its status
#   --payload DIR    put a copy of DIR at /kvmfs/payload inside (a tree a
#                    test made on this machine, e.g. a destdir install)
#   --with-qemu      put the QEMU that boots the lane inside it too, at
#                    the same path (and /usr/bin/qemu-system-x86_64), with
#                    the libraries it needs and the firmware for -kernel
#                    on -M microvm and -M pc (bios-microvm.bin,
#                    bios-256k.bin, linuxboot_dma.bin, kvmvapic.bin, from
#                    the folders `qemu -L help` names), so that a command
#                    can compare kvmfs with `qemu -accel kvm` on the same
#                    KVM (bench/bootlinux.sh); in the per-run part of the
#                    initramfs (about 50 MiB more), so the default lane
#                    and its cached base do not change; or
#                    FULLKVM_QEMU_INSIDE=1
#   --quiet          say nothing but the tests' output and failures
#
# Environment (as meson test sets it; defaults from this script's place):
#   KVMFS      the kvmfs binary           (BUILDDIR/src/kvmfs)
#   GUESTS     the built guests           (BUILDDIR/guests)
#   SRCDIR     the source tree            (two levels up from here)
#   BUILDDIR   the build directory        (SRCDIR/build)
#   FULLKVM_TESTS     tests to run, as --test takes them (comma-separated),
#                     e.g. FULLKVM_TESTS=vcpu meson test --suite fullkvm
#   FULLKVM_CACHE     downloads and images (BUILDDIR/fullkvm; the unpacked
#                     kernel package takes 400 MB, the initramfs 90 MB)
#   FULLKVM_KERNEL    the kernel package: a metapackage such as
#                     linux-image-amd64 (the default) or an exact package
#   FULLKVM_EXTRA_CMDS  more host commands to copy into the initramfs
#   FULLKVM_QEMU_INSIDE=1  the same as --with-qemu
#   FULLKVM_CPU       QEMU's -cpu (default qemu64,+svm,+npt,+pdpe1gb)
#   FULLKVM_QEMU_ARGS more QEMU arguments, e.g. "-L DIR" for the firmware
#                     of a QEMU that was built but not installed
#   FULLKVM_TEST_TIMEOUT  seconds one test may take in the lane (300)
#   FULLKVM_SILENCE   seconds without console output after which the
#                     machine counts as hung and is stopped (400); it is
#                     booted once more for the tests it had not finished
#   FULLKVM_LOG       the console log (FULLKVM_CACHE/console.log)
#   CI=true    a missing tool or download is a failure, not a skip
#
# Exit status: 0 all selected tests passed; 1 a test failed (or the lane
# broke: no kvm_amd, no result); 77 the lane cannot run here (no QEMU, no
# busybox-static, no kernel package) and CI is not true.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SRCDIR:=$(cd "$here/../.." && pwd)}"
: "${BUILDDIR:=$SRCDIR/build}"
: "${KVMFS:=$BUILDDIR/src/kvmfs}"
: "${GUESTS:=$BUILDDIR/guests}"
: "${FULLKVM_CACHE:=$BUILDDIR/fullkvm}"
: "${FULLKVM_KERNEL:=linux-image-amd64}"
: "${FULLKVM_TIMEOUT:=900}"
: "${FULLKVM_SILENCE:=400}"
: "${FULLKVM_EXTRA_CMDS:=}"
: "${KVMFS_TIME_FACTOR:=20}"
: "${QEMU:=}"
: "${FULLKVM_CPU:=qemu64,+svm,+npt,+pdpe1gb}"
: "${FULLKVM_QEMU_ARGS:=}"
: "${FULLKVM_TEST_TIMEOUT:=300}"
: "${FULLKVM_QEMU_INSIDE:=0}"

tests=()
if [ -n "${FULLKVM_TESTS:-}" ]; then
	IFS=', ' read -r -a tests <<<"$FULLKVM_TESTS"
fi
smp=2
memory=2G
allow_skip=0
all=0
shell=0
list=0
print_kernel=0
exec_cmd=
complement=0
payload=
quiet=0
with_qemu=$FULLKVM_QEMU_INSIDE

die() {
	echo "fullkvm: $*" >&2
	exit 1
}

# cannot REASON: the lane cannot run on this machine.  A skip, but a
# failure in CI, where .ci/run installed everything the lane needs.
cannot() {
	if [ "${CI:-}" = true ]; then
		die "$* (CI requires the full-KVM lane)"
	fi
	echo "fullkvm: SKIP: $*"
	exit 77
}

while [ $# -gt 0 ]; do
	case $1 in
	--test) [ $# -ge 2 ] || die "--test needs a name"
		IFS=', ' read -r -a more <<<"$2"
		tests+=("${more[@]}")
		shift 2 ;;
	--test=*) IFS=', ' read -r -a more <<<"${1#--test=}"
		tests+=("${more[@]}")
		shift ;;
	--all) all=1; tests=(); shift ;;
	--complement) complement=1; shift ;;
	--qemu) [ $# -ge 2 ] || die "--qemu needs a path"; QEMU=$2; shift 2 ;;
	--qemu=*) QEMU=${1#--qemu=}; shift ;;
	--timeout) [ $# -ge 2 ] || die "--timeout needs seconds"; FULLKVM_TIMEOUT=$2; shift 2 ;;
	--timeout=*) FULLKVM_TIMEOUT=${1#--timeout=}; shift ;;
	--time-factor) [ $# -ge 2 ] || die "--time-factor needs a number"; KVMFS_TIME_FACTOR=$2; shift 2 ;;
	--smp) [ $# -ge 2 ] || die "--smp needs a number"; smp=$2; shift 2 ;;
	--memory) [ $# -ge 2 ] || die "--memory needs a size"; memory=$2; shift 2 ;;
	--allow-skip) allow_skip=1; shift ;;
	--shell) shell=1; shift ;;
	--list) list=1; shift ;;
	--print-kernel) print_kernel=1; shift ;;
	--exec) [ $# -ge 2 ] || die "--exec needs a command"; exec_cmd=$2; shift 2 ;;
	--payload) [ $# -ge 2 ] || die "--payload needs a directory"; payload=$2; shift 2 ;;
	--quiet) quiet=1; shift ;;
	--with-qemu) with_qemu=1; shift ;;
	-h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
done
[[ $FULLKVM_TIMEOUT =~ ^[0-9]+$ ]] || die "--timeout wants whole seconds, not '$FULLKVM_TIMEOUT'"
[[ $FULLKVM_SILENCE =~ ^[1-9][0-9]*$ ]] || die "FULLKVM_SILENCE wants whole seconds, not '$FULLKVM_SILENCE'"
[[ $smp =~ ^[1-9][0-9]*$ ]] || die "--smp wants a number, not '$smp'"
[[ $KVMFS_TIME_FACTOR =~ ^[1-9][0-9]*$ ]] || die "--time-factor wants a whole number, not '$KVMFS_TIME_FACTOR'"

# --- which tests ----------------------------------------------------------

# Lane tests: every tests/integration/*.sh, then the lane's own
# tests/fullkvm/*.sh (all but this script).
all_tests() {
	local f
	for f in "$SRCDIR"/tests/integration/*.sh "$SRCDIR"/tests/fullkvm/*.sh; do
		[ -e "$f" ] || continue
		[ "$(basename "$f")" = run.sh ] && continue
		echo "${f#"$SRCDIR"/}"
	done
}

# resolve NAME: the path (relative to SRCDIR) of the test called NAME.
resolve() {
	local n=${1%.sh} d
	case $n in
	*/*) [ -f "$SRCDIR/tests/$n.sh" ] && { echo "tests/$n.sh"; return; }
	     [ -f "$SRCDIR/$n.sh" ] && { echo "$n.sh"; return; } ;;
	*) for d in integration fullkvm; do
		if [ -f "$SRCDIR/tests/$d/$n.sh" ] && [ "$d/$n" != fullkvm/run ]; then
			echo "tests/$d/$n.sh"
			return
		fi
	   done ;;
	esac
	return 1
}

# The tests left out of the default run, with why (not-in-lane).
declare -A left_out=()
while read -r name why; do
	case $name in ''|'#'*) continue ;; esac
	left_out[$name]=$why
done <"$here/not-in-lane"

selected=()
if [ "$all" = 1 ]; then
	mapfile -t selected < <(all_tests)
elif [ -n "$exec_cmd" ]; then
	:
elif [ ${#tests[@]} -eq 0 ]; then
	host_kvm=1
	if [ "${KVMFS_NO_HOST_KVM:-}" = 1 ] || [ ! -c /dev/kvm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		host_kvm=0
	fi
	if [ "$complement" = 1 ] && [ "$host_kvm" = 0 ]; then
		echo "fullkvm: no usable /dev/kvm here, so the integration tests run in the lane one by one; this run has tests/fullkvm/ only"
	fi
	while read -r t; do
		n=${t#tests/}
		n=${n%.sh}
		if [ "$complement" = 1 ] && [ "$host_kvm" = 0 ] && [[ $n == integration/* ]]; then
			continue
		fi
		if [ -n "${left_out[$n]:-}" ]; then
			echo "fullkvm: leaving out $n: ${left_out[$n]}"
			continue
		fi
		selected+=("$t")
	done < <(all_tests)
else
	for t in "${tests[@]}"; do
		[ -n "$t" ] || continue
		p=$(resolve "$t") || die "no test '$t' (known: $(all_tests | sed 's|^tests/||; s|\.sh$||' | tr '\n' ' '))"
		selected+=("$p")
	done
fi
[ ${#selected[@]} -gt 0 ] || [ -n "$exec_cmd" ] || die "no tests to run"
[ -z "$payload" ] || [ -d "$payload" ] || die "--payload: no directory '$payload'"
if [ -n "$exec_cmd" ]; then
	selected=()
	quiet=1
fi

# say MESSAGE: run.sh's own progress lines, unless --quiet.
say() {
	[ "$quiet" = 1 ] || echo "$@"
}
if [ "$list" = 1 ]; then
	printf '%s\n' "${selected[@]}"
	exit 0
fi

# --- what the lane needs on this machine ------------------------------------

if [ -z "$QEMU" ]; then
	QEMU=$(command -v qemu-system-x86_64) || cannot "qemu-system-x86_64 not found (Debian package qemu-system-x86)"
fi
[ -x "$QEMU" ] || cannot "QEMU '$QEMU' is not executable"
BUSYBOX=$(command -v busybox 2>/dev/null || true)
[ -x /bin/busybox ] && BUSYBOX=/bin/busybox
[ -n "$BUSYBOX" ] || cannot "busybox not found (Debian package busybox-static)"
if ldd "$BUSYBOX" >/dev/null 2>&1; then
	cannot "$BUSYBOX is dynamically linked: install busybox-static"
fi
for tool in apt-get dpkg dpkg-deb ldd; do
	command -v "$tool" >/dev/null || cannot "$tool not found (a Debian machine is needed)"
done
[ -x "$KVMFS" ] || die "no kvmfs at $KVMFS (build first: ninja -C $BUILDDIR)"
[ -d "$GUESTS" ] || die "no guests at $GUESTS (build first: ninja -C $BUILDDIR)"

qemu_version=$("$QEMU" --version | sed -n '1s/.*version \([0-9][0-9.]*\).*/\1/p')
[ -n "$qemu_version" ] || die "cannot tell the version of $QEMU"
mkdir -p "$FULLKVM_CACHE"
FULLKVM_CACHE=$(cd "$FULLKVM_CACHE" && pwd)
# One run at a time per cache: the initramfs is staged there.
exec 9>"$FULLKVM_CACHE/lock"
if ! flock -n 9; then
	say "fullkvm: waiting for another run.sh using $FULLKVM_CACHE (set FULLKVM_CACHE to run two at once)"
	flock 9
fi

# --- the kernel: apt-get download + dpkg -x, cached --------------------------

# The exact kernel package behind a metapackage such as linux-image-amd64.
kernel_package() {
	local pkg=$FULLKVM_KERNEL dep
	for _ in 1 2 3; do
		# awk reads to the end: a reader that quits early would kill
		# apt-cache with SIGPIPE, and pipefail made that the lane's
		# exit status (141) on a fresh cache, now and then.
		dep=$(apt-cache depends --no-recommends --no-suggests --no-conflicts \
			--no-breaks --no-replaces --no-enhances "$pkg" 2>/dev/null |
			awk '!found && $1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; found = 1 }')
		[ -n "$dep" ] || break
		pkg=$dep
	done
	case $pkg in
	linux-image-[0-9]*) echo "$pkg" ;;
	*) return 1 ;;
	esac
}

# kernel_package_cached: the same, remembered until apt's package cache
# changes (apt-cache takes about two seconds here, once per boot).
kernel_package_cached() {
	local memo=$FULLKVM_CACHE/kernel-package stamp
	stamp="$FULLKVM_KERNEL $(stat -c %Y /var/cache/apt/pkgcache.bin 2>/dev/null || echo none)"
	if [ -f "$memo" ] && [ "$(head -1 "$memo")" = "$stamp" ]; then
		sed -n 2p "$memo"
		return 0
	fi
	local pkg
	pkg=$(kernel_package) || return 1
	printf '%s\n%s\n' "$stamp" "$pkg" >"$memo"
	echo "$pkg"
}

kdir=
if kpkg=$(kernel_package_cached); then
	kdir=$FULLKVM_CACHE/kernel/$kpkg
	if [ ! -f "$kdir/.done" ]; then
		say "fullkvm: fetching $kpkg (apt-get download, dpkg -x into $kdir)"
		rm -rf "$kdir" "$FULLKVM_CACHE/download"
		mkdir -p "$FULLKVM_CACHE/download"
		# The _apt user may not be able to write into the build
		# directory; download as the caller then.
		if ! (cd "$FULLKVM_CACHE/download" &&
			apt-get download -q -o APT::Sandbox::User="$(id -un)" "$kpkg" >download.log 2>&1); then
			cat "$FULLKVM_CACHE/download/download.log" >&2
			cannot "apt-get download $kpkg failed"
		fi
		mkdir -p "$kdir.tmp"
		dpkg -x "$FULLKVM_CACHE"/download/"$kpkg"_*.deb "$kdir.tmp"
		touch "$kdir.tmp/.done"
		mv "$kdir.tmp" "$kdir"
		rm -rf "$FULLKVM_CACHE/download"
	fi
else
	# No package lists (apt-get update not run, or offline): a kernel
	# fetched before will do.
	kdir=$(find "$FULLKVM_CACHE/kernel" -mindepth 1 -maxdepth 1 -type d -name 'linux-image-*' \
		-exec test -f '{}/.done' ';' -print 2>/dev/null | sort -V | tail -1)
	[ -n "$kdir" ] || cannot "apt-cache knows no kernel for $FULLKVM_KERNEL (run apt-get update)"
	say "fullkvm: apt-cache does not resolve $FULLKVM_KERNEL; using the cached $(basename "$kdir")"
fi
vmlinuz=$(find "$kdir/boot" -name 'vmlinuz-*' | sort -V | tail -1)
[ -n "$vmlinuz" ] || die "no vmlinuz in $kdir/boot"
kver=${vmlinuz##*/vmlinuz-}
if [ "$print_kernel" = 1 ]; then
	echo "$vmlinuz"
	exit 0
fi
moddir=$kdir/lib/modules/$kver

# modules_in_order NAME...: the .ko files of these modules and of what
# they depend on, dependencies first (from each module's modinfo).
declare -A mod_seen=()
mod_order=()
add_module() {
	local name=$1 ko dep deps
	[ -n "${mod_seen[$name]:-}" ] && return 0
	mod_seen[$name]=1
	ko=$(find "$moddir/kernel" \( -name "$name.ko" -o -name "${name//_/-}.ko" \) -print -quit)
	[ -n "$ko" ] || die "module $name not found in $moddir (compressed modules are not handled)"
	deps=$(tr '\0' '\n' <"$ko" | sed -n 's/^depends=//p' | sed -n 1p)
	IFS=, read -r -a deps <<<"$deps"
	for dep in "${deps[@]}"; do
		[ -n "$dep" ] && add_module "$dep"
	done
	mod_order+=("$ko")
}
add_module fuse
add_module kvm-amd
# For install.sh's mount through the helper links in /sbin.
add_module overlay

# --- the initramfs ------------------------------------------------------------
#
# Two cpio archives, concatenated (the kernel unpacks one after the other):
#   base   busybox, the modules, this machine's programs and Python, their
#          libraries, /etc: about 90 MiB, cached in FULLKVM_CACHE under a
#          key made of the kernel, the versions of the packages it copies
#          and this script, so it is made once (about 10 s) and reused;
#   kvmfs  the source tree, the build's products, the libraries they need
#          beyond the base (libasan for a sanitized build), /init, the
#          test list and the environment: made on every run (about 1 s).

# The programs the tests use, from this machine's own packages: busybox's
# applets lack flags the tests need (stat -c, dd oflag=seek_bytes, cmp -i).
pkgs=(bash dash coreutils diffutils findutils grep sed gawk mawk util-linux
	procps fuse3 xxd psmisc mount)
py=/usr/bin/python3

# lib_dest LIB: where a library found by ldd goes in the initramfs.  Debian
# 12 merged /usr, so /lib/x/y is /usr/lib/x/y: the archives name real
# directories only and never write through the /lib links.
lib_dest() {
	case $1 in
	/lib/* | /lib64/* | /bin/* | /sbin/*) echo "/usr$1" ;;
	*) echo "$1" ;;
	esac
}

# ldd_libs DIR...: the shared libraries of every executable and .so below
# the DIRs (one ldd for all), as ldd names them.
ldd_libs() {
	find "$@" \( -perm -u+x -o -name '*.so' -o -name '*.so.*' \) -type f -print0 |
		xargs -0 ldd 2>/dev/null | awk '/=> \// { print $3 } /^\t\// { print $1 }' | sort -u || true
}

# make_cpio DIR OUT: DIR as a newc archive, owned by root.
make_cpio() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort |
		"$BUSYBOX" cpio -o -H newc -R 0:0 2>/dev/null) >"$2.tmp"
	mv "$2.tmp" "$2"
}

base_name() {
	local base_key
	base_key=$({
	echo "$kver"
	printf '%s\n' "${mod_order[@]}"
	dpkg-query -W -f '${Package} ${Version}\n' "${pkgs[@]}" python3 busybox-static 2>/dev/null || true
	echo "$FULLKVM_EXTRA_CMDS"
	md5sum "$BUSYBOX" "$py" 2>/dev/null
	declare -f make_base lib_dest ldd_libs make_cpio
	printf '%s\n' "${pkgs[@]}"
} | md5sum | cut -c1-16)
base=$FULLKVM_CACHE/base-$base_key.cpio
}

make_base() {
	local root=$FULLKVM_CACHE/root-base
	rm -rf "$root"
	# Debian 12's merged /usr: /bin, /sbin, /lib and /lib64 are links into usr/.
	mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib64,usr/lib/x86_64-linux-gnu,usr/local/bin,usr/local/sbin,bb,proc,sys,dev,tmp,run,etc,root,modules}
	chmod 1777 "$root/tmp"
	for d in bin sbin lib lib64; do
		ln -s "usr/$d" "$root/$d"
	done
	cp "$BUSYBOX" "$root/bb/busybox"
	for ko in "${mod_order[@]}"; do
		cp "$ko" "$root/modules/"
		basename "$ko" >>"$root/modules/order"
	done

	{
		for pkg in "${pkgs[@]}"; do
			dpkg -L "$pkg" 2>/dev/null | grep -E '^(/usr)?/s?bin/[^/]+$' || true
		done
		# Debian's own, not whatever PATH finds first (pyenv shims, /usr/local).
		for c in awk sh $FULLKVM_EXTRA_CMDS; do
			PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v "$c" ||
				die "command '$c' (for the initramfs) not found"
		done
	} >"$FULLKVM_CACHE/cmds"
	local -A cmd_seen=()
	local p real name
	while IFS=$'\t' read -r p real; do
		name=${p##*/}
		if [ -n "${cmd_seen[$name]:-}" ] || [ ! -f "$real" ] || [ ! -x "$real" ]; then
			continue
		fi
		cmd_seen[$name]=1
		case $p in
		*/sbin/*) cp "$real" "$root/usr/sbin/$name" ;;
		*) cp "$real" "$root/usr/bin/$name" ;;
		esac
	done < <(paste "$FULLKVM_CACHE/cmds" <(xargs -d '\n' readlink -m <"$FULLKVM_CACHE/cmds"))
	for c in bash sh timeout stat dd cmp mountpoint fusermount3 pgrep xxd awk runuser taskset; do
		[ -n "${cmd_seen[$c]:-}" ] || die "'$c' is missing from the initramfs (is its package installed?)"
	done

	# Python, for the tests' helpers (writes.py, stress.py): the interpreter
	# and its standard library without its tests and GUI parts.
	if [ -x "$py" ]; then
		local pylib
		pylib=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
		cp "$(readlink -f "$py")" "$root/usr/bin/python3"
		mkdir -p "$root$pylib"
		# With the byte code Debian compiled (__pycache__): without it, every
		# Python start in a fresh lane machine compiles what it imports.
		tar -C "$pylib" --exclude=./test --exclude=./idlelib \
			--exclude=./tkinter --exclude=./turtledemo --exclude=./lib2to3 \
			--exclude=./ensurepip --exclude=./pydoc_data --exclude=./site-packages \
			--exclude=./dist-packages -cf - . | tar -C "$root$pylib" -xf -
	fi

	# The shared libraries of every program, and libgcc_s, which glibc's
	# pthread_cancel loads with dlopen (so ldd does not list it) and
	# without which kvmfs aborts when its threads end.
	{
		ldd_libs "$root/usr/bin" "$root/usr/sbin" "$root/usr/lib"
		/sbin/ldconfig -p | awk '$1 == "libgcc_s.so.1" && /x86-64/ { print $NF; exit }'
	} | sort -u >"$FULLKVM_CACHE/libs"
	grep -q '/libgcc_s\.so\.1$' "$FULLKVM_CACHE/libs" || die "libgcc_s.so.1 not found on this machine"
	local lib dest
	while read -r lib; do
		dest=$(lib_dest "$lib")
		mkdir -p "$root${dest%/*}"
		cp -L "$lib" "$root$dest"
		echo "$dest"
	done <"$FULLKVM_CACHE/libs" >"$FULLKVM_CACHE/libs.tmp"

	# A second user for the permission tests (perms.sh), who owns nothing.
	cat >"$root/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/bash
kvmfs-test-other:x:1000:1000::/nonexistent:/bin/sh
PW
	cat >"$root/etc/group" <<'GR'
root:x:0:
kvmfs-test-other:x:1000:
GR
	ln -s /proc/self/mounts "$root/etc/mtab"
	: >"$root/etc/fstab"
	# One base at a time: an older one is of no more use.
	rm -f "$FULLKVM_CACHE"/base-*.cpio "$FULLKVM_CACHE"/base-*.cpio.libs
	make_cpio "$root" "$base"
	mv "$FULLKVM_CACHE/libs.tmp" "$base.libs"
	rm -rf "$root"
}

base_name
if [ ! -s "$base" ] || [ ! -s "$base.libs" ]; then
	say "fullkvm: making the base of the initramfs (cached as $(basename "$base"))"
	make_base
fi

# The kvmfs part: made anew on every run.
root=$FULLKVM_CACHE/root
rm -rf "$root"
mkdir -p "$root"/kvmfs/{src,build}
# The source tree (tests, guest sources, docs, examples) without .git and
# without build directories, which are recognised by meson-private/.
excl=(--exclude=./.git)
while read -r d; do
	excl+=("--exclude=./${d#"$SRCDIR"/}")
done < <(find "$SRCDIR" -mindepth 2 -maxdepth 3 -type d -name meson-private -printf '%h\n')
# Nor this cache, when it lies in the source tree (.ci/run puts it there).
case $FULLKVM_CACHE/ in
"$(cd "$SRCDIR" && pwd)"/*) excl+=("--exclude=./${FULLKVM_CACHE#"$(cd "$SRCDIR" && pwd)"/}") ;;
esac
tar -C "$SRCDIR" "${excl[@]}" -cf - . | tar -C "$root/kvmfs/src" -xf -

# The build directory's products (kvmfs, guests, test programs), not its
# object files.
tar -C "$BUILDDIR" --exclude='*.p' --exclude='meson-*' --exclude=./fullkvm \
	--exclude='*.a' --exclude='*.o' --exclude='*.ninja' --exclude='.ninja_*' \
	--exclude=compile_commands.json -cf - . | tar -C "$root/kvmfs/build" -xf -
case $(readlink -f "$KVMFS") in
"$(readlink -f "$BUILDDIR")"/*) kvmfs_in=/kvmfs/build/${KVMFS#"$BUILDDIR"/} ;;
*) mkdir -p "$root/kvmfs/bin"; cp "$KVMFS" "$root/kvmfs/bin/kvmfs"; kvmfs_in=/kvmfs/bin/kvmfs ;;
esac
case $(readlink -f "$GUESTS") in
"$(readlink -f "$BUILDDIR")"/*) guests_in=/kvmfs/build/${GUESTS#"$BUILDDIR"/} ;;
*) mkdir -p "$root/kvmfs/guests"; cp "$GUESTS"/*.bin "$root/kvmfs/guests/"; guests_in=/kvmfs/guests ;;
esac
[ -x "$root$kvmfs_in" ] || die "kvmfs was not copied to $kvmfs_in"
# A payload (--payload DIR): a tree a test made on this machine, e.g. a
# destdir install, at /kvmfs/payload.
if [ -n "$payload" ]; then
	mkdir -p "$root/kvmfs/payload"
	tar -C "$payload" -cf - . | tar -C "$root/kvmfs/payload" -xf -
fi
# --with-qemu: the lane's own QEMU inside, at its real path and as
# /usr/bin/qemu-system-x86_64, with the x86 firmware that -kernel needs
# on -M microvm and -M pc, found where this QEMU looks (-L help); its
# libraries come with the build's below.
qemu_in=
if [ "$with_qemu" = 1 ]; then
	qemu_in=$(readlink -f "$QEMU")
	mkdir -p "$root${qemu_in%/*}" "$root/usr/bin"
	cp -p "$qemu_in" "$root$qemu_in"
	[ "$qemu_in" = /usr/bin/qemu-system-x86_64 ] || ln -sf "$qemu_in" "$root/usr/bin/qemu-system-x86_64"
	for f in bios-microvm.bin bios-256k.bin linuxboot_dma.bin kvmvapic.bin; do
		fw=
		while read -r d; do
			if [ -f "$d/$f" ]; then fw=$d/$f; break; fi
		done < <("$QEMU" -L help 2>/dev/null)
		[ -n "$fw" ] || die "--with-qemu: $f not found in the folders of '$QEMU -L help'"
		mkdir -p "$root${fw%/*}"
		cp -L "$fw" "$root$fw"
	done
fi

# Libraries the build's programs (and --with-qemu's QEMU) need beyond
# the base's (a sanitized build's libasan and libubsan, say).
declare -A in_base=()
while read -r lib; do in_base[$lib]=1; done <"$base.libs"
while read -r lib; do
	dest=$(lib_dest "$lib")
	[ -n "${in_base[$dest]:-}" ] && continue
	mkdir -p "$root${dest%/*}"
	cp -L "$lib" "$root$dest"
done < <(
	# ldd takes about two seconds for the build's 60-odd programs:
	# remembered for as long as they are the same files.
	stamp=$(find "$root/kvmfs" ${qemu_in:+"$root$qemu_in"} -type f -perm -u+x -printf '%P %s %T@\n' | sort | md5sum)
	if [ -f "$FULLKVM_CACHE/part-libs" ] && [ "$(head -1 "$FULLKVM_CACHE/part-libs")" = "$stamp" ]; then
		tail -n +2 "$FULLKVM_CACHE/part-libs"
	else
		{ echo "$stamp"; ldd_libs "$root/kvmfs" ${qemu_in:+"$root$qemu_in"}; } >"$FULLKVM_CACHE/part-libs"
		tail -n +2 "$FULLKVM_CACHE/part-libs"
	fi
)

cp "$here/lane/init" "$root/init"
cp "$here/lane/suite.bash" "$root/kvmfs/suite.bash"
chmod 755 "$root/init"
{
	cat <<ENV
export KVMFS=$kvmfs_in
export GUESTS=$guests_in
export SRCDIR=/kvmfs/src
export BUILDDIR=/kvmfs/build
export KVMFS_FULLKVM=1
export KVMFS_FULLKVM_QEMU_VERSION=$qemu_version
export FULLKVM_ALLOW_SKIP=$allow_skip
export KVMFS_TIME_FACTOR=$KVMFS_TIME_FACTOR
export FULLKVM_TEST_TIMEOUT=$FULLKVM_TEST_TIMEOUT
# The open-file limit of the machine that runs the lane (a thousand VMs
# need more than Linux's default 1024).
ulimit -n $(ulimit -Sn)
ENV
	# What the caller set for the tests: KVMFS_SANITIZED, KVMFS_MOUNT_OPTS,
	# the sanitizers' options, meson's MALLOC_PERTURB_ (not the paths
	# above, which mean this machine's files).
	while IFS= read -r -d '' kv; do
		k=${kv%%=*}
		case $k in
		KVMFS | KVMFS_FULLKVM* | KVMFS_TIME_FACTOR | KVMFS_NO_HOST_KVM | KVMFS_LANE_SELF | KVMFS_WRAPPER) continue ;;
		KVMFS_* | ASAN_OPTIONS | UBSAN_OPTIONS | LSAN_OPTIONS | MALLOC_PERTURB_) ;;
		*) continue ;;
		esac
		printf 'export %s=%q\n' "$k" "${kv#*=}"
	done < <(env -0)
} >"$root/kvmfs/env"
printf '%s\n' "${selected[@]}" >"$root/kvmfs/tests"
if [ -n "$exec_cmd" ]; then
	printf '%s\n' "$exec_cmd" >"$root/kvmfs/exec"
fi

initrd=$FULLKVM_CACHE/initrd.cpio
make_cpio "$root" "$FULLKVM_CACHE/part.cpio"
cat "$base" "$FULLKVM_CACHE/part.cpio" >"$initrd.tmp"
mv "$initrd.tmp" "$initrd"
rm -rf "$root" "$FULLKVM_CACHE/part.cpio"
say "fullkvm: kernel $kver, QEMU $qemu_version, initramfs $(($(stat -c %s "$initrd") >> 20)) MiB," \
	"${exec_cmd:+running '$exec_cmd'}${exec_cmd:-${#selected[@]} test(s): $(printf '%s\n' "${selected[@]}" | sed 's|^tests/||; s|\.sh$||' | tr '\n' ' ')}"

# --- boot ---------------------------------------------------------------------

log=${FULLKVM_LOG:-$FULLKVM_CACHE/console.log}
# softlockup_panic, panic_on_rcu_stall: a CPU stuck in the kernel (or in a
# nested guest, as under TCG it once was) prints its stack and ends
# the machine, rather than leaving a silent one.
loglevel=4
[ -z "$exec_cmd" ] || loglevel=1	# the command's output alone
append="console=ttyS0,115200 panic=1 softlockup_panic=1 sysctl.kernel.panic_on_rcu_stall=1 loglevel=$loglevel fullkvm.shell=$shell"
qemu_args=(-accel tcg -cpu "$FULLKVM_CPU" -smp "$smp" -m "$memory"
	-nodefaults -no-user-config -nic none -display none -no-reboot
	-kernel "$vmlinuz" -initrd "$initrd")
if [ -n "$FULLKVM_QEMU_ARGS" ]; then
	read -r -a more <<<"$FULLKVM_QEMU_ARGS"
	qemu_args+=("${more[@]}")
fi

if [ "$shell" = 1 ]; then
	echo "fullkvm: booting to a shell (exit it to power off)"
	exec "$QEMU" "${qemu_args[@]}" -append "$append" -serial mon:stdio
fi

# stop_qemu PID: stop the `timeout` process PID and the QEMU it runs.  A
# QEMU whose emulated CPU is wedged in a nested guest ignores SIGTERM
# (its main loop never gets the lock back), so SIGKILL follows.
stop_qemu() {
	kill "$1" 2>/dev/null || true
	sleep 5
	pkill -KILL -P "$1" 2>/dev/null || true
	kill -KILL "$1" 2>/dev/null || true
}

# watch_console PID: copy the serial console (stdin) to stdout; when it
# has been silent for FULLKVM_SILENCE seconds the machine hangs (a test
# inside is killed after FULLKVM_TEST_TIMEOUT and says so), so stop QEMU.
watch_console() {
	local line
	local panicked=0
	while :; do
		if IFS= read -r -t "$FULLKVM_SILENCE" line; then
			printf '%s\n' "${line%$'\r'}"
			# A panicked kernel should reset the machine (panic=1,
			# -no-reboot), but with a CPU wedged in a nested guest
			# the reset itself can hang: stop QEMU a little later.
			if [ "$panicked" = 0 ] && [[ $line == *"Kernel panic - not syncing"* ]]; then
				panicked=1
				(sleep 15; stop_qemu "$1") &
			fi
		elif [ $? -gt 128 ]; then
			echo "fullkvm: no output for ${FULLKVM_SILENCE}s: the machine hangs; stopping QEMU"
			stop_qemu "$1"
			cat >/dev/null
			return 0
		else
			[ -z "$line" ] || printf '%s\n' "${line%$'\r'}"
			return 0
		fi
	done
}

# exec_output: the lines between the --exec marks, as they come (mawk
# would hold them back in its input buffer).
exec_output() {
	local line on=0
	while IFS= read -r line; do
		[ "$line" = @@fullkvm-exec-end@@ ] && on=0
		[ "$on" = 0 ] || printf '%s\n' "$line"
		[ "$line" = @@fullkvm-exec-begin@@ ] && on=1
	done
	return 0
}

# boot FROM SEG: one machine running the selected tests from number FROM
# (0 is the first); its console goes to stdout and to SEG.  Sets qemu_st.
boot() {
	local fifo
	fifo=$(mktemp -u "$FULLKVM_CACHE/serial.XXXXXX")
	mkfifo "$fifo"
	timeout --kill-after=10 "$FULLKVM_TIMEOUT" "$QEMU" "${qemu_args[@]}" \
		-append "$append fullkvm.from=$1" \
		-chardev stdio,id=ser0,signal=off -serial chardev:ser0 \
		</dev/null >"$fifo" 2>&1 &
	local qpid=$!
	if [ -n "$exec_cmd" ]; then
		watch_console "$qpid" <"$fifo" | tee "$2" | exec_output
	elif [ "$quiet" = 1 ]; then
		# The tests' own lines; the kernel's and /init's go to the log.
		watch_console "$qpid" <"$fifo" | tee "$2" | grep --line-buffered -v '^fullkvm-init: \|^\[ *[0-9.]*\] '
	else
		watch_console "$qpid" <"$fifo" | tee "$2"
	fi
	qemu_st=0
	wait "$qpid" || qemu_st=$?
	rm -f "$fifo"
}

say "fullkvm: booting (log: $log, timeout ${FULLKVM_TIMEOUT}s, or ${FULLKVM_SILENCE}s without output)"
start=$(date +%s)
: >"$log"
from=0
boots=0
# A machine that stops without a result (it hung, or its kernel
# panicked) is booted once more, for the tests it had not finished: the
# emulated machine itself has hung once in CI, in no particular test.
# A test's own verdict is never retried.
while :; do
	boots=$((boots + 1))
	seg=$FULLKVM_CACHE/console.boot$boots
	boot "$from" "$seg"
	cat "$seg" >>"$log"
	result=$(sed -n 's/^@@fullkvm-result \([0-9][0-9]*\)@@$/\1/p' "$seg" | tail -1)
	rm -f "$seg"
	[ -z "$result" ] || break
	finished=$(grep -c '^--- ' "$log" || true)
	if [ -n "$exec_cmd" ]; then
		die "the machine stopped without a result (QEMU status $qemu_st); see $log"
	fi
	if [ "$boots" -ge 2 ]; then
		die "the machine stopped without a result again (QEMU status $qemu_st, after $(($(date +%s) - start))s); see $log"
	fi
	say "fullkvm: the machine stopped without a result (QEMU status $qemu_st) after $finished test(s);" \
		"booting once more for the rest"
	from=$finished
done
took=$(($(date +%s) - start))
if [ "$boots" -gt 1 ]; then
	passed=$(grep -c '^--- .*: PASS' "$log" || true)
	failed=$(grep -c '^--- .*: FAIL' "$log" || true)
	say "fullkvm: over $boots boots: $passed passed, $failed failed"
	[ "$failed" = 0 ] || result=1
fi
say "fullkvm: lane finished in ${took}s with status $result"
exit "$result"
