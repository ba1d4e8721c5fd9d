/* Pure text helpers shared by every file format: numbers, sizes, VM names
 * and line splitting.  No I/O, no KVM, no FUSE. */
#ifndef KVMFS_TEXT_H
#define KVMFS_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parse an unsigned 64-bit number from s[0..len): decimal ("4096") or
 * 0x-hex ("0x1000", "0X1000").  The whole span must be the number: no
 * sign, no spaces, no junk, no empty string, no overflow past 2^64-1.
 * Returns 0 and stores *out, or -EINVAL (-ERANGE for overflow). */
int kvmfs_parse_u64(const char *s, size_t len, uint64_t *out);

/* Parse a memory size: a number as above, optionally followed by one
 * suffix K, M, G or T (either case, binary multiples: 2M = 2097152), with
 * overflow checked.  No alignment check here.  0 or -EINVAL/-ERANGE. */
int kvmfs_parse_size(const char *s, size_t len, uint64_t *out);

/* A VM name is 1-64 characters of [A-Za-z0-9._-], and not "." or "..". */
bool kvmfs_vm_name_valid(const char *name);

/* Split text into lines and words.  A cursor walks text[0..len).
 * kvmfs_next_line() returns the next line without its '\n' (a last line
 * without '\n' counts), or false at the end.  Lines may contain any byte;
 * callers reject what they do not accept. */
struct kvmfs_cursor {
	const char *p;
	const char *end;
};
void kvmfs_cursor_init(struct kvmfs_cursor *c, const char *text, size_t len);
bool kvmfs_next_line(struct kvmfs_cursor *c, const char **line, size_t *len);

/* Split one line into words separated by spaces or tabs.  Stores up to
 * max words (pointer + length) and returns the number of words found, or
 * -E2BIG if there are more than max.  A NUL or other control byte
 * (other than tab) in the line is -EINVAL. */
/* The room for a one-line reason (a refusal, the error line of status),
 * the same everywhere it is composed. */
#define KVMFS_REASON_LEN 256

/* A client's word quoted in a reason, printable and bounded whatever bytes
 * it holds (the reason goes to logs and the status file): at most
 * KVMFS_QUOTE_MAX bytes of it, each non-printable byte, backslash and
 * quote as \xNN, "..." after a longer word. */
#define KVMFS_QUOTE_MAX 32
#define KVMFS_QUOTE_BUF (KVMFS_QUOTE_MAX * 4 + 4)
void kvmfs_quote(const char *s, size_t len, char out[KVMFS_QUOTE_BUF]);

struct kvmfs_word {
	const char *s;
	size_t len;
};
int kvmfs_split_words(const char *line, size_t len, struct kvmfs_word *w,
		      int max);

/* True if word w equals the NUL-terminated string lit. */
/* W is LIT, ignoring ASCII case. */
bool kvmfs_word_is(const struct kvmfs_word *w, const char *lit);

#endif
