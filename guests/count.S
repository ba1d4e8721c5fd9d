/* count: real mode, `out %al, $0xe9` ECX times, then hlt (ECX = 0: no out at
 * all).  The host sets ECX (and, if it cares which byte is written, AL)
 * through regs before running.  ECX is 0 when it halts; running again
 * starts over from the top, so setting rcx again and running repeats the
 * count without touching rip. */
	.code16
	.section .text.start, "ax"
	.globl _start
_start:
	testl	%ecx, %ecx
	jz	2f
1:	outb	%al, $0xe9
	decl	%ecx
	jnz	1b
2:	hlt
	jmp	_start
