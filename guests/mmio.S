/* mmio: 32-bit protected mode accesses to an address with no memory behind
 * it (0xd0000000, far above any guest memory), for the mmio exits of run.
 * The dword read back is stored at GPA 0x400 and left in eax. */
	.code32
	.section .text.start, "ax"
	.globl _start
_start:
	movl	$0x12345678, 0xd0000000	/* mmio write addr=0xd0000000 len=4 */
	movl	0xd0000004, %eax	/* mmio read addr=0xd0000004 len=4 */
	movl	%eax, 0x400
1:	hlt
	jmp	1b
