#!/usr/bin/env python3
"""Host-side check of the Linux boot loaders, without KVM.

Runs examples/boot-linux.sh and examples/boot-linux.py with --dry-run
into plain directories (a sparse 'memory' file sized here, 'ctl', 'regs',
'sregs' appended to) against Debian's kernel and a busybox initramfs from
examples/busybox-initramfs.sh, then reads guest memory back and checks
the 64-bit boot protocol by itself: the kernel and initrd bytes where
boot_params says, the zero page's fields, the e820 table against every
region, the GDT the sregs point at, the exact ctl/regs/sregs lines; and
that the shell and Python loaders write byte-identical memory and the
same text, and refuse bad input with the same message.

Usage: python3 tests/bootproto_check.py
The kernel: KVMFS_BZIMAGE, else the full-KVM lane's cache
(FULLKVM_CACHE, build*/fullkvm/kernel/*/boot/vmlinuz-*), else
/boot/vmlinuz-*. Exit 0 when every check passed, 1 otherwise, 77 (skip)
without a kernel or without busybox-static.
"""
import glob
import gzip
import mmap
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EX = os.path.join(SRC, "examples")
LOADERS = {"sh": [os.path.join(EX, "boot-linux.sh")],
           "py": [sys.executable, os.path.join(EX, "boot-linux.py")]}
CMDLINE = "console=ttyS0 earlyprintk=serial,ttyS0 reboot=t panic=-1 quiet"

failures = []
passes = 0


def check(what, ok, detail=""):
    global passes
    if ok:
        passes += 1
    else:
        failures.append(what)
        print(f"FAIL {what}{': ' + detail if detail else ''}")


def find_kernel():
    if os.environ.get("KVMFS_BZIMAGE"):
        return os.environ["KVMFS_BZIMAGE"]
    pats = []
    if os.environ.get("FULLKVM_CACHE"):
        pats.append(os.path.join(os.environ["FULLKVM_CACHE"], "kernel/*/boot/vmlinuz-*"))
    pats += [os.path.join(SRC, "build*/fullkvm/kernel/*/boot/vmlinuz-*"), "/boot/vmlinuz-*"]
    for p in pats:
        found = sorted(f for f in glob.glob(p) if os.access(f, os.R_OK))
        if found:
            return found[-1]
    # The lane's own Debian kernel: fetched into its cache if need be.
    if os.environ.get("BUILDDIR"):
        r = subprocess.run(["bash", os.path.join(SRC, "tests/fullkvm/run.sh"), "--quiet",
                            "--print-kernel"], capture_output=True, text=True)
        lines = r.stdout.strip().splitlines()
        if r.returncode == 0 and lines and os.access(lines[-1], os.R_OK):
            return lines[-1]
    return None


# --- newc, as the kernel's unpacker reads it (concatenated archives) --------

def read_newc(data):
    entries = {}
    pos = 0
    while pos < len(data):
        if data[pos] == 0:  # padding between archives
            pos += 1
            continue
        if data[pos:pos + 6] != b"070701":
            raise ValueError(f"no newc magic at {pos:#x}")
        f = [int(data[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i in range(13)]
        ino, mode, uid, gid, nlink, mtime, size, _, _, rmaj, rmin, namesize, _ = f
        npos = pos + 110
        name = data[npos:npos + namesize - 1].decode()
        dpos = (npos + namesize + 3) & ~3
        body = data[dpos:dpos + size]
        pos = (dpos + size + 3) & ~3
        if name == "TRAILER!!!":
            continue
        entries[name] = dict(mode=mode, uid=uid, gid=gid, size=size,
                             rdev=(rmaj, rmin), data=body, mtime=mtime)
    return entries


def check_initramfs(path, label):
    with gzip.open(path) as f:
        ents = read_newc(f.read())
    init = ents.get("init")
    check(f"{label}: /init is there", init is not None)
    if init:
        check(f"{label}: /init is an executable file", init["mode"] == 0o100755, oct(init["mode"]))
        text = init["data"].decode()
        check(f"{label}: /init starts with #!/bin/sh", text.startswith("#!/bin/sh\n"))
        for needle in ("kvmfs-initramfs: shell ready", "mount -t proc", "mount -t sysfs",
                       "mount -t devtmpfs", "PS1='~ # '", "/dev/ttyS0", "reboot -f",
                       "poweroff -f"):
            check(f"{label}: /init has {needle!r}", needle in text)
        sh = subprocess.run(["/bin/busybox", "sh", "-n"], input=init["data"], capture_output=True)
        check(f"{label}: /init parses with busybox sh -n", sh.returncode == 0, sh.stderr.decode())
    bb = ents.get("bin/busybox")
    with open("/bin/busybox", "rb") as f:
        check(f"{label}: bin/busybox is /bin/busybox", bb is not None and bb["data"] == f.read())
    sh = ents.get("bin/sh")
    check(f"{label}: bin/sh -> busybox", sh is not None and sh["mode"] & 0o170000 == 0o120000
          and sh["data"] == b"busybox")
    con = ents.get("dev/console")
    check(f"{label}: dev/console is crw------- 5,1", con is not None
          and con["mode"] == 0o20600 and con["rdev"] == (5, 1))
    for d in ("bin", "dev", "proc", "sys", "tmp", "sbin", "usr/bin", "usr/sbin"):
        check(f"{label}: /{d} is a directory", d in ents and ents[d]["mode"] & 0o170000 == 0o040000)
    check(f"{label}: every entry is owned by 0:0",
          all(e["uid"] == 0 and e["gid"] == 0 for e in ents.values()))
    return ents


# --- running a loader in a dry run ------------------------------------------

LOW_MAX, HIGHMEM_BASE = 3 << 30, 1 << 32


def split(mem):
    """--mem's memory as the loaders lay it out: (mem, highmem)."""
    low = min(mem, LOW_MAX)
    return low, mem - low


def extent(mem):
    """The size of the memory file: with highmem, up to its end."""
    low, high = split(mem)
    return HIGHMEM_BASE + high if high else low


def dry_runs(work, mem, args, presize=True):
    """Both loaders at once, each into its own directory: {kind: (rc, stdout,
    stderr, dir)}, with the directory's name replaced by DIR in the output."""
    procs = {}
    for kind, cmd in LOADERS.items():
        d = os.path.join(work, kind)
        shutil.rmtree(d, ignore_errors=True)
        os.mkdir(d)
        if presize:
            with open(os.path.join(d, "memory"), "wb") as f:
                f.truncate(extent(mem))
        procs[kind] = (d, subprocess.Popen(cmd + ["--dry-run", d] + args, text=True,
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    res = {}
    for kind, (d, p) in procs.items():
        out, err = p.communicate()
        res[kind] = (p.returncode, out.replace(d, "DIR"), err.replace(d, "DIR"), d)
    return res


def read_file(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return None


def data_extents(fd, size):
    """The [start, end) ranges of a file that hold data (SEEK_DATA/SEEK_HOLE):
    reading the holes of a sparse file costs seconds on some filesystems."""
    out, pos = [], 0
    while pos < size:
        try:
            start = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError:  # ENXIO: only a hole is left
            break
        end = os.lseek(fd, start, os.SEEK_HOLE)
        out.append((start, end))
        pos = end
    return out


def same_bytes(a, b):
    """Byte for byte, reading only where either file has data: elsewhere
    both are holes, which read as zeros."""
    size = os.path.getsize(a)
    if os.path.getsize(b) != size:
        return False
    fa, fb = os.open(a, os.O_RDONLY), os.open(b, os.O_RDONLY)
    try:
        spans = sorted(data_extents(fa, size) + data_extents(fb, size))
        merged = []
        for lo, hi in spans:
            if merged and lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        for lo, hi in merged:
            for off in range(lo, hi, 8 << 20):
                n = min(8 << 20, hi - off)
                if os.pread(fa, n, off) != os.pread(fb, n, off):
                    return False
        return True
    finally:
        os.close(fa)
        os.close(fb)


def fields(text):
    out = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        out[name] = value
    return out


# --- what the memory must hold ----------------------------------------------

def u(b, off, n):
    return int.from_bytes(b[off:off + n], "little")


def check_memory(label, d, kernel, initrd, cmdline, mem, timeout=None, run=True, cpus=1):
    with open(kernel, "rb") as f:
        img = f.read()
    with open(os.path.join(d, "memory"), "rb") as f:
        # Mapped, not read: only the pages the checks look at are touched.
        memory = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
    check(f"{label}: memory kept its size", len(memory) == extent(mem),
          f"{len(memory)} != {extent(mem)}")
    low, high = split(mem)

    ctl = read_file(os.path.join(d, "ctl")) or ""
    regs = fields(read_file(os.path.join(d, "regs")) or "")
    sregs_text = read_file(os.path.join(d, "sregs")) or ""
    sregs = fields(sregs_text)

    setup_sects = img[0x1F1] or 4
    hdr_end = 0x202 + img[0x201]
    pm = img[(setup_sects + 1) * 512:]
    pref, init_size, align = u(img, 0x258, 8), u(img, 0x260, 4), u(img, 0x230, 4)
    initrd_max, cmdline_size = u(img, 0x22C, 4), u(img, 0x238, 4)

    rip, rsi, rsp = (int(regs.get(r, "-1"), 16) for r in ("rip", "rsi", "rsp"))
    load = rip - 0x200
    bp = memory[rsi:rsi + 4096]

    # The kernel, the zero page, the command line.
    check(f"{label}: rip is the 64-bit entry, load address + 0x200", load == 0x100000, hex(rip))
    check(f"{label}: the protected-mode kernel is at the load address",
          memory[load:load + len(pm)] == pm)
    check(f"{label}: zero page has HdrS at 0x202", bp[0x202:0x206] == b"HdrS")
    check(f"{label}: boot_flag 0xaa55", u(bp, 0x1FE, 2) == 0xAA55)
    check(f"{label}: type_of_loader 0xff", bp[0x210] == 0xFF)
    check(f"{label}: loadflags has LOADED_HIGH, not CAN_USE_HEAP",
          bp[0x211] & 0x01 and not bp[0x211] & 0x80, hex(bp[0x211]))
    changed = set(range(0x210, 0x212)) | set(range(0x214, 0x220)) | set(range(0x228, 0x22C)) \
        | set(range(0x250, 0x258))
    same = all(bp[i] == img[i] for i in range(0x1F1, hdr_end) if i not in changed)
    check(f"{label}: the rest of the setup header is the image's", same)
    check(f"{label}: code32_start is the load address", u(bp, 0x214, 4) == load)
    check(f"{label}: setup_data is 0", u(bp, 0x250, 8) == 0)
    check(f"{label}: ext_ramdisk_image/size, ext_cmd_line_ptr are 0", u(bp, 0xC0, 12) == 0)
    n820 = bp[0x1E8]
    outside = [i for i in range(4096) if bp[i] and not (0x1F1 <= i < hdr_end or i == 0x1E8
                                                        or 0x2D0 <= i < 0x2D0 + 20 * n820)]
    check(f"{label}: the zero page is zero outside the header and e820", not outside,
          f"bytes at {[hex(i) for i in outside[:8]]}")
    cl = u(bp, 0x228, 4)
    end = memory.find(b"\0", cl)
    check(f"{label}: cmd_line_ptr points at the command line, NUL-terminated",
          memory[cl:end] == os.fsencode(cmdline), repr(memory[cl:cl + 80]))
    check(f"{label}: the command line fits cmdline_size", end - cl <= cmdline_size)

    # The initrd.
    ri, rs = u(bp, 0x218, 4), u(bp, 0x21C, 4)
    if initrd:
        with open(initrd, "rb") as f:
            ird = f.read()
        check(f"{label}: ramdisk_size is the initrd's size", rs == len(ird), f"{rs} != {len(ird)}")
        check(f"{label}: the initrd is at ramdisk_image", memory[ri:ri + rs] == ird)
        check(f"{label}: ramdisk_image is 4K aligned", ri % 4096 == 0, hex(ri))
        check(f"{label}: the initrd ends below initrd_addr_max", ri + rs - 1 <= initrd_max)
    else:
        check(f"{label}: no initrd: ramdisk_image and ramdisk_size 0", ri == 0 and rs == 0)

    # e820.
    table = [struct.unpack_from("<QQI", bp, 0x2D0 + 20 * i) for i in range(n820)]
    check(f"{label}: 1 to 128 e820 entries", 1 <= n820 <= 128, str(n820))
    check(f"{label}: e820 types are usable (1) or reserved (2)",
          all(t in (1, 2) for _, _, t in table))
    check(f"{label}: e820 entries have sizes", all(s > 0 for _, s, _ in table))
    srt = sorted(table)
    check(f"{label}: e820 is sorted", srt == table)
    check(f"{label}: e820 entries do not overlap",
          all(a + s <= b for (a, s, _), (b, _, _) in zip(srt, srt[1:])))
    below = [e for e in srt if e[0] < HIGHMEM_BASE]
    check(f"{label}: e820 covers memory below 4 GiB, and nothing beyond it",
          below[0][0] == 0 and below[-1][0] + below[-1][1] == low
          and all(a + s == b for (a, s, _), (b, _, _) in zip(below, below[1:])))
    check(f"{label}: e820 has highmem as usable at 4 GiB, or nothing there",
          srt[len(below):] == ([(HIGHMEM_BASE, high, 1)] if high else []),
          repr(srt[len(below):]))
    usable = [(a, a + s) for a, s, t in table if t == 1]

    def in_usable(lo, hi):
        return any(a <= lo and hi <= b for a, b in usable)

    def in_reserved(lo, hi):
        return any(a <= lo and hi <= a + s for a, s, t in table if t == 2)

    check(f"{label}: 0x9fc00-0x100000 is reserved (EBDA, VGA, BIOS)", in_reserved(0x9FC00, 0x100000))
    if align and u(img, 0x234, 1):
        run_at = max((load + align - 1) & ~(align - 1), pref)
    else:
        run_at = pref
    kend = max(run_at + init_size, load + len(pm))
    regions = {
        "kernel and its init_size": (load, kend),
        "boot_params": (rsi, rsi + 4096),
        "command line": (cl, end + 1),
        "GDT": (int(sregs.get("gdt.base", "0"), 16),
                int(sregs.get("gdt.base", "0"), 16) + int(sregs.get("gdt.limit", "0"), 16) + 1),
        "stack (rsp and 4 KiB below)": (rsp - 4096, rsp),
    }
    if initrd:
        regions["initrd"] = (ri, ri + rs)
    for name, (lo, hi) in regions.items():
        check(f"{label}: the {name} ({lo:#x}-{hi:#x}) is in usable e820 memory", in_usable(lo, hi))
    names = list(regions)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            (alo, ahi), (blo, bhi) = regions[a], regions[b]
            check(f"{label}: the {a} and the {b} do not overlap", ahi <= blo or bhi <= alo)

    # The page tables mode long makes: where its default would put them,
    # reserved in e820.
    pt_size = (2 + (low + (1 << 30) - 1) // (1 << 30)) * 4096
    pt = (low - pt_size) & ~0xFFF
    check(f"{label}: the page tables ({pt:#x}-{low:#x}) are reserved in e820", in_reserved(pt, low))
    if initrd:
        check(f"{label}: the initrd ends at or below the page tables", ri + rs <= pt)

    # The reset vector stub and the GDT.
    check(f"{label}: the reset vector triple-faults",
          memory[0xFFFF0:0x100000] == bytes.fromhex("fa2e0f011ef8ffcc") + bytes(8))
    g = int(sregs.get("gdt.base", "0"), 16)
    cs, ds = u(memory, g + 0x10, 8), u(memory, g + 0x18, 8)

    def desc(v):
        return dict(base=((v >> 16) & 0xFFFFFF) | ((v >> 56) << 24),
                    limit=(v & 0xFFFF) | (((v >> 48) & 0xF) << 16),
                    type=(v >> 40) & 0xF, s=(v >> 44) & 1, dpl=(v >> 45) & 3, p=(v >> 47) & 1,
                    l=(v >> 53) & 1, db=(v >> 54) & 1, g=(v >> 55) & 1)

    c, dd = desc(cs), desc(ds)
    check(f"{label}: GDT 0x10 (__BOOT_CS) is flat 64-bit execute/read code",
          c["base"] == 0 and c["limit"] == 0xFFFFF and c["g"] and c["p"] and c["s"]
          and c["type"] & 0xA == 0xA and c["l"] and not c["db"] and c["dpl"] == 0, str(c))
    check(f"{label}: GDT 0x18 (__BOOT_DS) is flat 4 GiB read/write data",
          dd["base"] == 0 and dd["limit"] == 0xFFFFF and dd["g"] and dd["p"] and dd["s"]
          and dd["type"] & 0xA == 0x2 and dd["dpl"] == 0, str(dd))
    check(f"{label}: GDT entries 0x00 and 0x08 are null", u(memory, g, 16) == 0)

    # The MP table at 0xf0000: its floating pointer and table sum to 0,
    # one processor entry per vCPU (APIC IDs 0..cpus-1, the first the BSP),
    # the IOAPIC's ID after them, every ISA IRQ routed to it.
    fp = memory[0xF0000:0xF0010]
    check(f"{label}: the MP floating pointer", fp[:4] == b"_MP_" and sum(fp) % 256 == 0)
    mpc = u(fp, 4, 4)
    tlen, nent = u(memory, mpc + 4, 2), u(memory, mpc + 34, 2)
    table = memory[mpc:mpc + tlen]
    check(f"{label}: the MP table sums to 0", table[:4] == b"PCMP" and sum(table) % 256 == 0)
    ents, at = [], 44
    for _ in range(nent):
        kind = table[at]
        size = 20 if kind == 0 else 8
        ents.append(table[at:at + size])
        at += size
    check(f"{label}: the MP table's entries fill it", at == tlen, f"{at} != {tlen}")
    procs = [(e[1], e[3]) for e in ents if e[0] == 0]
    check(f"{label}: {cpus} processor(s), APIC IDs 0..{cpus - 1}, vCPU 0 the BSP",
          procs == [(i, 3 if i == 0 else 1) for i in range(cpus)], repr(procs))
    ioapics = [e[1] for e in ents if e[0] == 2]
    check(f"{label}: the IOAPIC's ID follows the CPUs'", ioapics == [cpus], repr(ioapics))
    check(f"{label}: ISA IRQs 0-15 go to that IOAPIC",
          sorted((e[5], e[6], e[7]) for e in ents if e[0] == 3)
          == [(i, cpus, i) for i in range(16)])

    # The exact text written.
    want_ctl = [f"mem {low:#x}"] + ([f"highmem {high:#x}"] if high else []) + [
        "irqchip"] + ([f"cpus {cpus}"] if cpus > 1 else []) + ["pio 0x0-0xe8 ignore", "pio 0xea-0x3f7 ignore",
        "pio 0x400-0xffff ignore", f"mmio {low:#x}-0xffffffff ignore"]
    if timeout is not None:
        want_ctl.append(f"timeout {timeout}")
    want_ctl.append(f"mode long pt={pt:#x}")
    if run:
        want_ctl.append("run")
    check(f"{label}: ctl lines", ctl.splitlines() == want_ctl, repr(ctl))
    want_sregs = ["gdt.base 0x1000", "gdt.limit 0x1f", "cs.selector 0x10"]
    for s in ("ds", "es", "fs", "gs", "ss"):
        want_sregs += [f"{s}.selector 0x18", f"{s}.db 1"]
    check(f"{label}: sregs lines", sregs_text.splitlines() == want_sregs, repr(sregs_text))
    check(f"{label}: regs: rip, rsi (the zero page), rsp",
          read_file(os.path.join(d, "regs")) == f"rip {rip:#x}\nrsi 0x10000\nrsp 0x8000\n")


# --- the cases --------------------------------------------------------------

def twins(work, label, mem, args, **kw):
    """Both loaders on the same input: identical results, then the checks."""
    res = dry_runs(work, mem, args)
    for k, (rc, out, err, _) in res.items():
        check(f"{label}: boot-linux.{k} exits 0", rc == 0, err.strip())
    (_, out_sh, err_sh, d_sh), (_, out_py, err_py, d_py) = res["sh"], res["py"]
    check(f"{label}: same output from .sh and .py", out_sh == out_py,
          f"\n--- sh\n{out_sh}--- py\n{out_py}")
    check(f"{label}: nothing on stderr", err_sh == "" and err_py == "", err_sh + err_py)
    check(f"{label}: byte-identical memory", same_bytes(f"{d_sh}/memory", f"{d_py}/memory"))
    for f in ("ctl", "regs", "sregs"):
        check(f"{label}: same {f}", read_file(f"{d_sh}/{f}") == read_file(f"{d_py}/{f}"))
    return d_sh, out_sh


def refusal(work, label, mem, args, needle, presize=True):
    """Both loaders refuse, with the same message, which says NEEDLE."""
    res = dry_runs(work, mem, args, presize)
    msgs = {}
    for k, (rc, out, err, _) in res.items():
        check(f"refuses {label}: boot-linux.{k} exits 1", rc == 1, f"rc {rc}: {err.strip()}")
        msgs[k] = err.strip().splitlines()[-1] if err.strip() else ""
        check(f"refuses {label}: boot-linux.{k} says {needle!r}", needle in msgs[k], msgs[k])
    check(f"refuses {label}: the same message", msgs["sh"] == msgs["py"],
          f"sh: {msgs['sh']!r} py: {msgs['py']!r}")


def patched(work, name, kernel, edits, extra=None):
    with open(kernel, "rb") as f:
        img = bytearray(f.read())
    for off, val in edits:
        img[off:off + len(val)] = val
    if extra is not None:
        img = extra(img)
    p = os.path.join(work, name)
    with open(p, "wb") as f:
        f.write(img)
    return p


def main():
    t0 = time.monotonic()
    kernel = find_kernel()
    if not kernel:
        print("SKIP: no bzImage (set KVMFS_BZIMAGE, or run the full-KVM lane once for its cache)")
        return 77
    if not os.path.exists("/bin/busybox") or subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", "busybox-static"],
            capture_output=True, text=True).stdout.find("install ok installed") < 0:
        print("SKIP: busybox-static is not installed")
        return 77
    print(f"kernel: {kernel}")
    work = tempfile.mkdtemp(prefix="bootproto.")
    try:
        # The initramfs, with cpio and with the hand-written archive.
        ird = os.path.join(work, "busybox.cpio.gz")
        r = subprocess.run([os.path.join(EX, "busybox-initramfs.sh"), ird],
                           capture_output=True, text=True)
        check("busybox-initramfs.sh exits 0", r.returncode == 0, r.stderr)
        if r.returncode:
            return 1
        a = check_initramfs(ird, "initramfs (cpio)")
        ird2 = os.path.join(work, "builtin.cpio.gz")
        r = subprocess.run([os.path.join(EX, "busybox-initramfs.sh"), ird2], capture_output=True,
                           text=True, env=dict(os.environ, KVMFS_INITRAMFS_CPIO="builtin"))
        check("busybox-initramfs.sh without cpio exits 0", r.returncode == 0, r.stderr)
        b = check_initramfs(ird2, "initramfs (no cpio)")
        check("the two initramfs paths hold the same entries",
              {k: (v["mode"], v["data"], v["rdev"]) for k, v in a.items()}
              == {k: (v["mode"], v["data"], v["rdev"]) for k, v in b.items()})

        # The boot itself, in three shapes.
        mib = 1 << 20
        d, out = twins(work, "256M", 256 * mib, [kernel, ird, CMDLINE])
        check_memory("256M", d, kernel, ird, CMDLINE, 256 * mib)
        print(out, end="")
        d, _ = twins(work, "1536M no initrd", 1536 * mib,
                     ["--mem", "1536M", "--timeout", "60000", "--no-run", kernel, "-", CMDLINE])
        check_memory("1536M no initrd", d, kernel, None, CMDLINE, 1536 * mib, timeout=60000,
                     run=False)
        # Above 3G: 3G at 0, the rest at 4 GiB (a sparse 6 GiB file here).
        d, out = twins(work, "5G", 5 << 30, ["--mem", "5G", kernel, ird, CMDLINE])
        check("5G: the layout says where memory is",
              "memory 0x140000000: 0xc0000000 at 0, 0x80000000 at 0x100000000" in out, out)
        check_memory("5G", d, kernel, ird, CMDLINE, 5 << 30)
        d, _ = twins(work, "4 vCPUs", 256 * mib, ["--cpus", "4", kernel, ird, CMDLINE])
        check_memory("4 vCPUs", d, kernel, ird, CMDLINE, 256 * mib, cpus=4)
        refusal(work, "--cpus 65", 256 * mib, ["--cpus", "65", kernel, ird, "x"], "bad --cpus '65'")
        long_ok = "x" * (u(open(kernel, "rb").read(0x300), 0x238, 4))
        d, _ = twins(work, "longest cmdline", 128 * mib, ["--mem", "0x8000000", kernel, ird, long_ok])
        check_memory("longest cmdline", d, kernel, ird, long_ok, 128 * mib)
        # setup_sects 0 means 4: the kernel starts at 5 * 512 of this image.
        sects0 = patched(work, "sects0", kernel, [(0x1F1, b"\0")],
                         lambda img: img[:0x200 * 5] + os.urandom(3 << 20))
        d, _ = twins(work, "setup_sects 0", 128 * mib, ["--mem", "128M", sects0, ird, "x"])
        check_memory("setup_sects 0", d, sects0, ird, "x", 128 * mib)
        # Not relocatable: it runs at pref_address.
        norel = patched(work, "norel", kernel, [(0x234, b"\0")])
        d, out = twins(work, "not relocatable", 256 * mib, [norel, ird, "x"])
        check("not relocatable: runs at pref_address", "runs at 0x1000000" in out
              and "not relocatable" in out, out)
        check_memory("not relocatable", d, norel, ird, "x", 256 * mib)

        # Refusals: same words from both.
        junk = os.path.join(work, "junk")
        with open(junk, "wb") as f:
            f.write(os.urandom(4096))
        refusal(work, "a file that is no bzImage", 256 * mib, [junk, ird, "x"], "0xaa55")
        nohdrs = patched(work, "nohdrs", kernel, [(0x202, b"HdrX")])
        refusal(work, "no HdrS", 256 * mib, [nohdrs, ird, "x"], '"HdrS"')
        old = patched(work, "old", kernel, [(0x206, struct.pack("<H", 0x020B))])
        refusal(work, "protocol 2.11", 256 * mib, [old, ird, "x"], "older than 2.12")
        no64 = patched(work, "no64", kernel, [(0x236, struct.pack("<H", 0x7E))])
        refusal(work, "no XLF_KERNEL_64", 256 * mib, [no64, ird, "x"], "XLF_KERNEL_64")
        refusal(work, "a command line over cmdline_size", 256 * mib,
                [kernel, ird, long_ok + "x"], "at most")
        refusal(work, "too little memory", 64 * mib, ["--mem", "64M", kernel, ird, "x"],
                "too small")
        refusal(work, "too little memory, no initrd", 64 * mib, ["--mem", "64M", kernel, "-", "x"],
                "too small")
        refusal(work, "a dry run without the memory file of 4G", 4 << 30,
                ["--mem", "4G", kernel, ird, "x"], "truncate -s 0x140000000", presize=False)
        refusal(work, "memory not in pages", 256 * mib, ["--mem", "1000000", kernel, ird, "x"],
                "multiple of 4096")
        refusal(work, "a bad size", 256 * mib, ["--mem", "lots", kernel, ird, "x"], "bad size")
        refusal(work, "a memory file of the wrong size", 128 * mib, [kernel, ird, "x"],
                "has 134217728 bytes")
        refusal(work, "no memory file", 256 * mib, [kernel, ird, "x"], "must exist", presize=False)
        refusal(work, "a missing initrd", 256 * mib, [kernel, "/nonexistent", "x"], "cannot read")
        refusal(work, "a bad timeout", 256 * mib, ["--timeout", "soon", kernel, ird, "x"],
                "bad --timeout")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    took = time.monotonic() - t0
    print(f"{passes} checks passed, {len(failures)} failed, {took:.1f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
