#!/usr/bin/env python3
# Writes the binary seed inputs of fuzz_pagewalk, fuzz_exit, fuzz_uart and
# fuzz_bus into
# fuzz/corpus/ (the text seeds of the other targets are plain files kept
# by hand).  The layouts are the ones the targets' leading comments give;
# kvm_run offsets are those of <linux/kvm.h> on x86-64.  Run it again
# after changing a layout: python3 fuzz/seeds.py
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

P, RW, US, PS = 1, 2, 4, 0x80
PRU = P | RW | US
XD = 1 << 63
CR0_PE, CR0_PG = 1, 1 << 31
CR4_PSE, CR4_PAE = 1 << 4, 1 << 5
EFER_LME, EFER_LMA, EFER_NXE = 1 << 8, 1 << 10, 1 << 11


def write(target, name, data):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def walk_input(cr0, cr3, cr4, efer, addrs, mem):
    return (struct.pack('<4QB', cr0, cr3, cr4, efer, len(addrs)) +
            b''.join(struct.pack('<Q', a) for a in addrs) + bytes(mem))


def put(mem, addr, value, size=8):
    mem[addr:addr + size] = value.to_bytes(size, 'little')


def pagewalk_seeds():
    # Paging off: linear is physical, up to 4 GiB outside long mode.
    write('pagewalk', 'none', walk_input(CR0_PE, 0, 0, 0,
                                         [0x1234, 1 << 32], bytes(64)))

    # 4-level: PML4 0x0, PDPT 0x1000, PD 0x2000, PT 0x3000.  4 KiB pages
    # for the first 16 KiB, a 2 MiB page at 2 MiB, a 1 GiB page at 1 GiB,
    # one not-present and one XD entry.
    mem = bytearray(0x4000)
    put(mem, 0x0000, 0x1000 | PRU)
    put(mem, 0x1000, 0x2000 | PRU)
    put(mem, 0x1008, (1 << 30) | PRU | PS)
    put(mem, 0x2000, 0x3000 | PRU)
    put(mem, 0x2008, (2 << 20) | PRU | PS)
    put(mem, 0x2010, (4 << 20) | P | PS | XD)
    for i in range(4):
        put(mem, 0x3000 + 8 * i, (i << 12) | PRU)
    addrs = [0x1234, 0x3fff, 0x5000, 0x200123, 0x400000, 0x40000abc,
             0xffff800000000000, 0x0000800000000000]
    write('pagewalk', 'long', walk_input(CR0_PE | CR0_PG, 0, CR4_PAE,
                                         EFER_LME | EFER_LMA | EFER_NXE,
                                         addrs, mem))

    # One page that is its own table at every level: short, and every
    # index picks another entry of the same page.
    mem = bytearray(0x1000)
    put(mem, 0x000, 0x0 | PRU)
    put(mem, 0x008, (2 << 20) | PRU | PS)
    put(mem, 0xff8, 0x1000 | PRU)	# points just past memory
    write('pagewalk', 'self', walk_input(CR0_PE | CR0_PG, 0, CR4_PAE,
                                         EFER_LMA,
                                         [0, 0x201000, 0xfffffffffffff000,
                                          0x1ff << 12], mem))

    # 32-bit paging: PD 0x0 with a 4 MiB page (PSE) and a PT at 0x1000.
    mem = bytearray(0x2000)
    put(mem, 0x000, 0x1000 | PRU, 4)
    put(mem, 0x004, (4 << 20) | PRU | PS, 4)
    put(mem, 0x008, (8 << 20) | PRU | PS | (0x3 << 13), 4)	# PSE-36
    for i in range(4):
        put(mem, 0x1000 + 4 * i, (i << 12) | PRU, 4)
    write('pagewalk', 'paged32', walk_input(CR0_PE | CR0_PG, 0, CR4_PSE, 0,
                                            [0x2345, 0x400001, 0x812345,
                                             0xc00000, 1 << 32], mem))

    # PAE: PDPT at 0x20 (CR3 aligns it to 32 bytes), PD 0x1000, PT 0x2000.
    mem = bytearray(0x3000)
    put(mem, 0x20, 0x1000 | P)
    put(mem, 0x28, 0x1000 | P | RW)	# reserved bit in a PDPTE
    put(mem, 0x1000, 0x2000 | PRU)
    put(mem, 0x1008, (2 << 20) | PRU | PS)
    put(mem, 0x2000, 0x0 | PRU)
    write('pagewalk', 'pae', walk_input(CR0_PE | CR0_PG, 0x20, CR4_PAE, 0,
                                        [0x123, 0x200456, 0x40000000,
                                         0xffffffff], mem))


RUN_SIZE = 12288


def run_input(rip, cap, reason, fields, extra=b''):
    run = bytearray(max([64] + [off + size for off, _, size in fields]))
    put(run, 8, reason, 4)
    for off, value, size in fields:
        put(run, off, value, size)
    return struct.pack('<QH', rip, cap) + bytes(run) + extra


def exit_seeds():
    KVM_EXIT_IO, KVM_EXIT_DEBUG, KVM_EXIT_HLT, KVM_EXIT_MMIO = 2, 4, 5, 6
    KVM_EXIT_SHUTDOWN, KVM_EXIT_FAIL_ENTRY = 8, 9
    KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_SYSTEM_EVENT = 17, 24
    rip = 0x1005
    write('exit', 'hlt', run_input(rip, 511, KVM_EXIT_HLT, []))
    write('exit', 'shutdown', run_input(rip, 8, KVM_EXIT_SHUTDOWN, []))
    # IO data one page into the mapping, where KVM puts it.
    data = bytearray(4096 - 64) + b'\x42\x13\x37\x00'
    write('exit', 'io-out', run_input(rip, 511, KVM_EXIT_IO,
                                      [(32, 1, 1), (33, 1, 1),
                                       (34, 0xe9, 2), (36, 1, 4),
                                       (40, 4096, 8)], data))
    write('exit', 'io-in', run_input(rip, 100, KVM_EXIT_IO,
                                     [(32, 0, 1), (33, 4, 1),
                                      (34, 0x60, 2), (36, 3, 4),
                                      (40, 4096, 8)]))
    write('exit', 'io-end', run_input(rip, 511, KVM_EXIT_IO,
                                      [(32, 1, 1), (33, 2, 1),
                                       (34, 0x10, 2), (36, 1, 4),
                                       (40, RUN_SIZE - 2, 8)]))
    write('exit', 'mmio', run_input(rip, 511, KVM_EXIT_MMIO,
                                    [(32, 0xfee00000, 8),
                                     (40, 0x1122334455667788, 8),
                                     (48, 4, 4), (52, 1, 1)]))
    write('exit', 'fail-entry', run_input(rip, 511, KVM_EXIT_FAIL_ENTRY,
                                          [(32, 0x80000021, 8),
                                           (40, 1, 4)]))
    fields = [(32, 1, 4), (36, 40, 4)]
    fields += [(40 + 8 * i, 0x1000 + i, 8) for i in range(16)]
    write('exit', 'internal', run_input(rip, 511, KVM_EXIT_INTERNAL_ERROR,
                                        fields))
    write('exit', 'debug', run_input(rip, 64, KVM_EXIT_DEBUG,
                                     [(32, 1, 4), (48, 0xffff4ff0, 8),
                                      (56, 0x400, 8)]))
    write('exit', 'system-event', run_input(rip, 511, KVM_EXIT_SYSTEM_EVENT,
                                            [(32, 1, 4)]))
    write('exit', 'unknown', run_input(rip, 511, 999, []))


# fuzz_uart's programs: an opcode byte and its operands (fuzz_uart.c).
THR, IER, FCR, LCR, MCR, LSR, MSR, SCR = 0, 1, 2, 3, 4, 5, 6, 7
IIR = FCR


def u_wr(reg, value):
    return bytes([reg << 3, value])


def u_rd(reg):
    return bytes([reg << 3 | 1])


def u_input(data):
    return bytes([2, len(data)]) + data


def u_flood(chunks, value=0x03):
    return bytes([value & ~7 | 3, chunks - 1])


U_ROUND_TRIP = bytes([4])
U_RESET = bytes([7])


def u_text(text):
    return bytes([(len(text) >> 8) << 3 | 5, len(text) & 0xff]) + text


def u_port(size_log, count, write, port, data=b''):
    shape = size_log | (count - 1) << 2 | (0x20 if write else 0)
    return bytes([6, shape, port + 1]) + data


def uart_seeds():
    # drivers/tty/serial/8250/8250_port.c: autoconfig() and the start of
    # serial8250_do_startup() with its THRE test.
    probe = (u_wr(SCR, 0xa5) + u_rd(SCR) + u_rd(IER) + u_wr(IER, 0) +
             u_rd(IER) + u_wr(IER, 0x0f) + u_rd(IER) + u_wr(IER, 0) +
             u_rd(MCR) + u_rd(LCR) + u_wr(MCR, 0x1a) + u_rd(MSR) +
             u_wr(MCR, 0) + u_wr(LCR, 0xbf) + u_wr(FCR, 0) +
             u_wr(LCR, 0) + u_wr(FCR, 1) + u_rd(IIR) +
             u_wr(LCR, 0x80) + u_rd(IIR) + u_wr(LCR, 0) +
             u_wr(FCR, 0x21) + u_rd(IIR) + u_wr(FCR, 0) +
             u_wr(IER, 0x40) + u_rd(IER) + u_wr(FCR, 1) + u_wr(FCR, 7) +
             u_wr(FCR, 0) + u_rd(THR) + u_wr(IER, 0))
    write('uart', 'autoconfig', probe)
    startup = (probe + u_rd(LSR) + u_rd(THR) + u_rd(IIR) + u_rd(MSR) +
               u_wr(LCR, 3) + u_wr(MCR, 0x0b) + u_wr(IER, 2) +
               u_rd(IIR) + u_wr(IER, 0) + u_wr(IER, 2) + u_rd(IIR) +
               u_wr(IER, 0) + u_wr(LCR, 0x83) + u_wr(THR, 1) +
               u_wr(IER, 0) + u_wr(LCR, 3) + u_wr(FCR, 0x81) +
               u_wr(IER, 5) + b''.join(u_wr(THR, c) for c in b'login: ') +
               u_input(b'root\n') + u_rd(IIR) + u_rd(LSR) +
               b''.join(u_rd(THR) for _ in range(5)) + u_rd(IIR) +
               U_ROUND_TRIP)
    write('uart', 'startup', startup)
    # Loopback into a full queue: OE, then its line status interrupt.
    write('uart', 'overrun', u_wr(MCR, 0x1b) + u_wr(IER, 0x0f) +
          u_flood(128) + u_wr(THR, 0x4c) + u_rd(IIR) + u_rd(LSR) +
          u_rd(IIR) + u_flood(1) + u_wr(MCR, 0x1f) + u_wr(MCR, 0x0b) +
          u_rd(MSR) + U_ROUND_TRIP + U_RESET)
    state = (b'ier 0x01\nlcr 0x03\nmcr 0x0b\nscr 0x00\ndll 0x01\n'
             b'dlm 0x00\nfcr 0x01\nlsr 0x61\nmsr 0xb0\nthre_pending 0\n'
             b'rx 6c73\n')
    write('uart', 'state', u_text(state) + u_rd(THR) + U_ROUND_TRIP +
          u_text(b'mcr 0x1f\nmsr 0xf0\nrx -\n') +
          u_text(b'ier 0x01\nbogus 1\n') + u_text(b'lsr 0x61\n') +
          u_text(b'rx ' + b'41' * 300 + b'\n'))
    # Port accesses: outb, rep outsb, outw over LCR and MCR, rep insb,
    # inl running past the 8th port, and ports beside the UART.
    write('uart', 'ports', u_port(0, 1, True, 0, b'A') +
          u_port(0, 3, True, 0, b'BCD') +
          u_port(1, 1, True, 3, b'\x03\x0b') + u_input(b'xyz') +
          u_port(0, 3, False, 0) + u_port(2, 1, False, 6) +
          u_port(1, 2, True, 7, b'\x42\x99\x43\x98') +
          u_port(0, 1, False, -1) + u_port(3, 8, False, 8))


# fuzz_bus's programs: an opcode byte and its operands (fuzz_bus.c).
PIO, MMIO = 0, 1
STOP, IGNORE = 0, 1
TAKES, DECLINES, WRITES, ODD = 0, 1, 2, 3
NAME_A, NAME_B, NAME_C, NO_NAME = 0, 1, 2, 3
U64 = (1 << 64) - 1


def b_addr(v):
    if v < 32:
        return bytes([v])
    if v >= U64 - 31:
        return bytes([0x20 | (U64 - v)])
    if 0xffff - 31 <= v <= 0xffff:
        return bytes([0x40 | (0xffff - v)])
    for k, n in ((3, 2), (4, 4), (5, 8)):
        if v < 1 << (8 * n):
            return bytes([k << 5]) + v.to_bytes(n, 'little')
    raise ValueError(v)


def b_register(space, mode, name, base, length):
    return (bytes([space << 3 | mode << 4 | name << 6]) + b_addr(base) +
            b_addr(length))


def b_policy(space, action, first, last):
    return bytes([1 | space << 3 | action << 4]) + b_addr(first) + b_addr(last)


def b_again(action, index):
    return bytes([1 | action << 4 | 0x20, index])


B_CLEAR = bytes([2])
B_RESET = bytes([5])


def b_ctl(lines):
    return bytes([3 | (len(lines) - 1) << 3]) + b''.join(lines)


def b_read(entries):
    return bytes([4, entries])


def b_access(space, write, size_log, count, addr):
    shape = size_log | count << 2 | (0x20 if write else 0) | space << 6
    return bytes([6, shape]) + b_addr(addr)


def bus_seeds():
    # examples/boot-linux.sh's VM: the console and the UART, every other
    # port ignored and MMIO above memory too; a probe of each.
    write('bus', 'linux', b_register(PIO, TAKES, NAME_A, 0xe9, 1) +
          b_register(PIO, WRITES, NAME_B, 0x3f8, 8) +
          b_ctl([b_policy(PIO, IGNORE, 0, 0xffff),
                 b_policy(MMIO, IGNORE, 0x8000000, U64)]) +
          b_access(PIO, True, 0, 1, 0xe9) + b_access(PIO, False, 0, 1, 0x3fd) +
          b_access(PIO, True, 0, 4, 0x3f8) + b_access(PIO, False, 2, 1, 0xcfc) +
          b_access(MMIO, False, 2, 1, 0xfee00000) +
          b_access(MMIO, True, 3, 1, 0x1000) + b_read(17))
    # A full table set again by one write (ctl's plan once counted each
    # line as a new range), then one range more: refused.
    full = [b_policy(i & 1, STOP, 0x100 * i, 0x100 * i + 0xff)
            for i in range(16)]
    write('bus', 'replace', b_ctl(full[:8]) + b_ctl(full[8:]) +
          b_ctl([b_again(IGNORE, i) for i in range(8)]) +
          b_ctl([b_again(IGNORE, i) for i in range(7)] +
                [b_policy(PIO, IGNORE, 0x2000, 0x2000)]) +
          b_access(PIO, False, 1, 3, 0x101) + b_access(PIO, False, 0, 1, 0x2000) +
          b_policy(MMIO, STOP, 0x100, 0x1ff) + b_read(16) + B_CLEAR +
          b_read(3))
    # The ends of the address space, a backwards range, overlaps where
    # the newest decides, and a device on the last bytes.
    write('bus', 'edges', b_policy(MMIO, IGNORE, 0, 0) +
          b_policy(MMIO, IGNORE, U64, U64) + b_policy(MMIO, STOP, 5, 4) +
          b_policy(PIO, IGNORE, 0, U64) + b_policy(PIO, STOP, 0x10, 0x1f) +
          b_policy(PIO, IGNORE, 0x18, 0x18) +
          b_register(MMIO, TAKES, NAME_C, U64 - 15, 16) +
          b_access(MMIO, False, 3, 7, U64) + b_access(MMIO, False, 0, 1, 0) +
          b_access(MMIO, False, 3, 2, 1) + b_access(PIO, False, 3, 7, 0x18) +
          b_access(PIO, False, 1, 1, 0x17) + b_access(PIO, True, 0, 0, 0x19) +
          b_read(0) + b_read(5))
    # Devices that decline: the policy behind them decides.
    write('bus', 'declines', b_register(PIO, DECLINES, NAME_A, 0x60, 1) +
          b_register(PIO, ODD, NAME_B, 0x70, 2) +
          b_register(MMIO, WRITES, NAME_B, 0xd0000000, 0x1000) +
          b_policy(PIO, IGNORE, 0x60, 0x7f) +
          b_policy(MMIO, IGNORE, 0xd0000000, 0xd0000fff) +
          b_access(PIO, False, 0, 1, 0x60) + b_access(PIO, False, 0, 1, 0x70) +
          b_access(PIO, False, 0, 1, 0x71) + b_access(PIO, True, 1, 1, 0x70) +
          b_access(MMIO, False, 3, 1, 0xd0000008) +
          b_access(MMIO, True, 3, 1, 0xd0000008) + b_read(2))
    # Registrations refused: empty, wrapping, overlapping, nameless and
    # one too many; then a fresh bus.
    write('bus', 'refused', b_register(PIO, TAKES, NAME_A, 0x10, 0) +
          b_register(MMIO, TAKES, NAME_A, U64 - 1, 3) +
          b_register(PIO, TAKES, NO_NAME, 0x10, 1) +
          b_register(PIO, TAKES, NAME_A, 0x10, 4) +
          b_register(PIO, TAKES, NAME_A, 0x13, 4) +
          b_register(MMIO, TAKES, NAME_A, 0x13, 4) +
          b_register(PIO, TAKES, NAME_B, 0x20, 1) +
          b_register(PIO, TAKES, NAME_C, 0x21, 1) +
          b_register(PIO, TAKES, NAME_C, 0x22, 1) +
          b_access(PIO, False, 0, 1, 0x21) + b_read(1) + B_RESET +
          b_access(PIO, False, 0, 1, 0x21) + b_read(1))


pagewalk_seeds()
exit_seeds()
uart_seeds()
bus_seeds()
