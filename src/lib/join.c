/* Writes joined into transactions (join.h). */
#include "lib/join.h"

#include <errno.h>
#include <string.h>

static bool ends_line(const char *s, size_t len)
{
	return len && s[len - 1] == '\n';
}

int kvmfs_join_write(struct kvmfs_join *j, const char *buf, size_t len,
		     GString **apply)
{
	*apply = NULL;
	if (!len)
		return 0;
	if (!j->held) {
		/* Alone, a write is a transaction unless it starts a
		 * line it does not finish after finishing others. */
		if (ends_line(buf, len) || !memchr(buf, '\n', len)) {
			*apply = g_string_new_len(buf, (gssize)len);
			return 0;
		}
		if (len > KVMFS_JOIN_MAX)
			return -EFBIG;
		j->held = g_string_new_len(buf, (gssize)len);
		return 0;
	}
	if (j->held->len + len > KVMFS_JOIN_MAX) {
		kvmfs_join_free(j);
		return -EFBIG;
	}
	g_string_append_len(j->held, buf, (gssize)len);
	if (ends_line(j->held->str, j->held->len)) {
		*apply = j->held;
		j->held = NULL;
	}
	return 0;
}

GString *kvmfs_join_flush(struct kvmfs_join *j)
{
	GString *t = j->held;

	j->held = NULL;
	return t;
}

void kvmfs_join_free(struct kvmfs_join *j)
{
	if (j->held)
		g_string_free(j->held, TRUE);
	j->held = NULL;
}
