/* vms/NAME/exits: the run answers of every vCPU of a VM, one line each
 * ("cpu N ANSWER"), in the order they came, kept in a ring like the
 * console's; a reader at the end waits for the next one.  So one loop of
 * a script (`while read -r cpu n answer; do ...; done < exits`) can serve
 * the exits of all vCPUs.  Appended from the vCPU threads (their
 * on_answer); read and waited on by the FUSE layer. */
#include "vm/vm_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

struct kvmfs_exits_waiter {
	void (*fn)(void *cookie);
	void *cookie;
	struct kvmfs_exits_waiter *next;
};

/* Detach every waiter (lock held); the caller calls them unlocked. */
static struct kvmfs_exits_waiter *take_waiters(struct kvmfs_vm *vm)
{
	struct kvmfs_exits_waiter *w = vm->exits_waiters;

	vm->exits_waiters = NULL;
	return w;
}

static void call_waiters(struct kvmfs_exits_waiter *w)
{
	while (w) {
		struct kvmfs_exits_waiter *next = w->next;

		w->fn(w->cookie);
		free(w);
		w = next;
	}
}

void kvmfs_vm_exit_note(void *ctx, unsigned cpu, const char *answer)
{
	struct kvmfs_vm *vm = ctx;
	struct kvmfs_exits_waiter *w;
	char line[320];
	int n = snprintf(line, sizeof(line), "cpu %u %s\n", cpu, answer);

	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	pthread_mutex_lock(&vm->exits_lock);
	if (!vm->exits.cap)
		kvmfs_ring_init(&vm->exits, KVMFS_EXITS_RING);
	kvmfs_ring_append(&vm->exits, line, (size_t)n);
	w = take_waiters(vm);
	pthread_mutex_unlock(&vm->exits_lock);
	call_waiters(w);
}

size_t kvmfs_vm_exits_read(struct kvmfs_vm *vm, uint64_t *pos, void *buf,
			   size_t len)
{
	size_t got = 0;

	pthread_mutex_lock(&vm->exits_lock);
	if (vm->exits.cap) {
		if (*pos < kvmfs_ring_start(&vm->exits))
			*pos = kvmfs_ring_start(&vm->exits);
		got = kvmfs_ring_read(&vm->exits, *pos, buf, len);
	}
	pthread_mutex_unlock(&vm->exits_lock);
	return got;
}

int kvmfs_vm_exits_wait(struct kvmfs_vm *vm, uint64_t pos,
			void (*fn)(void *cookie), void *cookie)
{
	struct kvmfs_exits_waiter *w = calloc(1, sizeof(*w));
	int r = 0;

	if (!w)
		return -ENOMEM;
	w->fn = fn;
	w->cookie = cookie;
	pthread_mutex_lock(&vm->exits_lock);
	if (vm->exits_closed) {
		r = -ENOENT;
	} else if (vm->exits.total > pos) {
		r = 1;
	} else {
		w->next = vm->exits_waiters;
		vm->exits_waiters = w;
		w = NULL;
	}
	pthread_mutex_unlock(&vm->exits_lock);
	free(w);
	return r;
}

bool kvmfs_vm_exits_cancel(struct kvmfs_vm *vm, void *cookie)
{
	struct kvmfs_exits_waiter **p, *w = NULL;

	pthread_mutex_lock(&vm->exits_lock);
	for (p = &vm->exits_waiters; *p; p = &(*p)->next) {
		if ((*p)->cookie == cookie) {
			w = *p;
			*p = w->next;
			break;
		}
	}
	pthread_mutex_unlock(&vm->exits_lock);
	free(w);
	return w != NULL;
}

void kvmfs_vm_exits_close(struct kvmfs_vm *vm)
{
	struct kvmfs_exits_waiter *w;

	pthread_mutex_lock(&vm->exits_lock);
	vm->exits_closed = true;
	w = take_waiters(vm);
	pthread_mutex_unlock(&vm->exits_lock);
	call_waiters(w);
}
