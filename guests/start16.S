/* Real-mode entry of the C guests (hello16).  kvmfs enters at CS:IP 0:0
 * with every segment base 0 and SP = min(memory size, 0x10000).  gcc -m16
 * code addresses the stack with the full 32-bit ESP, while push and pop in
 * a 16-bit stack segment change SP alone: clear ESP's upper half so the two
 * agree (SP 0x10000 arrives as 0, and the first push wraps to 0xfffe). */
	.code16
	.section .text.start, "ax"
	.globl _start
_start:
	cli
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movzwl	%sp, %esp
	calll	guest_main	/* gcc -m16 functions return with a 32-bit ret */
1:	hlt
	jmp	1b
