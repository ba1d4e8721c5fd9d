/* The regs and sregs file formats: the field tables for struct kvm_regs and
 * struct kvm_sregs, and the one printer, parser and read-back check that
 * every table shares.  The parser is the server's first line of defence
 * against arbitrary bytes written by any client, so it validates a whole
 * write into a private copy before touching the caller's struct, and every
 * reason it gives is one bounded, printable line. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "formats/regfmt.h"
#include "lib/text.h"

#define FIELD_SIZE(type, member) sizeof(((type *)0)->member)

#define FIELD(type, member, fname, nbits, fstyle)                          \
	{                                                                  \
		.name = (fname), .offset = offsetof(type, member),         \
		.size = FIELD_SIZE(type, member), .bits = (nbits),         \
		.style = (fstyle),                                         \
	}

#define REG(r) FIELD(struct kvm_regs, r, #r, 64, KVMFS_HEX)

static const struct kvmfs_field regs_fields[] = {
	REG(rax), REG(rbx), REG(rcx), REG(rdx),
	REG(rsi), REG(rdi), REG(rsp), REG(rbp),
	REG(r8),  REG(r9),  REG(r10), REG(r11),
	REG(r12), REG(r13), REG(r14), REG(r15),
	REG(rip), REG(rflags),
};

#define SREG(member, nbits, fstyle) \
	FIELD(struct kvm_sregs, member, #member, nbits, fstyle)

/* The twelve visible parts of a segment cache, in struct order. */
#define SEGMENT(seg)                            \
	SREG(seg.base, 64, KVMFS_HEX),          \
	SREG(seg.limit, 32, KVMFS_HEX),         \
	SREG(seg.selector, 16, KVMFS_HEX),      \
	SREG(seg.type, 4, KVMFS_DEC),           \
	SREG(seg.present, 1, KVMFS_DEC),        \
	SREG(seg.dpl, 2, KVMFS_DEC),            \
	SREG(seg.db, 1, KVMFS_DEC),             \
	SREG(seg.s, 1, KVMFS_DEC),              \
	SREG(seg.l, 1, KVMFS_DEC),              \
	SREG(seg.g, 1, KVMFS_DEC),              \
	SREG(seg.avl, 1, KVMFS_DEC),            \
	SREG(seg.unusable, 1, KVMFS_DEC)

#define DTABLE(dt)                              \
	SREG(dt.base, 64, KVMFS_HEX),           \
	SREG(dt.limit, 16, KVMFS_HEX)

/* #member cannot spell "interrupt_bitmap.0" from interrupt_bitmap[0]. */
#define IRQ_WORD(i)                                                       \
	FIELD(struct kvm_sregs, interrupt_bitmap[i],                      \
	      "interrupt_bitmap." #i, 64, KVMFS_HEX)

static const struct kvmfs_field sregs_fields[] = {
	SEGMENT(cs), SEGMENT(ds), SEGMENT(es), SEGMENT(fs),
	SEGMENT(gs), SEGMENT(ss), SEGMENT(tr), SEGMENT(ldt),
	DTABLE(gdt), DTABLE(idt),
	SREG(cr0, 64, KVMFS_HEX),
	SREG(cr2, 64, KVMFS_HEX),
	SREG(cr3, 64, KVMFS_HEX),
	SREG(cr4, 64, KVMFS_HEX),
	SREG(cr8, 64, KVMFS_HEX),
	SREG(efer, 64, KVMFS_HEX),
	SREG(apic_base, 64, KVMFS_HEX),
	IRQ_WORD(0), IRQ_WORD(1), IRQ_WORD(2), IRQ_WORD(3),
};

/* If the kernel headers ever grow the bitmap, the table must grow too. */
_Static_assert(FIELD_SIZE(struct kvm_sregs, interrupt_bitmap) ==
		       4 * sizeof(__u64),
	       "interrupt_bitmap is no longer four words");

const struct kvmfs_table kvmfs_regs_table = {
	.fields = regs_fields,
	.n = G_N_ELEMENTS(regs_fields),
};

const struct kvmfs_table kvmfs_sregs_table = {
	.fields = sregs_fields,
	.n = G_N_ELEMENTS(sregs_fields),
};

uint64_t kvmfs_field_get(const struct kvmfs_field *f, const void *obj)
{
	const unsigned char *p = (const unsigned char *)obj + f->offset;
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;

	/* memcpy: fields of packed or oddly aligned structs stay legal. */
	switch (f->size) {
	case 1:
		memcpy(&v8, p, 1);
		return v8;
	case 2:
		memcpy(&v16, p, 2);
		return v16;
	case 4:
		memcpy(&v32, p, 4);
		return v32;
	case 8:
		memcpy(&v64, p, 8);
		return v64;
	default:
		return 0;
	}
}

void kvmfs_field_set(const struct kvmfs_field *f, void *obj, uint64_t v)
{
	unsigned char *p = (unsigned char *)obj + f->offset;
	uint8_t v8 = (uint8_t)v;
	uint16_t v16 = (uint16_t)v;
	uint32_t v32 = (uint32_t)v;

	switch (f->size) {
	case 1:
		memcpy(p, &v8, 1);
		break;
	case 2:
		memcpy(p, &v16, 2);
		break;
	case 4:
		memcpy(p, &v32, 4);
		break;
	case 8:
		memcpy(p, &v, 8);
		break;
	default:
		break;
	}
}

static int format_value(const struct kvmfs_field *f, uint64_t v, char *buf,
			size_t cap)
{
	if (f->style == KVMFS_HEX)
		return snprintf(buf, cap, "0x%0*llx", (int)(f->size * 2),
				(unsigned long long)v);
	return snprintf(buf, cap, "%llu", (unsigned long long)v);
}

/* Append one "name value\n" line by hand: regs is read often (watch,
 * tracers) and 18 snprintf calls were most of the cost of a read. */
static size_t format_line(const struct kvmfs_field *f, uint64_t v, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t len = strlen(f->name), pos = len;

	memcpy(out, f->name, len);
	out[pos++] = ' ';
	if (f->style == KVMFS_HEX) {
		unsigned digits = f->size * 2;

		out[pos++] = '0';
		out[pos++] = 'x';
		for (unsigned i = digits; i-- > 0;)
			out[pos++] = hex[(v >> (4 * i)) & 0xf];
	} else {
		char tmp[20];
		unsigned n = 0;

		do {
			tmp[n++] = (char)('0' + v % 10);
			v /= 10;
		} while (v);
		while (n)
			out[pos++] = tmp[--n];
	}
	out[pos++] = '\n';
	return pos;
}

int kvmfs_table_format(const struct kvmfs_table *t, const void *obj,
		       char *buf, size_t cap)
{
	size_t pos = 0;
	size_t i;

	if (cap == 0)
		return -ENOSPC;
	buf[0] = '\0';
	for (i = 0; i < t->n; i++) {
		const struct kvmfs_field *f = &t->fields[i];
		/* name, space, "0x", 16 digits or 20 decimal, newline */
		char line[96];
		size_t n;

		if (strlen(f->name) > sizeof(line) - 26)
			return -ENOSPC;
		n = format_line(f, kvmfs_field_get(f, obj), line);
		if (n >= cap - pos) {
			buf[pos] = '\0';
			return -ENOSPC;
		}
		memcpy(buf + pos, line, n);
		pos += n;
		buf[pos] = '\0';
	}
	if (pos > INT_MAX)
		return -ENOSPC;
	return (int)pos;
}

static void G_GNUC_PRINTF(3, 4)
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const struct kvmfs_field *find_field(const struct kvmfs_table *t,
					    const struct kvmfs_word *w,
					    size_t *index)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (kvmfs_word_is(w, t->fields[i].name)) {
			*index = i;
			return &t->fields[i];
		}
	}
	return NULL;
}

/* A name the table does not have: say what was probably meant. */
static int unknown_name(const struct kvmfs_table *t, const struct kvmfs_word *w,
			unsigned lineno, const char *q, char *err,
			size_t errlen)
{
	const struct kvmfs_table *other =
		t == &kvmfs_regs_table ? &kvmfs_sregs_table :
		t == &kvmfs_sregs_table ? &kvmfs_regs_table : NULL;
	const struct kvmfs_field *f;
	size_t idx;

	if (memchr(w[0].s, '=', w[0].len)) {
		set_err(err, errlen,
			"line %u: '%s': write 'NAME VALUE', with a space (e.g. 'rip 0x1000')",
			lineno, q);
		return -EINVAL;
	}
	f = other ? find_field(other, &w[0], &idx) : NULL;
	if (f) {
		const char *file = other == &kvmfs_regs_table ? "regs" : "sregs";

		set_err(err, errlen, "line %u: %s is in %s (echo '%s VALUE' > %s)",
			lineno, f->name, file, f->name, file);
		return -EINVAL;
	}
	set_err(err, errlen, "line %u: unknown register '%s'", lineno, q);
	return -EINVAL;
}

/* Bytes of obj that the table covers: the copy the parser works on. */
static size_t table_span(const struct kvmfs_table *t)
{
	size_t span = 0;
	size_t i;

	for (i = 0; i < t->n; i++) {
		size_t end = t->fields[i].offset + t->fields[i].size;

		if (end > span)
			span = end;
	}
	return span;
}

static int first_control_byte(const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char u = (unsigned char)line[i];

		if ((u < 0x20 && u != '\t') || u == 0x7f)
			return u;
	}
	return -1;
}

/* Check one non-blank line and store its value into copy.  Returns 0,
 * 1 for a blank line, or -EINVAL with the reason in err. */
static int parse_line(const struct kvmfs_table *t, const char *line,
		      size_t len, unsigned lineno, void *copy,
		      unsigned char *mark, char *err, size_t errlen)
{
	struct kvmfs_word w[2];
	const struct kvmfs_field *f;
	char q[KVMFS_QUOTE_BUF];
	size_t idx = 0;
	uint64_t v;
	int nw;
	int ret;

	nw = kvmfs_split_words(line, len, w, 2);
	if (nw == -EINVAL) {
		set_err(err, errlen, "line %u: control byte 0x%02x", lineno,
			first_control_byte(line, len));
		return -EINVAL;
	}
	if (nw == -E2BIG) {
		set_err(err, errlen,
			"line %u: expected 'name value', got more than two words",
			lineno);
		return -EINVAL;
	}
	if (nw < 0) {
		set_err(err, errlen, "line %u: cannot split line", lineno);
		return -EINVAL;
	}
	if (nw == 0)
		return 1;

	f = find_field(t, &w[0], &idx);
	kvmfs_quote(w[0].s, w[0].len, q);
	if (!f)
		return unknown_name(t, w, lineno, q, err, errlen);
	if (mark[idx]) {
		set_err(err, errlen, "line %u: duplicate '%s'", lineno, q);
		return -EINVAL;
	}
	if (nw == 1) {
		set_err(err, errlen, "line %u: missing value for %s", lineno,
			f->name);
		return -EINVAL;
	}

	ret = kvmfs_parse_u64(w[1].s, w[1].len, &v);
	kvmfs_quote(w[1].s, w[1].len, q);
	if (ret == -ERANGE) {
		set_err(err, errlen,
			"line %u: value '%s' out of range for %s (%u bits)",
			lineno, q, f->name, f->bits);
		return -EINVAL;
	}
	if (ret) {
		set_err(err, errlen, "line %u: bad number '%s' for %s", lineno,
			q, f->name);
		return -EINVAL;
	}
	if (f->bits < 64 && (v >> f->bits) != 0) {
		set_err(err, errlen,
			"line %u: value 0x%llx too wide for %s (%u bit%s)",
			lineno, (unsigned long long)v, f->name, f->bits,
			f->bits == 1 ? "" : "s");
		return -EINVAL;
	}

	kvmfs_field_set(f, copy, v);
	mark[idx] = 1;
	return 0;
}

int kvmfs_table_parse(const struct kvmfs_table *t, const char *text,
		      size_t len, void *obj, unsigned char *seen, char *err,
		      size_t errlen)
{
	size_t span = table_span(t);
	g_autofree unsigned char *copy = g_malloc(span ? span : 1);
	g_autofree unsigned char *mark = g_malloc0(t->n ? t->n : 1);
	struct kvmfs_cursor c;
	const char *line;
	size_t line_len;
	unsigned lineno = 0;
	size_t assigned = 0;

	if (err && errlen)
		err[0] = '\0';
	memcpy(copy, obj, span);

	kvmfs_cursor_init(&c, text, len);
	while (kvmfs_next_line(&c, &line, &line_len)) {
		int ret;

		lineno++;
		ret = parse_line(t, line, line_len, lineno, copy, mark, err,
				 errlen);
		if (ret < 0)
			return ret;
		if (ret == 0)
			assigned++;
	}
	if (assigned == 0) {
		set_err(err, errlen, "no 'name value' lines in write");
		return -EINVAL;
	}

	memcpy(obj, copy, span);
	if (seen)
		memcpy(seen, mark, t->n);
	return 0;
}

int kvmfs_table_compare(const struct kvmfs_table *t, const void *want,
			const void *got, const unsigned char *seen, char *err,
			size_t errlen)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct kvmfs_field *f = &t->fields[i];
		uint64_t w, g;
		char ws[32], gs[32];

		if (seen && !seen[i])
			continue;
		w = kvmfs_field_get(f, want);
		g = kvmfs_field_get(f, got);
		if (w == g)
			continue;
		format_value(f, w, ws, sizeof(ws));
		format_value(f, g, gs, sizeof(gs));
		set_err(err, errlen,
			"KVM dropped %s: wrote %s, reads back %s", f->name, ws,
			gs);
		return -EOPNOTSUPP;
	}
	return 0;
}
