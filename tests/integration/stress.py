#!/usr/bin/env python3
"""Stress clients for stress.sh: NPROC processes doing random operations
for SECONDS on a shared set of VM names under MNT/vms, with plain file
calls: create, set memory, load a guest, set a mode, write registers,
run with a timeout, step, translate, read console and status, write
several ctl commands at once, give a VM several vCPUs (cpus N) and read,
write and run them one by one (cpus/N/), remove.
Errors that the contract allows under races (ENOENT when another client
removed the VM, EBUSY while a vCPU runs, EEXIST on a name just taken)
are counted; anything else, or a call that takes longer than 10 s, is a
failure.  Prints one summary line per process; exit 1 on any failure, 2 when a client
was stuck.
A client that does not finish (a call that never returns) is reported
with the call it is stuck in and, when SERVER_PID is given and gdb is
installed, the server's thread stacks; then the clients are killed.
Usage: stress.py MNT GUESTDIR SECONDS NPROC [SERVER_PID]"""
import errno
import multiprocessing
import os
import queue
import random
import shutil
import subprocess
import sys
import time

ALLOWED = {errno.ENOENT, errno.EBUSY, errno.EEXIST, errno.EINVAL, errno.ENOSPC,
           errno.ENOMEM, errno.EOPNOTSUPP}
NAMES = [f"s{i}" for i in range(6)]
OPS = ["op_create", "op_mem", "op_load", "op_mode", "op_regs", "op_run", "op_background",
       "op_step", "op_translate", "op_read", "op_memory", "op_ctl_lines", "op_remove",
       "op_cpus", "op_cpu_read", "op_cpu_run"]


def write(path, data):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def read(path, size=1 << 20):
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, size)
    finally:
        os.close(fd)


def client(mnt, guests, seconds, seed, out, current):
    rnd = random.Random(seed)
    vms = os.path.join(mnt, "vms")
    images = {}
    for g in ("hello16", "spin", "flood", "ports"):
        with open(os.path.join(guests, g + ".bin"), "rb") as f:
            images[g] = f.read()
    counts = {"ok": 0, "allowed": 0, "bad": 0}
    slowest = 0.0
    end = time.monotonic() + seconds

    def op_create(d):
        os.mkdir(d)

    def op_mem(d):
        write(d + "/ctl", rnd.choice([b"mem 64K\n", b"mem 2M\n", b"mem 4M\n"]))

    def op_load(d):
        write(d + "/memory", images[rnd.choice(list(images))])

    def op_mode(d):
        write(d + "/ctl", rnd.choice([b"mode real\n", b"mode protected\n", b"mode long\n"]))

    def op_regs(d):
        write(d + "/regs", b"rbx %d\nrcx 0x%x\n" % (rnd.randrange(1 << 32), rnd.randrange(1 << 16)))

    def op_run(d):
        write(d + "/ctl", b"timeout %d\n" % rnd.choice([1, 10, 50]))
        read(d + "/run")

    def op_background(d):
        write(d + "/ctl", rnd.choice([b"run\n", b"stop\n", b"reset\n"]))

    def op_step(d):
        write(d + "/ctl", b"step\n")
        write(d + "/ctl", b"timeout 50\n")
        read(d + "/run")

    def op_translate(d):
        write(d + "/translate", b"0x1000 0x%x\n" % rnd.randrange(1 << 40))
        read(d + "/translate")

    def op_read(d):
        read(d + "/" + rnd.choice(["console", "status", "regs", "sregs", "ctl"]))

    def op_memory(d):
        read(d + "/memory", 65536)

    def op_ctl_lines(d):
        # Several commands in one write: checked whole, then applied.
        write(d + "/ctl", rnd.choice([b"mem 2M\nmode real\ntimeout 10\n",
                                      b"timeout 5\nmem 1T\n",
                                      b"mem 8K\nmode long\n",
                                      b"run\nstop\n",
                                      b"step 8\ntimeout 20\nrun\n",
                                      b"reset\nmode protected\n"]))

    def op_remove(d):
        os.rmdir(d)

    def op_cpus(d):
        write(d + "/ctl", b"cpus %d\n" % rnd.randint(1, 4))

    def op_cpu_read(d):
        n = rnd.randrange(4)
        read(d + "/cpus/%d/" % n + rnd.choice(["regs", "sregs", "status", "mpstate"]))

    def op_cpu_run(d):
        n = rnd.randrange(4)
        if rnd.random() < 0.5:
            write(d + "/cpus/%d/sregs" % n, b"cs.base 0\ncs.selector 0\n")
            write(d + "/cpus/%d/regs" % n, b"rip 0\n")
        write(d + "/ctl", b"timeout %d\n" % rnd.choice([1, 10, 50]))
        read(d + "/cpus/%d/run" % n)

    ops = [op_create] * 3 + [op_mem] * 3 + [op_load] * 2 + [op_mode] * 2 + \
        [op_regs, op_run, op_run, op_background, op_step, op_translate,
         op_read, op_read, op_memory, op_ctl_lines, op_remove,
         op_cpus, op_cpu_read, op_cpu_read, op_cpu_run]
    while time.monotonic() < end:
        d = os.path.join(vms, rnd.choice(NAMES))
        op = rnd.choice(ops)
        t0 = time.monotonic()
        current[2 * seed] = OPS.index(op.__name__)
        current[2 * seed + 1] = t0
        try:
            op(d)
            counts["ok"] += 1
        except OSError as e:
            if e.errno in ALLOWED or e.errno == errno.ENOMEM:
                counts["allowed"] += 1
            else:
                counts["bad"] += 1
                print(f"client {seed}: {op.__name__} {d}: {e}", flush=True)
        took = time.monotonic() - t0
        slowest = max(slowest, took)
        if took > 1:
            print(f"client {seed}: slow: {op.__name__} took {took:.1f} s", flush=True)
        if took > 10:
            counts["bad"] += 1
            print(f"client {seed}: {op.__name__} took {took:.1f} s", flush=True)
    current[2 * seed] = -1
    out.put((seed, counts, slowest))


def stuck(procs, current, server_pid):
    """Report the clients that did not finish, then kill them."""
    now = time.monotonic()
    for s, p in enumerate(procs):
        i = int(current[2 * s])
        if p.is_alive() and i >= 0:
            print(f"client {s}: stuck in {OPS[i]} for {now - current[2 * s + 1]:.0f} s",
                  flush=True)
    if server_pid and shutil.which("gdb"):
        print("server threads:", flush=True)
        subprocess.run(["gdb", "-p", server_pid, "-batch", "-nx",
                        "-ex", "thread apply all bt"],
                       stdin=subprocess.DEVNULL, timeout=60, check=False)
    for p in procs:
        if p.is_alive():
            p.kill()
    for p in procs:
        p.join()


def main():
    mnt, guests, seconds, nproc = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    server_pid = sys.argv[5] if len(sys.argv) > 5 else None
    q = multiprocessing.Queue()
    current = multiprocessing.Array("d", 2 * nproc, lock=False)
    procs = [multiprocessing.Process(target=client, args=(mnt, guests, seconds, s, q, current))
             for s in range(nproc)]
    for p in procs:
        p.start()
    bad = 0
    deadline = time.monotonic() + seconds + 60
    for _ in procs:
        try:
            seed, counts, slowest = q.get(timeout=max(1, deadline - time.monotonic()))
        except queue.Empty:
            print(f"clients still busy {seconds + 60:.0f} s after the start", flush=True)
            stuck(procs, current, server_pid)
            return 2
        print(f"client {seed}: {counts['ok']} ok, {counts['allowed']} refused as allowed, "
              f"{counts['bad']} bad, slowest {slowest * 1000:.0f} ms")
        bad += counts["bad"]
    for p in procs:
        p.join()
        bad += p.exitcode != 0
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
