/* Long-mode entry of the C guests (hello64, pagewalk).  kvmfs enters in
 * 64-bit mode with identity-mapped page tables at the top of memory and RSP
 * just below them.  A guest that replaces the page tables defines
 * GUEST_STACK to run on a stack of its own in low memory instead. */
	.code64
	.section .text.start, "ax"
	.globl _start
_start:
	cli
#ifdef GUEST_STACK
	movl	$GUEST_STACK, %esp	/* zero-extends into rsp */
#else
	andq	$-16, %rsp
#endif
	call	guest_main
1:	hlt
	jmp	1b
