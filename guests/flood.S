/* flood: real mode, writes "abcdefghijklmnopqrstuvwxyz\n" to the debug port
 * 0xE9 over and over, forever: a console producer for ring-buffer and
 * interruption tests. */
	.code16
	.section .text.start, "ax"
	.globl _start
_start:
1:	movb	$'a', %al
2:	outb	%al, $0xe9
	incb	%al
	cmpb	$'z' + 1, %al
	jne	2b
	movb	$'\n', %al
	outb	%al, $0xe9
	jmp	1b
