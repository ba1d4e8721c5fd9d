/* Shared by the two halves of the FUSE layer: fs.c (the tree: inode
 * numbers, lookups, attributes, directories) and fs_file.c (open files:
 * reads, writes, runs). */
#ifndef KVMFS_FS_PRIV_H
#define KVMFS_FS_PRIV_H

#include "fs.h"
#include "vm.h"

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
/* Free the files the kernel never released (see kvmfs_fs_free_handles). */
void kvmfs_fs_free_open_files(void);
void kvmfs_fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi);
void kvmfs_fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		    size_t size, off_t off, struct fuse_file_info *fi);

#endif
