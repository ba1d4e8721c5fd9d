#!/bin/bash
# boot-linux.sh: boot a stock x86-64 Linux bzImage in a kvmfs VM with
# nothing but the shell (printf, od, dd, stat) and the VM's files: the
# 64-bit boot protocol of Documentation/arch/x86/boot.rst, done by hand.
# examples/boot-linux.py is its twin in Python; both write the same bytes
# and the same lines (tests/bootproto_check.py compares them).
#
# Usage:
#   boot-linux.sh [options] MNT bzImage INITRD 'CMDLINE'
#   boot-linux.sh [options] --dry-run DIR bzImage INITRD 'CMDLINE'
#
#   MNT            the kvmfs mount; the VM is MNT/vms/NAME, made here
#   INITRD         an initramfs (e.g. from busybox-initramfs.sh), or - for none
#   CMDLINE        the kernel command line, e.g.
#                  'console=ttyS0 reboot=t panic=-1'
#   --name NAME    the VM's name (default linux)
#   --replace      remove an existing vms/NAME first (rmdir stops it)
#   --mem SIZE     guest memory, K/M/G suffixes (default 256M); above 3G,
#                  3G at 0 (ctl mem) and the rest at 4 GiB (ctl highmem)
#   --cpus N       vCPUs, 1-64 (default 1): ctl cpus N, and N processors
#                  in the MP table; the APs wait for Linux's INIT-SIPI-SIPI
#   --timeout MS   the run stops after MS milliseconds (ctl timeout)
#   --background   start the run with 'run' in ctl and return (the default):
#                  the guest runs in the server, no process of ours waits
#   --wait         run in the foreground: cat run, print its answer
#   --no-run       load and set up only; start it later with
#                  'echo run > ctl' or 'cat run'
#   --dry-run DIR  write into plain files instead of a VM: DIR/memory must
#                  exist, sized as memory would be (truncate -s 256M
#                  DIR/memory; above 3G: 4G + the rest);
#                  ctl, sregs and regs are appended to
#
# Why the first argument is the mount and not a VM directory: the examples
# address a mount (common.sh's KVMFS_MNT, hello.py's MOUNTPOINT) and make
# their own VM in it; the loader must make the VM itself anyway, because
# 'irqchip' has to reach ctl before anything creates the vCPU.
#
# Running: the guest's serial port (a 16550 at 0x3f8, IRQ 4) is the VM's
# 'console' file ('tail -f MNT/vms/NAME/console'); typing goes to 'input'
# ('cat > MNT/vms/NAME/input'). 'echo stop > ctl' stops the guest, the
# 'exit' line of 'status' tells why a run ended, 'rmdir' removes the VM.
# With 'reboot=t panic=-1' on the command line a reboot or a panic
# triple-faults, which ends the run with 'shutdown': the VM has no ACPI,
# no reset port, and a halted Linux (poweroff) just sleeps in the kernel.
#
# What goes where (guest-physical addresses; all of it is identity-mapped
# by 'mode long', whose 2 MiB pages cover the whole of memory):
#
#   0x00001000  GDT, 4 entries: the boot protocol wants __BOOT_CS = 0x10
#               (64-bit code) and __BOOT_DS = 0x18 (data), flat. 'mode
#               long' only fills the segment caches (cs 0x8, data 0x10)
#               and writes no GDT, so the loader writes one and points
#               gdt.base and the selectors at it. Low memory is safe: no
#               e820 trick needed, Linux 6.1 reserves the first 1 MiB, and
#               the decompressor's trampoline takes the top of low RAM
#               (below 0x9f000), KASLR only addresses above 16 MiB.
#   0x00008000  rsp (stack below it, down to the GDT page). startup_64 sets
#               its own stack before it pushes anything; the default rsp
#               of 'mode long' is the page tables' address, right above
#               the initrd, which a push would overwrite.
#   0x00010000  boot_params, the "zero page" (4 KiB, rsi): zeros, the setup
#               header copied from the image at 0x1f1, then our fields.
#   0x00020000  the command line, NUL-terminated (cmdline_size at most).
#   0x0009fc00-0x000fffff  reserved in e820: where a PC has its EBDA, VGA
#               memory and BIOS. kvmfs backs it with RAM, but Linux scans
#               it for BIOS tables and must not allocate it.
#   0x000ffff0  the reset vector: 16 bytes that triple-fault (cli; lidt of
#               a zero-limit IDT; int3). A reboot through the BIOS (the
#               kernel's fallback after the keyboard controller, unless
#               reboot=t) jumps here; in zeroed memory it would run wild,
#               with this it ends the run with 'shutdown' as reboot=t does.
#   0x00100000  the protected-mode kernel: the image's bytes after its
#               (setup_sects + 1) * 512 setup bytes. 1 MiB is the
#               protocol's classic address and QEMU's; the 64-bit entry
#               (load + 0x200, startup_64) moves it to the address it runs
#               at, max(load aligned up to kernel_alignment, pref_address)
#               for a relocatable kernel, pref_address otherwise (16 MiB
#               on Debian), and decompresses there; it needs init_size
#               bytes from that address, which the layout keeps free.
#   initrd      high: 4 KiB aligned, ending at the page tables or at
#               initrd_addr_max, whichever is lower; above the kernel's
#               init_size area, or the loader refuses (raise --mem).
#   pt          'mode long pt=PT' identity page tables, the last
#               (2 + GiB of memory) pages of memory, as mode long places
#               them by default; given explicitly so that the e820 table
#               and the server agree. Reserved in e820.
#
# The e820 table (boot_params 0x1e8 entries, 0x2d0 table, 20 bytes each):
#   usable 0-0x9fc00, reserved 0x9fc00-0x100000, usable 0x100000-PT,
#   reserved PT-end of low memory; with more than 3G, usable 4 GiB-end.
#
# Memory above 3G: RAM must stay below the PC's device window (the
# IOAPIC at 0xfec00000, the LAPIC at 0xfee00000), so --mem 6G is 'mem
# 3G' (GPA 0-3 GiB) and 'highmem 3G' (GPA 4-7 GiB), as a PC's firmware
# lays it out; everything the loader writes stays in the low part.
#
# Ports and MMIO: with 'irqchip' the PIC (0x20, 0xa0), the PIT (0x40-0x43),
# port 0x61 (KVM's dummy speaker), the ELCR (0x4d0) and the LAPIC and
# IOAPIC never leave KVM. kvmfs serves the 0xe9 debug console, the UART
# at 0x3f8-0x3ff and (with the irqchip) the CMOS clock at 0x70-0x71, which
# Linux's rtc_cmos reads its time from. Everything else is ignored (reads all ones, writes
# dropped), as a PC reads an empty ISA bus: Linux's drivers take 0xff for
# "no device". The three pio ranges leave 0xe9 and 0x3f8-0x3ff out, so
# the policy does not depend on whether a device wins over an ignore
# range. What Linux 6.1 probes there in this VM (no ACPI, no MP table,
# no PCI): 0x80 (I/O delay, unless KVM's nop delay), 0x60/0x64 (i8042, not in KVM; reboot also writes
# 0xfe to 0x64), 0x2f8/0x3e8/0x2e8 (the other legacy 8250 UARTs),
# 0xcf8-0xcff (PCI config type 1 and 2; 0xcf9 reset), 0x3c0-0x3df and
# 0x3b0-0x3bf (VGA, only with screen_info set, which the zero page
# leaves empty), and with the matching modules 0x378-0x37a (parallel),
# 0x3f0-0x3f7 (floppy), 0x1f0/0x170 (IDE), 0x2e/0x4e (Super I/O), 0x510
# (fw_cfg). Ignoring the whole space rather than that list: a port nobody
# listed would otherwise end the run in the middle of a boot, and a real
# PC does not stop either. MMIO from the end of low memory to 4 GiB (the
# PC's device window) is ignored too.
#
# No heap: CAN_USE_HEAP and heap_end_ptr are for the 16-bit setup code,
# which the 64-bit entry skips.
#
# What it writes, in this order (256M shown; each block is one write):
#   mkdir MNT/vms/NAME
#   ctl:    mem 0x10000000 [/ highmem SIZE] / irqchip / pio 0x0-0xe8 ignore /
#           pio 0xea-0x3f7 ignore / pio 0x400-0xffff ignore /
#           mmio 0x10000000-0xffffffff ignore [/ timeout MS]
#   memory: kernel, initrd, zero page, GDT, command line, reset vector (dd)
#   ctl:    mode long pt=0xfffd000      (this makes the vCPU)
#   sregs:  gdt.base 0x1000 / gdt.limit 0x1f / cs.selector 0x10 /
#           ds es fs gs ss: .selector 0x18 and .db 1
#   regs:   rip 0x100200 / rsi 0x10000 / rsp 0x8000
#   ctl:    run                         (--background; --wait reads run)
set -euo pipefail
export LC_ALL=C # ${#cmdline} counts bytes, the unit of cmdline_size

prog=boot-linux
readonly GDT_ADDR=$((0x1000)) STACK_TOP=$((0x8000))
readonly ZEROPAGE=$((0x10000)) CMDLINE_ADDR=$((0x20000))
readonly LOW_END=$((0x9fc00)) HIGH_START=$((0x100000))
readonly LOAD_ADDR=$((0x100000)) LOW_MAX=$((3 << 30)) HIGHMEM_BASE=$((1 << 32))
readonly RESET_VECTOR=$((0xffff0))
readonly MP_ADDR=$((0xf0000))

die() {
	echo "$prog: $*" >&2
	exit 1
}

usage() {
	sed -n 's/^# \{0,1\}//; /^Usage:/,/^Why the first/p' "$0" | head -n -2
}

hex() { printf '0x%x' "$1"; }

# parse_size TEXT: bytes, with kvmfs's syntax (decimal or 0x hex, K/M/G/T).
parse_size() {
	local s=$1 shift_by=0 n
	case $s in
	*[kK]) shift_by=10 ;;
	*M) shift_by=20 ;;
	*G) shift_by=30 ;;
	*T) shift_by=40 ;;
	esac
	[ "$shift_by" = 0 ] || s=${s%?}
	if [[ $s =~ ^0x[0-9a-fA-F]{1,12}$ ]]; then
		n=$((s))
	elif [[ $s =~ ^[0-9]{1,15}$ ]]; then
		n=$((10#$s)) # 10#: a leading zero is not octal
	else
		die "bad size '$1' (e.g. 256M, 0x10000000)"
	fi
	echo $((n << shift_by))
}

# --- the image's setup header ------------------------------------------

# hdr OFFSET SIZE: the little-endian unsigned field at OFFSET of the image.
hdr() {
	od -An -v -t "u$2" -j "$1" -N "$2" --endian=little "$kernel" | tr -d ' \n'
}

read_header() {
	ksize=$(stat -L -c %s "$kernel")
	[ "$ksize" -ge 1024 ] || die "$kernel: $ksize bytes, too small for a bzImage"
	[ "$(hdr 0x1fe 2)" = $((0xaa55)) ] || die "$kernel: no boot sector signature 0xaa55 at 0x1fe: not a bzImage"
	[ "$(hdr 0x202 4)" = $((0x53726448)) ] || die "$kernel: no \"HdrS\" at 0x202: not a Linux x86 boot image (or older than protocol 2.00)"
	version=$(hdr 0x206 2)
	[ "$version" -ge $((0x020c)) ] ||
		die "$kernel: boot protocol $(printf '%d.%02d' $((version >> 8)) $((version & 0xff))) is older than 2.12, which has xloadflags and the 64-bit entry"
	xloadflags=$(hdr 0x236 2)
	((xloadflags & 1)) || die "$kernel: XLF_KERNEL_64 is clear in xloadflags ($(hex "$xloadflags")): no 64-bit entry point (a 32-bit kernel?)"
	setup_sects=$(hdr 0x1f1 1)
	[ "$setup_sects" != 0 ] || setup_sects=4 # 0 means 4, boot.rst says
	hdr_end=$((0x202 + $(hdr 0x201 1)))      # the jump at 0x200 skips the header
	loadflags=$(hdr 0x211 1)
	initrd_addr_max=$(hdr 0x22c 4)
	kernel_alignment=$(hdr 0x230 4)
	relocatable=$(hdr 0x234 1)
	cmdline_size=$(hdr 0x238 4)
	pref_address=$(hdr 0x258 8)
	init_size=$(hdr 0x260 4)
	setup_bytes=$(((setup_sects + 1) * 512))
	pm_size=$((ksize - setup_bytes))
	[ "$pm_size" -gt 0 ] || die "$kernel: nothing after the $setup_bytes setup bytes"
	[ "$hdr_end" -le $((0x290)) ] || die "$kernel: setup header runs to $(hex "$hdr_end"), past boot_params' e820 table"
}

# --- the layout ----------------------------------------------------------

align_up() { echo $((($1 + $2 - 1) & ~($2 - 1))); }

plan_layout() {
	local a=$kernel_alignment top
	[ $((mem & 0xfff)) = 0 ] || die "--mem $(hex "$mem") is not a multiple of 4096"
	# Above 3G, the rest goes to 4 GiB (highmem): RAM stays below the
	# IOAPIC and LAPIC at 0xfec00000.
	if [ "$mem" -gt "$LOW_MAX" ]; then
		low=$LOW_MAX high=$((mem - LOW_MAX))
	else
		low=$mem high=0
	fi
	# Where the kernel decompresses itself (head_64.S, startup_64).
	if [ "$relocatable" != 0 ]; then
		{ [ "$a" -gt 0 ] && [ $((a & (a - 1))) = 0 ]; } ||
			die "$kernel: kernel_alignment $(hex "$a") is not a power of two"
		run_addr=$(align_up "$LOAD_ADDR" "$a")
		[ "$run_addr" -ge "$pref_address" ] || run_addr=$pref_address
	else
		run_addr=$pref_address
	fi
	kernel_end=$(align_up $((run_addr + init_size)) 4096)
	[ $((LOAD_ADDR + pm_size)) -le "$kernel_end" ] || kernel_end=$(align_up $((LOAD_ADDR + pm_size)) 4096)
	# mode long's page tables: PML4, PDPT, one PD per GiB (src/x86/modes.c).
	pt_size=$(((2 + (low + (1 << 30) - 1) / (1 << 30)) * 4096))
	pt=$(((low - pt_size) & ~0xfff))
	entry=$((LOAD_ADDR + 0x200))
	if [ "$initrd" = - ]; then
		initrd_size=0 initrd_addr=0
		[ "$kernel_end" -le "$pt" ] ||
			die "--mem $(hex "$mem") is too small: the kernel needs up to $(hex "$kernel_end") and the page tables start at $(hex "$pt")"
	else
		initrd_size=$(stat -L -c %s "$initrd")
		[ "$initrd_size" -gt 0 ] || die "$initrd is empty"
		top=$pt
		[ $((initrd_addr_max + 1)) -ge "$top" ] || top=$((initrd_addr_max + 1))
		initrd_addr=$(((top - initrd_size) & ~0xfff))
		[ "$initrd_addr" -ge "$kernel_end" ] ||
			die "--mem $(hex "$mem") is too small: the kernel needs up to $(hex "$kernel_end"), the $initrd_size-byte initrd would start at $(hex "$initrd_addr") (it ends below $(hex "$top"))"
	fi
	[ "${#cmdline}" -le "$cmdline_size" ] || die "the command line has ${#cmdline} bytes, this kernel takes at most $cmdline_size"
	[ $((CMDLINE_ADDR + cmdline_size + 1)) -le "$LOW_END" ] || die "cmdline_size $cmdline_size does not fit below $(hex "$LOW_END")"
}

show_layout() {
	local rel=not\ relocatable
	[ "$relocatable" = 0 ] || rel=relocatable
	printf '%s: %s: protocol %d.%02d, %d setup sectors, %s, kernel_alignment %s, pref_address %s, init_size %s\n' \
		"$prog" "${kernel##*/}" $((version >> 8)) $((version & 0xff)) "$setup_sects" "$rel" \
		"$(hex "$kernel_alignment")" "$(hex "$pref_address")" "$(hex "$init_size")"
	if [ "$high" = 0 ]; then
		printf '%s: memory %s\n' "$prog" "$(hex "$mem")"
	else
		printf '%s: memory %s: %s at 0, %s at %s\n' "$prog" "$(hex "$mem")" \
			"$(hex "$low")" "$(hex "$high")" "$(hex "$HIGHMEM_BASE")"
	fi
	printf '  0x%08x gdt          0x20 bytes (__BOOT_CS 0x10, __BOOT_DS 0x18)\n' "$GDT_ADDR"
	printf '  0x%08x stack top    (rsp)\n' "$STACK_TOP"
	printf '  0x%08x boot_params  0x1000 bytes (rsi)\n' "$ZEROPAGE"
	printf '  0x%08x cmdline      %d bytes\n' "$CMDLINE_ADDR" $((${#cmdline} + 1))
	printf '  0x%08x reset vector 16 bytes (triple fault)\n' "$RESET_VECTOR"
	printf '  0x%08x kernel       0x%x bytes, entry 0x%x; runs at 0x%x, uses up to 0x%x\n' \
		"$LOAD_ADDR" "$pm_size" "$entry" "$run_addr" "$kernel_end"
	if [ "$initrd_size" -gt 0 ]; then
		printf '  0x%08x initrd       0x%x bytes\n' "$initrd_addr" "$initrd_size"
	fi
	printf '  0x%08x page tables  0x%x bytes (mode long pt=)\n' "$pt" "$pt_size"
}

# --- bytes ---------------------------------------------------------------

# le N VALUE: VALUE as N little-endian bytes, through printf's \x escapes.
le() {
	local n=$1 v=$2 i byte esc=''
	for ((i = 0; i < n; i++)); do
		printf -v byte '\\x%02x' $(((v >> (8 * i)) & 0xff))
		esc+=$byte
	done
	# shellcheck disable=SC2059 # the format is made of our escapes only
	printf "$esc"
}

# poke FILE OFFSET N VALUE: write VALUE (N bytes, little-endian) into FILE.
poke() {
	le "$3" "$4" | dd of="$1" bs=1 seek=$(($2)) conv=notrunc status=none
}

e820_entry() { # e820_entry FILE INDEX ADDR SIZE TYPE
	local at=$((0x2d0 + $2 * 20))
	poke "$1" "$at" 8 "$3"
	poke "$1" $((at + 8)) 8 "$4"
	poke "$1" $((at + 16)) 4 "$5"
}

# The zero page: zeros, the image's setup header, then what a loader sets.
make_zero_page() {
	local zp=$1
	dd if=/dev/zero of="$zp" bs=4096 count=1 status=none
	dd if="$kernel" of="$zp" bs=1 skip=$((0x1f1)) seek=$((0x1f1)) \
		count=$((hdr_end - 0x1f1)) conv=notrunc status=none
	poke "$zp" 0x210 1 0xff                                # type_of_loader: none of the known ones
	poke "$zp" 0x211 1 $(((loadflags | 0x01) & ~0x80))    # LOADED_HIGH; no CAN_USE_HEAP
	poke "$zp" 0x214 4 "$LOAD_ADDR"                        # code32_start
	poke "$zp" 0x218 4 "$initrd_addr"                      # ramdisk_image
	poke "$zp" 0x21c 4 "$initrd_size"                      # ramdisk_size
	poke "$zp" 0x228 4 "$CMDLINE_ADDR"                     # cmd_line_ptr
	poke "$zp" 0x250 8 0                                   # setup_data: no list
	# ext_ramdisk_image/size and ext_cmd_line_ptr (0xc0-0xcb) stay 0.
	poke "$zp" 0x1e8 1 $((high ? 5 : 4))                   # e820_entries
	e820_entry "$zp" 0 0 "$LOW_END" 1
	e820_entry "$zp" 1 "$LOW_END" $((HIGH_START - LOW_END)) 2
	e820_entry "$zp" 2 "$HIGH_START" $((pt - HIGH_START)) 1
	e820_entry "$zp" 3 "$pt" $((low - pt)) 2
	[ "$high" = 0 ] || e820_entry "$zp" 4 "$HIGHMEM_BASE" "$high" 1
}

# At 0xffff0, run in real mode with cs 0xf000: cli; lidt cs:[0xfff8] (the
# 6 zero bytes at 0xffff8: limit 0); int3, which finds no IDT entry: #GP,
# #DF, triple fault.
reset_stub() {
	printf '\xfa\x2e\x0f\x01\x1e\xf8\xff\xcc\0\0\0\0\0\0\0\0'
}

make_gdt() {
	le 8 0                  # 0x00 null
	le 8 0                  # 0x08 unused
	le 8 0x00af9b000000ffff # 0x10 __BOOT_CS: code, execute/read, L=1, flat
	le 8 0x00cf93000000ffff # 0x18 __BOOT_DS: data, read/write, flat 4 GiB
}

# An MP table (Intel's MultiProcessor Specification 1.4) at MP_ADDR, in
# the BIOS area Linux scans: --cpus processors (local APIC IDs 0..N-1,
# the vCPU IDs KVM gives them; 0 the BSP), an ISA bus, KVM's IOAPIC at
# 0xfec00000, ID N (after the CPUs'), with ISA IRQ N on its pin N (KVM's own routing), and the
# PIC's ExtINT on LINT0, NMI on LINT1.  With it Linux routes interrupts
# (the serial port's IRQ 4) through the IOAPIC, as on any PC since the
# 1990s, rather than through the PIC in virtual wire mode.
mp_sum() { # mp_sum FILE: the byte that makes FILE's bytes sum to 0
	od -An -tu1 -v "$1" | awk '{ for (i = 1; i <= NF; i++) s += $i } END { print (256 - s % 256) % 256 }'
}
make_mptable() {
	local f=$1 t=$tmp/mpc irq cpu ioapic=$cpus
	{
		printf 'PCMP'; le 2 $((204 + 20 * cpus)); le 1 4; le 1 0 # length, spec 1.4, checksum
		printf 'KVMFS   '; printf 'boot-linux  '     # OEM and product IDs
		le 4 0; le 2 0; le 2 $((20 + cpus)); le 4 0xfee00000 # no OEM table, entries, LAPIC
		le 2 0; le 1 0; le 1 0                        # no extended table
		for ((cpu = 0; cpu < cpus; cpu++)); do        # CPU: LAPIC ID, version, enabled (+ BSP)
			le 1 0; le 1 "$cpu"; le 1 0x14; le 1 $((cpu ? 1 : 3))
			le 4 0x600; le 4 0x201; le 8 0        # signature, features (FPU, APIC)
		done
		le 1 1; le 1 0; printf 'ISA   '                # bus 0: ISA
		le 1 2; le 1 "$ioapic"; le 1 0x11; le 1 1; le 4 0xfec00000 # the IOAPIC, enabled
		for ((irq = 0; irq < 16; irq++)); do          # ISA IRQ n -> IOAPIC pin n
			le 1 3; le 1 0; le 2 0; le 1 0; le 1 "$irq"; le 1 "$ioapic"; le 1 "$irq"
		done
		le 1 4; le 1 3; le 2 0; le 1 0; le 1 0; le 1 0xff; le 1 0 # ExtINT -> LINT0
		le 1 4; le 1 1; le 2 0; le 1 0; le 1 0; le 1 0xff; le 1 1 # NMI -> LINT1
	} >"$t"
	poke "$t" 7 1 "$(mp_sum "$t")"
	{
		printf '_MP_'; le 4 $((MP_ADDR + 16)); le 1 1; le 1 4; le 1 0 # table, 16 bytes, 1.4
		le 5 0                                        # features: a table, no IMCR
	} >"$f"
	poke "$f" 10 1 "$(mp_sum "$f")"
	cat "$t" >>"$f"
}

# to_memory WHAT ADDR DD-ARGS...: copy into guest memory at ADDR with dd.
to_memory() {
	local what=$1 addr=$2
	shift 2
	dd of="$vm/memory" bs=1M oflag=seek_bytes seek="$addr" conv=notrunc status=none "$@" ||
		die "writing the $what to memory at $(hex "$addr") failed"
}

load_memory() {
	to_memory kernel "$LOAD_ADDR" if="$kernel" iflag=skip_bytes skip="$setup_bytes"
	[ "$initrd_size" = 0 ] || to_memory initrd "$initrd_addr" if="$initrd"
	make_zero_page "$tmp/zeropage"
	to_memory "zero page" "$ZEROPAGE" if="$tmp/zeropage"
	make_gdt >"$tmp/gdt"
	to_memory GDT "$GDT_ADDR" if="$tmp/gdt"
	printf '%s\0' "$cmdline" >"$tmp/cmdline"
	to_memory "command line" "$CMDLINE_ADDR" if="$tmp/cmdline"
	reset_stub >"$tmp/reset"
	to_memory "reset vector" "$RESET_VECTOR" if="$tmp/reset"
	make_mptable "$tmp/mptable"
	to_memory "MP table" "$MP_ADDR" if="$tmp/mptable"
}

# --- the VM's text files -----------------------------------------------

vm_error() {
	awk '$1 == "error" { $1 = ""; sub(/^ /, ""); print }' "$1/status" 2>/dev/null || true
}

# vm_put FILE TEXT: TEXT and a newline to the VM's FILE in one write(2),
# so kvmfs takes all its lines or none (a here-string through cat is one
# write; printf would write line by line). A dry run appends instead.
vm_put() {
	if [ -n "$dry" ]; then
		cat >>"$vm/$1" <<<"$2"
	elif ! cat >"$vm/$1" <<<"$2"; then
		die "$1 refused: $(vm_error "$vm")"
	fi
}

ctl_setup_text() {
	printf 'mem 0x%x\n' "$low"
	[ "$high" = 0 ] || printf 'highmem 0x%x\n' "$high"
	echo irqchip
	[ "$cpus" = 1 ] || echo "cpus $cpus"
	echo 'pio 0x0-0xe8 ignore'
	echo 'pio 0xea-0x3f7 ignore'
	echo 'pio 0x400-0xffff ignore'
	printf 'mmio 0x%x-0xffffffff ignore\n' "$low"
	[ -z "$timeout" ] || echo "timeout $timeout"
}

sregs_text() {
	local s
	printf 'gdt.base 0x%x\ngdt.limit 0x1f\n' "$GDT_ADDR"
	echo 'cs.selector 0x10'
	# The caches keep mode long's flat segments; db 1 as in the GDT entry.
	for s in ds es fs gs ss; do
		printf '%s.selector 0x18\n%s.db 1\n' "$s" "$s"
	done
}

regs_text() {
	printf 'rip 0x%x\nrsi 0x%x\nrsp 0x%x\n' "$entry" "$ZEROPAGE" "$STACK_TOP"
}

# --- the VM ------------------------------------------------------------

make_vm() {
	[ -e "$mnt/version" ] || die "kvmfs is not mounted at $mnt (no $mnt/version)"
	vm=$mnt/vms/$name
	if [ -e "$vm" ]; then
		[ -n "$replace" ] || die "$vm exists (rmdir it, or use --replace or another --name)"
		rmdir "$vm" || die "cannot remove $vm"
	fi
	mkdir "$vm" || die "mkdir $vm: $(vm_error "$mnt")"
	made=1
}

check_dry_dir() {
	[ -d "$vm" ] || die "--dry-run $vm: not a directory"
	# memory's size: with highmem, up to its end (the hole is sparse).
	local size want=$((high ? HIGHMEM_BASE + high : mem))
	[ -f "$vm/memory" ] || die "--dry-run: $vm/memory must exist (truncate -s $(hex "$want") $vm/memory)"
	size=$(stat -c %s "$vm/memory")
	[ "$size" = "$want" ] || die "--dry-run: $vm/memory has $size bytes, --mem $mem wants $want (truncate -s $(hex "$want") $vm/memory)"
}

start() {
	case $run in
	background)
		vm_put ctl run
		echo "$prog: running: tail -f $vm/console; typing: cat > $vm/input; stop: echo stop > $vm/ctl; why it ended: grep ^exit $vm/status"
		;;
	wait)
		echo "$prog: running $vm until it stops (Ctrl-C stops it)"
		echo "run: $(cat "$vm/run")"
		;;
	none) echo "$prog: loaded, not started: echo run > $vm/ctl" ;;
	esac
}

cleanup() {
	rm -rf "$tmp"
	# A VM this script made and could not start is of no use: remove it,
	# so that the next try can have the name.
	if [ "$made" = 1 ] && [ "$finished" != 1 ]; then rmdir "$vm" 2>/dev/null || true; fi
}

main() {
	local args=()
	name=linux mem_text=256M timeout='' replace='' run=background dry='' cpus=1
	while [ $# -gt 0 ]; do
		case $1 in
		--name) name=${2:?--name needs a value}; shift ;;
		--mem) mem_text=${2:?--mem needs a size}; shift ;;
		--timeout) timeout=${2:?--timeout needs milliseconds}; shift ;;
		--cpus) cpus=${2:?--cpus needs a count}; shift ;;
		--replace) replace=1 ;;
		--background) run=background ;;
		--wait) run='wait' ;;
		--no-run) run=none ;;
		--dry-run) dry=${2:?--dry-run needs a directory}; shift ;;
		-h | --help) usage; exit 0 ;;
		--) shift; args+=("$@"); break ;;
		-?*) usage >&2; die "unknown option $1" ;;
		*) args+=("$1") ;;
		esac
		shift
	done
	if [ -n "$dry" ]; then
		[ ${#args[@]} = 3 ] || { usage >&2; die "with --dry-run: bzImage INITRD 'CMDLINE'"; }
		vm=$dry kernel=${args[0]} initrd=${args[1]} cmdline=${args[2]}
	else
		[ ${#args[@]} = 4 ] || { usage >&2; die "expected MNT bzImage INITRD 'CMDLINE'"; }
		mnt=${args[0]} kernel=${args[1]} initrd=${args[2]} cmdline=${args[3]}
		{ [[ $name =~ ^[A-Za-z0-9._-]{1,64}$ ]] && [ "$name" != new ]; } || die "bad VM name '$name' (1-64 of A-Z a-z 0-9 . _ -, not 'new')"
	fi
	[[ -z $timeout || $timeout =~ ^[0-9]{1,8}$ ]] || die "bad --timeout '$timeout' (milliseconds)"
	{ [[ $cpus =~ ^[1-9][0-9]?$ ]] && [ "$cpus" -le 64 ]; } || die "bad --cpus '$cpus' (1 to 64)"
	{ [ -f "$kernel" ] && [ -r "$kernel" ]; } || die "cannot read the kernel image '$kernel'"
	[ "$initrd" = - ] || { [ -f "$initrd" ] && [ -r "$initrd" ]; } || die "cannot read the initrd '$initrd' (- for none)"
	mem=$(parse_size "$mem_text")

	read_header
	plan_layout
	show_layout

	made=0 finished=0
	tmp=$(mktemp -d)
	trap cleanup EXIT
	if [ -n "$dry" ]; then check_dry_dir; else make_vm; fi
	# irqchip before anything makes the vCPU (mode, regs, sregs, run).
	vm_put ctl "$(ctl_setup_text)"
	load_memory
	vm_put ctl "mode long pt=$(hex "$pt")"
	vm_put sregs "$(sregs_text)"
	vm_put regs "$(regs_text)"
	finished=1
	if [ -n "$dry" ]; then
		[ "$run" != background ] || vm_put ctl run
		echo "$prog: dry run: wrote $vm/memory, appended to $vm/ctl, $vm/sregs, $vm/regs"
	else
		start
	fi
}

main "$@"
