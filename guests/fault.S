/* fault: a triple fault from real mode.  Load an interrupt table of limit 0,
 * set CR0.PE (no far jump: CS keeps its real-mode cache, so execution goes
 * on at the next instruction), then raise #UD.  The CPU cannot deliver it
 * (vector 6 lies past the limit), nor the #GP that follows, nor the double
 * fault, so it shuts down and KVM reports KVM_EXIT_SHUTDOWN.
 *
 * Setting PE matters: in real mode KVM may deliver interrupts through its
 * own emulator, which reads the vector table without checking the IDT limit
 * (this host's nested KVM does), and the #UD would then jump through
 * whatever lies at GPA 0x18. */
	.code16
	.section .text.start, "ax"
	.globl _start
_start:
	cli
	xorw	%ax, %ax
	movw	%ax, %ds
	lidt	empty_idt
	movl	%cr0, %eax
	orb	$1, %al		/* CR0.PE */
	movl	%eax, %cr0
	ud2
1:	hlt			/* never reached */
	jmp	1b

	.balign 8
empty_idt:
	.word	0		/* limit */
	.long	0		/* base */
