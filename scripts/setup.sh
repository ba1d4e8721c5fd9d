#!/bin/bash
# The README's first command: install the packages kvmfs needs (as root,
# or through sudo), build it in build/, and show it working on a real
# guest (examples/demo.sh: on this machine's /dev/kvm, or, where there is
# none, inside the full-KVM lane, docs/testing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-packages.sh
if [ ! -f build/build.ninja ]; then
	meson setup build
fi
meson compile -C build
examples/demo.sh build
