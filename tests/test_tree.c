/* Unit tests of the FUSE tree (src/fuse/tree.c and its tables in
 * src/fuse/nodes.c) and of ctl's checks, with no /dev/kvm: inode numbers
 * pack and unpack, the root level resolves and looks up through the
 * tables, bad inode numbers are ENOENT, every table is consistent, and the
 * refusals ctl plans with say what they refuse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "fuse/tree.h"
#include "vm/vm_priv.h"

static void test_ino_roundtrip(void **state)
{
	static const uint64_t serials[] = {
	    0, 1, 2, 4095, 1u << 20, KVMFS_INO_MAX_SERIAL};
	static const unsigned subs[] = {0, 1, 0x100, 0x800, KVMFS_INO_MAX_SUB};
	static const unsigned rows[] = {0, 1, 7, KVMFS_INO_MAX_ROWS};

	(void)state;
	for (size_t a = 0; a < sizeof(serials) / sizeof(serials[0]); a++)
		for (size_t b = 0; b < sizeof(subs) / sizeof(subs[0]); b++)
			for (size_t c = 0; c < sizeof(rows) / sizeof(rows[0]);
			     c++) {
				uint64_t ino = kvmfs_ino_pack(serials[a],
							      subs[b], rows[c]);
				struct kvmfs_ino i = kvmfs_ino_unpack(ino);

				assert_int_not_equal(ino, 0);
				assert_true(i.serial == serials[a]);
				assert_int_equal(i.sub, subs[b]);
				assert_int_equal(i.row, rows[c]);
			}
	/* The root is FUSE's root, inode 1. */
	assert_true(kvmfs_ino_pack(0, 0, 0) == 1);
	/* Distinct fields give distinct numbers. */
	assert_true(kvmfs_ino_pack(1, 0, 0) != kvmfs_ino_pack(0, 1, 0));
	assert_true(kvmfs_ino_pack(0, 1, 0) != kvmfs_ino_pack(0, 0, 1));
}

static void check_dir(const struct kvmfs_dir *d)
{
	assert_true(d->n_rows <= KVMFS_INO_MAX_ROWS);
	for (unsigned i = 0; i < d->n_rows; i++) {
		const struct kvmfs_node *n = &d->rows[i];

		assert_non_null(n->name);
		assert_true(strlen(n->name) > 0 && !strchr(n->name, '/'));
		for (unsigned j = i + 1; j < d->n_rows; j++)
			assert_string_not_equal(n->name, d->rows[j].name);
		if (n->io == KVMFS_IO_DIR) {
			assert_true(S_ISDIR(n->mode));
			assert_non_null(n->dir);
			check_dir(n->dir);
		} else {
			assert_true(S_ISREG(n->mode));
			assert_null(n->dir);
		}
		/* Text files can be read; writable ones take a write. */
		if (n->io == KVMFS_IO_TEXT) {
			assert_non_null(n->show);
			assert_true(!(n->mode & 0200) || n->store);
			assert_true(!n->store || (n->mode & 0200));
		}
	}
	if (d->child)
		check_dir(d->child);
}

static void test_tables(void **state)
{
	(void)state;
	check_dir(&kvmfs_root_dir);
	/* Each directory of a level has its own sub-object number. */
	assert_ptr_equal(kvmfs_tree_dir_of(0, kvmfs_root_dir.sub),
			 &kvmfs_root_dir);
	assert_ptr_equal(kvmfs_tree_dir_of(0, kvmfs_vms_dir.sub),
			 &kvmfs_vms_dir);
	assert_ptr_equal(kvmfs_tree_dir_of(1, kvmfs_vm_dir.sub), &kvmfs_vm_dir);
	assert_int_not_equal(kvmfs_root_dir.sub, kvmfs_vms_dir.sub);
	assert_null(kvmfs_tree_dir_of(0, 7));
	assert_null(kvmfs_tree_dir_of(5, 7));
}

/* Lookups and resolution at the root level, which needs no VM (and so no
 * host: a NULL host is never touched there). */
static void test_root_level(void **state)
{
	struct kvmfs_found root, f, g;

	(void)state;
	assert_int_equal(kvmfs_tree_resolve(NULL, 1, &root), 0);
	assert_non_null(root.dir);
	assert_ptr_equal(root.dir, &kvmfs_root_dir);
	assert_true(root.parent_ino == 1);

	assert_int_equal(kvmfs_tree_lookup(NULL, &root, "version", &f), 0);
	assert_string_equal(f.node->name, "version");
	assert_int_equal(f.node->io, KVMFS_IO_TEXT);
	assert_true(f.node->flags & KVMFS_NODE_STATIC);
	assert_null(f.dir);
	assert_true(f.ino == kvmfs_ino_pack(0, 0, 1));
	/* The inode number it gave resolves to the same node. */
	assert_int_equal(kvmfs_tree_resolve(NULL, f.ino, &g), 0);
	assert_ptr_equal(g.node, f.node);
	/* A file is no directory. */
	assert_int_equal(kvmfs_tree_lookup(NULL, &f, "x", &g), -ENOTDIR);

	assert_int_equal(kvmfs_tree_lookup(NULL, &root, "vms", &f), 0);
	assert_ptr_equal(f.dir, &kvmfs_vms_dir);
	assert_true(f.ino == kvmfs_ino_pack(0, kvmfs_vms_dir.sub, 0));
	assert_true(f.parent_ino == 1);
	assert_int_equal(kvmfs_tree_lookup(NULL, &f, "new", &g), 0);
	assert_string_equal(g.node->name, "new");
	assert_true(g.node->flags & KVMFS_NODE_ONCE);
	assert_int_equal(kvmfs_tree_lookup(NULL, &root, "nosuch", &g), -ENOENT);
}

static void test_bad_inodes(void **state)
{
	struct kvmfs_found f;

	(void)state;
	assert_int_equal(kvmfs_tree_resolve(NULL, 0, &f), -ENOENT);
	/* Past the last row, a sub-object that is not there. */
	assert_int_equal(
	    kvmfs_tree_resolve(
		NULL, kvmfs_ino_pack(0, 0, kvmfs_root_dir.n_rows + 1), &f),
	    -ENOENT);
	assert_int_equal(
	    kvmfs_tree_resolve(
		NULL,
		kvmfs_ino_pack(0, kvmfs_vms_dir.sub, kvmfs_vms_dir.n_rows + 1),
		&f),
	    -ENOENT);
	assert_int_equal(kvmfs_tree_resolve(NULL, kvmfs_ino_pack(0, 9, 0), &f),
			 -ENOENT);
	assert_int_equal(kvmfs_tree_resolve(NULL,
					    kvmfs_ino_pack(0, KVMFS_INO_MAX_SUB,
							   KVMFS_INO_MAX_ROWS),
					    &f),
			 -ENOENT);
	/* A directory row is reached through the directory's own number. */
	for (unsigned r = 0; r < kvmfs_root_dir.n_rows; r++)
		if (kvmfs_root_dir.rows[r].io == KVMFS_IO_DIR)
			assert_int_equal(
			    kvmfs_tree_resolve(NULL,
					       kvmfs_ino_pack(0, 0, r + 1), &f),
			    -ENOENT);
}

struct listing {
	const char *names[16];
	uint64_t inos[16];
	unsigned n;
};

static void collect(const char *name, uint64_t ino, mode_t mode, void *arg)
{
	struct listing *l = arg;

	(void)mode;
	assert_true(l->n < 16);
	l->names[l->n] = name;
	l->inos[l->n++] = ino;
}

static void test_root_listing(void **state)
{
	struct kvmfs_found root, f;
	struct listing l = {0};

	(void)state;
	assert_int_equal(kvmfs_tree_resolve(NULL, 1, &root), 0);
	kvmfs_tree_list(NULL, &root, collect, &l);
	assert_int_equal(l.n, kvmfs_root_dir.n_rows);
	for (unsigned i = 0; i < l.n; i++) {
		/* Every listed entry is found by name with the same number. */
		assert_int_equal(kvmfs_tree_lookup(NULL, &root, l.names[i], &f),
				 0);
		assert_true(f.ino == l.inos[i]);
	}
}

/* The checks ctl plans a multi-line write with: each refusal names what it
 * refused and how to get past it, worded once. */
static void test_ctl_checks(void **state)
{
	char err[KVMFS_ERR_LEN];

	(void)state;
	assert_int_equal(kvmfs_check_mem("mem", 4096, 0, 4096, 0, true, err, sizeof(err)),
			 0);
	assert_int_equal(
	    kvmfs_check_mem("mem", 8192, 0, 4096, 1 << 20, true, err, sizeof(err)),
	    -EBUSY);
	assert_non_null(
	    strstr(err, "mem: the vCPU is running (echo stop > ctl first)"));
	assert_int_equal(kvmfs_check_stopped("regs", true, err, sizeof(err)),
			 -EBUSY);
	assert_string_equal(
	    err, "regs: the vCPU is running (echo stop > ctl first)");
	assert_int_equal(
	    kvmfs_check_mem("mem", 2 << 20, 0, 0, 1 << 20, false, err, sizeof(err)),
	    -ENOMEM);
	assert_non_null(strstr(err, "max_memory"));
	assert_int_equal(
	    kvmfs_check_mem("mem", 1 << 20, 0, 0, 1 << 20, false, err, sizeof(err)), 0);
	/* highmem: memory at 4 GiB needs mem below it, and counts with it. */
	assert_int_equal(kvmfs_check_mem("highmem", 0, 1 << 20, 0, 1 << 30,
					 false, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "echo 'mem SIZE' > ctl first"));
	assert_int_equal(kvmfs_check_mem("mem", (5ull << 30), 1 << 20, 0,
					 8ull << 30, false, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "passes 4 GiB"));
	assert_int_equal(kvmfs_check_mem("highmem", 1 << 20, 1 << 20, 1 << 20,
					 (1 << 20) + 4096, false, err, sizeof(err)),
			 -ENOMEM);
	assert_non_null(strstr(err, "highmem: 2097152 bytes of memory in all"));
	assert_int_equal(kvmfs_check_mem("highmem", 3ull << 30, 1ull << 30,
					 3ull << 30, 4ull << 30, false, err,
					 sizeof(err)), 0);
	assert_int_equal(kvmfs_check_run(0, false, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "echo 'mem SIZE' > ctl first"));
	assert_int_equal(kvmfs_check_run(4096, true, err, sizeof(err)), -EBUSY);
	assert_int_equal(kvmfs_check_run(4096, false, err, sizeof(err)), 0);
	assert_int_equal(kvmfs_check_stopped("x", false, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ino_roundtrip),
	    cmocka_unit_test(test_tables),
	    cmocka_unit_test(test_root_level),
	    cmocka_unit_test(test_bad_inodes),
	    cmocka_unit_test(test_root_listing),
	    cmocka_unit_test(test_ctl_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
