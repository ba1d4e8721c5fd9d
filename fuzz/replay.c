/* A main() for the fuzz targets where libFuzzer is not available (gcc
 * builds, CI): it feeds every file named on the command line, or found
 * in a directory named there, to LLVMFuzzerTestOneInput once.  Meson
 * runs it over each target's seed corpus and regression inputs, so
 * inputs that once crashed keep being tested by `meson test`. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL, *exact;
	size_t len = 0, cap = 0;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		size_t got;

		if (len == cap) {
			uint8_t *more = realloc(data, cap ? cap * 2 : 4096);

			if (!more) {
				fclose(f);
				free(data);
				return -1;
			}
			data = more;
			cap = cap ? cap * 2 : 4096;
		}
		got = fread(data + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "%s: read error\n", path);
		fclose(f);
		free(data);
		return -1;
	}
	fclose(f);
	/* Exactly len bytes, as libFuzzer gives, so overreads show. */
	exact = realloc(data, len ? len : 1);
	if (!exact) {
		free(data);
		return -1;
	}
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

static int replay_dir(const char *dir, unsigned *count)
{
	struct dirent **names;
	int n, ret = 0;

	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		/* Dot files (.gitkeep, editors' backups) are not inputs. */
		if (names[i]->d_name[0] != '.' &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				     names[i]->d_name) < sizeof(path) &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (replay_file(path) < 0)
				ret = -1;
			else
				(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return ret;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int ret = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			ret = 1;
		} else if (S_ISDIR(st.st_mode)) {
			if (replay_dir(argv[i], &count) < 0)
				ret = 1;
		} else if (replay_file(argv[i]) < 0) {
			ret = 1;
		} else {
			count++;
		}
	}
	if (count == 0) {
		fprintf(stderr, "no inputs replayed\n");
		return 1;
	}
	printf("%s: replayed %u inputs\n", argv[0], count);
	return ret;
}
