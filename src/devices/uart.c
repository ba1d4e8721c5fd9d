/* The 16550A UART (uart.h): the registers, the receive queue, the
 * interrupt line and the bus handler (the state's text is uart_text.c's).
 * Modelled on the PC16550D data
 * sheet and on what Linux's 8250 driver checks: its autoconfig (scratch,
 * IER, loopback and FCR/IIR probes) and its THRE test, which wants the
 * THR-empty interrupt back after an IER write that enables it.
 *
 * Simplifications: the transmitter empties at once (THRE and TEMT are
 * always set), the receive queue is the FIFO whether or not FCR enables
 * it, and received data interrupts at once (no trigger level, no
 * character timeout).  Bytes are lost only in loopback, when the guest
 * sends into a full queue: that sets OE. */
#include "devices/uart.h"

#include <errno.h>
#include <string.h>

/* Casts away const for the lock only: reading the state is a const
 * operation for the caller, but still needs the mutex. */
static void lock(const struct kvmfs_uart *u)
{
	pthread_mutex_lock((pthread_mutex_t *)&u->lock);
}

static void unlock(const struct kvmfs_uart *u)
{
	pthread_mutex_unlock((pthread_mutex_t *)&u->lock);
}

static void state_reset(struct kvmfs_uart_state *s)
{
	memset(s, 0, sizeof(*s));
	s->dll = 0x0c;	/* 9600 baud, as a PC BIOS leaves it */
}

/* The interrupt IIR reports, highest priority first. */
static uint8_t pending_id(const struct kvmfs_uart_state *s)
{
	if ((s->ier & KVMFS_UART_IER_RLSI) && (s->lsr_err & KVMFS_UART_LSR_OE))
		return KVMFS_UART_IIR_RLSI;
	if ((s->ier & KVMFS_UART_IER_RDI) && s->rx_len)
		return KVMFS_UART_IIR_RDI;
	if ((s->ier & KVMFS_UART_IER_THRI) && s->thre_pending)
		return KVMFS_UART_IIR_THRI;
	if ((s->ier & KVMFS_UART_IER_MSI) && s->msr_delta)
		return KVMFS_UART_IIR_MSI;
	return KVMFS_UART_IIR_NO_INT;
}

static bool state_level(const struct kvmfs_uart_state *s)
{
	return pending_id(s) != KVMFS_UART_IIR_NO_INT &&
	       (s->mcr & KVMFS_UART_MCR_OUT2);
}

/* After every change: tell set_irq when the level moved. */
static void update_irq(struct kvmfs_uart *u)
{
	bool level = state_level(&u->s);

	if (level == u->level)
		return;
	u->level = level;
	if (u->set_irq)
		u->set_irq(u->irq_ctx, u->irq, level);
}

static void rx_clear(struct kvmfs_uart_state *s)
{
	s->rx_head = 0;
	s->rx_len = 0;
}

static bool rx_push(struct kvmfs_uart_state *s, uint8_t b)
{
	if (s->rx_len == KVMFS_UART_RX_MAX)
		return false;
	s->rx[(s->rx_head + s->rx_len) % KVMFS_UART_RX_MAX] = b;
	s->rx_len++;
	return true;
}

static uint8_t rx_pop(struct kvmfs_uart_state *s)
{
	uint8_t b = s->rx[s->rx_head];

	s->rx_head = (s->rx_head + 1) % KVMFS_UART_RX_MAX;
	s->rx_len--;
	return b;
}

static void write_thr(struct kvmfs_uart *u, uint8_t b)
{
	struct kvmfs_uart_state *s = &u->s;

	if (s->mcr & KVMFS_UART_MCR_LOOP) {
		if (!rx_push(s, b)) {
			s->lsr_err |= KVMFS_UART_LSR_OE;
			u->st.overruns++;
		}
	} else {
		if (u->sink)
			u->sink(u->sink_ctx, &b, 1);
		u->st.tx++;
	}
	/* Empty again at once, so the THR-empty interrupt is armed again. */
	s->thre_pending = true;
}

static void write_ier(struct kvmfs_uart_state *s, uint8_t v)
{
	uint8_t changed = (s->ier ^ v) & KVMFS_UART_IER_MASK;

	s->ier = v & KVMFS_UART_IER_MASK;
	/* Enabling THRI with THR empty (always) raises it even after an IIR
	 * read took it away, as on real parts: Linux's THRE test and
	 * Windows depend on it.  Disabling it disarms it. */
	if (changed & KVMFS_UART_IER_THRI)
		s->thre_pending = s->ier & KVMFS_UART_IER_THRI;
}

static void write_fcr(struct kvmfs_uart_state *s, uint8_t v)
{
	/* Turning the FIFOs on or off empties them, as does bit 1; bit 2
	 * clears a transmit FIFO that never holds anything. */
	if (((s->fcr ^ v) & KVMFS_UART_FCR_FE) ||
	    (v & KVMFS_UART_FCR_CLEAR_RX))
		rx_clear(s);
	s->fcr = v & KVMFS_UART_FCR_KEPT;
}

static void write_mcr(struct kvmfs_uart_state *s, uint8_t v)
{
	uint8_t old = kvmfs_uart_msr_status(s->mcr), now;

	s->mcr = v & KVMFS_UART_MCR_MASK;
	now = kvmfs_uart_msr_status(s->mcr);
	/* Each delta bit sits 4 below its status bit: DCTS, DDSR and DDCD
	 * for any change, TERI for RI's trailing edge only. */
	s->msr_delta |= (((old ^ now) & 0xb0) | (old & ~now & 0x40)) >> 4;
}

static void reg_write(struct kvmfs_uart *u, unsigned reg, uint8_t v)
{
	struct kvmfs_uart_state *s = &u->s;
	bool dlab = s->lcr & KVMFS_UART_LCR_DLAB;

	switch (reg) {
	case KVMFS_UART_RBR:
		if (dlab)
			s->dll = v;
		else
			write_thr(u, v);
		break;
	case KVMFS_UART_IER:
		if (dlab)
			s->dlm = v;
		else
			write_ier(s, v);
		break;
	case KVMFS_UART_IIR:
		write_fcr(s, v);
		break;
	case KVMFS_UART_LCR:
		s->lcr = v;
		break;
	case KVMFS_UART_MCR:
		write_mcr(s, v);
		break;
	case KVMFS_UART_SCR:
		s->scr = v;
		break;
	default:
		/* LSR and MSR: factory test on real parts, ignored. */
		break;
	}
}

static uint8_t reg_read(struct kvmfs_uart *u, unsigned reg)
{
	struct kvmfs_uart_state *s = &u->s;
	bool dlab = s->lcr & KVMFS_UART_LCR_DLAB;
	uint8_t v;

	switch (reg) {
	case KVMFS_UART_RBR:
		if (dlab)
			return s->dll;
		if (!s->rx_len)
			return 0;
		u->st.rx++;
		return rx_pop(s);
	case KVMFS_UART_IER:
		return dlab ? s->dlm : s->ier;
	case KVMFS_UART_IIR:
		v = pending_id(s);
		/* Reading IIR is what acknowledges THR empty. */
		if (v == KVMFS_UART_IIR_THRI)
			s->thre_pending = false;
		if (s->fcr & KVMFS_UART_FCR_FE)
			v |= KVMFS_UART_IIR_FIFO;
		return v;
	case KVMFS_UART_LCR:
		return s->lcr;
	case KVMFS_UART_MCR:
		return s->mcr;
	case KVMFS_UART_LSR:
		v = kvmfs_uart_lsr(s);
		s->lsr_err = 0;
		return v;
	case KVMFS_UART_MSR:
		v = kvmfs_uart_msr(s);
		s->msr_delta = 0;
		return v;
	default:
		return s->scr;
	}
}

/* One access with the lock held. */
static void reg_access(struct kvmfs_uart *u, bool write, unsigned reg,
		       uint8_t *val)
{
	if (write)
		reg_write(u, reg, *val);
	else
		*val = reg_read(u, reg);
	update_irq(u);
}

int kvmfs_uart_init(struct kvmfs_uart *u,
		    void (*sink)(void *ctx, const void *data, size_t len),
		    void *sink_ctx,
		    void (*set_irq)(void *ctx, unsigned irq, bool level),
		    void *irq_ctx)
{
	int ret;

	memset(u, 0, sizeof(*u));
	ret = pthread_mutex_init(&u->lock, NULL);
	if (ret)
		return -ret;
	state_reset(&u->s);
	u->base = KVMFS_UART_COM1;
	u->irq = KVMFS_UART_COM1_IRQ;
	u->sink = sink;
	u->sink_ctx = sink_ctx;
	u->set_irq = set_irq;
	u->irq_ctx = irq_ctx;
	return 0;
}

void kvmfs_uart_free(struct kvmfs_uart *u)
{
	pthread_mutex_destroy(&u->lock);
}

void kvmfs_uart_reset(struct kvmfs_uart *u)
{
	lock(u);
	state_reset(&u->s);
	update_irq(u);
	unlock(u);
}

int kvmfs_uart_io(struct kvmfs_uart *u, bool write, unsigned reg,
		  uint8_t *val)
{
	if (reg >= KVMFS_UART_PORTS) {
		if (!write)
			*val = 0xff;
		return -EINVAL;
	}
	lock(u);
	reg_access(u, write, reg, val);
	unlock(u);
	return 0;
}

ssize_t kvmfs_uart_input(struct kvmfs_uart *u, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t n = 0;

	if (len == 0)
		return 0;
	lock(u);
	while (n < len && rx_push(&u->s, p[n]))
		n++;
	if (n == 0)
		u->st.refused += len;
	else
		update_irq(u);
	unlock(u);
	return n ? (ssize_t)n : -EAGAIN;
}

bool kvmfs_uart_level(const struct kvmfs_uart *u)
{
	bool level;

	lock(u);
	level = u->level;
	unlock(u);
	return level;
}

void kvmfs_uart_stats(const struct kvmfs_uart *u, struct kvmfs_uart_stats *out)
{
	lock(u);
	*out = u->st;
	out->queued = u->s.rx_len;
	unlock(u);
}

bool kvmfs_uart_bus_access(void *ctx, const struct kvmfs_bus_access *a)
{
	struct kvmfs_uart *u = ctx;
	uint64_t first;

	if (a->space != KVMFS_BUS_PIO || a->addr < u->base ||
	    a->addr - u->base >= KVMFS_UART_PORTS || !a->data)
		return false;
	first = a->addr - u->base;
	lock(u);
	for (size_t k = 0; k < a->count; k++) {
		for (size_t i = 0; i < a->size; i++) {
			uint8_t *p = &a->data[k * a->size + i];
			uint8_t v = a->write ? *p : 0;

			if (first + i >= KVMFS_UART_PORTS) {
				if (!a->write)
					*p = 0xff;
				continue;
			}
			reg_access(u, a->write, (unsigned)(first + i), &v);
			if (!a->write)
				*p = v;
		}
	}
	unlock(u);
	return true;
}

int kvmfs_uart_place(struct kvmfs_uart *u, uint16_t base, unsigned irq)
{
	if (base > 0x10000 - KVMFS_UART_PORTS)
		return -EINVAL;
	lock(u);
	u->base = base;
	u->irq = irq;
	unlock(u);
	return 0;
}

int kvmfs_uart_format(const struct kvmfs_uart *u, char *buf, size_t cap)
{
	int ret;

	lock(u);
	ret = kvmfs_uart_state_format(&u->s, buf, cap);
	unlock(u);
	return ret;
}

int kvmfs_uart_parse(struct kvmfs_uart *u, const char *text, size_t len,
		     char *err, size_t errlen)
{
	int ret;

	lock(u);
	ret = kvmfs_uart_state_parse(&u->s, text, len, err, errlen);
	if (!ret)
		update_irq(u);
	unlock(u);
	return ret;
}
