/* smp: the BSP starts the APs with INIT-SIPI-SIPI, as a PC's firmware and
 * Linux do; for ctl's cpus N with the irqchip (tests/integration/smp.sh).
 *
 * The BSP (vCPU 0, 32-bit protected mode, `mode protected`) copies the
 * APs' 16-bit start code to 0x1000, sends INIT and then two SIPIs with
 * vector 0x01 to all but itself through its local APIC's ICR (0xfee00300,
 * KVM's in-kernel LAPIC), and waits until the number of APs at 0x404
 * (written there before the run) have counted themselves in at 0x400.
 * Then it prints "smp N\n" (N the APs that came) and halts.
 *
 * Each AP starts in real mode at cs 0x0100 ip 0 (0x1000), asks CPUID
 * leaf 1 for its initial APIC ID (EBX bits 31-24: the vCPU's ID under
 * KVM), stores its ID at 0x410 + ID, prints the ID as one byte ('0' +
 * ID), counts itself in at 0x400 with a locked add and halts at
 * ap_halt (ip 0x1e, cs.base 0x1000; the BSP halts at 0x66). */
	.code32
	.section .text.start, "ax"
	.globl _start
_start:
	cld
	movl	$ap_start, %esi
	movl	$0x1000, %edi
	movl	$(ap_end - ap_start), %ecx
	rep movsb
	movl	$0, 0xfee00310		/* ICR high: no destination (shorthand) */
	movl	$0x000c4500, 0xfee00300	/* INIT, assert, all excluding self */
	movl	$0x000c4601, 0xfee00300	/* SIPI, vector 0x01: start at 0x1000 */
	movl	$0x000c4601, 0xfee00300	/* and again, as the MP spec says */
1:	pause
	movl	0x400, %eax
	cmpl	0x404, %eax
	jb	1b
	movl	$msg, %esi
	movl	$(msg_end - msg), %ecx
	movw	$0xe9, %dx
	rep outsb
	movl	0x400, %eax
	addb	$'0', %al
	outb	%al, $0xe9
	movb	$'\n', %al
	outb	%al, $0xe9
2:	hlt
	jmp	2b

msg:	.ascii	"smp "
msg_end:

	.code16
ap_start:
	movl	$1, %eax		/* 0x00 */
	cpuid				/* 0x06 */
	shrl	$24, %ebx		/* 0x08 */
	movb	%bl, 0x410(%bx)		/* 0x0c */
	movb	%bl, %al		/* 0x10 */
	addb	$'0', %al
	outb	%al, $0xe9
	/* Counted in last: the BSP prints after every ID is out. */
	lock addl $1, 0x400
	cli
ap_halt:
	hlt
	jmp	ap_halt
ap_end:
	.code32
