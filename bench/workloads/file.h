/* file.h - the file workload: task i reads file i of a set end to end and checks what it read.
 * The content is a pure function of (file, offset), so any strategy can check it as it reads:
 * the 8-byte word at offset o of file i is FILE_WORD_MAGIC ^ (i << 40) ^ o, in the machine's
 * byte order (the set is a cache, made where it is read). */
#ifndef IOSTRAT_FILE_H
#define IOSTRAT_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "../core/workload.h"

#define FILE_WORD_MAGIC 0x696f73747261740aULL /* "iostrat\n" read as a big-endian word */
#define FILE_NAME_LEN 24		      /* "f0000123", room for any long index */

/* What an event loop needs to read the set itself, instead of calling task_run. */
struct file_ops {
	/* Open file `index` of the set read-only: a descriptor, or -errno. */
	int (*open)(const struct run *run, long index);
	/* The file's name inside the set's folder ("f0000003"), for messages. */
	void (*name)(long index, char *buf, size_t len);
	/* Its path (the set's folder, then the name), for a loop whose open takes a path. */
	void (*path)(long index, char *buf, size_t len);
	/* Check len bytes read at offset of the task's file. 0 when they are what the set holds;
	 * -1 with task->status = TASK_ERROR and task->error saying where and why. */
	int (*check)(const struct run *run, struct task *task, uint64_t offset, const void *buf,
		     size_t len);
	/* read() returned 0 at end_offset: 0 when that is the file's full size, otherwise -1 with
	 * the error set (the file was truncated). */
	int (*check_end)(const struct run *run, struct task *task, uint64_t end_offset);
};

extern const struct file_ops file_ops;
extern const struct workload workload_file;

#endif
