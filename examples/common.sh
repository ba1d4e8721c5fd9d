# Sourced by the example scripts: where kvmfs is mounted and where the
# guests are.  Override with KVMFS_MNT and KVMFS_GUESTS.
MNT=${KVMFS_MNT:-/mnt/kvm}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${KVMFS_GUESTS:-}" ]; then
	for d in "$here/../build/guests" /usr/local/share/kvmfs/guests /usr/share/kvmfs/guests; do
		if [ -e "$d/hello16.bin" ]; then KVMFS_GUESTS=$d; break; fi
	done
fi
GUESTS=$(cd "${KVMFS_GUESTS:?set KVMFS_GUESTS to the folder with hello16.bin}" && pwd)
if [ ! -e "$MNT/version" ]; then
	echo "kvmfs is not mounted at $MNT (set KVMFS_MNT)" >&2
	exit 1
fi
