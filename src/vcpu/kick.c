/* Kicks: getting a vCPU thread out of KVM_RUN.  SIGUSR1 plus
 * kvm_run->immediate_exit, set before the signal under the vCPU's lock, so
 * there is no lost wake-up: a kick that lands just before KVM_RUN makes
 * it return at once.  The lowest file of the vCPU: the thread (vcpu.c)
 * and the run loop (vcpu_run.c) both use it, and it uses neither. */
#include "vcpu/vcpu_priv.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

static __thread struct kvm_run *this_run;

static void kick_handler(int sig)
{
	(void)sig;
	if (this_run)
		this_run->immediate_exit = 1;
}

int kvmfs_vcpu_init_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: KVM_RUN must come back with EINTR. */
	if (sigaction(KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	return 0;
}

void kvmfs_vcpu_kick_bind(struct kvm_run *run)
{
	this_run = run;
}

/* Called with the lock held. */
void kvmfs_vcpu_kick(struct kvmfs_vcpu *v)
{
	if (!v->running)
		return;
	v->run->immediate_exit = 1;
	pthread_kill(v->thread, KICK_SIGNAL);
}
