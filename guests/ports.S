/* ports: real mode port I/O of each direction and two widths, for the
 * io exits of run.  The values read are stored where the host can see them:
 * the byte from port 0x60 at GPA 0x400, the dword from port 0x62 at 0x404. */
	.code16
	.section .text.start, "ax"
	.globl _start
_start:
	xorw	%ax, %ax
	movw	%ax, %ds
	movb	$0x42, %al
	outb	%al, $0x10	/* io out port=0x0010 size=1 data=0x42 */
	inb	$0x60, %al	/* io in port=0x0060 size=1 */
	movb	%al, 0x400
	movw	$0x1234, %ax
	outw	%ax, $0x11	/* io out port=0x0011 size=2 data=0x1234 */
	inl	$0x62, %eax	/* io in port=0x0062 size=4 */
	movl	%eax, 0x404
1:	hlt
	jmp	1b
