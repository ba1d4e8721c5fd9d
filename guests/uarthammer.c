/* uarthammer: 32-bit protected mode.  Hammers the serial port (every
 * register in both DLAB banks with every value, the EFR probe, loopback
 * into a full queue, string I/O, 16- and 32-bit accesses), the ports
 * around it and far from it, MMIO above memory and the local APIC and
 * IOAPIC, then puts the UART back into a sane state and says
 * "uarthammer done\n" through it and through port 0xE9.  Deterministic:
 * the values come from an LCG with a fixed seed.
 *
 * The guest keeps IF clear (start32.S) and writes only masked entries to
 * the APIC's LVT and the IOAPIC's redirection table, and never the ICR,
 * so nothing it does can deliver an interrupt, an NMI or an INIT to
 * itself: it cannot end itself early, whatever the devices answer.
 * GPA 0x400 counts the phases begun (1 to 10, 11 once the last words are
 * out); it halts with 0x600d in eax.  Memory: 1 MiB (the stack is its
 * top, string I/O uses 0x1000..0x4067, MMIO starts at 0x100000).  See
 * README.md for the phases and the order of their accesses. */
#include "guest.h"

#define COM1	0x3f8u
#define THR	0u	/* RBR when read, DLL with DLAB */
#define IER	1u	/* DLM with DLAB */
#define FCR	2u	/* IIR when read, EFR with LCR 0xBF */
#define LCR	3u
#define MCR	4u
#define LSR	5u
#define MSR	6u

#define LCR_DLAB	0x80u
#define MCR_LOOP	0x10u
#define LSR_THRE	0x20u

#define BUF	0x1000u		/* what string I/O sends ... */
#define BUF_IN	0x3000u		/* ... and what it receives */
#define STRING_LEN 300u		/* string I/O to and from the UART */
#define LOOP_LEN 4200u		/* loopback: more than the 4096-byte queue */

/* Every STRIDE-th port from 0, which misses 0xE9 and the UART's 8. */
#define STRIDE	13u
_Static_assert(DEBUG_PORT % STRIDE != 0 && COM1 % STRIDE != 0 &&
	       STRIDE - COM1 % STRIDE >= 8, "the port sweep would hit 0xE9 or the UART");

#define LAPIC	0xfee00000u
#define IOAPIC	0xfec00000u

static uint32_t seed = 0x14u;

/* The next byte of the LCG (glibc's constants); seed holds 32 bits of it. */
static uint8_t rnd(void)
{
	seed = seed * 1103515245u + 12345u;
	return (uint8_t)(seed >> 16);
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline void inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
}

/* rep outsb / rep insb of N bytes between guest-physical ADDR and PORT
 * (upwards: guest_main clears DF first). */
static void outsb(uint16_t port, uint32_t addr, uint32_t n)
{
	__asm__ volatile("rep outsb"
			 : "+S"(addr), "+c"(n) : "d"(port) : "memory");
}

static void insb(uint16_t port, uint32_t addr, uint32_t n)
{
	__asm__ volatile("rep insb"
			 : "+D"(addr), "+c"(n) : "d"(port) : "memory");
}

static inline void uart_out(unsigned reg, uint8_t v)
{
	outb((uint16_t)(COM1 + reg), v);
}

static inline uint8_t uart_in(unsigned reg)
{
	return inb((uint16_t)(COM1 + reg));
}

/* One access of each size in each direction to a port. */
static void port_all_sizes(uint16_t port)
{
	outb(port, rnd());
	inb(port);
	rnd();
	outw(port, (uint16_t)(seed >> 8));
	inw(port);
	outl(port, seed);
	inl(port);
}

/* The same to a physical address (MMIO: no memory there). */
static void mmio_all_sizes(uint32_t addr)
{
	volatile uint8_t *p;

	__asm__("" : "+r"(addr));
	p = (volatile uint8_t *)addr;
	*p = rnd();
	(void)*p;
	*(volatile uint16_t *)p = (uint16_t)seed;
	(void)*(volatile uint16_t *)p;
	*(volatile uint32_t *)p = seed;
	(void)*(volatile uint32_t *)p;
}

/* The next phase: GPA 0x400 counts them (one incl, 6 bytes). */
static inline void phase(void)
{
	__asm__ volatile("incl 0x400" : : : "memory");
}

static void say(const char *s)
{
	for (const char *p = s; *p; p++) {
		while (!(uart_in(LSR) & LSR_THRE))
			;
		uart_out(THR, (uint8_t)*p);
	}
	for (const char *p = s; *p; p++)
		outb(DEBUG_PORT, (uint8_t)*p);
}

/* Ports that mean something on a PC besides the UART: the PIC and its
 * ELCR, the PIT's counter 1 and 2 (not counter 0 or the control port, so
 * that no timer is started), the speaker port, keyboard controller, CMOS,
 * POST code, fast A20/reset, PCI configuration and reset, the other COM
 * ports and the floppy port below COM1's. */
static const uint16_t pc_ports[] = {
	0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x41, 0x42, 0x61, 0x60, 0x64,
	0x70, 0x71, 0x80, 0x92, 0xcf8, 0xcf9, 0xcfc, 0x2f8, 0x3e8, 0x2e8, 0x3f7,
};

void guest_main(void)
{
	uint32_t a;

	__asm__ volatile("cld");
	/* 1: every register in both banks, all 256 values written, each read
	 * back, then 256 accesses at random (odd byte: a write). */
	phase();
	for (unsigned dlab = 0; dlab <= LCR_DLAB; dlab += LCR_DLAB) {
		for (unsigned reg = 0; reg < 8; reg++) {
			uart_out(LCR, (uint8_t)dlab);
			for (unsigned v = 0; v < 256; v++) {
				uart_out(reg, (uint8_t)v);
				uart_in(reg);
			}
			for (unsigned i = 0; i < 256; i++) {
				uint8_t r = rnd();

				if (r & 1)
					uart_out(reg, r);
				else
					uart_in(reg);
			}
		}
	}

	/* 2: the probes of Linux's autoconfig: LCR with DLAB alone, 0xBF
	 * (EFR at offset 2) and 0xE0, each with every other register
	 * written and read. */
	phase();
	for (unsigned i = 0; i < 3; i++) {
		uart_out(LCR, (uint8_t)(0xe0bf80u >> (8 * i)));
		for (unsigned reg = 0; reg < 8; reg++) {
			if (reg == LCR)
				continue;
			uart_out(reg, rnd());
			uart_in(reg);
		}
	}

	/* 3: IER with every value, the interrupt line gated on (OUT2) and a
	 * byte waiting (sent in loopback), IIR/LSR/MSR read after each. */
	phase();
	uart_out(LCR, 0x03);
	uart_out(FCR, 0x07);
	uart_out(MCR, MCR_LOOP | 0x0b);
	uart_out(THR, 'x');
	for (unsigned v = 0; v < 256; v++) {
		uart_out(IER, (uint8_t)v);
		uart_in(FCR);
		uart_in(LSR);
		uart_in(MSR);
	}
	uart_out(IER, 0);
	uart_in(THR);

	/* 4: string I/O.  STRING_LEN bytes out (to console) and in (an empty
	 * queue reads zeros); then in loopback, after FCR has emptied the
	 * queue, LOOP_LEN bytes out (4096 queued, the rest overruns: OE) and
	 * LOOP_LEN in (the 4096, then zeros). */
	phase();
	for (unsigned i = 0; i < LOOP_LEN; i++)
		*(volatile uint8_t *)(uintptr_t)(BUF + i) = rnd();
	uart_out(MCR, 0x0b);
	outsb(COM1 + THR, BUF, STRING_LEN);
	insb(COM1 + THR, BUF_IN, STRING_LEN);
	uart_out(FCR, 0x07);
	uart_out(MCR, MCR_LOOP | 0x0b);
	outsb(COM1 + THR, BUF, LOOP_LEN);
	uart_in(LSR);
	insb(COM1 + THR, BUF_IN, LOOP_LEN);
	uart_out(MCR, 0x0b);

	/* 5: 16- and 32-bit accesses at each of the UART's ports (those at
	 * the top run past the 8th port). */
	phase();
	for (unsigned i = 0; i < 32; i++)
		port_all_sizes((uint16_t)(COM1 + i % 8));

	/* 6: other ports, every size and direction: every 13th port from 0
	 * to 0xfffd (never 0xE9 or the UART's), then pc_ports. */
	phase();
	for (a = 0; a < 0x10000; a += STRIDE)
		port_all_sizes((uint16_t)a);
	for (unsigned i = 0; i < sizeof(pc_ports) / sizeof(pc_ports[0]); i++)
		port_all_sizes(pc_ports[i]);

	/* 7: MMIO above memory: 256 addresses from 0xd0000000, a dword
	 * across a page boundary, a rep stosl, one dword each 16 MiB from
	 * 1 MiB to the top and the reset vector's. */
	phase();
	for (unsigned i = 0; i < 256; i++)
		mmio_all_sizes(0xd0000000u + i * 0x1003u);
	*ptr32(0xd0000ffeu) = seed;
	(void)*ptr32(0xd0000ffeu);
	a = 0xd0002000u;
	{
		uint32_t n = 16;

		__asm__ volatile("rep stosl"
				 : "+D"(a), "+c"(n) : "a"(seed) : "memory");
	}
	for (unsigned i = 0; i < 256; i++) {
		a = 0x00100000u + i * 0x01000000u;
		*ptr32(a) = seed;
		(void)*ptr32(a);
	}
	(void)*ptr32(0xfffffff0u);

	/* 8: the local APIC: every register read, then writes only to
	 * TPR, EOI, ESR, SVR, the timer's count and divider, and the LVT
	 * entries, all masked. */
	phase();
	for (a = LAPIC; a < LAPIC + 0x400; a += 0x10)
		(void)*ptr32(a);
	*ptr32(LAPIC + 0x80) = 0x10;		/* TPR */
	*ptr32(LAPIC + 0xb0) = 0;		/* EOI */
	*ptr32(LAPIC + 0x280) = 0;		/* ESR */
	*ptr32(LAPIC + 0xf0) = 0x1ff;		/* SVR: on, vector 0xff */
	for (a = LAPIC + 0x320; a <= LAPIC + 0x370; a += 0x10)
		*ptr32(a) = 0x10000u | 0x40u;	/* LVT: masked */
	*ptr32(LAPIC + 0x3e0) = 0x0b;		/* divide by 1 */
	*ptr32(LAPIC + 0x380) = 0x1000;		/* one shot, masked */
	*ptr32(LAPIC + 0x80) = 0;

	/* 9: the IOAPIC: every register selected and read, then each
	 * redirection entry written masked. */
	phase();
	for (unsigned r = 0; r < 0x40; r++) {
		*ptr32(IOAPIC) = r;
		(void)*ptr32(IOAPIC + 0x10);
	}
	for (unsigned r = 0x10; r < 0x40; r += 2) {
		*ptr32(IOAPIC) = r;
		*ptr32(IOAPIC + 0x10) = 0x10000u | (0x20u + r);
		*ptr32(IOAPIC) = r + 1;
		*ptr32(IOAPIC + 0x10) = 0;
	}

	/* 10: the UART back to 8N1, DTR RTS OUT2, no interrupts, FIFOs on
	 * and empty, and the last words. */
	phase();
	uart_out(LCR, 0x03);
	uart_out(MCR, 0x0b);
	uart_out(IER, 0);
	uart_out(FCR, 0x07);
	say("uarthammer done\n");
	phase();
	halt(0x600d);
}
