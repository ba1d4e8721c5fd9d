/* Unit tests of src/devices/uart.c and uart_text.c, the 16550A UART: the
 * probe sequence of Linux's 8250 autoconfig and startup, the divisor
 * latch, transmit and receive, FIFO clears, IIR's priorities and its
 * acknowledgement of THR empty, the interrupt line (only on a change of
 * level, gated by OUT2), the bound of the receive queue, the state's
 * text both ways and its refusals, and the ports on a real device bus. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/uart.h"
#include "lib/text.h"

/* What the callbacks saw. */
struct rec {
	char tx[256];
	size_t ntx;
	unsigned irq_calls;
	unsigned irq;
	bool level;
};

struct fix {
	struct kvmfs_uart u;
	struct rec r;
};

static void sink(void *ctx, const void *data, size_t len)
{
	struct rec *r = ctx;

	assert_true(r->ntx + len < sizeof(r->tx));
	memcpy(r->tx + r->ntx, data, len);
	r->ntx += len;
	r->tx[r->ntx] = '\0';
}

static void set_irq(void *ctx, unsigned irq, bool level)
{
	struct rec *r = ctx;

	/* Only ever a change of level. */
	assert_true(level != r->level);
	r->level = level;
	r->irq = irq;
	r->irq_calls++;
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(kvmfs_uart_init(&f->u, sink, &f->r, set_irq, &f->r),
			 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	kvmfs_uart_free(&f->u);
	free(f);
	return 0;
}

static uint8_t rd(struct kvmfs_uart *u, unsigned reg)
{
	uint8_t v = 0x5a;

	assert_int_equal(kvmfs_uart_io(u, false, reg, &v), 0);
	return v;
}

static void wr(struct kvmfs_uart *u, unsigned reg, uint8_t v)
{
	assert_int_equal(kvmfs_uart_io(u, true, reg, &v), 0);
}

static void put(struct kvmfs_uart *u, const char *s)
{
	assert_int_equal(kvmfs_uart_input(u, s, strlen(s)), strlen(s));
}

/* The sequence of drivers/tty/serial/8250/8250_port.c: autoconfig(),
 * autoconfig_16550a() and the start of serial8250_do_startup(). */
static void test_autoconfig(void **state)
{
	struct fix *f = *state;
	struct kvmfs_uart *u = &f->u;
	uint8_t save_ier, save_mcr, save_lcr, s1, s2;

	/* The scratch register holds what it is given. */
	wr(u, KVMFS_UART_SCR, 0xa5);
	assert_int_equal(rd(u, KVMFS_UART_SCR), 0xa5);
	wr(u, KVMFS_UART_SCR, 0x5a);
	assert_int_equal(rd(u, KVMFS_UART_SCR), 0x5a);

	/* IER: 0 reads 0, 0x0f reads 0x0f. */
	save_ier = rd(u, KVMFS_UART_IER);
	wr(u, KVMFS_UART_IER, 0);
	assert_int_equal(rd(u, KVMFS_UART_IER) & 0x0f, 0);
	wr(u, KVMFS_UART_IER, 0x0f);
	assert_int_equal(rd(u, KVMFS_UART_IER) & 0x0f, 0x0f);
	wr(u, KVMFS_UART_IER, save_ier);

	/* Loopback: MCR LOOP|OUT2|RTS reads back as DCD|CTS. */
	save_mcr = rd(u, KVMFS_UART_MCR);
	save_lcr = rd(u, KVMFS_UART_LCR);
	wr(u, KVMFS_UART_MCR, KVMFS_UART_MCR_LOOP | 0x0a);
	assert_int_equal(rd(u, KVMFS_UART_MSR) & 0xf0, 0x90);
	wr(u, KVMFS_UART_MCR, save_mcr);

	/* EFR off (LCR 0xbf, which is FCR here), then FIFOs on: IIR's top
	 * bits say 16550A. */
	wr(u, KVMFS_UART_LCR, 0xbf);
	wr(u, KVMFS_UART_IIR, 0);
	wr(u, KVMFS_UART_LCR, 0);
	wr(u, KVMFS_UART_IIR, KVMFS_UART_FCR_FE);
	assert_int_equal(rd(u, KVMFS_UART_IIR) >> 6, 3);

	/* autoconfig_16550a: no EFR under DLAB (IIR reads non-zero)... */
	wr(u, KVMFS_UART_LCR, 0x80);
	assert_int_not_equal(rd(u, KVMFS_UART_IIR), 0);
	wr(u, KVMFS_UART_LCR, 0xbf);
	assert_int_not_equal(rd(u, KVMFS_UART_IIR), 0);
	/* ... not a National SuperIO (EXCR1 does not follow MCR's LOOP) ... */
	wr(u, KVMFS_UART_LCR, 0);
	s1 = rd(u, KVMFS_UART_MCR);
	wr(u, KVMFS_UART_LCR, 0xe0);
	s2 = rd(u, KVMFS_UART_IIR);
	assert_int_equal((s1 ^ s2) & KVMFS_UART_MCR_LOOP, 0);
	wr(u, KVMFS_UART_LCR, 0);
	wr(u, KVMFS_UART_MCR, s1 ^ KVMFS_UART_MCR_LOOP);
	wr(u, KVMFS_UART_LCR, 0xe0);
	s2 = rd(u, KVMFS_UART_IIR);
	wr(u, KVMFS_UART_LCR, 0);
	wr(u, KVMFS_UART_MCR, s1);
	assert_int_equal((s1 ^ s2) & KVMFS_UART_MCR_LOOP, 0);
	/* ... not a TI16750 (no 64-byte FIFO bit, with or without DLAB) ... */
	wr(u, KVMFS_UART_IIR, 0x21);
	assert_int_equal(rd(u, KVMFS_UART_IIR) & 0xe0, 0xc0);
	wr(u, KVMFS_UART_IIR, 0);
	wr(u, KVMFS_UART_LCR, 0x80);
	wr(u, KVMFS_UART_IIR, 0x21);
	assert_int_equal(rd(u, KVMFS_UART_IIR) & 0xe0, 0xc0);
	wr(u, KVMFS_UART_IIR, 0);
	wr(u, KVMFS_UART_LCR, 0);
	/* ... and not an XScale (IER's UUE bit does not stick). */
	wr(u, KVMFS_UART_IER, 0x40);
	assert_int_equal(rd(u, KVMFS_UART_IER) & 0x40, 0);
	wr(u, KVMFS_UART_LCR, save_lcr);

	/* The reset at the end of autoconfig, then startup. */
	wr(u, KVMFS_UART_MCR, save_mcr);
	wr(u, KVMFS_UART_IIR, KVMFS_UART_FCR_FE);
	wr(u, KVMFS_UART_IIR, KVMFS_UART_FCR_FE | KVMFS_UART_FCR_CLEAR_RX |
				      KVMFS_UART_FCR_CLEAR_TX);
	wr(u, KVMFS_UART_IIR, 0);
	rd(u, KVMFS_UART_RBR);
	wr(u, KVMFS_UART_IER, 0);
	rd(u, KVMFS_UART_LSR);
	rd(u, KVMFS_UART_IIR);
	rd(u, KVMFS_UART_MSR);
	assert_int_not_equal(rd(u, KVMFS_UART_LSR), 0xff);
	wr(u, KVMFS_UART_LCR, 0x03);
	wr(u, KVMFS_UART_MCR, KVMFS_UART_MCR_DTR | KVMFS_UART_MCR_RTS |
				      KVMFS_UART_MCR_OUT2);

	/* serial8250_THRE_test: THR empty is reported, and reported again
	 * after IER is written to 0 and back (else UART_BUG_THRE). */
	wr(u, KVMFS_UART_IER, KVMFS_UART_IER_THRI);
	assert_int_equal(rd(u, KVMFS_UART_IIR) & 0x0f, KVMFS_UART_IIR_THRI);
	wr(u, KVMFS_UART_IER, 0);
	wr(u, KVMFS_UART_IER, KVMFS_UART_IER_THRI);
	assert_int_equal(rd(u, KVMFS_UART_IIR) & 0x0f, KVMFS_UART_IIR_THRI);
	wr(u, KVMFS_UART_IER, 0);
	assert_int_equal(rd(u, KVMFS_UART_IIR) & 0x0f, KVMFS_UART_IIR_NO_INT);
	assert_false(kvmfs_uart_level(u));
	/* The probe transmitted nothing. */
	assert_int_equal(f->r.ntx, 0);
}

static void test_divisor_latch(void **state)
{
	struct fix *f = *state;
	struct kvmfs_uart *u = &f->u;

	wr(u, KVMFS_UART_LCR, KVMFS_UART_LCR_DLAB | 0x03);
	wr(u, KVMFS_UART_DLL, 0x01);
	wr(u, KVMFS_UART_DLM, 0x00);
	assert_int_equal(rd(u, KVMFS_UART_DLL), 0x01);
	assert_int_equal(rd(u, KVMFS_UART_DLM), 0x00);
	assert_int_equal(f->r.ntx, 0);	/* DLL, not THR */
	wr(u, KVMFS_UART_LCR, 0x03);
	wr(u, KVMFS_UART_IER, 0x05);
	assert_int_equal(rd(u, KVMFS_UART_IER), 0x05);
	wr(u, KVMFS_UART_LCR, KVMFS_UART_LCR_DLAB | 0x03);
	assert_int_equal(rd(u, KVMFS_UART_DLM), 0x00);	/* not IER */
	wr(u, KVMFS_UART_DLM, 0x12);
	wr(u, KVMFS_UART_LCR, 0x03);
	assert_int_equal(rd(u, KVMFS_UART_IER), 0x05);
	assert_int_equal(u->s.dll, 0x01);
	assert_int_equal(u->s.dlm, 0x12);
	assert_int_equal(rd(u, KVMFS_UART_LCR), 0x03);
}

static void test_transmit(void **state)
{
	struct fix *f = *state;
	struct kvmfs_uart *u = &f->u;
	struct kvmfs_uart_stats st;

	wr(u, KVMFS_UART_RBR, 'h');
	assert_int_equal(rd(u, KVMFS_UART_LSR) & 0x60, 0x60);
	wr(u, KVMFS_UART_RBR, 'i');
	assert_string_equal(f->r.tx, "hi");
	kvmfs_uart_stats(u, &st);
	assert_int_equal(st.tx, 2);
	assert_int_equal(st.rx, 0);
	assert_int_equal(rd(u, KVMFS_UART_LSR), 0x60);
}

static void test_receive(void **state)
{
	struct fix *f = *state;
	struct kvmfs_uart *u = &f->u;
	struct kvmfs_uart_stats st;

	assert_int_equal(rd(u, KVMFS_UART_LSR) & KVMFS_UART_LSR_DR, 0);
	assert_int_equal(kvmfs_uart_input(u, "ab", 0), 0);
	put(u, "ab");
	assert_int_equal(rd(u, KVMFS_UART_LSR), 0x61);
	assert_int_equal(rd(u, KVMFS_UART_RBR), 'a');
	assert_int_equal(rd(u, KVMFS_UART_LSR) & KVMFS_UART_LSR_DR, 1);
	assert_int_equal(rd(u, KVMFS_UART_RBR), 'b');
	assert_int_equal(rd(u, KVMFS_UART_LSR) & KVMFS_UART_LSR_DR, 0);
	assert_int_equal(rd(u, KVMFS_UART_RBR), 0);	/* empty */
	kvmfs_uart_stats(u, &st);
	assert_int_equal(st.rx, 2);
	assert_int_equal(st.queued, 0);
	assert_int_equal(f->r.ntx, 0);
}

static void test_fifo_clear(void **state)
{
	struct fix *f = *state;
	struct kvmfs_uart *u = &f->u;

	wr(u, KVMFS_UART_IIR, KVMFS_UART_FCR_FE);
	put(u, "xyz");
	/* Clearing the transmit FIFO leaves the receiver alone. */
	wr(u, KVMFS_UART_IIR, KVMFS_UART_FCR_FE | KVMFS_UART_FCR_CLEAR_TX);
	assert_int_equal(u->s.rx_len, 3);
	wr(u, KVMFS_UART_IIR, KVMFS_UART_FCR_FE | KVMFS_UART_FCR_CLEAR_RX);
	assert_int_equal(rd(u, KVMFS_UART_LSR) & KVMFS_UART_LSR_DR, 0);
	/* Turning the FIFOs off empties them too, and IIR says 16450. */
	put(u, "q");
	wr(u, KVMFS_UART_IIR, 0);
	assert_int_equal(rd(u, KVMFS_UART_LSR) & KVMFS_UART_LSR_DR, 0);
	assert_int_equal(rd(u, KVMFS_UART_IIR), KVMFS_UART_IIR_NO_INT);
	/* Rewriting the same FE bit keeps the queue. */
	wr(u, KVMFS_UART_IIR, KVMFS_UART_FCR_FE);
	put(u, "r");
	wr(u, KVMFS_UART_IIR, KVMFS_UART_FCR_FE | 0xc0);
	assert_int_equal(rd(u, KVMFS_UART_RBR), 'r');
	assert_int_equal(u->s.fcr, 0xc1);
}

static void test_iir_priority(void **state)
{
	struct fix *f = *state;
	struct kvmfs_uart *u = &f->u;
	char *fill = malloc(KVMFS_UART_RX_MAX);

	assert_non_null(fill);
	memset(fill, 'f', KVMFS_UART_RX_MAX);
	wr(u, KVMFS_UART_IIR, KVMFS_UART_FCR_FE);
	wr(u, KVMFS_UART_MCR, 0x0b);
	wr(u, KVMFS_UART_IER, 0x0f);
	assert_int_equal(rd(u, KVMFS_UART_IIR), 0xc2);	/* THR empty */
	wr(u, KVMFS_UART_RBR, '!');			/* re-armed */
	put(u, "a");
	assert_int_equal(rd(u, KVMFS_UART_IIR), 0xc4);	/* data first */

	/* Loopback into a full queue: a byte lost, OE above all. */
	wr(u, KVMFS_UART_MCR, 0x1b);	/* DSR, CTS, DCD as before: no delta */
	assert_int_equal(kvmfs_uart_input(u, fill, KVMFS_UART_RX_MAX),
			 KVMFS_UART_RX_MAX - 1);
	wr(u, KVMFS_UART_RBR, 'L');
	assert_int_equal(rd(u, KVMFS_UART_IIR), 0xc6);
	assert_int_equal(rd(u, KVMFS_UART_LSR), 0x63);	/* DR, OE; clears OE */
	assert_int_equal(rd(u, KVMFS_UART_IIR), 0xc4);
	for (unsigned i = 0; i < KVMFS_UART_RX_MAX; i++)
		rd(u, KVMFS_UART_RBR);
	assert_int_equal(rd(u, KVMFS_UART_IIR), 0xc2);	/* THR empty */
	assert_int_equal(rd(u, KVMFS_UART_IIR), 0xc1);	/* acknowledged */

	/* Modem status last: RI falling in loopback (OUT1 off again). */
	wr(u, KVMFS_UART_MCR, 0x1f);
	assert_int_equal(rd(u, KVMFS_UART_IIR), 0xc1);	/* RI rising: none */
	wr(u, KVMFS_UART_MCR, 0x1b);
	put(u, "b");
	assert_int_equal(rd(u, KVMFS_UART_IIR), 0xc4);
	rd(u, KVMFS_UART_RBR);
	assert_int_equal(rd(u, KVMFS_UART_IIR), 0xc0);
	assert_int_equal(rd(u, KVMFS_UART_MSR), 0xb0 | KVMFS_UART_MSR_TERI);
	assert_int_equal(rd(u, KVMFS_UART_IIR), 0xc1);
	assert_int_equal(rd(u, KVMFS_UART_MSR), 0xb0);
	free(fill);
}

static void test_thre_ack(void **state)
{
	struct fix *f = *state;
	struct kvmfs_uart *u = &f->u;

	assert_int_equal(rd(u, KVMFS_UART_IIR), KVMFS_UART_IIR_NO_INT);
	wr(u, KVMFS_UART_IER, KVMFS_UART_IER_THRI);
	assert_int_equal(rd(u, KVMFS_UART_IIR), KVMFS_UART_IIR_THRI);
	assert_int_equal(rd(u, KVMFS_UART_IIR), KVMFS_UART_IIR_NO_INT);
	/* Until the next THR write... */
	wr(u, KVMFS_UART_RBR, 'x');
	assert_int_equal(rd(u, KVMFS_UART_IIR), KVMFS_UART_IIR_THRI);
	assert_int_equal(rd(u, KVMFS_UART_IIR), KVMFS_UART_IIR_NO_INT);
	/* ... or an IER write that turns THRI on, not one that keeps it. */
	wr(u, KVMFS_UART_IER, KVMFS_UART_IER_THRI | KVMFS_UART_IER_RDI);
	assert_int_equal(rd(u, KVMFS_UART_IIR), KVMFS_UART_IIR_NO_INT);
	wr(u, KVMFS_UART_IER, 0);
	wr(u, KVMFS_UART_IER, KVMFS_UART_IER_THRI);
	assert_int_equal(rd(u, KVMFS_UART_IIR), KVMFS_UART_IIR_THRI);
	/* A higher interrupt hides THR empty without acknowledging it. */
	wr(u, KVMFS_UART_IER, KVMFS_UART_IER_THRI | KVMFS_UART_IER_RDI);
	put(u, "z");
	wr(u, KVMFS_UART_RBR, 'y');
	assert_int_equal(rd(u, KVMFS_UART_IIR), KVMFS_UART_IIR_RDI);
	rd(u, KVMFS_UART_RBR);
	assert_int_equal(rd(u, KVMFS_UART_IIR), KVMFS_UART_IIR_THRI);
}

static void test_irq_edges(void **state)
{
	struct fix *f = *state;
	struct kvmfs_uart *u = &f->u;

	/* Pending but OUT2 off: the line stays low. */
	wr(u, KVMFS_UART_IER, KVMFS_UART_IER_THRI | KVMFS_UART_IER_RDI);
	assert_int_equal(f->r.irq_calls, 0);
	assert_false(kvmfs_uart_level(u));
	wr(u, KVMFS_UART_MCR, KVMFS_UART_MCR_OUT2);
	assert_int_equal(f->r.irq_calls, 1);
	assert_true(f->r.level && f->r.irq == KVMFS_UART_COM1_IRQ);
	assert_true(kvmfs_uart_level(u));
	/* More reasons to be high: no call. */
	put(u, "a");
	assert_int_equal(rd(u, KVMFS_UART_IIR), KVMFS_UART_IIR_RDI);
	rd(u, KVMFS_UART_RBR);
	assert_int_equal(f->r.irq_calls, 1);
	/* The last reason acknowledged: low. */
	assert_int_equal(rd(u, KVMFS_UART_IIR), KVMFS_UART_IIR_THRI);
	assert_int_equal(f->r.irq_calls, 2);
	assert_false(f->r.level);
	wr(u, KVMFS_UART_RBR, 'x');
	assert_int_equal(f->r.irq_calls, 3);
	assert_true(f->r.level);
	/* OUT2 gates it. */
	wr(u, KVMFS_UART_MCR, 0);
	assert_int_equal(f->r.irq_calls, 4);
	wr(u, KVMFS_UART_MCR, KVMFS_UART_MCR_OUT2 | KVMFS_UART_MCR_DTR);
	assert_int_equal(f->r.irq_calls, 5);
	assert_true(f->r.level);
	/* A reset drops it. */
	kvmfs_uart_reset(u);
	assert_int_equal(f->r.irq_calls, 6);
	assert_false(f->r.level);
	assert_int_equal(rd(u, KVMFS_UART_MCR), 0);
	assert_int_equal(rd(u, KVMFS_UART_IER), 0);
}

static void test_input_bound(void **state)
{
	struct fix *f = *state;
	struct kvmfs_uart *u = &f->u;
	struct kvmfs_uart_stats st;
	char *buf = calloc(1, 2 * KVMFS_UART_RX_MAX);

	assert_non_null(buf);
	assert_int_equal(kvmfs_uart_input(u, buf, KVMFS_UART_RX_MAX - 96),
			 KVMFS_UART_RX_MAX - 96);
	assert_int_equal(kvmfs_uart_input(u, buf, 200), 96);
	assert_int_equal(kvmfs_uart_input(u, "x", 1), -EAGAIN);
	assert_int_equal(kvmfs_uart_input(u, buf, 2 * KVMFS_UART_RX_MAX),
			 -EAGAIN);
	kvmfs_uart_stats(u, &st);
	assert_int_equal(st.queued, KVMFS_UART_RX_MAX);
	assert_int_equal(st.refused, 1 + 2 * KVMFS_UART_RX_MAX);
	assert_int_equal(kvmfs_uart_input(u, "", 0), 0);
	rd(u, KVMFS_UART_RBR);
	assert_int_equal(kvmfs_uart_input(u, "zz", 2), 1);
	kvmfs_uart_stats(u, &st);
	assert_int_equal(st.queued, KVMFS_UART_RX_MAX);
	assert_int_equal(st.rx, 1);
	/* The queue wraps: the last byte comes out last. */
	for (unsigned i = 0; i < KVMFS_UART_RX_MAX - 1; i++)
		assert_int_equal(rd(u, KVMFS_UART_RBR), 0);
	assert_int_equal(rd(u, KVMFS_UART_RBR), 'z');
	assert_int_equal(rd(u, KVMFS_UART_LSR), 0x60);
	free(buf);
}

static void test_loopback(void **state)
{
	struct fix *f = *state;
	struct kvmfs_uart *u = &f->u;

	wr(u, KVMFS_UART_MCR, KVMFS_UART_MCR_LOOP);
	/* CTS, DSR and DCD dropped. */
	assert_int_equal(rd(u, KVMFS_UART_MSR), 0x0b);
	wr(u, KVMFS_UART_RBR, 'L');
	assert_int_equal(f->r.ntx, 0);
	assert_int_equal(rd(u, KVMFS_UART_LSR), 0x61);
	assert_int_equal(rd(u, KVMFS_UART_RBR), 'L');
	wr(u, KVMFS_UART_MCR, KVMFS_UART_MCR_LOOP | KVMFS_UART_MCR_DTR);
	assert_int_equal(rd(u, KVMFS_UART_MSR), 0x22);
	wr(u, KVMFS_UART_MCR, KVMFS_UART_MCR_LOOP | KVMFS_UART_MCR_RTS);
	assert_int_equal(rd(u, KVMFS_UART_MSR), 0x13);
	wr(u, KVMFS_UART_MCR, KVMFS_UART_MCR_LOOP | KVMFS_UART_MCR_OUT1);
	assert_int_equal(rd(u, KVMFS_UART_MSR), 0x41);
	wr(u, KVMFS_UART_MCR, KVMFS_UART_MCR_LOOP | KVMFS_UART_MCR_OUT2);
	assert_int_equal(rd(u, KVMFS_UART_MSR), 0x88 | 0x04);
	/* Out of loopback: the peer again, transmit to the sink. */
	wr(u, KVMFS_UART_MCR, 0);
	assert_int_equal(rd(u, KVMFS_UART_MSR), 0xb0 | 0x03);
	wr(u, KVMFS_UART_RBR, 'T');
	assert_string_equal(f->r.tx, "T");
	/* MCR's top bits read 0. */
	wr(u, KVMFS_UART_MCR, 0xe0);
	assert_int_equal(rd(u, KVMFS_UART_MCR), 0);
}

static void test_round_trip(void **state)
{
	struct fix *f = *state;
	struct kvmfs_uart *u = &f->u;
	char *t1 = malloc(KVMFS_UART_TEXT_MAX);
	char *t2 = malloc(KVMFS_UART_TEXT_MAX);
	struct kvmfs_uart b;
	struct rec rb = {0};
	char err[KVMFS_REASON_LEN];
	int n1, n2;

	assert_non_null(t1);
	assert_non_null(t2);
	wr(u, KVMFS_UART_LCR, 0x83);
	wr(u, KVMFS_UART_DLL, 0x01);
	wr(u, KVMFS_UART_DLM, 0x00);
	wr(u, KVMFS_UART_LCR, 0x03);
	wr(u, KVMFS_UART_IER, 0x01);
	wr(u, KVMFS_UART_MCR, 0x0b);
	wr(u, KVMFS_UART_IIR, 0x01);
	/* A queue that wraps inside the array. */
	put(u, "xx");
	rd(u, KVMFS_UART_RBR);
	rd(u, KVMFS_UART_RBR);
	put(u, "ls");
	n1 = kvmfs_uart_format(u, t1, KVMFS_UART_TEXT_MAX);
	assert_true(n1 > 0 && (size_t)n1 == strlen(t1));
	assert_string_equal(t1, "ier 0x01\nlcr 0x03\nmcr 0x0b\nscr 0x00\n"
				"dll 0x01\ndlm 0x00\nfcr 0x01\nlsr 0x61\n"
				"msr 0xb0\nthre_pending 0\nrx 6c73\n");

	/* Into a fresh UART: the same text, and its line goes up. */
	assert_int_equal(kvmfs_uart_init(&b, NULL, NULL, set_irq, &rb), 0);
	assert_int_equal(kvmfs_uart_parse(&b, t1, (size_t)n1, err,
					  sizeof(err)), 0);
	assert_string_equal(err, "");
	n2 = kvmfs_uart_format(&b, t2, KVMFS_UART_TEXT_MAX);
	assert_int_equal(n1, n2);
	assert_string_equal(t1, t2);
	assert_int_equal(rb.irq_calls, 1);
	assert_true(rb.level);
	assert_int_equal(rd(&b, KVMFS_UART_RBR), 'l');
	assert_int_equal(rd(&b, KVMFS_UART_RBR), 's');
	assert_false(rb.level);

	/* A subset changes only what it names; "rx -" empties the queue. */
	assert_int_equal(kvmfs_uart_parse(u, "scr 0x7e\nrx -\n", 14, err,
					  sizeof(err)), 0);
	assert_int_equal(rd(u, KVMFS_UART_SCR), 0x7e);
	assert_int_equal(rd(u, KVMFS_UART_LSR), 0x60);
	assert_int_equal(rd(u, KVMFS_UART_MCR), 0x0b);
	/* Up with "xx", down, up with "ls", down with "rx -". */
	assert_int_equal(f->r.irq_calls, 4);
	assert_false(f->r.level);

	/* A full queue fits KVMFS_UART_TEXT_MAX; a short buffer does not. */
	memset(t2, 0, KVMFS_UART_TEXT_MAX);
	assert_int_equal(kvmfs_uart_input(u, t2, KVMFS_UART_RX_MAX),
			 KVMFS_UART_RX_MAX);
	n1 = kvmfs_uart_format(u, t1, KVMFS_UART_TEXT_MAX);
	assert_true(n1 > 2 * KVMFS_UART_RX_MAX);
	assert_int_equal(kvmfs_uart_parse(&b, t1, (size_t)n1, err,
					  sizeof(err)), 0);
	assert_int_equal(kvmfs_uart_format(&b, t2, KVMFS_UART_TEXT_MAX), n1);
	assert_string_equal(t1, t2);
	assert_int_equal(kvmfs_uart_format(u, t1, 100), -ENOSPC);
	assert_true(strlen(t1) < 100);
	assert_int_equal(kvmfs_uart_format(u, t1, 0), -ENOSPC);
	kvmfs_uart_free(&b);
	free(t1);
	free(t2);
}

static void assert_printable(const char *s)
{
	assert_true(*s != '\0');
	for (; *s; s++)
		assert_true(*s >= 0x20 && *s < 0x7f);
}

static void test_parse_errors(void **state)
{
	static const struct {
		const char *text, *reason;
	} bad[] = {
	    {"ier 0x01\nbogus 1\n", "line 2: unknown name 'bogus'"},
	    {"ier 0x10", "line 1: ier 0x10: only bits 0x0f may be set"},
	    {"lcr 0x100", "line 1: lcr 0x100"},
	    {"lcr x", "line 1: bad number 'x' for lcr"},
	    {"lcr -1", "line 1: bad number"},
	    {"lcr 99999999999999999999999", "line 1: bad number"},
	    {"ier 1\n\nier 2", "line 3: duplicate 'ier'"},
	    {"ier", "line 1: missing value for ier"},
	    {"ier 1 2", "line 1: expected 'name value'"},
	    {"rx 123", "line 1: rx '123': an odd number"},
	    {"rx zz", "line 1: rx 'zz': not hex"},
	    {"lsr 0x00", "line 1: lsr 0x00: THRE and TEMT"},
	    {"lsr 0x80", "line 1: lsr 0x80: only bits"},
	    {"scr 1\nlsr 0x61", "line 2: lsr 0x61: DR must be clear"},
	    {"lsr 0x61\nrx -", "line 1: lsr 0x61: DR must be clear"},
	    {"lsr 0x60\nrx 41", "line 1: lsr 0x60: DR must be set"},
	    {"msr 0x00", "msr 0x00: with mcr 0x08 the top bits are 0xb0"},
	    {"msr 0xf0\nmcr 0x10", "line 1: msr 0xf0: with mcr 0x10"},
	    {"thre_pending 2", "line 1: thre_pending 0x2"},
	    {"", "no 'name value' lines"},
	    {"\n\n", "no 'name value' lines"},
	    {"ier 1\x01", "line 1: a control byte"},
	    {"ier 0x01\nscr 0xff\nmcr 0x20\n", "line 3: mcr 0x20"},
	};
	struct fix *f = *state;
	struct kvmfs_uart *u = &f->u;
	char before[256], after[256], err[KVMFS_REASON_LEN];
	char *big = malloc(2 * KVMFS_UART_RX_MAX + 16);

	assert_non_null(big);
	wr(u, KVMFS_UART_IER, 0x0f);
	wr(u, KVMFS_UART_MCR, 0x08);
	assert_int_equal(f->r.irq_calls, 1);
	assert_true(kvmfs_uart_format(u, before, sizeof(before)) > 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(err, 'X', sizeof(err));
		assert_int_equal(kvmfs_uart_parse(u, bad[i].text,
						  strlen(bad[i].text), err,
						  sizeof(err)),
				 -EINVAL);
		assert_printable(err);
		if (!strstr(err, bad[i].reason))
			fail_msg("'%s': reason '%s', want '%s'", bad[i].text,
				 err, bad[i].reason);
		assert_true(kvmfs_uart_format(u, after, sizeof(after)) > 0);
		assert_string_equal(before, after);
	}
	/* One byte more than the queue holds. */
	memcpy(big, "rx ", 3);
	memset(big + 3, 'a', 2 * KVMFS_UART_RX_MAX + 2);
	assert_int_equal(kvmfs_uart_parse(u, big, 2 * KVMFS_UART_RX_MAX + 5,
					  err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "line 1: rx holds 4097 bytes"));
	/* A NULL or short reason buffer is fine. */
	assert_int_equal(kvmfs_uart_parse(u, "nope 1", 6, NULL, 0), -EINVAL);
	assert_int_equal(kvmfs_uart_parse(u, "nope 1", 6, err, 4), -EINVAL);
	assert_int_equal(strlen(err), 3);
	assert_true(kvmfs_uart_format(u, after, sizeof(after)) > 0);
	assert_string_equal(before, after);
	/* Nothing moved the line. */
	assert_int_equal(f->r.irq_calls, 1);
	/* What is accepted: blank lines, and msr against the new mcr. */
	assert_int_equal(kvmfs_uart_parse(u, "\nmcr 0x1f\n\nmsr 0xf3\n", 20,
					  err, sizeof(err)), 0);
	assert_int_equal(rd(u, KVMFS_UART_MSR), 0xf3);
	free(big);
}

static void test_bus(void **state)
{
	struct fix *f = *state;
	struct kvmfs_uart *u = &f->u;
	struct kvmfs_uart other;
	struct kvmfs_bus bus;
	uint8_t d[8];
	struct kvmfs_bus_access a = {KVMFS_BUS_PIO, true, 0x3f8, 1, 1, d};

	kvmfs_bus_init(&bus);
	assert_int_equal(kvmfs_uart_attach(u, &bus, KVMFS_UART_COM1,
					   KVMFS_UART_COM1_IRQ), 0);
	/* outb, then rep outsb to the same port. */
	d[0] = 'A';
	assert_true(kvmfs_bus_dispatch(&bus, &a));
	memcpy(d, "BCD", 3);
	a.count = 3;
	assert_true(kvmfs_bus_dispatch(&bus, &a));
	assert_string_equal(f->r.tx, "ABCD");
	/* outw to LCR writes LCR and MCR. */
	a = (struct kvmfs_bus_access){KVMFS_BUS_PIO, true, 0x3fb, 2, 1, d};
	d[0] = 0x03;
	d[1] = 0x0b;
	assert_true(kvmfs_bus_dispatch(&bus, &a));
	assert_int_equal(rd(u, KVMFS_UART_LCR), 0x03);
	assert_int_equal(rd(u, KVMFS_UART_MCR), 0x0b);
	/* rep insb from RBR. */
	put(u, "xyz");
	memset(d, 0, sizeof(d));
	a = (struct kvmfs_bus_access){KVMFS_BUS_PIO, false, 0x3f8, 1, 3, d};
	assert_true(kvmfs_bus_dispatch(&bus, &a));
	assert_memory_equal(d, "xyz", 3);
	/* inl at MSR: MSR, SCR and two bytes past the ports. */
	wr(u, KVMFS_UART_SCR, 0x42);
	a = (struct kvmfs_bus_access){KVMFS_BUS_PIO, false, 0x3fe, 4, 1, d};
	assert_true(kvmfs_bus_dispatch(&bus, &a));
	assert_int_equal(d[0], 0xb0);	/* MSR */
	assert_int_equal(d[1], 0x42);	/* SCR */
	assert_int_equal(d[2], 0xff);
	assert_int_equal(d[3], 0xff);
	/* Writes past the 8th port are dropped. */
	a = (struct kvmfs_bus_access){KVMFS_BUS_PIO, true, 0x3ff, 2, 1, d};
	d[0] = 0x43;
	d[1] = 0x99;
	assert_true(kvmfs_bus_dispatch(&bus, &a));
	assert_int_equal(rd(u, KVMFS_UART_SCR), 0x43);
	/* Not its ports, not its space. */
	a = (struct kvmfs_bus_access){KVMFS_BUS_PIO, false, 0x400, 1, 1, d};
	assert_false(kvmfs_bus_dispatch(&bus, &a));
	a = (struct kvmfs_bus_access){KVMFS_BUS_MMIO, false, 0x3f8, 1, 1, d};
	assert_false(kvmfs_bus_dispatch(&bus, &a));
	assert_false(kvmfs_uart_bus_access(u, &a));
	a = (struct kvmfs_bus_access){KVMFS_BUS_PIO, false, 0x3f7, 1, 1, d};
	assert_false(kvmfs_uart_bus_access(u, &a));
	/* Empty accesses do nothing. */
	a = (struct kvmfs_bus_access){KVMFS_BUS_PIO, true, 0x3f8, 1, 0, d};
	assert_true(kvmfs_bus_dispatch(&bus, &a));
	a = (struct kvmfs_bus_access){KVMFS_BUS_PIO, true, 0x3f8, 0, 4, d};
	assert_true(kvmfs_bus_dispatch(&bus, &a));
	assert_string_equal(f->r.tx, "ABCD");
	assert_int_equal(kvmfs_bus_hits(&bus, KVMFS_UART_NAME), 8);

	/* One UART per place; and the 8 ports must fit. */
	assert_int_equal(kvmfs_uart_init(&other, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(kvmfs_uart_attach(&other, &bus, 0x3fc, 3), -EEXIST);
	assert_int_equal(kvmfs_uart_place(&other, 0xfff9, 3), -EINVAL);
	assert_int_equal(kvmfs_uart_place(&other, 0xfff8, 3), 0);
	kvmfs_uart_free(&other);
	/* A register number out of range. */
	d[0] = 0;
	assert_int_equal(kvmfs_uart_io(u, false, 8, d), -EINVAL);
	assert_int_equal(d[0], 0xff);
	assert_int_equal(kvmfs_uart_io(u, true, 9, d), -EINVAL);
	kvmfs_bus_free(&bus);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_autoconfig),
		T(test_divisor_latch),
		T(test_transmit),
		T(test_receive),
		T(test_fifo_clear),
		T(test_iir_priority),
		T(test_thre_ack),
		T(test_irq_edges),
		T(test_input_bound),
		T(test_loopback),
		T(test_round_trip),
		T(test_parse_errors),
		T(test_bus),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
