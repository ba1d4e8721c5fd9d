/* The FUSE layer: paths to nodes, nodes to backend calls.  It never calls
 * ioctl; the backend (vm.h) never sees a FUSE type. */
#ifndef KVMFS_FS_H
#define KVMFS_FS_H

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

extern const struct fuse_lowlevel_ops kvmfs_fs_ops;

/* After the session loop and after every vCPU thread is gone: free the
 * files and directories clients still held open. */
void kvmfs_fs_free_handles(void);

#endif
