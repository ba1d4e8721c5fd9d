/* The lexical layer under every kvmfs text file: unsigned numbers, memory
 * sizes, VM names and the split of a write into lines and words.  Input
 * arrives from write(2) as a byte span that is not NUL-terminated and may
 * hold any byte, so nothing here uses strtoull() or other helpers that
 * would read past the span or quietly accept signs and whitespace. */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "lib/text.h"

static int digit_value(char ch, unsigned base)
{
	int v;

	if (ch >= '0' && ch <= '9')
		v = ch - '0';
	else if (ch >= 'a' && ch <= 'f')
		v = ch - 'a' + 10;
	else if (ch >= 'A' && ch <= 'F')
		v = ch - 'A' + 10;
	else
		return -1;
	return (unsigned)v < base ? v : -1;
}

int kvmfs_parse_u64(const char *s, size_t len, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;
	bool overflow = false;
	size_t i;

	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		len -= 2;
	}
	if (len == 0)
		return -EINVAL;

	/* Keep scanning after an overflow so that junk still wins:
	 * "99999999999999999999z" is malformed, not merely too big. */
	for (i = 0; i < len; i++) {
		int d = digit_value(s[i], base);

		if (d < 0)
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			overflow = true;
		v = v * base + (uint64_t)d;
	}
	if (overflow)
		return -ERANGE;
	*out = v;
	return 0;
}

static int size_shift(char suffix)
{
	switch (suffix) {
	case 'k': case 'K': return 10;
	case 'm': case 'M': return 20;
	case 'g': case 'G': return 30;
	case 't': case 'T': return 40;
	default: return -1;
	}
}

int kvmfs_parse_size(const char *s, size_t len, uint64_t *out)
{
	int shift = 0;
	uint64_t v;
	int ret;

	/* None of K, M, G, T is a hex digit, so "0x2M" is unambiguous. */
	if (len > 0 && size_shift(s[len - 1]) >= 0) {
		shift = size_shift(s[len - 1]);
		len--;
	}
	ret = kvmfs_parse_u64(s, len, &v);
	if (ret)
		return ret;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

static bool name_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
	       ch == '-';
}

bool kvmfs_vm_name_valid(const char *name)
{
	size_t i;

	if (!name)
		return false;
	for (i = 0; name[i]; i++) {
		if (i >= 64 || !name_char_ok(name[i]))
			return false;
	}
	if (i == 0)
		return false;
	/* The two names a directory already has. */
	return strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

void kvmfs_cursor_init(struct kvmfs_cursor *c, const char *text, size_t len)
{
	c->p = text;
	c->end = text + len;
}

bool kvmfs_next_line(struct kvmfs_cursor *c, const char **line, size_t *len)
{
	const char *nl;

	if (c->p >= c->end)
		return false;
	nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	*line = c->p;
	if (nl) {
		*len = (size_t)(nl - c->p);
		c->p = nl + 1;
	} else {
		*len = (size_t)(c->end - c->p);
		c->p = c->end;
	}
	return true;
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool is_control(char ch)
{
	unsigned char u = (unsigned char)ch;

	return (u < 0x20 && ch != '\t') || u == 0x7f;
}

int kvmfs_split_words(const char *line, size_t len, struct kvmfs_word *w,
		      int max)
{
	size_t i = 0;
	int n = 0;

	/* Reject control bytes before counting words, so the answer for a
	 * line does not depend on where in it the bad byte sits. */
	for (i = 0; i < len; i++) {
		if (is_control(line[i]))
			return -EINVAL;
	}

	i = 0;
	while (i < len) {
		size_t start;

		while (i < len && is_blank(line[i]))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && !is_blank(line[i]))
			i++;
		if (n >= max)
			return -E2BIG;
		w[n].s = line + start;
		w[n].len = i - start;
		n++;
	}
	return n;
}

bool kvmfs_word_is(const struct kvmfs_word *w, const char *lit)
{
	size_t n = strlen(lit);

	if (w->len != n)
		return false;
	/* Names are ASCII and case does not matter (mode Long, RIP 1). */
	for (size_t i = 0; i < n; i++)
		if (g_ascii_tolower(w->s[i]) != g_ascii_tolower(lit[i]))
			return false;
	return true;
}

void kvmfs_quote(const char *s, size_t len, char out[KVMFS_QUOTE_BUF])
{
	size_t n = len < KVMFS_QUOTE_MAX ? len : KVMFS_QUOTE_MAX;
	size_t o = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char u = (unsigned char)s[i];

		if (u >= 0x20 && u < 0x7f && u != '\\' && u != '\'') {
			out[o++] = (char)u;
		} else {
			snprintf(out + o, 5, "\\x%02x", u);
			o += 4;
		}
	}
	if (n < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}
