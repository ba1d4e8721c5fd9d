/* A 16550A UART: the serial port a Linux guest uses as ttyS0 (port 0x3F8,
 * IRQ 4), with the registers its 8250 driver, its autoconfig probe and
 * its early console touch.  Bytes the guest transmits go to a sink;
 * bytes for the guest wait in a bounded receive queue fed by
 * kvmfs_uart_input; the interrupt line goes to a set_irq callback, called
 * only when its level changes.  The state prints as "name value" lines
 * and parses back, for snapshots.
 *
 * No I/O of its own and no allocation; a mutex inside, because vCPU
 * threads (port accesses) and FUSE workers (input, state) both touch it.
 * The sink and set_irq are called with that mutex held, from whichever
 * thread made the change: they must not call back into the UART.
 * uart.c is the device, uart_text.c the state's text. */
#ifndef KVMFS_DEVICES_UART_H
#define KVMFS_DEVICES_UART_H

#include "devices/bus.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define KVMFS_UART_NAME "uart"
#define KVMFS_UART_COM1 0x3f8	/* ttyS0's base port */
#define KVMFS_UART_COM1_IRQ 4
#define KVMFS_UART_PORTS 8
/* Bytes waiting for the guest at most (the receive "FIFO"). */
#define KVMFS_UART_RX_MAX 4096
/* Room kvmfs_uart_format needs at most: the registers and a full queue
 * as hex. */
#define KVMFS_UART_TEXT_MAX (2 * KVMFS_UART_RX_MAX + 256)

/* Registers, as offsets from the base port (DLAB is LCR bit 7). */
#define KVMFS_UART_RBR 0	/* read: receive buffer; write: THR */
#define KVMFS_UART_IER 1
#define KVMFS_UART_IIR 2	/* read: IIR; write: FCR */
#define KVMFS_UART_LCR 3
#define KVMFS_UART_MCR 4
#define KVMFS_UART_LSR 5
#define KVMFS_UART_MSR 6
#define KVMFS_UART_SCR 7
#define KVMFS_UART_DLL 0	/* with DLAB */
#define KVMFS_UART_DLM 1	/* with DLAB */

#define KVMFS_UART_IER_RDI 0x01		/* received data */
#define KVMFS_UART_IER_THRI 0x02	/* THR empty */
#define KVMFS_UART_IER_RLSI 0x04	/* line status */
#define KVMFS_UART_IER_MSI 0x08		/* modem status */
#define KVMFS_UART_IER_MASK 0x0f	/* the rest read 0 */

#define KVMFS_UART_IIR_NO_INT 0x01
#define KVMFS_UART_IIR_MSI 0x00
#define KVMFS_UART_IIR_THRI 0x02
#define KVMFS_UART_IIR_RDI 0x04
#define KVMFS_UART_IIR_RLSI 0x06
#define KVMFS_UART_IIR_FIFO 0xc0	/* FIFOs on: a 16550A */

#define KVMFS_UART_FCR_FE 0x01		/* FIFOs on */
#define KVMFS_UART_FCR_CLEAR_RX 0x02
#define KVMFS_UART_FCR_CLEAR_TX 0x04
#define KVMFS_UART_FCR_KEPT 0xc9	/* FE, DMA mode, the trigger level */

#define KVMFS_UART_LCR_DLAB 0x80

#define KVMFS_UART_MCR_DTR 0x01
#define KVMFS_UART_MCR_RTS 0x02
#define KVMFS_UART_MCR_OUT1 0x04
#define KVMFS_UART_MCR_OUT2 0x08	/* on a PC: the IRQ line's gate */
#define KVMFS_UART_MCR_LOOP 0x10
#define KVMFS_UART_MCR_MASK 0x1f

#define KVMFS_UART_LSR_DR 0x01
#define KVMFS_UART_LSR_OE 0x02
#define KVMFS_UART_LSR_THRE 0x20
#define KVMFS_UART_LSR_TEMT 0x40
#define KVMFS_UART_LSR_FIXED 0x60	/* THRE and TEMT: always set */

#define KVMFS_UART_MSR_DCTS 0x01
#define KVMFS_UART_MSR_DDSR 0x02
#define KVMFS_UART_MSR_TERI 0x04
#define KVMFS_UART_MSR_DDCD 0x08
#define KVMFS_UART_MSR_CTS 0x10
#define KVMFS_UART_MSR_DSR 0x20
#define KVMFS_UART_MSR_RI 0x40
#define KVMFS_UART_MSR_DCD 0x80
#define KVMFS_UART_MSR_STATUS 0xf0

/* What a snapshot holds.  Derived bits are not kept: LSR's DR (the queue
 * is not empty), THRE and TEMT (the transmitter is always empty), and
 * MSR's top four bits (CTS, DSR and DCD on, or in loopback MCR's
 * outputs). */
struct kvmfs_uart_state {
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	uint8_t lsr_err;	/* LSR's sticky error bits: OE */
	uint8_t msr_delta;	/* MSR's delta bits 0-3 */
	bool thre_pending;	/* the THR-empty interrupt is armed */
	uint16_t rx_head, rx_len;
	uint8_t rx[KVMFS_UART_RX_MAX];
};

/* MSR's top four bits for MCR: outside loopback a peer that is always
 * there (CTS, DSR, DCD); in loopback DTR, RTS, OUT1 and OUT2 read back as
 * DSR, CTS, RI and DCD. */
static inline uint8_t kvmfs_uart_msr_status(uint8_t mcr)
{
	if (!(mcr & KVMFS_UART_MCR_LOOP))
		return KVMFS_UART_MSR_CTS | KVMFS_UART_MSR_DSR |
		       KVMFS_UART_MSR_DCD;
	/* OUT2, OUT1 -> DCD, RI; RTS -> CTS; DTR -> DSR */
	return ((mcr & 0x0c) << 4) | ((mcr & 0x02) << 3) | ((mcr & 0x01) << 5);
}

/* What reading LSR and MSR would give, without the read's side effects. */
static inline uint8_t kvmfs_uart_lsr(const struct kvmfs_uart_state *s)
{
	return KVMFS_UART_LSR_FIXED | s->lsr_err |
	       (s->rx_len ? KVMFS_UART_LSR_DR : 0);
}

static inline uint8_t kvmfs_uart_msr(const struct kvmfs_uart_state *s)
{
	return kvmfs_uart_msr_status(s->mcr) | s->msr_delta;
}

/* Counters for status lines; not state (a snapshot does not hold them,
 * a reset keeps them). */
struct kvmfs_uart_stats {
	uint64_t tx;		/* bytes the guest sent to the sink */
	uint64_t rx;		/* bytes the guest read from RBR */
	uint64_t refused;	/* input bytes answered -EAGAIN */
	uint64_t overruns;	/* bytes lost to a full queue (loopback) */
	size_t queued;		/* bytes waiting now */
};

struct kvmfs_uart {
	pthread_mutex_t lock;
	struct kvmfs_uart_state s;
	struct kvmfs_uart_stats st;	/* queued is filled on read */
	bool level;			/* the last level set_irq was given */
	uint16_t base;
	unsigned irq;
	void (*sink)(void *ctx, const void *data, size_t len);
	void *sink_ctx;
	void (*set_irq)(void *ctx, unsigned irq, bool level);
	void *irq_ctx;
};

/* A UART at COM1 (0x3F8, IRQ 4) in its reset state, the line low.  Either
 * callback may be NULL.  0 or a negative errno from pthread_mutex_init. */
int kvmfs_uart_init(struct kvmfs_uart *u,
		    void (*sink)(void *ctx, const void *data, size_t len),
		    void *sink_ctx,
		    void (*set_irq)(void *ctx, unsigned irq, bool level),
		    void *irq_ctx);
void kvmfs_uart_free(struct kvmfs_uart *u);
/* The registers' power-on values, the queue emptied (the line drops if it
 * was high); the counters stay. */
void kvmfs_uart_reset(struct kvmfs_uart *u);

/* One register access, REG 0..7 (DLAB selects DLL/DLM at 0/1): a write
 * takes *val, a read stores it.  -EINVAL for a REG out of range (a read
 * then gives 0xff). */
int kvmfs_uart_io(struct kvmfs_uart *u, bool write, unsigned reg,
		  uint8_t *val);

/* Queue up to LEN bytes for the guest.  Returns the count taken (all of
 * them if they fit, else as many as fit), or -EAGAIN if none fits; 0 for
 * LEN 0.  The queue never holds more than KVMFS_UART_RX_MAX bytes. */
ssize_t kvmfs_uart_input(struct kvmfs_uart *u, const void *data, size_t len);

/* The level of the interrupt line: an interrupt pending and MCR.OUT2 on. */
bool kvmfs_uart_level(const struct kvmfs_uart *u);
void kvmfs_uart_stats(const struct kvmfs_uart *u,
		      struct kvmfs_uart_stats *out);

/* The state as lines "ier 0x01", ..., "thre_pending 1", "rx 6c73" ("rx -"
 * for an empty queue), NUL-terminated.  Returns the length, or -ENOSPC if
 * CAP is too small (KVMFS_UART_TEXT_MAX always fits). */
int kvmfs_uart_format(const struct kvmfs_uart *u, char *buf, size_t cap);
/* Apply "name value" lines (any subset of what format prints, each name
 * at most once, blank lines skipped), all or nothing: an unknown name, a
 * bad value or a state the model cannot be in (lsr's DR against the
 * queue, msr's status bits against mcr) is -EINVAL with a one-line
 * reason naming the line in err, and the UART unchanged.  The line
 * follows the new state (set_irq when its level changes). */
int kvmfs_uart_parse(struct kvmfs_uart *u, const char *text, size_t len,
		     char *err, size_t errlen);

/* The same on a bare state, no lock (uart_text.c): what the two above
 * call with the lock held. */
int kvmfs_uart_state_format(const struct kvmfs_uart_state *s, char *buf,
			    size_t cap);
int kvmfs_uart_state_parse(struct kvmfs_uart_state *s, const char *text,
			   size_t len, char *err, size_t errlen);

/* The bus's handler for the 8 ports.  Each element of a string access
 * (count > 1) goes to the same port; an element of SIZE bytes goes byte
 * by byte to SIZE consecutive ports, and a byte beyond the 8th port reads
 * 0xff and is dropped on write. */
bool kvmfs_uart_bus_access(void *ctx, const struct kvmfs_bus_access *a);
/* Where attach puts it: -EINVAL if the 8 ports do not fit below 0x10000. */
int kvmfs_uart_place(struct kvmfs_uart *u, uint16_t base, unsigned irq);

/* Put the UART's 8 ports at BASE on BUS, its line being IRQ; U must live
 * as long as the bus.  Inline so that uart.c itself needs no bus.c: unit
 * tests and fuzz targets link it with the pure code only. */
static inline int kvmfs_uart_attach(struct kvmfs_uart *u,
				    struct kvmfs_bus *bus, uint16_t base,
				    unsigned irq)
{
	int ret = kvmfs_uart_place(u, base, irq);

	if (ret)
		return ret;
	return kvmfs_bus_register(bus, KVMFS_BUS_PIO, base, KVMFS_UART_PORTS,
				  KVMFS_UART_NAME, kvmfs_uart_bus_access, u);
}

#endif
