/* A seccomp filter for vCPU threads: the threads that read what a guest
 * leaves in kvm_run.  Once a vCPU is set up, its thread needs very little
 * of the kernel: the KVM ioctls on its own vCPU fd, memory, locks,
 * timers, signals, writing FUSE replies and log lines, and exiting.
 * Anything else (opening files, sockets, exec, fork, ptrace, other
 * ioctls, other fds' ioctls) fails with EPERM in that thread only; the
 * FUSE workers and the main thread are not filtered.  See
 * docs/robustness.md. */
#ifndef KVMFS_SANDBOX_H
#define KVMFS_SANDBOX_H

#include <linux/filter.h>
#include <stddef.h>

/* What the filter allows: these system calls whatever their arguments,
 * ioctl on the vCPU fd with these requests, and KVM_IRQ_LINE on the VM
 * fd (a device's interrupt line, from the vCPU thread that ran it). */
extern const unsigned kvmfs_sandbox_calls[];
extern const size_t kvmfs_sandbox_ncalls;
extern const unsigned kvmfs_sandbox_ioctls[];
extern const size_t kvmfs_sandbox_nioctls;

/* The largest program kvmfs_sandbox_build writes. */
#define KVMFS_SANDBOX_MAX 128

/* Write the filter for a vCPU thread whose vCPU fd is vcpu_fd and VM fd
 * vm_fd (-1: none) into prog (room for cap instructions); returns the
 * number of instructions, or 0 when cap is too small. */
size_t kvmfs_sandbox_build(struct sock_filter *prog, size_t cap, int vcpu_fd,
			   int vm_fd);

/* Install that filter on the calling thread (and set no_new_privs on
 * it).  0, or -errno with a reason in err. */
int kvmfs_sandbox_vcpu(int vcpu_fd, int vm_fd, char *err, size_t errlen);

#endif
