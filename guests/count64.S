/* count64: count for long mode, `out %al, $0xe9` RCX times, then hlt (RCX =
 * 0: no out at all).  Running again starts over from the top. */
	.code64
	.section .text.start, "ax"
	.globl _start
_start:
	testq	%rcx, %rcx
	jz	2f
1:	outb	%al, $0xe9
	decq	%rcx
	jnz	1b
2:	hlt
	jmp	_start
