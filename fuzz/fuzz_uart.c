/* Fuzz target: the 16550A UART (devices/uart.h).  The input is a program,
 * each operation an opcode byte OP and its operands:
 *
 *   OP & 7 = 0  write register OP >> 3 & 7 with the next byte
 *            1  read register OP >> 3 & 7
 *            2  input: a length byte, then that many bytes
 *            3  flood: (next byte + 1) * 32 bytes of value OP, past the
 *               bound of the queue
 *            4  round trip: format, parse into a fresh UART and back
 *               into this one
 *            5  state write: length (OP >> 3) << 8 | next byte, then that
 *               many bytes of text for kvmfs_uart_parse
 *            6  port access through the bus handler: a shape byte (size
 *               1 << (b & 3), count (b >> 2 & 7) + 1, write b & 0x20) and
 *               a port byte (base - 1 + b % 10), then a write's data
 *            7  reset
 *
 * Floods, round trips and state writes cost up to a few 8 KiB texts
 * each: after HEAVY_MAX of them in one input, further ones are skipped
 * (their operands still consumed), so that long inputs stay fast.
 *
 * After each operation: the queue is within its bound, set_irq has only
 * been called on a change of level and the line is what a second,
 * plain reading of the state says, the tx count and the queue length
 * agree with what the callbacks saw, and register reads give what the state before them
 * promised.  A refused state write leaves the text of the state as it
 * was, with a printable reason; what format prints always parses back
 * to the same text. */
#include <errno.h>
#include <string.h>

#include "devices/uart.h"
#include "fuzz.h"
#include "lib/text.h"

#define HEAVY_MAX 16

struct seen {
	uint64_t tx;		/* bytes the sink got */
	unsigned calls;		/* set_irq calls */
	bool level;
	const struct kvmfs_uart *u;
};

static void sink(void *ctx, const void *data, size_t len)
{
	struct seen *s = ctx;

	fuzz_require(data && len == 1);
	s->tx += len;
}

static void set_irq(void *ctx, unsigned irq, bool level)
{
	struct seen *s = ctx;

	fuzz_require(level != s->level);
	fuzz_require(irq == s->u->irq);
	s->level = level;
	s->calls++;
}

/* The interrupt IIR should report, spelled out from the data sheet. */
static unsigned ref_id(const struct kvmfs_uart_state *s)
{
	if ((s->ier & 0x04) && (s->lsr_err & 0x02))
		return 0x06;
	if ((s->ier & 0x01) && s->rx_len > 0)
		return 0x04;
	if ((s->ier & 0x02) && s->thre_pending)
		return 0x02;
	if ((s->ier & 0x08) && (s->msr_delta & 0x0f))
		return 0x00;
	return 0x01;
}

static bool ref_level(const struct kvmfs_uart_state *s)
{
	return ref_id(s) != 0x01 && (s->mcr & 0x08);
}

static void check(struct kvmfs_uart *u, const struct seen *seen)
{
	const struct kvmfs_uart_state *s = &u->s;
	struct kvmfs_uart_stats st;

	fuzz_require(s->rx_len <= KVMFS_UART_RX_MAX);
	fuzz_require(s->rx_head < KVMFS_UART_RX_MAX);
	fuzz_require((s->ier & ~0x0f) == 0 && (s->mcr & ~0x1f) == 0);
	fuzz_require((s->fcr & ~0xc9) == 0 && (s->lsr_err & ~0x02) == 0);
	fuzz_require((s->msr_delta & ~0x0f) == 0);
	fuzz_require(ref_level(s) == seen->level);
	fuzz_require(kvmfs_uart_level(u) == seen->level);
	kvmfs_uart_stats(u, &st);
	fuzz_require(st.tx == seen->tx);
	fuzz_require(st.queued == s->rx_len);
}

/* Format, which must fit, as printable lines; returns the length. */
static size_t format(struct kvmfs_uart *u, char *buf)
{
	static char printable[97];
	int n = kvmfs_uart_format(u, buf, KVMFS_UART_TEXT_MAX);

	fuzz_require(n > 0 && n < KVMFS_UART_TEXT_MAX);
	if (!printable[0]) {
		for (int c = 0x20; c < 0x7f; c++)
			printable[c - 0x20] = (char)c;
		printable[0x7f - 0x20] = '\n';
	}
	fuzz_require(strlen(buf) == (size_t)n && buf[n - 1] == '\n');
	/* strspn, not a loop here: the loop's comparisons, traced for
	 * libFuzzer, were a third of the time of a run. */
	fuzz_require(strspn(buf, printable) == (size_t)n);
	return (size_t)n;
}

/* Static, not per input: ASan's quarantine would give every input fresh
 * pages, and page faults were most of the time of a run. */
struct bufs {
	char t1[KVMFS_UART_TEXT_MAX], t2[KVMFS_UART_TEXT_MAX];
	char err[KVMFS_REASON_LEN];
	char reset[KVMFS_UART_TEXT_MAX];	/* the text of a reset UART */
	struct kvmfs_uart v;			/* round_trip's */
};

/* The text of U parses back, into a fresh UART and into U itself, to the
 * very same text, and parsing U's own state into it moves no line. */
static void round_trip(struct kvmfs_uart *u, struct seen *seen,
		       struct bufs *b)
{
	struct kvmfs_uart *v = &b->v;
	struct seen vs = {.u = v};
	size_t n1 = format(u, b->t1);
	unsigned calls = seen->calls;
	int ret;

	fuzz_require(kvmfs_uart_init(v, sink, &vs, set_irq, &vs) == 0);
	ret = kvmfs_uart_parse(v, b->t1, n1, b->err, sizeof(b->err));
	if (ret)
		fprintf(stderr, "re-parse refused: %s\n", b->err);
	fuzz_require(ret == 0);
	fuzz_require(format(v, b->t2) == n1);
	fuzz_require(memcmp(b->t1, b->t2, n1) == 0);
	fuzz_require(vs.level == ref_level(&v->s));
	kvmfs_uart_free(v);

	fuzz_require(kvmfs_uart_parse(u, b->t1, n1, b->err,
				      sizeof(b->err)) == 0);
	fuzz_require(format(u, b->t2) == n1);
	fuzz_require(memcmp(b->t1, b->t2, n1) == 0);
	fuzz_require(seen->calls == calls);
}

static void state_write(struct kvmfs_uart *u, struct seen *seen,
			struct bufs *b, const uint8_t *text, size_t len)
{
	size_t n1 = format(u, b->t1);
	unsigned calls = seen->calls;
	int ret;

	memset(b->err, 'X', sizeof(b->err));
	ret = kvmfs_uart_parse(u, (const char *)text, len, b->err,
			       sizeof(b->err));
	fuzz_require(ret == 0 || ret == -EINVAL);
	if (ret) {
		fuzz_require_reason(b->err, sizeof(b->err), 1);
		fuzz_require(format(u, b->t2) == n1);
		fuzz_require(memcmp(b->t1, b->t2, n1) == 0);
		fuzz_require(seen->calls == calls);
		return;
	}
	fuzz_require(b->err[0] == '\0');
	round_trip(u, seen, b);
}

static void reg_read(struct kvmfs_uart *u, unsigned reg)
{
	struct kvmfs_uart_state *s = &u->s;
	bool dlab = s->lcr & 0x80;
	unsigned id = ref_id(s), lsr_err = s->lsr_err, len = s->rx_len;
	uint8_t front = s->rx[s->rx_head], v = 0x5a;

	fuzz_require(kvmfs_uart_io(u, false, reg, &v) == 0);
	switch (reg) {
	case 0:
		if (dlab) {
			fuzz_require(v == s->dll);
		} else if (len) {
			fuzz_require(v == front && s->rx_len == len - 1);
		} else {
			fuzz_require(v == 0 && s->rx_len == 0);
		}
		break;
	case 2:
		fuzz_require((v & 0x0f) == id);
		fuzz_require((v & 0xf0) == ((s->fcr & 1) ? 0xc0 : 0));
		if (id == 0x02)
			fuzz_require(!s->thre_pending);
		break;
	case 5:
		fuzz_require((v & 0x60) == 0x60 && (v & 0x9c) == 0);
		fuzz_require(!(v & 0x01) == !len);
		fuzz_require((v & 0x02) == lsr_err);
		fuzz_require(s->lsr_err == 0);
		break;
	case 6:
		fuzz_require((v & 0xf0) == kvmfs_uart_msr_status(s->mcr));
		fuzz_require(s->msr_delta == 0);
		break;
	default:
		break;
	}
}

static void input(struct kvmfs_uart *u, const uint8_t *p, size_t n)
{
	size_t len = u->s.rx_len, room = KVMFS_UART_RX_MAX - len;
	size_t want = n < room ? n : room;
	ssize_t ret = kvmfs_uart_input(u, p, n);

	if (n == 0)
		fuzz_require(ret == 0);
	else if (room == 0)
		fuzz_require(ret == -EAGAIN);
	else
		fuzz_require(ret >= 0 && (size_t)ret == want);
	fuzz_require(u->s.rx_len == len + (ret > 0 ? (size_t)ret : 0));
	for (size_t i = 0; ret > 0 && i < (size_t)ret; i++)
		fuzz_require(u->s.rx[(u->s.rx_head + len + i) %
				     KVMFS_UART_RX_MAX] == p[i]);
}

/* One access through the bus handler, on a buffer of exactly its size. */
static size_t port_access(struct kvmfs_uart *u, const uint8_t *data,
			  size_t size)
{
	struct kvmfs_bus_access a = {.space = KVMFS_BUS_PIO};
	size_t used = 2, bytes;
	uint64_t first;
	bool taken;

	if (size < 2)
		return size;
	a.size = 1u << (data[0] & 3);
	a.count = ((data[0] >> 2) & 7) + 1;
	a.write = data[0] & 0x20;
	a.addr = (uint64_t)u->base - 1 + data[1] % 10;
	bytes = (size_t)a.size * a.count;
	a.data = malloc(bytes);
	fuzz_require(a.data);
	memset(a.data, 0xa5, bytes);
	if (a.write) {
		size_t n = size - used < bytes ? size - used : bytes;

		memcpy(a.data, data + used, n);
		used += n;
	}
	taken = kvmfs_uart_bus_access(u, &a);
	fuzz_require(taken == (a.addr >= u->base && a.addr < u->base + 8u));
	first = a.addr - u->base;
	for (size_t k = 0; taken && !a.write && k < a.count; k++)
		for (size_t i = 0; i < a.size; i++)
			if (first + i >= 8)
				fuzz_require(a.data[k * a.size + i] == 0xff);
	free(a.data);
	return used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kvmfs_uart u;
	static struct bufs b;
	struct seen seen = {.u = &u};
	unsigned heavy = 0;
	size_t i = 0;

	fuzz_require(kvmfs_uart_init(&u, sink, &seen, set_irq, &seen) == 0);
	if (!b.reset[0])
		format(&u, b.reset);

	while (i < size) {
		uint8_t op = data[i++];
		unsigned reg = (op >> 3) & 7;
		size_t n;

		switch (op & 7) {
		case 0:
			if (i < size) {
				uint8_t v = data[i++];

				fuzz_require(kvmfs_uart_io(&u, true, reg,
							   &v) == 0);
			}
			break;
		case 1:
			reg_read(&u, reg);
			break;
		case 2:
			n = i < size ? data[i++] : 0;
			n = n < size - i ? n : size - i;
			input(&u, data + i, n);
			i += n;
			break;
		case 3: {
			static uint8_t flood[256 * 32];

			n = (i < size ? data[i++] : 0) + 1u;
			if (heavy++ >= HEAVY_MAX)
				break;
			memset(flood, op, n * 32);
			input(&u, flood, n * 32);
			break;
		}
		case 4:
			if (heavy++ < HEAVY_MAX)
				round_trip(&u, &seen, &b);
			break;
		case 5:
			n = ((size_t)(op >> 3) << 8) |
			    (i < size ? data[i++] : 0);
			n = n < size - i ? n : size - i;
			if (heavy++ < HEAVY_MAX)
				state_write(&u, &seen, &b, data + i, n);
			i += n;
			break;
		case 6:
			i += port_access(&u, data + i, size - i);
			break;
		default:
			kvmfs_uart_reset(&u);
			format(&u, b.t1);
			fuzz_require(strcmp(b.t1, b.reset) == 0);
			break;
		}
		check(&u, &seen);
	}
	round_trip(&u, &seen, &b);

	kvmfs_uart_free(&u);
	return 0;
}
