/* Joining the writes of one open file into transactions (DESIGN rule 3,
 * docs/reference.md "One write(2) is one transaction").  Each write(2)
 * stands alone, whatever its offset, and its lines are applied all
 * together or not at all.  A write that ends inside a line (a writer
 * that split a line across writes) is held, whole, and applied together
 * with the write that ends that line, or at close.  So no write is ever
 * applied in part: a write is inside exactly one transaction.  A write
 * with no newline at all, when nothing is held, is a transaction by
 * itself (printf 'rip 1' > regs).  Pure: the caller locks and applies. */
#ifndef KVMFS_LIB_JOIN_H
#define KVMFS_LIB_JOIN_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

/* The most a writer may leave held: a longer unfinished line is refused
 * (EFBIG) and what was held is dropped. */
#define KVMFS_JOIN_MAX (256 * 1024)

struct kvmfs_join {
	GString *held;	/* NULL when nothing is held */
};

/* Take one write.  0 with *apply NULL: held, nothing to do yet.  0 with
 * *apply set: apply that text now (one transaction; free it with
 * g_string_free).  -EFBIG: refused, nothing held any more. */
int kvmfs_join_write(struct kvmfs_join *j, const char *buf, size_t len,
		     GString **apply);
/* At close: what is still held (a transaction), or NULL. */
GString *kvmfs_join_flush(struct kvmfs_join *j);
void kvmfs_join_free(struct kvmfs_join *j);

#endif
