/* The text of a UART's state (uart.h), for snapshots: one table of
 * names drives both the printer and the parser, so what format prints is
 * by construction what parse accepts.  Values are the registers as the
 * guest reads them (LSR and MSR whole, their derived bits checked against
 * the rest on the way in) and the queue as hex.  Pure: no lock here, the
 * callers in uart.c hold it. */
#include "devices/uart.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "lib/text.h"

enum field_kind {
	FIELD_REG,	/* a register kept as is, MASK its valid bits */
	FIELD_LSR,	/* the whole LSR, checked against the queue */
	FIELD_MSR,	/* the whole MSR, checked against mcr */
	FIELD_FLAG,	/* thre_pending, 0 or 1 */
	FIELD_RX,	/* the queue as hex, "-" when empty */
};

struct field {
	const char *name;
	enum field_kind kind;
	size_t offset;	/* of a FIELD_REG in struct kvmfs_uart_state */
	uint8_t mask;
};

#define REG(n, m) {#n, FIELD_REG, offsetof(struct kvmfs_uart_state, n), m}

static const struct field fields[] = {
	REG(ier, KVMFS_UART_IER_MASK),
	REG(lcr, 0xff),
	REG(mcr, KVMFS_UART_MCR_MASK),
	REG(scr, 0xff),
	REG(dll, 0xff),
	REG(dlm, 0xff),
	REG(fcr, KVMFS_UART_FCR_KEPT),
	{"lsr", FIELD_LSR, 0,
	 KVMFS_UART_LSR_FIXED | KVMFS_UART_LSR_OE | KVMFS_UART_LSR_DR},
	{"msr", FIELD_MSR, 0, 0xff},
	{"thre_pending", FIELD_FLAG, 0, 1},
	{"rx", FIELD_RX, 0, 0},
};

#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

static uint8_t *reg_ptr(struct kvmfs_uart_state *s, const struct field *f)
{
	return (uint8_t *)s + f->offset;
}

/* The queue as hex ("-" when empty) into OUT, which has room for it. */
static size_t format_rx(const struct kvmfs_uart_state *s, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	if (!s->rx_len) {
		out[n++] = '-';
		return n;
	}
	for (size_t i = 0; i < s->rx_len; i++) {
		uint8_t b = s->rx[(s->rx_head + i) % KVMFS_UART_RX_MAX];

		out[n++] = hex[b >> 4];
		out[n++] = hex[b & 15];
	}
	return n;
}

/* The value of a field other than rx, as text into OUT. */
static void format_value(const struct kvmfs_uart_state *s,
			 const struct field *f, char out[8])
{
	uint8_t v;

	switch (f->kind) {
	case FIELD_FLAG:
		snprintf(out, 8, "%u", s->thre_pending);
		return;
	case FIELD_LSR:
		v = kvmfs_uart_lsr(s);
		break;
	case FIELD_MSR:
		v = kvmfs_uart_msr(s);
		break;
	default:
		v = *reg_ptr((struct kvmfs_uart_state *)s, f);
		break;
	}
	snprintf(out, 8, "0x%02x", v);
}

int kvmfs_uart_state_format(const struct kvmfs_uart_state *s, char *buf,
			    size_t cap)
{
	size_t pos = 0;

	if (cap == 0)
		return -ENOSPC;
	buf[0] = '\0';
	for (size_t i = 0; i < N_FIELDS; i++) {
		const struct field *f = &fields[i];
		size_t name = strlen(f->name), vlen;
		char value[8];

		if (f->kind == FIELD_RX) {
			vlen = s->rx_len ? 2 * (size_t)s->rx_len : 1;
		} else {
			format_value(s, f, value);
			vlen = strlen(value);
		}
		/* name, space, value, newline and the NUL */
		if (name + vlen + 3 > cap - pos) {
			buf[pos] = '\0';
			return -ENOSPC;
		}
		memcpy(buf + pos, f->name, name);
		pos += name;
		buf[pos++] = ' ';
		if (f->kind == FIELD_RX) {
			pos += format_rx(s, buf + pos);
		} else {
			memcpy(buf + pos, value, vlen);
			pos += vlen;
		}
		buf[pos++] = '\n';
		buf[pos] = '\0';
	}
	return (int)pos;
}

/* What a parse collects besides the copy: which names it saw, and the
 * derived bits lsr and msr gave, checked once every line is in. */
struct parse {
	struct kvmfs_uart_state copy;
	bool seen[N_FIELDS];
	unsigned lsr_line, msr_line;
	uint8_t lsr, msr;
	char *err;
	size_t errlen;
};

static int G_GNUC_PRINTF(2, 3) fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err && p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int parse_rx(struct parse *p, unsigned lineno,
		    const struct kvmfs_word *w)
{
	struct kvmfs_uart_state *s = &p->copy;
	char q[KVMFS_QUOTE_BUF];

	s->rx_head = 0;
	s->rx_len = 0;
	if (w->len == 1 && w->s[0] == '-')
		return 0;
	kvmfs_quote(w->s, w->len, q);
	if (w->len % 2)
		return fail(p, "line %u: rx '%s': an odd number of hex digits",
			    lineno, q);
	if (w->len / 2 > KVMFS_UART_RX_MAX)
		return fail(p, "line %u: rx holds %zu bytes, more than %u",
			    lineno, w->len / 2, KVMFS_UART_RX_MAX);
	for (size_t i = 0; i < w->len; i += 2) {
		int hi = g_ascii_xdigit_value(w->s[i]);
		int lo = g_ascii_xdigit_value(w->s[i + 1]);

		if (hi < 0 || lo < 0)
			return fail(p, "line %u: rx '%s': not hex bytes "
				    "(or '-' for none)", lineno, q);
		s->rx[s->rx_len++] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int parse_number(struct parse *p, unsigned lineno,
			const struct field *f, const struct kvmfs_word *w)
{
	struct kvmfs_uart_state *s = &p->copy;
	char q[KVMFS_QUOTE_BUF];
	uint64_t v;
	int ret;

	ret = kvmfs_parse_u64(w->s, w->len, &v);
	kvmfs_quote(w->s, w->len, q);
	if (ret)
		return fail(p, "line %u: bad number '%s' for %s", lineno, q,
			    f->name);
	if (v > 0xff || (v & ~(uint64_t)f->mask))
		return fail(p, "line %u: %s 0x%llx: only bits 0x%02x may be "
			    "set", lineno, f->name, (unsigned long long)v,
			    f->mask);
	switch (f->kind) {
	case FIELD_FLAG:
		s->thre_pending = v;
		break;
	case FIELD_LSR:
		if ((v & KVMFS_UART_LSR_FIXED) != KVMFS_UART_LSR_FIXED)
			return fail(p, "line %u: lsr 0x%02x: THRE and TEMT "
				    "(0x%02x) are always set", lineno,
				    (unsigned)v, KVMFS_UART_LSR_FIXED);
		s->lsr_err = v & KVMFS_UART_LSR_OE;
		p->lsr = v;
		p->lsr_line = lineno;
		break;
	case FIELD_MSR:
		s->msr_delta = v & ~KVMFS_UART_MSR_STATUS;
		p->msr = v;
		p->msr_line = lineno;
		break;
	default:
		*reg_ptr(s, f) = v;
		break;
	}
	return 0;
}

/* One line into the copy: 0, 1 for a blank line, or -EINVAL. */
static int parse_line(struct parse *p, const char *line, size_t len,
		      unsigned lineno)
{
	struct kvmfs_word w[2];
	char q[KVMFS_QUOTE_BUF];
	size_t i;
	int nw;

	nw = kvmfs_split_words(line, len, w, 2);
	if (nw == -E2BIG)
		return fail(p, "line %u: expected 'name value', got more "
			    "than two words", lineno);
	if (nw < 0)
		return fail(p, "line %u: a control byte", lineno);
	if (nw == 0)
		return 1;
	for (i = 0; i < N_FIELDS; i++)
		if (kvmfs_word_is(&w[0], fields[i].name))
			break;
	kvmfs_quote(w[0].s, w[0].len, q);
	if (i == N_FIELDS)
		return fail(p, "line %u: unknown name '%s'", lineno, q);
	if (p->seen[i])
		return fail(p, "line %u: duplicate '%s'", lineno, q);
	if (nw == 1)
		return fail(p, "line %u: missing value for %s", lineno,
			    fields[i].name);
	p->seen[i] = true;
	if (fields[i].kind == FIELD_RX)
		return parse_rx(p, lineno, &w[1]);
	return parse_number(p, lineno, &fields[i], &w[1]);
}

/* What no single line can check: the derived bits against the state the
 * whole write leaves. */
static int parse_check(struct parse *p)
{
	const struct kvmfs_uart_state *s = &p->copy;
	uint8_t want;

	if (p->lsr_line && !(p->lsr & KVMFS_UART_LSR_DR) != !s->rx_len)
		return fail(p, "line %u: lsr 0x%02x: DR must be %s, rx holds "
			    "%u bytes", p->lsr_line, p->lsr,
			    s->rx_len ? "set" : "clear", s->rx_len);
	want = kvmfs_uart_msr_status(s->mcr);
	if (p->msr_line && (p->msr & KVMFS_UART_MSR_STATUS) != want)
		return fail(p, "line %u: msr 0x%02x: with mcr 0x%02x the top "
			    "bits are 0x%02x", p->msr_line, p->msr, s->mcr,
			    want);
	return 0;
}

int kvmfs_uart_state_parse(struct kvmfs_uart_state *s, const char *text,
			   size_t len, char *err, size_t errlen)
{
	struct parse p = {.err = err, .errlen = errlen};
	struct kvmfs_cursor c;
	const char *line;
	size_t line_len;
	unsigned lineno = 0, assigned = 0;
	int ret = 0;

	if (err && errlen)
		err[0] = '\0';
	p.copy = *s;
	kvmfs_cursor_init(&c, text, len);
	while (!ret && kvmfs_next_line(&c, &line, &line_len)) {
		ret = parse_line(&p, line, line_len, ++lineno);
		if (ret == 0)
			assigned++;
		if (ret > 0)
			ret = 0;
	}
	if (!ret && !assigned)
		ret = fail(&p, "no 'name value' lines in write");
	if (!ret)
		ret = parse_check(&p);
	if (!ret)
		*s = p.copy;
	return ret;
}
