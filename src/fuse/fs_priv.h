/* Shared by the files of the FUSE layer: ops.c (lookups, attributes,
 * directories), files.c (open files: reads, writes, runs) and handles.c
 * (the sets of handles), over the tables of tree.h. */
#ifndef KVMFS_FS_PRIV_H
#define KVMFS_FS_PRIV_H

#include "fuse/fs.h"
#include "fuse/tree.h"
#include "vm/vm.h"

#include <glib.h>
#include <pthread.h>
#include <sys/stat.h>

#define MAX_IO (1u << 20)

/* The host behind a request (files.c). */
struct kvmfs_host *kvmfs_fs_host(fuse_req_t req);

void kvmfs_fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void kvmfs_fs_release(fuse_req_t req, fuse_ino_t ino,
		      struct fuse_file_info *fi);

/* The handles (open files, open directories) the kernel holds.  A server
 * told to exit may never see the release of some of them, so each kind
 * keeps its live handles in a set and frees the rest at exit. */
struct kvmfs_handles {
	GQueue live;
	pthread_mutex_t lock;
	void (*free_one)(void *handle);
};
#define KVMFS_HANDLES_INIT(f) { G_QUEUE_INIT, PTHREAD_MUTEX_INITIALIZER, (f) }
/* link->data must be the handle. */
void kvmfs_handles_add(struct kvmfs_handles *s, GList *link);
/* Unlink and free one handle (a RELEASE). */
void kvmfs_handles_release(struct kvmfs_handles *s, GList *link);
void kvmfs_handles_free_all(struct kvmfs_handles *s);
extern struct kvmfs_handles kvmfs_open_files;
void kvmfs_fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi);
void kvmfs_fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		    size_t size, off_t off, struct fuse_file_info *fi);
void kvmfs_fs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);

#endif
