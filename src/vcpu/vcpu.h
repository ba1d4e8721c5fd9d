/* A vCPU as an object with its own thread.  Every vCPU ioctl is issued
 * from that thread (KVM's rule); other threads hand it calls and wait, or
 * start a run and get the answer through a callback from the thread.  No
 * FUSE here: the caller's cookie is opaque. */
#ifndef KVMFS_VCPU_H
#define KVMFS_VCPU_H

#include "devices/bus.h"

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kvmfs_vcpu;

enum kvmfs_vcpu_state {
	KVMFS_READY,
	KVMFS_RUNNING,
	KVMFS_STOPPED,
	KVMFS_HALTED,
	KVMFS_SHUTDOWN,
	KVMFS_FAILED,
};
const char *kvmfs_vcpu_state_name(enum kvmfs_vcpu_state s);

/* answer is one line without '\n' (NULL when err != 0: -ENOENT when the
 * VM went away).  Called from the vCPU thread with no lock held. */
typedef void (*kvmfs_run_done_fn)(void *cookie, const char *answer, int err);

struct kvmfs_vcpu_config {
	int vm_fd;
	unsigned id;
	int kvm_fd;				/* /dev/kvm, for the mmap size */
	const struct kvm_cpuid2 *cpuid;		/* may be NULL */
	/* The VM's devices: every port and MMIO exit is offered to them
	 * first, from the vCPU thread. */
	struct kvmfs_bus *bus;
	/* Put the thread under the seccomp filter of sandbox.h once the
	 * vCPU is set up. */
	bool sandbox;
	/* Called with every run's answer (its last line), from the vCPU
	 * thread with the vCPU's lock held: it must not call back into this
	 * vCPU.  May be NULL. */
	void (*on_answer)(void *ctx, unsigned id, const char *answer);
	void *answer_ctx;
};

int kvmfs_vcpu_create(const struct kvmfs_vcpu_config *cfg,
		      struct kvmfs_vcpu **out, char *err, size_t errlen);
/* Stops a run (waiters get -ENOENT), joins the thread, closes the fd. */
void kvmfs_vcpu_destroy(struct kvmfs_vcpu *v);

/* Live when running: the vCPU is kicked out, sampled and continues. */
int kvmfs_vcpu_get_regs(struct kvmfs_vcpu *v, struct kvm_regs *r);
int kvmfs_vcpu_get_sregs(struct kvmfs_vcpu *v, struct kvm_sregs *s);
/* -EBUSY while running. */
int kvmfs_vcpu_set_regs(struct kvmfs_vcpu *v, const struct kvm_regs *r);
int kvmfs_vcpu_set_sregs(struct kvmfs_vcpu *v, const struct kvm_sregs *s);
/* Set sregs, then regs (either may be NULL), then read sregs back into
 * back (if not NULL), in one call to the vCPU thread; -EBUSY while
 * running. */
int kvmfs_vcpu_set_state(struct kvmfs_vcpu *v, const struct kvm_sregs *s,
			 const struct kvm_regs *r, struct kvm_sregs *back);
/* Read sregs, then KVM_TRANSLATE each of t[0..n), all in one call to the
 * vCPU thread; err[i] is 0 or -errno for t[i]. */
int kvmfs_vcpu_translate(struct kvmfs_vcpu *v, struct kvm_sregs *sregs,
			 struct kvm_translation *t, int *err, size_t n);
/* One of the state ioctls a snapshot needs (KVM_GET/SET_LAPIC, _XSAVE,
 * _XCRS, _VCPU_EVENTS, _MP_STATE, _DEBUGREGS, _MSRS: those the sandbox
 * allows), on the vCPU thread.  A get samples a running vCPU; a set
 * (SET true) is -EBUSY while it runs.  Returns ioctl's result or -errno. */
int kvmfs_vcpu_state_ioctl(struct kvmfs_vcpu *v, unsigned long req, void *arg,
			   bool set);
/* Stop any run, then registers back to their state at creation. */
int kvmfs_vcpu_reset(struct kvmfs_vcpu *v);

/* Start a run.  With done == NULL it runs in the background; otherwise
 * done(cookie, ...) is called once when it stops.  Joining a run already
 * in progress is allowed: every waiter gets the same answer. */
int kvmfs_vcpu_run(struct kvmfs_vcpu *v, kvmfs_run_done_fn done,
		   void *cookie);
/* Stop the run (answer "stopped"); no-op when not running. */
void kvmfs_vcpu_stop(struct kvmfs_vcpu *v);
/* The waiter with this cookie was interrupted: stop the run with the
 * answer "interrupted" if that waiter is still waiting. */
void kvmfs_vcpu_interrupt(struct kvmfs_vcpu *v, void *cookie);

void kvmfs_vcpu_set_timeout(struct kvmfs_vcpu *v, unsigned ms);
/* The next run executes n instructions (1 or more) and answers one
 * line per instruction. */
void kvmfs_vcpu_arm_step(struct kvmfs_vcpu *v, unsigned n);

enum { KVMFS_EXIT_COUNTERS = 40 };
struct kvmfs_vcpu_stats {
	enum kvmfs_vcpu_state state;
	uint64_t exits;			/* every return from KVM_RUN */
	uint64_t by_reason[KVMFS_EXIT_COUNTERS];
	uint64_t runs;
	char last[256];			/* last line of the last answer */
	unsigned step_armed;		/* steps the next run will take */
};
void kvmfs_vcpu_stats(struct kvmfs_vcpu *v, struct kvmfs_vcpu_stats *st);
bool kvmfs_vcpu_running(struct kvmfs_vcpu *v);

/* The signal used to kick vCPU threads; installed once at start-up. */
int kvmfs_vcpu_init_signals(void);

#endif
