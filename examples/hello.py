#!/usr/bin/env python3
"""kvmfs from Python with nothing but plain file calls.

Runs the hello guest in real, protected and long mode on a kvmfs mount:
creates a VM by reading vms/new, configures it with one write(2) to ctl,
loads the guest into memory, runs it by reading run, and reads the
console, the registers, guest memory and an address translation back.
No ioctl, no library: the files are the API.

Usage: examples/hello.py MOUNTPOINT [GUESTS]
GUESTS is the directory of the built guests (default: build/guests, then
/usr/local/share/kvmfs/guests).
"""
import os
import sys


def read(path):
    """The whole file: generated files are built when a read starts at 0."""
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(fd)


def write(path, data):
    """One write(2) from offset 0: kvmfs applies all of it or nothing."""
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def fields(text):
    """"name value" lines as a dict: the format of regs, sregs, status."""
    out = {}
    for line in text.decode().splitlines():
        name, _, value = line.partition(" ")
        out[name] = value
    return out


def run_guest(mnt, guests, mode, image):
    vm = read(f"{mnt}/vms/new").decode().strip()
    d = f"{mnt}/vms/{vm}"
    try:
        # Two commands, one write: both or neither.
        write(f"{d}/ctl", f"mem 2M\nmode {mode}\n".encode())
        with open(f"{guests}/{image}", "rb") as f:
            write(f"{d}/memory", f.read())
        answer = read(f"{d}/run").decode().strip()
        console = read(f"{d}/console").decode().strip()
        regs = fields(read(f"{d}/regs"))
        # Guest memory is a file: GPA 0x400 is offset 0x400.
        fd = os.open(f"{d}/memory", os.O_RDONLY)
        try:
            result = int.from_bytes(os.pread(fd, 4, 0x400), "little")
        finally:
            os.close(fd)
        write(f"{d}/translate", b"0x400\n")
        translation = read(f"{d}/translate").decode().strip()
        print(f"{mode}: {answer} console {console!r}")
        print(f"    rax={regs['rax']} memory[0x400]={result}")
        print(f"    {translation}")
        return answer.startswith("hlt ") and result == 42
    finally:
        os.rmdir(d)


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: hello.py MOUNTPOINT [GUESTS]")
    mnt = sys.argv[1]
    guests = sys.argv[2] if len(sys.argv) > 2 else None
    if guests is None:
        for g in ("build/guests", "/usr/local/share/kvmfs/guests"):
            if os.path.exists(f"{g}/hello16.bin"):
                guests = g
                break
        else:
            sys.exit("hello.py: no guests found; give their directory")
    print(f"KVM API version {read(f'{mnt}/version').decode().strip()}")
    ok = True
    for mode, image in (("real", "hello16.bin"),
                        ("protected", "hello32.bin"),
                        ("long", "hello64.bin")):
        ok = run_guest(mnt, guests, mode, image) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
