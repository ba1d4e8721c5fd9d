# Sourced by the example scripts: where kvmfs is mounted and where the
# guests are.
#   the mount:  KVMFS_MNT, else the kvmfs mount that holds the current
#               directory (run an example from inside the mount), else
#               /mnt/kvm
#   the guests: KVMFS_GUESTS, else GUESTS (the name the docs use), else
#               build/guests next to this folder or the installed ones
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# The kvmfs mount point that holds the current directory, if any: the longest
# mount point of type fuse.kvmfs that is a prefix of it.
kvmfs_mount_of() {
	local dir best= target
	dir=$(pwd -P 2>/dev/null || pwd)
	while read -r _ target type _; do
		[ "$type" = fuse.kvmfs ] || continue
		target=$(printf '%b' "$target")	# /proc/mounts escapes spaces as \040
		case $dir/ in
		"$target"/*) [ ${#target} -gt ${#best} ] && best=$target ;;
		esac
	done </proc/mounts
	[ -n "$best" ] && echo "$best"
}

if [ -n "${KVMFS_MNT:-}" ]; then
	MNT=$KVMFS_MNT
elif ! MNT=$(kvmfs_mount_of); then
	MNT=/mnt/kvm
fi
: "${KVMFS_GUESTS:=${GUESTS:-}}"
if [ -z "$KVMFS_GUESTS" ]; then
	for d in "$here/../build/guests" /usr/local/share/kvmfs/guests /usr/share/kvmfs/guests; do
		if [ -e "$d/hello16.bin" ]; then KVMFS_GUESTS=$d; break; fi
	done
fi
GUESTS=$(cd "${KVMFS_GUESTS:?set GUESTS (or KVMFS_GUESTS) to the folder with hello16.bin}" && pwd)
if [ ! -e "$MNT/version" ]; then
	echo "kvmfs is not mounted at $MNT (run this from inside a kvmfs mount, or set KVMFS_MNT)" >&2
	exit 1
fi
