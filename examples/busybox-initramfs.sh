#!/bin/bash
# busybox-initramfs.sh OUT.cpio.gz: a tiny initramfs for boot-linux.sh,
# made of Debian's static busybox (package busybox-static) and an /init
# that mounts proc, sys and devtmpfs, says
#   kvmfs-initramfs: shell ready on /dev/ttyS0
# and runs an interactive shell (prompt '~ # ') on the serial port, which
# kvmfs shows in the VM's console file and feeds from its input file. When
# that shell exits, /init reboots (see the /init below for why not
# poweroff), which ends the VM's run with 'shutdown'.
#
# No root and no fakeroot: the tree is built in a mktemp directory owned
# by whoever runs this, and cpio writes every entry as owned by 0:0
# (--owner). The one thing a user cannot make, the /dev/console device
# node the kernel opens for /init's stdin and stdout, is a cpio entry
# written by hand (newc format), appended as a second archive: the kernel
# unpacks concatenated archives. Without cpio (package cpio) the same
# hand-written entries make the whole archive. KVMFS_INITRAMFS_CPIO=builtin
# forces that path.
#
# The output is reproducible: every timestamp is SOURCE_DATE_EPOCH (0 by
# default) and the entries are in sorted order.
set -euo pipefail
export LC_ALL=C

prog='busybox-initramfs'
die() {
	echo "$prog: $*" >&2
	exit 1
}

[ $# = 1 ] || die "usage: $prog OUT.cpio.gz"
out=$1
busybox=/bin/busybox
epoch=${SOURCE_DATE_EPOCH:-0}

check_tools() {
	if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed'; then
		die "Debian's busybox-static is not installed (apt-get install busybox-static): $busybox must be the static busybox"
	fi
	[ -x "$busybox" ] || die "$busybox is missing although busybox-static is installed"
	command -v gzip >/dev/null || die "gzip is not installed"
	use_cpio=1
	if [ "${KVMFS_INITRAMFS_CPIO:-}" = builtin ]; then
		use_cpio=0
	elif ! command -v cpio >/dev/null; then
		echo "$prog: cpio is not installed (package cpio); writing the archive by hand" >&2
		use_cpio=0
	fi
}

# /init: PID 1. No set -e: an init that exits makes the kernel panic, so
# each step may fail alone and says so.
write_init() {
	cat >"$1" <<'INIT'
#!/bin/sh
# /init of the kvmfs busybox initramfs (examples/busybox-initramfs.sh).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
/bin/busybox --install -s
mount -t devtmpfs devtmpfs /dev || echo "kvmfs-initramfs: cannot mount devtmpfs on /dev"
# The kernel opened the archive's /dev/console for us; take devtmpfs's
# (the same device) so that stdio works even without it.
[ -c /dev/console ] && exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc || echo "kvmfs-initramfs: cannot mount /proc"
mount -t sysfs sysfs /sys || echo "kvmfs-initramfs: cannot mount /sys"
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
hostname kvmfs
echo "kvmfs-initramfs: Linux $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPU, $(awk '/^MemTotal/ { print $2 " kB" }' /proc/meminfo)"
tty=/dev/ttyS0
[ -c $tty ] || tty=/dev/console
echo "kvmfs-initramfs: shell ready on $tty"
export PS1='~ # '
# setsid -c makes the tty the shell's controlling terminal (job control,
# Ctrl-C). A child of this non-interactive shell is no process group
# leader, so setsid needs no fork and this line waits for the shell.
# shellcheck disable=SC2094 # a tty is read and written, not a file
setsid -c sh -i <$tty >$tty 2>&1
echo "kvmfs-initramfs: shell exited, rebooting"
sync
# reboot, not poweroff: the VM has no ACPI, so a poweroff only halts the
# CPU, and with the in-kernel irqchip a halt never leaves KVM: the run
# would go on until 'stop'. A reboot triple-faults (reboot=t, or the
# loader's reset vector), which ends the run with 'shutdown'.
reboot -f
poweroff -f
while :; do sleep 3600; done
INIT
	chmod 0755 "$1"
}

build_tree() {
	local root=$1 d
	for d in bin dev etc proc root run sbin sys tmp usr usr/bin usr/sbin; do
		mkdir -p "$root/$d"
	done
	chmod 1777 "$root/tmp"
	chmod 0700 "$root/root"
	cp "$busybox" "$root/bin/busybox"
	chmod 0755 "$root/bin/busybox"
	ln -s busybox "$root/bin/sh" # for /init's #!/bin/sh
	write_init "$root/init"
	find "$root" -exec touch -h -d "@$epoch" {} +
}

# --- newc by hand ------------------------------------------------------

ino=1000

# pad4 LEN: the NULs that bring LEN to a multiple of 4.
pad4() { head -c $(((4 - $1 % 4) % 4)) /dev/zero; }

# newc_entry NAME MODE(octal) SIZE RDEVMAJOR RDEVMINOR [DATAFILE]: one
# entry, owned by 0:0, dated $epoch; the data from DATAFILE (or the
# symlink target for a link).
newc_entry() {
	local name=$1 mode=$2 size=$3 rmaj=$4 rmin=$5 data=${6:-}
	local nlink=1
	[ $((8#$mode & 0170000)) != $((8#040000)) ] || nlink=2
	ino=$((ino + 1))
	printf '070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x' \
		"$ino" $((8#$mode)) 0 0 "$nlink" "$epoch" "$size" 0 0 "$rmaj" "$rmin" $((${#name} + 1)) 0
	printf '%s\0' "$name"
	pad4 $((110 + ${#name} + 1))
	if [ "$size" -gt 0 ]; then
		if [ -L "$data" ]; then printf '%s' "$(readlink "$data")"; else cat "$data"; fi
		pad4 "$size"
	fi
}

trailer() { newc_entry 'TRAILER!!!' 0 0 0 0; }

# The tree as newc entries, in sorted order (the cpio-less path).
newc_tree() {
	local root=$1 path rel mode size
	while IFS= read -r rel; do
		path=$root/$rel
		mode=$(stat -c %a "$path")
		if [ -L "$path" ]; then
			size=$(readlink "$path" | tr -d '\n' | wc -c)
			newc_entry "$rel" "12$(printf '%04o' $((8#$mode)))" "$size" 0 0 "$path"
		elif [ -d "$path" ]; then
			newc_entry "$rel" "4$(printf '%04o' $((8#$mode)))" 0 0 0
		else
			newc_entry "$rel" "10$(printf '%04o' $((8#$mode)))" "$(stat -c %s "$path")" 0 0 "$path"
		fi
	done < <(cd "$root" && find . -mindepth 1 -printf '%P\n' | sort)
}

# --- main --------------------------------------------------------------

check_tools
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
build_tree "$tmp/root"
{
	if [ "$use_cpio" = 1 ]; then
		(cd "$tmp/root" && find . -mindepth 1 -printf '%P\n' | sort |
			cpio -o -H newc --owner 0:0 --reproducible --quiet)
	else
		newc_tree "$tmp/root"
		trailer
	fi
	# dev/console, crw------- 5,1: what a user cannot mknod.
	newc_entry dev/console 020600 0 5 1
	trailer
} | gzip -9 -n >"$tmp/out.cpio.gz"
mv "$tmp/out.cpio.gz" "$out"
echo "$prog: wrote $out ($(stat -c %s "$out") bytes; busybox-static $(dpkg-query -W -f='${Version}' busybox-static))"
