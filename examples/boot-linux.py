#!/usr/bin/env python3
"""Boot a stock x86-64 Linux bzImage in a kvmfs VM: boot-linux.sh in Python.

The same 64-bit boot protocol (Documentation/arch/x86/boot.rst), the same
addresses, options and output as examples/boot-linux.sh, whose header
explains every choice; tests/bootproto_check.py checks that both write the
same bytes and lines. Only the standard library: the kvmfs files are used
with os.open, os.read, os.write and os.lseek, one os.write per ctl, regs
or sregs transaction.

Usage:
  boot-linux.py [options] MNT bzImage INITRD 'CMDLINE'
  boot-linux.py [options] --dry-run DIR bzImage INITRD 'CMDLINE'

  MNT            the kvmfs mount; the VM is MNT/vms/NAME, made here
  INITRD         an initramfs (e.g. from busybox-initramfs.sh), or - for none
  CMDLINE        the kernel command line, e.g.
                 'console=ttyS0 reboot=t panic=-1'
  --name NAME    the VM's name (default linux)
  --replace      remove an existing vms/NAME first (rmdir stops it)
  --mem SIZE     guest memory, K/M/G suffixes (default 256M); above 3G,
                 3G at 0 (ctl mem) and the rest at 4 GiB (ctl highmem)
  --cpus N       vCPUs, 1-64 (default 1): ctl cpus N, and N processors
                 in the MP table; the APs wait for Linux's INIT-SIPI-SIPI
  --timeout MS   the run stops after MS milliseconds (ctl timeout)
  --background   start the run with 'run' in ctl and return (the default)
  --wait         run in the foreground: cat run, print its answer
  --no-run       load and set up only
  --dry-run DIR  write into plain files instead of a VM: DIR/memory must
                 exist, sized to --mem; ctl, sregs and regs are appended to
"""
import os
import re
import struct
import sys

PROG = "boot-linux"
GDT_ADDR = 0x1000
STACK_TOP = 0x8000
ZEROPAGE = 0x10000
CMDLINE_ADDR = 0x20000
LOW_END = 0x9FC00
HIGH_START = 0x100000
LOAD_ADDR = 0x100000
LOW_MAX = 3 << 30
HIGHMEM_BASE = 1 << 32
RESET_VECTOR = 0xFFFF0
MP_ADDR = 0xF0000
GIB = 1 << 30


class Refused(Exception):
    """A reason to stop, printed as 'boot-linux: REASON'."""


def die(msg):
    raise Refused(msg)


def usage():
    text = __doc__
    return text[text.index("Usage:"):].rstrip() + "\n"


def parse_size(text):
    """Bytes, with kvmfs's syntax: decimal or 0x hex, K/M/G/T suffixes."""
    m = re.fullmatch(r"(0x[0-9a-fA-F]{1,12}|[0-9]{1,15})([kKMGT]?)", text)
    if not m:
        die(f"bad size '{text}' (e.g. 256M, 0x10000000)")
    shift = {"": 0, "k": 10, "K": 10, "M": 20, "G": 30, "T": 40}[m.group(2)]
    return int(m.group(1), 0 if m.group(1).startswith("0x") else 10) << shift


def align_up(v, a):
    return (v + a - 1) & ~(a - 1)


# --- the image's setup header ---------------------------------------------

class Image:
    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.data = f.read()
        d = self.data
        if len(d) < 1024:
            die(f"{path}: {len(d)} bytes, too small for a bzImage")

        def field(off, size):
            return int.from_bytes(d[off:off + size], "little")

        self.field = field
        if field(0x1FE, 2) != 0xAA55:
            die(f"{path}: no boot sector signature 0xaa55 at 0x1fe: not a bzImage")
        if d[0x202:0x206] != b"HdrS":
            die(f'{path}: no "HdrS" at 0x202: not a Linux x86 boot image '
                "(or older than protocol 2.00)")
        self.version = field(0x206, 2)
        if self.version < 0x020C:
            die(f"{path}: boot protocol {self.version >> 8}.{self.version & 0xff:02d} "
                "is older than 2.12, which has xloadflags and the 64-bit entry")
        xlf = field(0x236, 2)
        if not xlf & 1:
            die(f"{path}: XLF_KERNEL_64 is clear in xloadflags ({xlf:#x}): "
                "no 64-bit entry point (a 32-bit kernel?)")
        self.setup_sects = field(0x1F1, 1) or 4  # 0 means 4
        self.hdr_end = 0x202 + field(0x201, 1)
        self.loadflags = field(0x211, 1)
        self.initrd_addr_max = field(0x22C, 4)
        self.kernel_alignment = field(0x230, 4)
        self.relocatable = field(0x234, 1)
        self.cmdline_size = field(0x238, 4)
        self.pref_address = field(0x258, 8)
        self.init_size = field(0x260, 4)
        self.setup_bytes = (self.setup_sects + 1) * 512
        self.pm_size = len(d) - self.setup_bytes
        if self.pm_size <= 0:
            die(f"{path}: nothing after the {self.setup_bytes} setup bytes")
        if self.hdr_end > 0x290:
            die(f"{path}: setup header runs to {self.hdr_end:#x}, "
                "past boot_params' e820 table")


# --- the layout ---------------------------------------------------------

class Layout:
    def __init__(self, img, mem, initrd, cmdline):
        if mem & 0xFFF:
            die(f"--mem {mem:#x} is not a multiple of 4096")
        self.mem = mem
        # Above 3G, the rest goes to 4 GiB (highmem): RAM stays below the
        # IOAPIC and LAPIC at 0xfec00000.
        self.low = min(mem, LOW_MAX)
        self.high = mem - self.low
        # memory's size: with highmem, up to its end (the hole is sparse).
        self.extent = HIGHMEM_BASE + self.high if self.high else mem
        a = img.kernel_alignment
        # Where the kernel decompresses itself (head_64.S, startup_64).
        if img.relocatable:
            if a <= 0 or a & (a - 1):
                die(f"{img.path}: kernel_alignment {a:#x} is not a power of two")
            self.run_addr = max(align_up(LOAD_ADDR, a), img.pref_address)
        else:
            self.run_addr = img.pref_address
        self.kernel_end = max(align_up(self.run_addr + img.init_size, 4096),
                              align_up(LOAD_ADDR + img.pm_size, 4096))
        # mode long's page tables: PML4, PDPT, one PD per GiB (src/x86/modes.c).
        self.pt_size = (2 + (self.low + GIB - 1) // GIB) * 4096
        self.pt = (self.low - self.pt_size) & ~0xFFF
        self.entry = LOAD_ADDR + 0x200
        if initrd is None:
            self.initrd_size = self.initrd_addr = 0
            if self.kernel_end > self.pt:
                die(f"--mem {mem:#x} is too small: the kernel needs up to "
                    f"{self.kernel_end:#x} and the page tables start at {self.pt:#x}")
        else:
            self.initrd_size = len(initrd)
            top = min(self.pt, img.initrd_addr_max + 1)
            self.initrd_addr = (top - self.initrd_size) & ~0xFFF
            if self.initrd_addr < self.kernel_end:
                die(f"--mem {mem:#x} is too small: the kernel needs up to "
                    f"{self.kernel_end:#x}, the {self.initrd_size}-byte initrd "
                    f"would start at {hexs(self.initrd_addr)} (it ends below {top:#x})")
        if len(cmdline) > img.cmdline_size:
            die(f"the command line has {len(cmdline)} bytes, this kernel takes "
                f"at most {img.cmdline_size}")
        if CMDLINE_ADDR + img.cmdline_size + 1 > LOW_END:
            die(f"cmdline_size {img.cmdline_size} does not fit below {LOW_END:#x}")


def hexs(v):
    """printf '0x%x' of a possibly negative bash number."""
    return f"{v:#x}" if v >= 0 else f"{v & (2**64 - 1):#x}"


def show_layout(img, lay, cmdline):
    rel = "relocatable" if img.relocatable else "not relocatable"
    out = [
        f"{PROG}: {os.path.basename(img.path)}: protocol {img.version >> 8}."
        f"{img.version & 0xff:02d}, {img.setup_sects} setup sectors, {rel}, "
        f"kernel_alignment {img.kernel_alignment:#x}, pref_address "
        f"{img.pref_address:#x}, init_size {img.init_size:#x}",
        f"{PROG}: memory {lay.mem:#x}" + (
            f": {lay.low:#x} at 0, {lay.high:#x} at {HIGHMEM_BASE:#x}"
            if lay.high else ""),
        f"  0x{GDT_ADDR:08x} gdt          0x20 bytes (__BOOT_CS 0x10, __BOOT_DS 0x18)",
        f"  0x{STACK_TOP:08x} stack top    (rsp)",
        f"  0x{ZEROPAGE:08x} boot_params  0x1000 bytes (rsi)",
        f"  0x{CMDLINE_ADDR:08x} cmdline      {len(cmdline) + 1} bytes",
        f"  0x{RESET_VECTOR:08x} reset vector 16 bytes (triple fault)",
        f"  0x{LOAD_ADDR:08x} kernel       {img.pm_size:#x} bytes, entry "
        f"{lay.entry:#x}; runs at {lay.run_addr:#x}, uses up to {lay.kernel_end:#x}",
    ]
    if lay.initrd_size:
        out.append(f"  0x{lay.initrd_addr:08x} initrd       {lay.initrd_size:#x} bytes")
    out.append(f"  0x{lay.pt:08x} page tables  {lay.pt_size:#x} bytes (mode long pt=)")
    print("\n".join(out), flush=True)


# --- bytes --------------------------------------------------------------

def zero_page(img, lay):
    """Zeros, the image's setup header, then what a loader sets."""
    zp = bytearray(4096)
    zp[0x1F1:img.hdr_end] = img.data[0x1F1:img.hdr_end]
    struct.pack_into("<B", zp, 0x210, 0xFF)  # type_of_loader: none of the known ones
    struct.pack_into("<B", zp, 0x211, (img.loadflags | 0x01) & ~0x80)  # LOADED_HIGH; no CAN_USE_HEAP
    struct.pack_into("<I", zp, 0x214, LOAD_ADDR)  # code32_start
    struct.pack_into("<I", zp, 0x218, lay.initrd_addr)  # ramdisk_image
    struct.pack_into("<I", zp, 0x21C, lay.initrd_size)  # ramdisk_size
    struct.pack_into("<I", zp, 0x228, CMDLINE_ADDR)  # cmd_line_ptr
    struct.pack_into("<Q", zp, 0x250, 0)  # setup_data: no list
    # ext_ramdisk_image/size and ext_cmd_line_ptr (0xc0-0xcb) stay 0.
    e820 = [
        (0, LOW_END, 1),
        (LOW_END, HIGH_START - LOW_END, 2),
        (HIGH_START, lay.pt - HIGH_START, 1),
        (lay.pt, lay.low - lay.pt, 2),
    ]
    if lay.high:
        e820.append((HIGHMEM_BASE, lay.high, 1))
    struct.pack_into("<B", zp, 0x1E8, len(e820))
    for i, (addr, size, kind) in enumerate(e820):
        struct.pack_into("<QQI", zp, 0x2D0 + 20 * i, addr, size, kind)
    return bytes(zp)


# At 0xffff0, run in real mode with cs 0xf000: cli; lidt cs:[0xfff8] (the
# 6 zero bytes at 0xffff8: limit 0); int3, which finds no IDT entry: #GP,
# #DF, triple fault. A reboot through the BIOS then ends the run.
RESET_STUB = bytes.fromhex("fa2e0f011ef8ffcc") + bytes(8)

GDT = struct.pack("<4Q",
                  0,                   # 0x00 null
                  0,                   # 0x08 unused
                  0x00AF9B000000FFFF,  # 0x10 __BOOT_CS: code, execute/read, L=1, flat
                  0x00CF93000000FFFF)  # 0x18 __BOOT_DS: data, read/write, flat 4 GiB


# --- the VM's files -----------------------------------------------------

def mp_sum(b):
    """The byte that makes B's bytes sum to 0 (mod 256)."""
    return (256 - sum(b) % 256) % 256


def mp_table(cpus):
    """Intel's MP table, as boot-linux.sh's make_mptable: CPUS processors
    (local APIC IDs 0..CPUS-1, 0 the BSP), an ISA bus, KVM's IOAPIC (ID
    CPUS) with ISA IRQ n on pin n, ExtINT on LINT0, NMI on LINT1."""
    e = b"".join(struct.pack("<BBBBII8x", 0, cpu, 0x14, 3 if cpu == 0 else 1,
                             0x600, 0x201) for cpu in range(cpus))
    e += struct.pack("<BB6s", 1, 0, b"ISA   ")
    e += struct.pack("<BBBBI", 2, cpus, 0x11, 1, 0xFEC00000)
    for irq in range(16):
        e += struct.pack("<BBHBBBB", 3, 0, 0, 0, irq, cpus, irq)
    e += struct.pack("<BBHBBBB", 4, 3, 0, 0, 0, 0xFF, 0)
    e += struct.pack("<BBHBBBB", 4, 1, 0, 0, 0, 0xFF, 1)
    hdr = struct.pack("<4sHBB8s12sIHHIHBB", b"PCMP", 44 + len(e), 4, 0,
                      b"KVMFS   ", b"boot-linux  ", 0, 0, 20 + cpus, 0xFEE00000,
                      0, 0, 0)
    t = bytearray(hdr + e)
    t[7] = mp_sum(t)
    fp = bytearray(struct.pack("<4sIBBB5s", b"_MP_", MP_ADDR + 16, 1, 4, 0,
                               bytes(5)))
    fp[10] = mp_sum(fp)
    return bytes(fp) + bytes(t)


def read_text(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return b"".join(chunks).decode(errors="replace")
            chunks.append(chunk)
    finally:
        os.close(fd)


def vm_error(d):
    try:
        for line in read_text(f"{d}/status").splitlines():
            if line.startswith("error "):
                return line[6:]
    except OSError:
        pass
    return ""


class VM:
    def __init__(self, path, dry):
        self.path = path
        self.dry = dry

    def put(self, name, text):
        """TEXT and a newline in one write(2): one transaction; a dry run appends."""
        data = (text + "\n").encode()
        path = f"{self.path}/{name}"
        flags = os.O_WRONLY | (os.O_APPEND | os.O_CREAT if self.dry else 0)
        try:
            fd = os.open(path, flags, 0o644)
        except OSError as e:
            die(f"cannot open {path}: {e.strerror}")
        try:
            if os.write(fd, data) != len(data):
                die(f"{name}: short write")
        except OSError as e:
            if self.dry:
                raise
            die(f"{name} refused: {vm_error(self.path) or e.strerror}")
        finally:
            os.close(fd)

    def to_memory(self, what, addr, data):
        """DATA at guest-physical ADDR: offset = address, 1 MiB at a time."""
        try:
            fd = os.open(f"{self.path}/memory", os.O_WRONLY)
        except OSError as e:
            die(f"cannot open {self.path}/memory: {e.strerror}")
        try:
            os.lseek(fd, addr, os.SEEK_SET)
            view = memoryview(data)
            while view:
                n = os.write(fd, view[:1 << 20])
                view = view[n:]
        except OSError as e:
            die(f"writing the {what} to memory at {addr:#x} failed: {e.strerror}")
        finally:
            os.close(fd)


def ctl_setup_text(lay, timeout, cpus):
    lines = [f"mem {lay.low:#x}"]
    if lay.high:
        lines.append(f"highmem {lay.high:#x}")
    lines.append("irqchip")
    if cpus > 1:
        lines.append(f"cpus {cpus}")
    lines += [
              "pio 0x0-0xe8 ignore", "pio 0xea-0x3f7 ignore", "pio 0x400-0xffff ignore",
              f"mmio {lay.low:#x}-0xffffffff ignore"]
    if timeout is not None:
        lines.append(f"timeout {timeout}")
    return "\n".join(lines)


def sregs_text():
    lines = [f"gdt.base {GDT_ADDR:#x}", "gdt.limit 0x1f", "cs.selector 0x10"]
    # The caches keep mode long's flat segments; db 1 as in the GDT entry.
    for s in ("ds", "es", "fs", "gs", "ss"):
        lines += [f"{s}.selector 0x18", f"{s}.db 1"]
    return "\n".join(lines)


def regs_text(lay):
    return f"rip {lay.entry:#x}\nrsi {ZEROPAGE:#x}\nrsp {STACK_TOP:#x}"


def make_vm(mnt, name, replace):
    if not os.path.exists(f"{mnt}/version"):
        die(f"kvmfs is not mounted at {mnt} (no {mnt}/version)")
    path = f"{mnt}/vms/{name}"
    if os.path.exists(path):
        if not replace:
            die(f"{path} exists (rmdir it, or use --replace or another --name)")
        try:
            os.rmdir(path)
        except OSError:
            die(f"cannot remove {path}")
    try:
        os.mkdir(path)
    except OSError:
        die(f"mkdir {path}: {vm_error(mnt)}")
    return path


def check_dry_dir(d, lay):
    want = lay.extent
    if not os.path.isdir(d):
        die(f"--dry-run {d}: not a directory")
    if not os.path.isfile(f"{d}/memory"):
        die(f"--dry-run: {d}/memory must exist (truncate -s {want:#x} {d}/memory)")
    size = os.stat(f"{d}/memory").st_size
    if size != want:
        die(f"--dry-run: {d}/memory has {size} bytes, --mem {lay.mem} wants {want} "
            f"(truncate -s {want:#x} {d}/memory)")


def start(vm, run):
    d = vm.path
    if run == "background":
        vm.put("ctl", "run")
        print(f"{PROG}: running: tail -f {d}/console; typing: cat > {d}/input; "
              f"stop: echo stop > {d}/ctl; why it ended: grep ^exit {d}/status")
    elif run == "wait":
        print(f"{PROG}: running {d} until it stops (Ctrl-C stops it)", flush=True)
        print(f"run: {read_text(f'{d}/run').strip()}")
    else:
        print(f"{PROG}: loaded, not started: echo run > {d}/ctl")


def parse_args(argv):
    opts = {"name": "linux", "mem": "256M", "timeout": None, "replace": False,
            "run": "background", "dry": None, "cpus": "1"}
    args = []
    valued = {"--name": "name", "--mem": "mem", "--timeout": "timeout", "--dry-run": "dry",
              "--cpus": "cpus"}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in valued:
            if i + 1 >= len(argv) or argv[i + 1] == "":
                die(f"{a} needs a value")
            opts[valued[a]] = argv[i + 1]
            i += 1
        elif a == "--replace":
            opts["replace"] = True
        elif a in ("--background", "--wait", "--no-run"):
            opts["run"] = {"--background": "background", "--wait": "wait",
                           "--no-run": "none"}[a]
        elif a in ("-h", "--help"):
            sys.stdout.write(usage())
            sys.exit(0)
        elif a == "--":
            args += argv[i + 1:]
            break
        elif a.startswith("-") and a != "-":
            sys.stderr.write(usage())
            die(f"unknown option {a}")
        else:
            args.append(a)
        i += 1
    return opts, args


def main(argv):
    opts, args = parse_args(argv)
    if opts["dry"] is not None:
        if len(args) != 3:
            sys.stderr.write(usage())
            die("with --dry-run: bzImage INITRD 'CMDLINE'")
        kernel, initrd_path, cmdline = args[0], args[1], os.fsencode(args[2])
    else:
        if len(args) != 4:
            sys.stderr.write(usage())
            die("expected MNT bzImage INITRD 'CMDLINE'")
        mnt, kernel, initrd_path = args[:3]
        cmdline = os.fsencode(args[3])  # bytes: its length is what the kernel limits
        name = opts["name"]
        if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", name) or name == "new":
            die(f"bad VM name '{name}' (1-64 of A-Z a-z 0-9 . _ -, not 'new')")
    timeout = opts["timeout"]
    if timeout is not None and not re.fullmatch(r"[0-9]{1,8}", timeout):
        die(f"bad --timeout '{timeout}' (milliseconds)")
    if not re.fullmatch(r"[1-9][0-9]?", opts["cpus"]) or int(opts["cpus"]) > 64:
        die(f"bad --cpus '{opts['cpus']}' (1 to 64)")
    cpus = int(opts["cpus"])
    if not os.path.isfile(kernel) or not os.access(kernel, os.R_OK):
        die(f"cannot read the kernel image '{kernel}'")
    initrd = None
    if initrd_path != "-":
        if not os.path.isfile(initrd_path) or not os.access(initrd_path, os.R_OK):
            die(f"cannot read the initrd '{initrd_path}' (- for none)")
        with open(initrd_path, "rb") as f:
            initrd = f.read()
        if not initrd:
            die(f"{initrd_path} is empty")
    mem = parse_size(opts["mem"])

    img = Image(kernel)
    lay = Layout(img, mem, initrd, cmdline)
    show_layout(img, lay, cmdline)

    if opts["dry"] is not None:
        vm = VM(opts["dry"], True)
        check_dry_dir(vm.path, lay)
    else:
        vm = VM(make_vm(mnt, name, opts["replace"]), False)
    finished = False
    try:
        # irqchip before anything makes the vCPU (mode, regs, sregs, run).
        vm.put("ctl", ctl_setup_text(lay, timeout, cpus))
        vm.to_memory("kernel", LOAD_ADDR, img.data[img.setup_bytes:])
        if initrd is not None:
            vm.to_memory("initrd", lay.initrd_addr, initrd)
        vm.to_memory("zero page", ZEROPAGE, zero_page(img, lay))
        vm.to_memory("GDT", GDT_ADDR, GDT)
        vm.to_memory("command line", CMDLINE_ADDR, cmdline + b"\0")
        vm.to_memory("reset vector", RESET_VECTOR, RESET_STUB)
        vm.to_memory("MP table", MP_ADDR, mp_table(cpus))
        vm.put("ctl", f"mode long pt={lay.pt:#x}")
        vm.put("sregs", sregs_text())
        vm.put("regs", regs_text(lay))
        finished = True
    finally:
        # A VM this script made and could not start is of no use.
        if not finished and not vm.dry:
            try:
                os.rmdir(vm.path)
            except OSError:
                pass
    if vm.dry:
        if opts["run"] == "background":
            vm.put("ctl", "run")
        d = vm.path
        print(f"{PROG}: dry run: wrote {d}/memory, appended to {d}/ctl, {d}/sregs, {d}/regs")
    else:
        start(vm, opts["run"])


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except Refused as e:
        sys.stdout.flush()
        sys.exit(f"{PROG}: {e}")
