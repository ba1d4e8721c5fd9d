/* Protected-mode entry of the C guests (hello32, also run as paged32).
 * kvmfs loads flat 4 GiB segments into the segment caches only (there is no
 * GDT in memory), so this code must never reload a segment register.  ESP
 * is the top of usable memory. */
	.code32
	.section .text.start, "ax"
	.globl _start
_start:
	cli
	call	guest_main
1:	hlt
	jmp	1b
