# Path edge cases and operations the tree does not support get
# a clean errno; the server stays up and does not grow.
. "$(dirname "$0")/lib.bash"
mount_kvmfs
V=$MNT/vms
mkdir "$V/a"

expect_fail "mkdir vms/.." "File exists" mkdir "$V/.."
check "..x is a valid name" mkdir "$V/..x"
check "rmdir ..x" rmdir "$V/..x"
expect_fail "name of 65 characters" "Invalid argument" mkdir "$V/$(printf 'n%.0s' $(seq 65))"
expect_fail "name of 255 characters" "Invalid argument" mkdir "$V/$(printf 'n%.0s' $(seq 255))"
expect_fail "name of 256 characters" "Invalid argument" mkdir "$V/$(printf 'n%.0s' $(seq 256))"
expect_fail "name with a newline" "Invalid argument" mkdir "$V/$(printf 'a\nb')"
expect_fail "name with UTF-8" "Invalid argument" mkdir "$V/vé"
expect_fail "mkdir new" "File exists" mkdir "$V/new"
expect_fail "look up a long name" "No such file" stat "$V/$(printf 'q%.0s' $(seq 200))"
expect_fail "file under a file" "Not a directory" stat "$V/a/regs/x"
expect_fail "../ above a VM" "No such file" cat "$V/a/../b/regs"

pid=$(server_pid)
rss0=$(server_rss "$pid") th0=$(server_threads "$pid")
python3 - "$V" <<'PY'
import os, sys
v = sys.argv[1]
misses = 0
for i in range(5000):
    for p in (f"{v}/nope{i}", f"{v}/a/nope{i}", f"{v}/nope{i}/regs"):
        try:
            os.stat(p)
        except FileNotFoundError:
            misses += 1
print("misses", misses)
sys.exit(0 if misses == 15000 else 1)
PY
expect_eq "15000 lookups of missing names are ENOENT" "$?" 0
expect_rss_back "no growth from lookups" "$rss0" "$(server_rss "$pid")" "$th0" "$(server_threads "$pid")" 1024

expect_fail "create a file in a VM" "Operation not permitted" touch "$V/a/newfile"
expect_fail "create a file at the root" "Operation not permitted" touch "$MNT/newfile"
expect_fail "mkdir at the root" "Operation not permitted" mkdir "$MNT/dir"
expect_fail "mkdir in a VM" "Operation not permitted" mkdir "$V/a/dir"
expect_fail "rename a VM" "Operation not permitted" mv "$V/a" "$V/b"
expect_fail "rename a file" "Operation not permitted" mv "$V/a/regs" "$V/a/regs2"
expect_fail "link" "Operation not permitted" ln "$V/a/regs" "$V/a/regs2"
expect_fail "symlink" "Operation not permitted" ln -s /etc/passwd "$V/a/passwd"
expect_fail "unlink" "Operation not permitted" rm -f "$V/a/regs"
expect_fail "chmod" "Operation not permitted" chmod 777 "$V/a/regs"
expect_fail "chown" "Operation not permitted" chown 1:1 "$V/a/regs"
expect_fail "write to version" "Permission denied" bash -c "echo 13 > '$MNT/version'"
expect_fail "write to caps" "Permission denied" bash -c "echo x > '$MNT/caps'"
expect_fail "write to run" "Permission denied" bash -c "echo x > '$V/a/run'"
expect_fail "write to console" "Permission denied" bash -c "echo x > '$V/a/console'"
expect_fail "write to status" "Permission denied" bash -c "echo x > '$V/a/status'"
expect_fail "rmdir vms" "Operation not permitted" rmdir "$V"
expect_fail "rmdir a file" "Not a directory" rmdir "$V/a/regs"
expect_fail "rmdir a missing VM" "No such file" rmdir "$V/nope"
expect_fail "open a dir for writing" "Is a directory" bash -c "echo x > '$V/a'"
check "touch an existing file is harmless" touch "$V/a/regs"
expect_eq "ls -l sizes and modes" "$(stat -c '%A %s' "$V/a/memory" "$V/a/regs" "$V/a/run" "$V/a")" \
"-rw------- 0
-rw------- 0
-r-------- 0
drwx------ 0"
expect_eq "owned by the mounting user" "$(stat -c %u "$V/a/regs")" "$(id -u)"

check "server still up" cat "$MNT/version"
check "server exits 0" unmount_kvmfs
finish
