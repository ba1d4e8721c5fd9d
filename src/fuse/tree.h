/* The FUSE tree as tables: every directory is a table of rows (name,
 * mode, I/O kind, backend functions), and some directories also have a
 * variable part (vms/ lists the VMs).  Inode numbers pack the VM serial,
 * a sub-object (the VM itself, later vCPU N or device N) and the row.
 * The handlers of ops.c and files.c are generic over these tables: adding
 * a file is one row in nodes.c and its backend function (see
 * docs/architecture.md, "Adding a file"). */
#ifndef KVMFS_FUSE_TREE_H
#define KVMFS_FUSE_TREE_H

#include "vm/vm.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

/* What a read or write of a node does. */
enum kvmfs_io {
	KVMFS_IO_DIR,  /* a directory */
	KVMFS_IO_TEXT, /* generated text: show() at offset 0, store() per write
			*/
	KVMFS_IO_MEMORY, /* guest memory: offset = address */
	KVMFS_IO_STREAM, /* the console: offsets are stream positions */
	KVMFS_IO_WAIT,	 /* a read that waits for the guest (run) */
	KVMFS_IO_INPUT,	 /* bytes for the guest's serial port (input) */
	KVMFS_IO_EXITS,	 /* a stream whose reader waits at its end (exits) */
	KVMFS_IO_BLOB,	 /* binary state: read as text is, written whole,
			  * applied by store() at close */
};

struct kvmfs_node;

/* The objects a node acts on: the host, the VM (NULL at the root), and
 * the vCPU index (0 for the VM's own files, which mean vCPU 0). */
struct kvmfs_node_ctx {
	struct kvmfs_host *host;
	struct kvmfs_vm *vm;
	unsigned cpu;
	/* Showing only to learn the length (st_size): make nothing that
	 * does not exist yet (a vCPU); -EAGAIN where a read would. */
	bool peek;
	/* The row acting (for backends shared by several rows). */
	const struct kvmfs_node *node;
};

enum {
	KVMFS_NODE_ONCE = 1 << 0,   /* text made once per open (vms/new) */
	KVMFS_NODE_STATIC = 1 << 1, /* never changes: attributes cached 1 s */
	/* Reading it acts (makes a VM, runs the guest): left out of
	 * listings, so that tools that read every file they find (grep -r,
	 * tar, find -exec cat) do nothing; reachable by name, as /proc's
	 * task directories are. */
	KVMFS_NODE_HIDDEN = 1 << 2,
};

struct kvmfs_dir;

struct kvmfs_node {
	const char *name;
	mode_t mode; /* S_IFREG | 0600, S_IFDIR | 0700, ... */
	enum kvmfs_io io;
	unsigned flags;
	/* KVMFS_IO_BLOB: which state (vm.h) */
	unsigned state;
	/* KVMFS_IO_TEXT and _BLOB: the content, and taking a write (NULL:
	 * read-only). */
	int (*show)(const struct kvmfs_node_ctx *c, GString *out);
	int (*store)(const struct kvmfs_node_ctx *c, const char *buf,
		     size_t len);
	/* st_size, for memory, the console and binary state; NULL: for
	 * text, the length show() gives now (but KVMFS_NODE_ONCE files),
	 * else 0. */
	uint64_t (*size)(const struct kvmfs_node_ctx *c);
	/* truncate(2) to SIZE; NULL: only truncating to 0 is accepted. */
	int (*resize)(const struct kvmfs_node_ctx *c, uint64_t size);
	/* KVMFS_IO_DIR: the directory this row opens. */
	const struct kvmfs_dir *dir;
};

/* A directory: its rows, and optionally entries that come and go. */
struct kvmfs_dir {
	const struct kvmfs_node *rows;
	unsigned n_rows;
	/* The sub-object number of its rows (see the inode layout). */
	unsigned sub;
	/* The variable entries: each is a directory of `child`, one per VM
	 * (vms/) or, with per_cpu, one per vCPU named by its index (cpus/,
	 * whose child's sub is KVMFS_SUB_CPU + N).  NULL for a fixed
	 * directory. */
	const struct kvmfs_dir *child;
	bool per_cpu;
};

/* The sub-objects of a VM: its directory, cpus/, and cpus/N. */
#define KVMFS_SUB_VM   0
#define KVMFS_SUB_CPUS 1
#define KVMFS_SUB_CPU  0x100

/* Inode numbers: ino = 1 + (serial << 20 | sub << 8 | row).
 *   serial  0 for the root level, else the VM's serial (44 bits)
 *   sub     which directory of that level: at the root level 0 is the
 *           root and 1 is vms/; in a VM 0 is the VM's directory (later:
 *           1 cpus/, 0x100 + N cpus/N, 0x800 + N devices/N)
 *   row     0 for the directory itself, else 1 + its index in the table
 * The root (serial 0, sub 0, row 0) is inode 1, FUSE_ROOT_ID. */
#define KVMFS_INO_ROW_BITS    8
#define KVMFS_INO_SUB_BITS    12
#define KVMFS_INO_SERIAL_BITS (64 - KVMFS_INO_ROW_BITS - KVMFS_INO_SUB_BITS)
#define KVMFS_INO_MAX_ROWS    ((1u << KVMFS_INO_ROW_BITS) - 1)
#define KVMFS_INO_MAX_SUB     ((1u << KVMFS_INO_SUB_BITS) - 1)
#define KVMFS_INO_MAX_SERIAL  ((UINT64_C(1) << KVMFS_INO_SERIAL_BITS) - 2)

_Static_assert(KVMFS_INO_ROW_BITS + KVMFS_INO_SUB_BITS +
		       KVMFS_INO_SERIAL_BITS ==
		   64,
	       "the fields of an inode number fill 64 bits");
_Static_assert(sizeof(uint64_t) == 8, "inode numbers are 64 bits");

struct kvmfs_ino {
	uint64_t serial;
	unsigned sub;
	unsigned row;
};

static inline uint64_t kvmfs_ino_pack(uint64_t serial, unsigned sub,
				      unsigned row)
{
	return 1 + (serial << (KVMFS_INO_SUB_BITS + KVMFS_INO_ROW_BITS) |
		    (uint64_t)sub << KVMFS_INO_ROW_BITS | row);
}

static inline struct kvmfs_ino kvmfs_ino_unpack(uint64_t ino)
{
	struct kvmfs_ino i;

	ino -= 1;
	i.row = ino & KVMFS_INO_MAX_ROWS;
	i.sub = (ino >> KVMFS_INO_ROW_BITS) & KVMFS_INO_MAX_SUB;
	i.serial = ino >> (KVMFS_INO_ROW_BITS + KVMFS_INO_SUB_BITS);
	return i;
}

/* The tables (nodes.c). */
extern const struct kvmfs_dir kvmfs_root_dir; /* the mount's root */
extern const struct kvmfs_dir kvmfs_vms_dir;  /* vms/ */
extern const struct kvmfs_dir kvmfs_vm_dir;   /* vms/NAME/ */
extern const struct kvmfs_dir kvmfs_cpus_dir; /* vms/NAME/cpus/ */
extern const struct kvmfs_dir kvmfs_cpu_dir;  /* vms/NAME/cpus/N/ */

/* A node found: what it is, what it acts on, and its inode numbers. */
struct kvmfs_found {
	const struct kvmfs_node *node; /* the row, or a directory's own node */
	const struct kvmfs_dir *dir;   /* the directory this node is, or NULL */
	struct kvmfs_node_ctx ctx; /* ctx.vm is a reference: kvmfs_found_put */
	uint64_t ino;
	uint64_t parent_ino; /* for a directory's ".." */
};

/* The directory table that holds the rows of level SERIAL (0 or not),
 * sub-object SUB; NULL if there is none. */
const struct kvmfs_dir *kvmfs_tree_dir_of(uint64_t serial, unsigned sub);
/* What an inode number names: 0, or -ENOENT (no such row, or its VM is
 * gone).  Takes a VM reference into f->ctx.vm. */
int kvmfs_tree_resolve(struct kvmfs_host *h, uint64_t ino,
		       struct kvmfs_found *f);
/* The entry NAME of the directory PARENT: 0, -ENOENT or -ENOTDIR. */
int kvmfs_tree_lookup(struct kvmfs_host *h, const struct kvmfs_found *parent,
		      const char *name, struct kvmfs_found *f);
/* Each entry of directory D (rows first, then the variable part), but
 * KVMFS_NODE_HIDDEN rows: fn(name, ino, mode, arg). */
void kvmfs_tree_list(struct kvmfs_host *h, const struct kvmfs_found *d,
		     void (*fn)(const char *name, uint64_t ino, mode_t mode,
				void *arg),
		     void *arg);
void kvmfs_found_put(struct kvmfs_found *f);

#endif
