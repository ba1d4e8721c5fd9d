/* Shared by the two halves of the FUSE layer: fs.c (the tree: inode
 * numbers, lookups, attributes, directories) and fs_file.c (open files:
 * reads, writes, runs). */
#ifndef KVMFS_FS_PRIV_H
#define KVMFS_FS_PRIV_H

#include "fuse/fs.h"
#include "vm/vm.h"

#include <glib.h>
#include <pthread.h>
#include <sys/stat.h>

enum kind {
	K_NONE,
	K_ROOT,
	K_VERSION,
	K_CAPS,
	K_HOST_STATUS,
	K_VMS,
	K_NEW,
	K_VM,		/* a VM directory; its files follow */
	K_CTL,
	K_MEMORY,
	K_CONSOLE,
	K_STATUS,
	K_REGS,
	K_SREGS,
	K_RUN,
	K_TRANSLATE,
};

struct node_def {
	const char *name;
	enum kind kind;
	mode_t mode;
};

/* Fixed inode numbers below 16; a VM's are serial << 4 | index. */

#define MAX_IO (1u << 20)

/* The host behind a request. */
struct kvmfs_host *kvmfs_fs_host(fuse_req_t req);
/* What an inode number names; VM nodes come with a VM reference. */
int kvmfs_fs_resolve(struct kvmfs_host *h, fuse_ino_t ino, enum kind *kind,
		     const struct node_def **def, struct kvmfs_vm **vm);

void kvmfs_fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void kvmfs_fs_release(fuse_req_t req, fuse_ino_t ino,
		      struct fuse_file_info *fi);

/* The handles (open files, open directories) the kernel holds.  A server
 * told to exit may never see the release of some of them, so each kind
 * keeps its live handles in a set and frees the rest at exit. */
struct handle_set {
	GQueue live;
	pthread_mutex_t lock;
	void (*free_one)(void *handle);
};
#define HANDLE_SET_INIT(f) { G_QUEUE_INIT, PTHREAD_MUTEX_INITIALIZER, (f) }
/* link->data must be the handle. */
void handle_set_add(struct handle_set *s, GList *link);
/* Unlink and free one handle (a RELEASE). */
void handle_set_release(struct handle_set *s, GList *link);
void handle_set_free_all(struct handle_set *s);
extern struct handle_set kvmfs_open_files;
void kvmfs_fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi);
void kvmfs_fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		    size_t size, off_t off, struct fuse_file_info *fi);

#endif
