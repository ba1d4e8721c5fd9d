/* Shared by vcpu.c (the object, its thread and the calls handed to it)
 * and vcpu_run.c (runs: entering the guest, exits, answers, stops). */
#ifndef KVMFS_VCPU_PRIV_H
#define KVMFS_VCPU_PRIV_H

#include "vcpu/vcpu.h"

#include <glib.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#define KICK_SIGNAL SIGUSR1
#define KVMFS_VCPU_NICE 19

struct vcpu_call {
	int (*fn)(struct kvmfs_vcpu *v, void *arg);
	void *arg;
	int result;
	bool done;
	struct vcpu_call *next;
};

struct run_waiter {
	kvmfs_run_done_fn done;
	void *cookie;
	struct run_waiter *next;
};

struct kvmfs_vcpu {
	struct kvmfs_vcpu_config cfg;
	/* The VM's CPUID with this vCPU's APIC ID, made by the creating
	 * thread (a first malloc on the vCPU thread would give it an arena
	 * of its own: some 70 KiB of RSS per vCPU) and freed once set. */
	struct kvm_cpuid2 *cpuid;
	int fd;
	struct kvm_run *run;
	size_t run_size;		/* KVM_GET_VCPU_MMAP_SIZE */
	pthread_t thread;
	pid_t tid;
	timer_t timer;
	bool have_timer;

	pthread_mutex_t lock;
	pthread_cond_t wake;		/* to the vCPU thread */
	pthread_cond_t done;		/* from it: calls finished, ready */
	struct vcpu_call *calls, **calls_tail;
	struct run_waiter *waiters;
	bool ready;
	int create_err;
	char *create_msg;
	bool quit;
	bool running;
	uint64_t run_gen;		/* counts runs started */
	const char *stop_answer;	/* a stop was asked for, with this answer */
	enum kvmfs_vcpu_state stop_state;
	unsigned step_armed;		/* for the next run */
	unsigned steps_left;		/* in this run; 0: not stepping */
	bool step_this_run, debug_on;
	GString *steps;			/* answers of the steps so far */
	unsigned timeout_ms;		/* for runs and readers from now on */
	bool has_deadline;		/* this run has one */
	struct timespec deadline;

	struct kvm_regs reset_regs;
	struct kvm_sregs reset_sregs;
	struct kvmfs_vcpu_stats stats;
};

/* Get a running vCPU out of KVM_RUN.  Lock held.  (kick.c) */
void kvmfs_vcpu_kick(struct kvmfs_vcpu *v);
/* The vCPU thread's kvm_run, which the kick signal's handler marks. */
void kvmfs_vcpu_kick_bind(struct kvm_run *run);
/* Enter the guest once and handle what comes back.  Lock held. */
void kvmfs_vcpu_run_once(struct kvmfs_vcpu *v);
int kvmfs_vcpu_set_guest_debug(struct kvmfs_vcpu *v, bool on);

#endif
