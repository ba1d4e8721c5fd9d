/* Helpers shared by the C guests.  The same code is compiled for real mode
 * (gcc -m16), 32-bit protected mode (-m32) and 64-bit long mode (-m64), so
 * everything here is mode-neutral: port I/O, raw stores to guest-physical
 * addresses and halting. */
#ifndef KVMFS_GUEST_H
#define KVMFS_GUEST_H

#include <stdint.h>

/* Where the guests leave their results (kvm-hello-world's convention). */
#define RESULT_ADDR	0x400u
/* The debug console port: kvmfs appends what is written here to console. */
#define DEBUG_PORT	0xe9u

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

/* A pointer to a fixed guest-physical (identity-mapped) address.  The empty
 * asm hides the constant from gcc, which would otherwise treat a small
 * address as a null-pointer offset (-Warray-bounds) or fold the store. */
static inline volatile uint32_t *ptr32(uintptr_t addr)
{
	__asm__("" : "+r"(addr));
	return (volatile uint32_t *)addr;
}

static inline volatile uint64_t *ptr64(uintptr_t addr)
{
	__asm__("" : "+r"(addr));
	return (volatile uint64_t *)addr;
}

/* Halt with `value` in eax, as kvm-hello-world's guests do.  If the host
 * runs the vCPU again it halts again. */
static inline __attribute__((noreturn)) void halt(uint32_t value)
{
	for (;;)
		__asm__ volatile("hlt" : : "a"(value) : "memory");
}

/* The C entry point, called by start16.S, start32.S or start64.S. */
void guest_main(void) __attribute__((noreturn));

#endif
