#!/bin/bash
# Install the Debian 12 packages kvmfs needs to build, test and document
# itself (packages.txt), and QEMU 10 from bookworm-backports for the
# full-KVM lane (docs/testing.md: twice as fast as 7.2, and the only one
# that delivers hardware breakpoints to a nested KVM).  Used by setup.sh,
# the README's quick start, and .ci/run.  As root it runs apt-get itself;
# as another user it runs it through sudo.
#
# KVMFS_NO_BACKPORTS=1 keeps Debian 12's own QEMU 7.2.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		echo "install-packages: not root and no sudo: run this as root" >&2
		exit 1
	fi
}

export DEBIAN_FRONTEND=noninteractive
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
backports=0
if [ "${KVMFS_NO_BACKPORTS:-}" != 1 ] && [ "$codename" = bookworm ]; then
	backports=1
	if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		echo "install-packages: adding bookworm-backports to apt's sources (for QEMU 10)"
		as_root sh -c 'cat > /etc/apt/sources.list.d/kvmfs-backports.sources' <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	fi
fi
as_root apt-get update -qq
# shellcheck disable=SC2046
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	$(grep -v '^#' packages.txt) >/dev/null
if [ "$backports" = 1 ]; then
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		-t bookworm-backports qemu-system-x86 >/dev/null
fi
echo "install-packages: done ($(qemu-system-x86_64 --version | sed -n 1p))"
