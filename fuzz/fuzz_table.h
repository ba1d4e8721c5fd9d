/* The round trip shared by fuzz_regs and fuzz_sregs: parse arbitrary
 * bytes as a register file write; a refused write must leave the struct
 * untouched and give a printable reason; an accepted one must change only
 * the fields it names, and what it produced must print, parse back and
 * print again to the very same struct and text (docs/reference.md, "rules every file follows", rule 2). */
#ifndef KVMFS_FUZZ_TABLE_H
#define KVMFS_FUZZ_TABLE_H

#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "formats/regfmt.h"

#define TABLE_TEXT_CAP 8192

/* A known starting state with every field in range, different per field,
 * so a write that touches a field it did not name shows. */
static void table_fill(const struct kvmfs_table *t, void *obj)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct kvmfs_field *f = &t->fields[i];
		uint64_t v = 0x9e3779b97f4a7c15ull * (i + 1);

		if (f->bits < 64)
			v &= (1ull << f->bits) - 1;
		kvmfs_field_set(f, obj, v);
	}
}

static void table_round_trip(const struct kvmfs_table *t, size_t objsize,
			     const uint8_t *data, size_t size)
{
	unsigned char *obj = calloc(1, objsize);
	unsigned char *before = calloc(1, objsize);
	unsigned char *again = calloc(1, objsize);
	unsigned char *seen = malloc(t->n);
	char *text1 = malloc(TABLE_TEXT_CAP);
	char *text2 = malloc(TABLE_TEXT_CAP);
	char err[256];
	int ret, n1, n2;

	fuzz_require(obj && before && again && seen && text1 && text2);
	table_fill(t, obj);
	memcpy(before, obj, objsize);
	memset(seen, 0xee, t->n);
	memset(err, 'X', sizeof(err));

	ret = kvmfs_table_parse(t, (const char *)data, size, obj, seen, err,
				sizeof(err));
	fuzz_require(ret == 0 || ret == -EINVAL);
	if (ret) {
		fuzz_require(memcmp(obj, before, objsize) == 0);
		for (size_t i = 0; i < t->n; i++)
			fuzz_require(seen[i] == 0xee);
		fuzz_require_reason(err, sizeof(err), 1);
		goto out;
	}
	fuzz_require(err[0] == '\0');
	for (size_t i = 0; i < t->n; i++) {
		const struct kvmfs_field *f = &t->fields[i];
		uint64_t v = kvmfs_field_get(f, obj);

		fuzz_require(seen[i] == 0 || seen[i] == 1);
		if (!seen[i])
			fuzz_require(v == kvmfs_field_get(f, before));
		fuzz_require(f->bits == 64 || v >> f->bits == 0);
	}

	n1 = kvmfs_table_format(t, obj, text1, TABLE_TEXT_CAP);
	fuzz_require(n1 > 0 && (size_t)n1 == strlen(text1));
	ret = kvmfs_table_parse(t, text1, (size_t)n1, again, NULL, err,
				sizeof(err));
	if (ret)
		fprintf(stderr, "re-parse refused: %s\n", err);
	fuzz_require(ret == 0);
	fuzz_require(kvmfs_table_compare(t, obj, again, NULL, err,
					 sizeof(err)) == 0);
	n2 = kvmfs_table_format(t, again, text2, TABLE_TEXT_CAP);
	fuzz_require(n2 == n1 && memcmp(text1, text2, (size_t)n1) == 0);
out:
	free(obj);
	free(before);
	free(again);
	free(seen);
	free(text1);
	free(text2);
}

#endif
