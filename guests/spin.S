/* spin: real mode, loops forever without ever exiting to the host, for
 * timeouts, stop, and single-stepping (every instruction has its own
 * address, listed in README.md).  ax counts the loop's turns and bx sums
 * them. */
	.code16
	.section .text.start, "ax"
	.globl _start
_start:
	movw	$1, %ax		/* 0x0000 */
	movw	$2, %bx		/* 0x0003 */
1:	incw	%ax		/* 0x0006 */
	addw	%ax, %bx	/* 0x0007 */
	jmp	1b		/* 0x0009 */
