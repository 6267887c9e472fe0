/* result.h - the result document's file (--json): checked before any task runs,
 * written to a temporary name in the target's folder and renamed over it when
 * complete; a device or FIFO is written in place, never replaced. */
#ifndef IOSTRAT_RESULT_H
#define IOSTRAT_RESULT_H

#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <jansson.h>

struct result_file {
	const char *path;     /* what --json named */
	char *dir_path;	      /* the folder it is in */
	const char *name;     /* its last component, within path */
	int dir_fd;	      /* that folder, held open, or -1 */
	struct stat dir_stat; /* that folder when the run began */
	char temp_name[NAME_MAX +
		       1]; /* the temporary file in it, "" when none */
	int fd;		   /* open on temp_name, or on the target itself */
	bool in_place;	   /* not a regular file: written where it is */
};

#define RESULT_FILE_INIT                                                       \
	{                                                                      \
		.dir_fd = -1, .fd = -1                                         \
	}

/* Check the target and open what will be written: 0, or -1 after a message
 * (bad arguments: nothing ran). input_path is --urls (or NULL): a result may
 * not overwrite the input. */
int result_open(struct result_file *file, const char *path,
		const char *input_path);
/* Write doc and put it in place: 0, or -1 after a message. */
int result_commit(struct result_file *file, json_t *doc);
/* Close everything; a temporary file not renamed is removed. */
void result_discard(struct result_file *file);

#endif
