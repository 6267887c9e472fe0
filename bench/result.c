/* result.c - writes the result document (--json) so that it is never lost
 * half-way: openat() a temporary name in the target's folder (held open, so a
 * folder renamed mid-run is noticed), fsync(), then renameat() over the
 * target. A device or FIFO is written in place: a rename would replace it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "result.h"

#define TEMP_SUFFIX ".tmp.XXXXXX" /* the temporary name: NAME.tmp.<6 letters>  \
				   */
#define TEMP_TRIES 100		  /* names tried before giving up */

static int open_in_place(struct result_file *file)
{
	/* O_NONBLOCK: a FIFO with no reader fails (ENXIO) instead of hanging */
	file->fd =
	    open(file->path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (file->fd < 0) {
		int err = errno;
		fprintf(stderr, "iostrat: --json %s: cannot write there: %s\n",
			file->path,
			err == ENXIO ? "a FIFO with no reader" : strerror(err));
		return -1;
	}
	fcntl(file->fd, F_SETFL, fcntl(file->fd, F_GETFL) & ~O_NONBLOCK);
	file->in_place = true;
	return 0;
}

/* NAME.tmp.XXXXXX with NAME cut so that the whole fits NAME_MAX; created
 * with O_EXCL in the folder. */
static int open_temp(struct result_file *file)
{
	static const char letters[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	struct timespec now;
	int keep = NAME_MAX - (int)strlen(TEMP_SUFFIX);

	clock_gettime(CLOCK_REALTIME, &now);
	unsigned long long state = (unsigned long long)now.tv_nsec ^
				   ((unsigned long long)getpid() << 32);
	for (int i = 0; i < TEMP_TRIES; i++) {
		int len = snprintf(file->temp_name, sizeof(file->temp_name),
				   "%.*s" TEMP_SUFFIX, keep, file->name);
		for (char *x = file->temp_name + len - 6; *x != '\0'; x++) {
			state = state * 6364136223846793005ULL +
				1442695040888963407ULL;
			*x = letters[(state >> 33) % (sizeof(letters) - 1)];
		}
		file->fd =
		    openat(file->dir_fd, file->temp_name,
			   O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (file->fd >= 0 || errno != EEXIST)
			break;
	}
	if (file->fd < 0) {
		file->temp_name[0] = '\0';
		return -errno;
	}
	return 0;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

int result_open(struct result_file *file, const char *path,
		const char *input_path)
{
	struct stat target, input;
	bool exists = stat(path, &target) == 0;
	int err;

	file->path = path;
	if (exists && input_path != NULL && stat(input_path, &input) == 0 &&
	    same_file(&target, &input)) {
		fprintf(
		    stderr,
		    "iostrat: --json %s is the --urls file: the result would "
		    "overwrite the input\n",
		    path);
		return -1;
	}
	if (exists && S_ISDIR(target.st_mode)) {
		fprintf(stderr, "iostrat: --json %s: a folder, not a file\n",
			path);
		return -1;
	}
	if (exists && !S_ISREG(target.st_mode))
		return open_in_place(file);
	const char *slash = strrchr(path, '/');
	file->name = slash != NULL ? slash + 1 : path;
	file->dir_path = slash == NULL ? strdup(".")
			 : slash == path
			     ? strdup("/")
			     : strndup(path, (size_t)(slash - path));
	if (file->dir_path == NULL)
		return -1;
	if (file->name[0] == '\0' || strcmp(file->name, ".") == 0 ||
	    strcmp(file->name, "..") == 0) {
		fprintf(stderr,
			"iostrat: --json %s: names a folder, not a file\n",
			path);
		return -1;
	}
	file->dir_fd = open(file->dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	err = file->dir_fd < 0 ? -errno : 0;
	if (err == 0 && fstat(file->dir_fd, &file->dir_stat) < 0)
		err = -errno;
	if (err == 0 && strlen(file->name) > NAME_MAX)
		err = -ENAMETOOLONG;
	if (err == 0)
		err = open_temp(file);
	if (err < 0) {
		fprintf(stderr, "iostrat: --json %s: cannot write there: %s\n",
			path, strerror(-err));
		return -1;
	}
	return 0;
}

/* The document into file->fd, through a stdio buffer (json_dumpfd() would make
 * a write() of every fragment); fsync'ed unless written in place. 0 or errno.
 */
static int write_document(struct result_file *file, json_t *doc)
{
	int err = 0;
	FILE *stream = fdopen(file->fd, "w");

	if (stream == NULL)
		return errno;
	file->fd = -1; /* the stream owns it now */
	errno = 0;
	if (json_dumpf(doc, stream, JSON_INDENT(1) | JSON_REAL_PRECISION(9)) <
		0 ||
	    fputc('\n', stream) == EOF || fflush(stream) == EOF)
		err = errno != 0 ? errno : EIO;
	if (err == 0 && !file->in_place && fsync(fileno(stream)) < 0)
		err = errno;
	if (fclose(stream) == EOF && err == 0)
		err = errno;
	return err;
}

/* The folder held open is no longer at dir_path: say where it went, and put the
 * result there rather than lose it. 0 when it was put there, else errno. */
static int folder_moved(struct result_file *file)
{
	char link[64], now_at[PATH_MAX];
	ssize_t len;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", file->dir_fd);
	len = readlink(link, now_at, sizeof(now_at) - 1);
	if (len <= 0 || file->dir_stat.st_nlink == 0 ||
	    strstr(now_at, " (deleted)") != NULL) {
		fprintf(
		    stderr,
		    "iostrat: --json %s: the folder %s was removed during the "
		    "run: the result could not be written\n",
		    file->path, file->dir_path);
		return ENOENT;
	}
	now_at[len] = '\0';
	if (renameat(file->dir_fd, file->temp_name, file->dir_fd, file->name) <
	    0)
		return errno;
	file->temp_name[0] = '\0';
	fprintf(
	    stderr,
	    "iostrat: --json %s: the folder %s was renamed during the run: the "
	    "result is in %s/%s\n",
	    file->path, file->dir_path, now_at, file->name);
	return EXDEV;
}

int result_commit(struct result_file *file, json_t *doc)
{
	struct stat dir_now;
	int err = write_document(file, doc);

	if (err != 0) {
		fprintf(stderr, "iostrat: writing %s: %s\n", file->path,
			strerror(err));
		result_discard(file);
		return -1;
	}
	if (file->in_place)
		return 0;
	fstat(file->dir_fd, &file->dir_stat); /* st_nlink 0: removed */
	if (stat(file->dir_path, &dir_now) < 0 ||
	    !same_file(&dir_now, &file->dir_stat) ||
	    file->dir_stat.st_nlink == 0) {
		err = folder_moved(file);
	} else if (renameat(file->dir_fd, file->temp_name, file->dir_fd,
			    file->name) < 0) {
		err = errno;
		fprintf(stderr, "iostrat: writing %s: %s\n", file->path,
			strerror(err));
	} else {
		file->temp_name[0] = '\0';
		fsync(file->dir_fd);
	}
	result_discard(file);
	return err == 0 ? 0 : -1;
}

void result_discard(struct result_file *file)
{
	if (file->fd >= 0)
		close(file->fd);
	if (file->temp_name[0] != '\0')
		unlinkat(file->dir_fd, file->temp_name, 0);
	if (file->dir_fd >= 0)
		close(file->dir_fd);
	free(file->dir_path);
	file->fd = file->dir_fd = -1;
	file->temp_name[0] = '\0';
	file->dir_path = NULL;
}
