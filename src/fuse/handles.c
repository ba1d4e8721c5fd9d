/* The handles (open files, open directories) the kernel holds, kept in
 * sets so that those never released (the server was told to exit first)
 * are freed at exit. */
#include "fuse/fs_priv.h"

void kvmfs_handles_add(struct kvmfs_handles *s, GList *link)
{
	pthread_mutex_lock(&s->lock);
	g_queue_push_tail_link(&s->live, link);
	pthread_mutex_unlock(&s->lock);
}

void kvmfs_handles_release(struct kvmfs_handles *s, GList *link)
{
	pthread_mutex_lock(&s->lock);
	g_queue_unlink(&s->live, link);
	pthread_mutex_unlock(&s->lock);
	s->free_one(link->data);
}

void kvmfs_handles_free_all(struct kvmfs_handles *s)
{
	GList *l;

	pthread_mutex_lock(&s->lock);
	while ((l = g_queue_pop_head_link(&s->live)))
		s->free_one(l->data);
	pthread_mutex_unlock(&s->lock);
}


