/* The FUSE layer: paths to nodes, nodes to backend calls.  It never calls
 * ioctl; the backend (vm.h) never sees a FUSE type. */
#ifndef KVMFS_FS_H
#define KVMFS_FS_H

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

extern const struct fuse_lowlevel_ops kvmfs_fs_ops;

#endif
