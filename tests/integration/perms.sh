# Only the mounting user gets in.  Without allow_other another
# user gets EACCES on the mount; with -o allow_other, default_permissions
# is on and the mode bits (0700 dirs, 0400/0600 files) hold for them.
. "$(dirname "$0")/lib.bash"
[ "$(id -u)" = 0 ] || skip "needs root to make a second user"
command -v setpriv >/dev/null || skip "setpriv (util-linux) is missing"
# The full-KVM lane's /etc/passwd has this user already (run.sh).
other=kvmfs-test-other
made_other=0
if ! id "$other" >/dev/null 2>&1; then
	useradd --no-create-home --shell /bin/sh "$other" || { echo "cannot create user $other"; exit 1; }
	made_other=1
fi
# setpriv rather than runuser: it needs no PAM, which the lane lacks.
as_other() { setpriv --reuid "$(id -u "$other")" --regid "$(id -g "$other")" --clear-groups -- "$@"; }

mount_kvmfs
mkdir "$MNT/vms/a"
chmod 755 "$WORK"	# so that only kvmfs can say no
expect_fail "other user: ls the mount" "Permission denied" as_other ls "$MNT"
expect_fail "other user: cat version" "Permission denied" as_other cat "$MNT/version"
expect_fail "other user: mkdir a VM" "Permission denied" as_other mkdir "$MNT/vms/b"
check "owner still gets in" cat "$MNT/version"
check "unmount" unmount_kvmfs

mount_kvmfs -o allow_other
chmod 755 "$WORK"
mkdir "$MNT/vms/a"
expect_fail "allow_other: vms/ is 0700" "Permission denied" as_other ls "$MNT/vms"
expect_fail "allow_other: version is 0400" "Permission denied" as_other cat "$MNT/version"
expect_fail "allow_other: mkdir in vms" "Permission denied" as_other mkdir "$MNT/vms/b"
expect_fail "allow_other: regs is 0600" "Permission denied" as_other cat "$MNT/vms/a/regs"
expect_eq "allow_other: nothing was created" "$(ls "$MNT/vms")" "a"
check "allow_other: root dir listing works for its mode" as_other stat "$MNT"
check "unmount" unmount_kvmfs
[ "$made_other" = 0 ] || userdel "$other" 2>/dev/null
finish
