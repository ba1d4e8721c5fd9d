/* Text formats of vCPU register structs (struct kvm_regs, struct
 * kvm_sregs): one table of (name, offset, bits, style) per struct drives
 * both printing and parsing, so the two cannot drift apart.  Pure code:
 * linux/kvm.h is included for the struct layouts only. */
#ifndef KVMFS_REGFMT_H
#define KVMFS_REGFMT_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

enum kvmfs_field_style {
	KVMFS_HEX,	/* printed 0x%0*llx, zero padded to the field width */
	KVMFS_DEC,	/* printed %llu (flags and small counts) */
};

struct kvmfs_field {
	const char *name;	/* "rax", "cs.base", "interrupt_bitmap.0" */
	size_t offset;		/* offsetof into the struct */
	unsigned size;		/* storage size in bytes: 1, 2, 4 or 8 */
	unsigned bits;		/* value must fit in this many bits (<= size*8) */
	enum kvmfs_field_style style;
};

struct kvmfs_table {
	const struct kvmfs_field *fields;
	size_t n;
};

extern const struct kvmfs_table kvmfs_regs_table;	/* struct kvm_regs */
extern const struct kvmfs_table kvmfs_sregs_table;	/* struct kvm_sregs */

/* Print every field as "name value\n" into buf (NUL-terminated).  Returns
 * the length written, or -ENOSPC if cap is too small (4096 is enough for
 * regs, 8192 for sregs). */
int kvmfs_table_format(const struct kvmfs_table *t, const void *obj,
		       char *buf, size_t cap);

/* Parse "name value" lines from text[0..len) and store each value into
 * obj (which the caller filled with the current state first: a write may
 * hold any subset of fields).  seen, if not NULL, has t->n bytes and gets
 * 1 for each field set.  Rules: at least one assignment; blank lines are
 * skipped; each line is exactly two words; unknown names, duplicate
 * names, malformed numbers, values wider than the field's bits: the whole
 * parse fails and obj is left unchanged.  Returns 0, or -EINVAL with a
 * one-line reason (no newline) in err[0..errlen). */
int kvmfs_table_parse(const struct kvmfs_table *t, const char *text,
		      size_t len, void *obj, unsigned char *seen, char *err,
		      size_t errlen);

/* Read and write one field's value as uint64_t. */
uint64_t kvmfs_field_get(const struct kvmfs_field *f, const void *obj);
void kvmfs_field_set(const struct kvmfs_field *f, void *obj, uint64_t v);

/* After a write was applied and read back: for every field marked in
 * seen, compare want with got.  Returns 0 if all match, else -EOPNOTSUPP
 * with a reason like "KVM dropped cr0: wrote 0x80000011, reads back
 * 0x00000011" in err. */
int kvmfs_table_compare(const struct kvmfs_table *t, const void *want,
			const void *got, const unsigned char *seen, char *err,
			size_t errlen);

#endif
