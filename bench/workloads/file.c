/* file.c - the file workload: a set of N files of S bytes in one folder, made
 * once (a MANIFEST written last says the set is complete) and reused after;
 * evicted from the page cache with posix_fadvise(POSIX_FADV_DONTNEED), or read
 * once, before timing; measured with mincore(). Each task open()s its file,
 * read()s it end to end in --block pieces and checks every word. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "file.h"
#include "../core/wait.h"

#define FILE_SET_FORMAT 1	 /* bump when the content or the names change */
#define MANIFEST_NAME "MANIFEST" /* written last: the set is complete */
#define MANIFEST_TEMP_NAME                                                     \
	"MANIFEST.tmp" /* renamed to MANIFEST once written and synced */
#define CHUNK_BYTES                                                            \
	(1u << 20) /* bytes per write() when making, per read() warming */
#define MINCORE_PAGES 16384 /* pages mapped at a time to ask mincore() */
#define FD_RESERVE 32	    /* descriptors kept for everything but the files */
#define PROGRESS_MIN_BYTES                                                     \
	(64u << 20) /* sets smaller than this are made without progress */
#define DAMAGE_REPORTS_MAX 5 /* damaged files named before "and N more" */

/* A buffer for making and warming the set, mapped rather than malloc'd: it
 * belongs to the preparation, not to any strategy, so it stays out of the heap
 * figures they are compared by. */
static unsigned char *chunk_map(void)
{
	void *map = mmap(NULL, CHUNK_BYTES, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return map != MAP_FAILED ? map : NULL;
}

static void chunk_unmap(unsigned char *chunk)
{
	if (chunk != NULL)
		munmap(chunk, CHUNK_BYTES);
}

/* The set as this run found it. Static, one per process: the summary reads it
 * after cleanup. */
struct file_set {
	char dir[PATH_MAX]; /* the folder holding the set */
	bool dir_given; /* --dir named it (otherwise it is the per-user default)
			 */
	int dir_fd; /* open on dir: files are opened relative to it (openat) */
	long created_files; /* files this run made, 0 when the set was reused */
	uint64_t pages_total; /* pages of the set's files, as mincore() counts
				 them */
	uint64_t pages_resident;  /* of those, in the page cache when timing
				     began */
	double resident_at_start; /* pages_resident / pages_total, 0..1 */
	long damaged_files; /* files found missing or of the wrong size before
			       timing */
};

static struct file_set file_set = {.dir_fd = -1};

static void file_name(long index, char *buf, size_t len)
{
	snprintf(buf, len, "f%07ld", index);
}

static void file_path(long index, char *buf, size_t len)
{
	snprintf(buf, len, "%s/f%07ld", file_set.dir, index);
}

static uint64_t file_word(long index, uint64_t offset)
{
	return FILE_WORD_MAGIC ^ ((uint64_t)index << 40) ^ offset;
}

/* The byte at offset of file index: a byte of the word that covers it, as
 * memory holds it. */
static unsigned char file_byte(long index, uint64_t offset)
{
	uint64_t word = file_word(index, offset & ~7ULL);
	unsigned char bytes[8];

	memcpy(bytes, &word, sizeof(bytes));
	return bytes[offset & 7];
}

/* What file index holds at [offset, offset+len); offset is a multiple of 8. */
static void fill_content(long index, uint64_t offset, unsigned char *buf,
			 size_t len)
{
	size_t words = len / 8;

	for (size_t k = 0; k < words; k++) {
		uint64_t word = file_word(index, offset + 8 * k);
		memcpy(buf + 8 * k, &word, 8);
	}
	for (size_t k = words * 8; k < len; k++)
		buf[k] = file_byte(index, offset + k);
}

static int file_open(const struct run *run, long index)
{
	char name[FILE_NAME_LEN];
	(void)run;

	file_name(index, name, sizeof(name));
	int fd = openat(file_set.dir_fd, name, O_RDONLY | O_CLOEXEC);
	return fd >= 0 ? fd : -errno;
}

static void task_error(struct task *task, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void task_error(struct task *task, const char *format, ...)
{
	char name[FILE_NAME_LEN];
	va_list args;

	file_name(task->id, name, sizeof(name));
	int len = snprintf(task->error, sizeof(task->error), "%s: ", name);
	va_start(args, format);
	vsnprintf(task->error + len, sizeof(task->error) - (size_t)len, format,
		  args);
	va_end(args);
	task->status = TASK_ERROR;
}

/* A wrong word at offset: say whose content it is, when it is another file's of
 * the set. */
static void wrong_content(struct task *task, uint64_t offset, uint64_t found)
{
	uint64_t other = found ^ FILE_WORD_MAGIC ^ offset;

	if ((other & ((1ULL << 40) - 1)) == 0 &&
	    (long)(other >> 40) != task->id)
		task_error(task,
			   "wrong content at offset %" PRIu64
			   " (it holds f%07ld's)",
			   offset, (long)(other >> 40));
	else
		task_error(task,
			   "wrong content at offset %" PRIu64 " (altered)",
			   offset);
}

/* Two words in one 16-byte vector (GCC and clang vector extensions: SSE2 on
 * x86-64, NEON on arm64), so the check runs at cache speed, several times
 * faster than read() can copy. */
typedef uint64_t word_pair __attribute__((vector_size(16)));

/* The content check: a tight loop over whole words, bytes only at the edges of
 * a piece that does not start or end on a word. */
static int file_check_content(struct task *task, uint64_t offset,
			      const unsigned char *bytes, size_t len)
{
	size_t done = 0;

	for (; done < len && (offset + done) % 8 != 0; done++) {
		if (bytes[done] != file_byte(task->id, offset + done)) {
			task_error(task,
				   "wrong content at offset %" PRIu64
				   " (altered)",
				   offset + done);
			return -1;
		}
	}
	const unsigned char *words = bytes + done;
	size_t word_count = (len - done) / 8;
	uint64_t start = offset + done;
	uint64_t key = FILE_WORD_MAGIC ^ ((uint64_t)task->id << 40);
	word_pair diff = {0, 0};
	word_pair keys = {key, key};
	word_pair at = {start, start + 8};
	word_pair step = {16, 16};
	size_t k = 0;
	for (; k + 2 <= word_count; k += 2) {
		word_pair got;
		memcpy(&got, words + 8 * k, sizeof(got));
		diff |= got ^ keys ^ at;
		at += step;
	}
	uint64_t wrong = diff[0] | diff[1];
	for (; k < word_count; k++) {
		uint64_t got;
		memcpy(&got, words + 8 * k, sizeof(got));
		wrong |= got ^ key ^ (start + 8 * k);
	}
	for (k = 0; wrong != 0 && k < word_count; k++) {
		uint64_t got;
		memcpy(&got, words + 8 * k, sizeof(got));
		if (got != file_word(task->id, start + 8 * k)) {
			wrong_content(task, start + 8 * k, got);
			return -1;
		}
	}
	for (done += word_count * 8; done < len; done++) {
		if (bytes[done] != file_byte(task->id, offset + done)) {
			task_error(task,
				   "wrong content at offset %" PRIu64
				   " (altered)",
				   offset + done);
			return -1;
		}
	}
	return 0;
}

/* What every strategy runs on each piece it read: its length against the
 * file's, then the content (not with --check off), timed into task->work_ns.
 * CLOCK_MONOTONIC (the vDSO, tens of ns) rather than the thread's CPU clock (a
 * system call of some 0.4 us, a fifth of the check of 64 KiB): the check never
 * blocks, so this is its CPU time unless preempted. */
static int file_check(const struct run *run, struct task *task, uint64_t offset,
		      const void *buf, size_t len)
{
	uint64_t size = run->params.file_size_bytes;

	if (offset + len > size) {
		task_error(task, "longer than %" PRIu64 " bytes", size);
		return -1;
	}
	if (run->params.check_off)
		return 0;
	int64_t start_ns = run_now_ns();
	int rc = file_check_content(task, offset, buf, len);
	task->work_ns += run_now_ns() - start_ns;
	return rc;
}

static int file_check_end(const struct run *run, struct task *task,
			  uint64_t end_offset)
{
	if (end_offset == run->params.file_size_bytes)
		return 0;
	task_error(task, "%" PRIu64 " bytes, expected %" PRIu64 " (truncated)",
		   end_offset, run->params.file_size_bytes);
	return -1;
}

/* The blocking task, shared by blocking, processes, threads and epoll's read
 * workers. */
static void file_task_run(struct run *run, struct task *task)
{
	size_t block = (size_t)run->params.block_bytes;
	uint64_t offset = 0;
	unsigned char *buf = malloc(block);

	if (buf == NULL) {
		task_error(task, "no memory for a %zu-byte buffer", block);
		return;
	}
	int fd = file_open(run, task->id);
	if (fd < 0) {
		task_error(task, "open: %s", strerror(-fd));
		goto out_free;
	}
	for (;;) {
		if (run_stopping()) {
			task->status = TASK_CANCELLED;
			break;
		}
		ssize_t got = wait_read(fd, buf, block);
		if (got < 0) {
			int err = errno;
			if (err == EINTR)
				continue;
			task_error(task, "read at offset %" PRIu64 ": %s",
				   offset, strerror(err));
			break;
		}
		if (got == 0) {
			if (file_check_end(run, task, offset) == 0)
				task->status = TASK_OK;
			break;
		}
		if (file_check(run, task, offset, buf, (size_t)got) < 0)
			break;
		offset += (uint64_t)got;
		task->bytes = offset;
	}
	close(fd);
out_free:
	free(buf);
}

/* ---- the set: where it lives, whether it is complete, making it
 * ------------------------- */

static void format_size(uint64_t bytes, char *buf, size_t len)
{
	if (bytes % (1ULL << 30) == 0)
		snprintf(buf, len, "%" PRIu64 "G", bytes >> 30);
	else if (bytes % (1ULL << 20) == 0)
		snprintf(buf, len, "%" PRIu64 "M", bytes >> 20);
	else if (bytes % 1024 == 0)
		snprintf(buf, len, "%" PRIu64 "K", bytes >> 10);
	else
		snprintf(buf, len, "%" PRIu64, bytes);
}

/* ${XDG_CACHE_HOME:-$HOME/.cache}/iostrat/files-<size>: one folder per file
 * size. */
static int default_dir(uint64_t size_bytes, char *buf, size_t len)
{
	const char *cache = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	char size[32];
	int written;

	format_size(size_bytes, size, sizeof(size));
	if (cache != NULL && cache[0] == '/')
		written =
		    snprintf(buf, len, "%s/iostrat/files-%s", cache, size);
	else if (home != NULL && home[0] != '\0')
		written = snprintf(buf, len, "%s/.cache/iostrat/files-%s", home,
				   size);
	else
		return -ENOENT;
	return written > 0 && (size_t)written < len ? 0 : -ENAMETOOLONG;
}

/* mkdir -p: every missing folder of path. 0 or -errno. */
static int make_dirs(const char *path)
{
	char partial[PATH_MAX];

	if (strlen(path) >= sizeof(partial))
		return -ENAMETOOLONG;
	strcpy(partial, path);
	for (char *slash = strchr(partial + 1, '/'); slash != NULL;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(partial, 0755) < 0 && errno != EEXIST)
			return -errno;
		*slash = '/';
	}
	if (mkdir(partial, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* The manifest: "iostrat file set", then format, count and size_bytes, one a
 * line. 0 and the figures when it is there and well-formed, -1 otherwise. */
static int read_manifest(int dir_fd, long *count, uint64_t *size_bytes)
{
	int format = 0;
	int fd = openat(dir_fd, MANIFEST_NAME, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	FILE *manifest = fdopen(fd, "r");
	if (manifest == NULL) {
		close(fd);
		return -1;
	}
	int fields = fscanf(
	    manifest,
	    "iostrat file set\nformat %d\ncount %ld\nsize_bytes %" SCNu64,
	    &format, count, size_bytes);
	fclose(manifest);
	return fields == 3 && format == FILE_SET_FORMAT && *count > 0 ? 0 : -1;
}

static int write_manifest(int dir_fd, long count, uint64_t size_bytes)
{
	char text[128];
	int err = 0;
	int len = snprintf(
	    text, sizeof(text),
	    "iostrat file set\nformat %d\ncount %ld\nsize_bytes %" PRIu64 "\n",
	    FILE_SET_FORMAT, count, size_bytes);
	int fd = openat(dir_fd, MANIFEST_TEMP_NAME,
			O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	if (write(fd, text, (size_t)len) != len)
		err = errno != 0 ? errno : ENOSPC;
	if (err == 0 && fsync(fd) < 0)
		err = errno;
	if (close(fd) < 0 && err == 0)
		err = errno;
	if (err == 0 &&
	    renameat(dir_fd, MANIFEST_TEMP_NAME, dir_fd, MANIFEST_NAME) < 0)
		err = errno;
	if (err != 0) {
		unlinkat(dir_fd, MANIFEST_TEMP_NAME, 0);
		return -err;
	}
	fsync(dir_fd);
	return 0;
}

static void print_progress(long done, long total, uint64_t size_bytes,
			   int64_t *last_ns, bool end)
{
	bool tty = isatty(STDERR_FILENO);
	int64_t now = run_now_ns();

	if (!end && now - *last_ns < (tty ? 250000000LL : 2000000000LL))
		return;
	*last_ns = now;
	fprintf(stderr,
		"%siostrat: making the file set: %ld of %ld files (%.0f MiB)%s",
		tty ? "\r" : "", done, total,
		(double)done * (double)size_bytes / 1048576.0,
		tty && !end ? "" : "\n");
}

/* Write one file of the set: 0 or -errno. */
static int write_file(int dir_fd, long index, uint64_t size_bytes,
		      unsigned char *buf)
{
	char name[FILE_NAME_LEN];
	int err = 0;

	file_name(index, name, sizeof(name));
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			0644);
	if (fd < 0)
		return -errno;
	for (uint64_t offset = 0; offset < size_bytes && err == 0;) {
		if (run_stopping()) { /* a large file takes long: Ctrl-C is seen
					 per chunk */
			err = EINTR;
			break;
		}
		size_t len = size_bytes - offset < CHUNK_BYTES
				 ? (size_t)(size_bytes - offset)
				 : CHUNK_BYTES;
		fill_content(index, offset, buf, len);
		ssize_t written = write(fd, buf, len);
		if (written < 0 && errno == EINTR)
			continue;
		if (written < 0)
			err = errno;
		else if (written == 0)
			err = ENOSPC;
		else
			offset += (uint64_t)written; /* a short write: the next
							one says why */
	}
	if (close(fd) < 0 && err == 0)
		err = errno;
	return -err;
}

/* Make files first .. count-1, then sync the file system and write the
 * manifest. On any failure every file this call wrote is removed again, so no
 * half-made set is left behind. */
static int make_files(struct run *run, long first, long count)
{
	uint64_t size_bytes = run->params.file_size_bytes;
	bool progress =
	    (uint64_t)(count - first) * size_bytes >= PROGRESS_MIN_BYTES;
	unsigned char *buf = chunk_map();
	char failed[FILE_NAME_LEN + 16] = "";
	char size[32];
	int64_t last_ns = run_now_ns();
	long made = first; /* files first .. made-1 are (being) written */
	int err = 0;

	if (buf == NULL)
		return -ENOMEM;
	format_size(size_bytes, size, sizeof(size));
	fprintf(stderr, "iostrat: making the file set: %ld files of %s in %s\n",
		count - first, size, file_set.dir);
	while (made < count) {
		err = run_stopping()
			  ? EINTR
			  : -write_file(file_set.dir_fd, made, size_bytes, buf);
		made++;
		if (err != 0) {
			file_name(made - 1, failed, sizeof(failed));
			goto out_remove;
		}
		if (progress)
			print_progress(made - first, count - first, size_bytes,
				       &last_ns, false);
	}
	if (syncfs(file_set.dir_fd) < 0) {
		err = errno;
		snprintf(failed, sizeof(failed), "syncfs");
		goto out_remove;
	}
	err = -write_manifest(file_set.dir_fd, count, size_bytes);
	if (err != 0) {
		snprintf(failed, sizeof(failed), "%s", MANIFEST_NAME);
		goto out_remove;
	}
	if (progress)
		print_progress(count - first, count - first, size_bytes,
			       &last_ns, true);
	chunk_unmap(buf);
	file_set.created_files = count - first;
	return 0;
out_remove:
	for (long i = first; i < made; i++) {
		char name[FILE_NAME_LEN];
		file_name(i, name, sizeof(name));
		unlinkat(file_set.dir_fd, name, 0);
	}
	fprintf(stderr,
		"%siostrat: making the file set in %s: %s: %s; removed the %ld "
		"file%s this "
		"run wrote, so no incomplete set is left\n",
		progress && isatty(STDERR_FILENO) ? "\n" : "", file_set.dir,
		failed, strerror(err), made - first,
		made - first == 1 ? "" : "s");
	chunk_unmap(buf);
	return -err;
}

/* As root, permissions do not stop a write, but a read-only mount or an
 * immutable folder does: try to create a file there rather than guess with
 * access(). 0 or -errno. */
static int probe_writable(int dir_fd)
{
	int fd = openat(dir_fd, MANIFEST_TEMP_NAME,
			O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	close(fd);
	unlinkat(dir_fd, MANIFEST_TEMP_NAME, 0);
	return 0;
}

/* Refuse a set the file system has no room for (statvfs), rather than fill
 * it: 0, or -1 after a message. */
static int check_free_space(const struct run *run, long first, long count)
{
	uint64_t size_bytes = run->params.file_size_bytes;
	uint64_t files = (uint64_t)(count - first);
	struct statvfs fs;
	char size[32];

	if (fstatvfs(file_set.dir_fd, &fs) < 0)
		return 0; /* no figure: the writes will say when the disk is
			     full */
	uint64_t free_bytes = (uint64_t)fs.f_bavail * fs.f_frsize;
	if (size_bytes <= free_bytes / files)
		return 0;
	format_size(size_bytes, size, sizeof(size));
	fprintf(stderr,
		"iostrat: %s %s: the file set needs %ld files of %s (%.1f "
		"GiB), and "
		"the file system has %.1f GiB free: give a smaller --size or "
		"-n, or "
		"another --dir\n",
		run->params.dir != NULL ? "--dir" : "the default --dir",
		file_set.dir, count - first, size,
		(double)files * (double)size_bytes / 1073741824.0,
		(double)free_bytes / 1073741824.0);
	return -1;
}

/* Find the folder, create it when missing, and decide: reuse the set, add
 * files, or make it. */
static int open_set(struct run *run)
{
	const char *option =
	    run->params.dir != NULL ? "--dir" : "the default --dir";
	long tasks = run->params.tasks;
	uint64_t size_bytes = run->params.file_size_bytes;
	long count = 0;
	uint64_t found_size = 0;
	struct stat info;
	int err;

	file_set.dir_given = run->params.dir != NULL;
	if (file_set.dir_given) {
		if (strlen(run->params.dir) >= sizeof(file_set.dir)) {
			fprintf(stderr, "iostrat: --dir %s: %s\n",
				run->params.dir, strerror(ENAMETOOLONG));
			return -1;
		}
		strcpy(file_set.dir, run->params.dir);
	} else if ((err = default_dir(size_bytes, file_set.dir,
				      sizeof(file_set.dir))) < 0) {
		fprintf(stderr,
			"iostrat: no folder for the file set (HOME is not "
			"set): %s; "
			"name one with --dir\n",
			strerror(-err));
		return -1;
	}
	if (stat(file_set.dir, &info) == 0 && !S_ISDIR(info.st_mode)) {
		fprintf(stderr, "iostrat: %s %s: not a folder\n", option,
			file_set.dir);
		return -1;
	}
	err = make_dirs(file_set.dir);
	if (err < 0) {
		fprintf(stderr, "iostrat: %s %s: cannot create it: %s\n",
			option, file_set.dir, strerror(-err));
		return -1;
	}
	file_set.dir_fd =
	    open(file_set.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (file_set.dir_fd < 0) {
		fprintf(stderr, "iostrat: %s %s: cannot open it: %s\n", option,
			file_set.dir, strerror(errno));
		return -1;
	}
	long first = 0;
	bool same_set =
	    read_manifest(file_set.dir_fd, &count, &found_size) == 0 &&
	    found_size == size_bytes;
	if (same_set && count >= tasks)
		return 0; /* reused: the tasks check the content as they read it
			   */
	err = probe_writable(file_set.dir_fd);
	if (err < 0) {
		fprintf(stderr,
			"iostrat: %s %s: not writable, and the file set must "
			"be made there: "
			"%s\n",
			option, file_set.dir, strerror(-err));
		return -1;
	}
	if (same_set) {
		first = count; /* the same set, too few files: add the missing
				  ones */
	} else if (unlinkat(file_set.dir_fd, MANIFEST_NAME, 0) < 0 &&
		   errno != ENOENT) {
		fprintf(stderr,
			"iostrat: %s %s: cannot remove the old %s: %s\n",
			option, file_set.dir, MANIFEST_NAME, strerror(errno));
		return -1;
	}
	if (check_free_space(run, first, tasks) < 0)
		return -1;
	return make_files(run, first, tasks) < 0 ? -1 : 0;
}

/* ---- before timing: cache state, the descriptor limit
 * ------------------------------------ */

static void report_damage(const char *name, const char *what)
{
	file_set.damaged_files++;
	if (file_set.damaged_files <= DAMAGE_REPORTS_MAX)
		fprintf(stderr,
			"iostrat: file set %s: %s: %s: its task will fail "
			"(remove %s/%s to "
			"make the set again)\n",
			file_set.dir, name, what, file_set.dir, MANIFEST_NAME);
}

/* Bring the set to the cache state asked for: cold drops every file's pages
 * (dirty pages cannot be dropped, hence the fdatasync first); warm reads every
 * file once. Missing files and wrong sizes are reported here, and their tasks
 * fail when they read them. */
static void set_cache_state(struct run *run)
{
	unsigned char *buf =
	    run->params.cache == CACHE_WARM ? chunk_map() : NULL;
	char name[FILE_NAME_LEN];
	char what[96];

	for (long i = 0; i < run->params.tasks && !run_stopping(); i++) {
		struct stat info;
		file_name(i, name, sizeof(name));
		int fd = file_open(run, i);
		if (fd < 0) {
			report_damage(name, strerror(-fd));
			continue;
		}
		if (fstat(fd, &info) == 0 &&
		    (uint64_t)info.st_size != run->params.file_size_bytes) {
			snprintf(what, sizeof(what),
				 "%lld bytes, expected %" PRIu64,
				 (long long)info.st_size,
				 run->params.file_size_bytes);
			report_damage(name, what);
		}
		if (run->params.cache == CACHE_COLD) {
			fdatasync(fd);
			posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		} else if (buf != NULL) {
			while (read(fd, buf, CHUNK_BYTES) > 0 &&
			       !run_stopping())
				;
		}
		close(fd);
	}
	if (file_set.damaged_files > DAMAGE_REPORTS_MAX)
		fprintf(stderr,
			"iostrat: file set %s: and %ld more damaged files\n",
			file_set.dir,
			file_set.damaged_files - DAMAGE_REPORTS_MAX);
	chunk_unmap(buf);
}

/* How much of the set is in the page cache: mincore() on a mapping of each
 * file. */
static void measure_resident(struct run *run)
{
	uint64_t span_max = MINCORE_PAGES * (uint64_t)sysconf(_SC_PAGESIZE);
	unsigned char vec[MINCORE_PAGES]; /* one byte a page: bit 0 says
					     resident */

	file_set.pages_total = 0;
	file_set.pages_resident = 0;
	for (long i = 0; i < run->params.tasks; i++) {
		struct stat info;
		int fd = file_open(run, i);
		if (fd < 0)
			continue;
		uint64_t size =
		    fstat(fd, &info) == 0 ? (uint64_t)info.st_size : 0;
		for (uint64_t offset = 0; offset < size; offset += span_max) {
			size_t span =
			    (size_t)(size - offset < span_max ? size - offset
							      : span_max);
			size_t pages =
			    (span + (size_t)sysconf(_SC_PAGESIZE) - 1) /
			    (size_t)sysconf(_SC_PAGESIZE);
			void *map = mmap(NULL, span, PROT_READ, MAP_SHARED, fd,
					 (off_t)offset);
			if (map == MAP_FAILED)
				break;
			if (mincore(map, span, vec) == 0) {
				for (size_t p = 0; p < pages; p++)
					file_set.pages_resident += vec[p] & 1;
				file_set.pages_total += pages;
			}
			munmap(map, span);
		}
		close(fd);
	}
	file_set.resident_at_start =
	    file_set.pages_total > 0
		? (double)file_set.pages_resident / (double)file_set.pages_total
		: 0;
}

static int file_prepare(struct run *run)
{
	if (open_set(run) < 0)
		return -1;
	run->workload_state = &file_set;
	/* threads and an event loop hold their tasks' files in one process */
	run_bound_jobs(run, FD_RESERVE, "files");
	set_cache_state(run);
	measure_resident(run);
	if (run->params.cache == CACHE_COLD &&
	    file_set.resident_at_start > 0.05)
		fprintf(stderr,
			"iostrat: --cache cold: %.0f%% of the file set was "
			"still in the page "
			"cache when timing began (a tmpfs folder cannot be "
			"evicted): this run "
			"is not a cold one\n",
			file_set.resident_at_start * 100);
	return 0;
}

/* ---- what a run reports
 * ------------------------------------------------------------------ */

static void file_describe(const struct run *run, const struct task *task,
			  char *buf, size_t len)
{
	char name[FILE_NAME_LEN];

	file_name(task->id, name, sizeof(name));
	snprintf(buf, len, "File: %s/%s, %" PRIu64 " bytes", file_set.dir, name,
		 run->params.file_size_bytes);
}

static uint64_t bytes_total(const struct run *run)
{
	uint64_t total = 0;

	for (long i = 0; i < run->params.tasks; i++)
		total += run->tasks[i].bytes;
	return total;
}

static double throughput_bytes_per_s(const struct run *run)
{
	double wall_s = (double)(run->end_ns - run->start_ns) / 1e9;
	return wall_s > 0 ? (double)bytes_total(run) / wall_s : 0;
}

static void file_params_json(const struct run *run, json_t *params)
{
	const struct params *p = &run->params;

	json_object_set_new(params, "size_bytes",
			    json_integer((json_int_t)p->file_size_bytes));
	json_object_set_new(params, "block_bytes",
			    json_integer((json_int_t)p->block_bytes));
	json_object_set_new(params, "dir", json_string(file_set.dir));
	json_object_set_new(
	    params, "cache",
	    json_string(p->cache == CACHE_WARM ? "warm" : "cold"));
	/* null where the strategy has no file pool: the options do not apply */
	json_object_set_new(params, "pool",
			    p->file_pool ? json_integer(p->pool_threads)
					 : json_null());
	json_object_set_new(params, "inline",
			    p->file_pool ? json_boolean(p->inline_reads)
					 : json_null());
	json_object_set_new(params, "check",
			    json_string(p->check_off ? "off" : "on"));
}

/* Seconds all tasks spent in the content check. */
static double check_s(const struct run *run)
{
	int64_t total_ns = 0;

	for (long i = 0; i < run->params.tasks; i++)
		total_ns += run->tasks[i].work_ns;
	return (double)total_ns / 1e9;
}

static void file_summary_json(const struct run *run, json_t *summary)
{
	json_object_set_new(summary, "bytes_total",
			    json_integer((json_int_t)bytes_total(run)));
	json_object_set_new(summary, "throughput_bytes_per_s",
			    json_real(throughput_bytes_per_s(run)));
	json_object_set_new(summary, "resident_at_start",
			    json_real(file_set.resident_at_start));
	json_object_set_new(summary, "files_created",
			    json_integer(file_set.created_files));
	json_object_set_new(summary, "check_s",
			    run->params.check_off ? json_null()
						  : json_real(check_s(run)));
}

static void file_print_summary(const struct run *run)
{
	char size[32], block[32];

	format_size(run->params.file_size_bytes, size, sizeof(size));
	format_size(run->params.block_bytes, block, sizeof(block));
	printf("  read %.1f MiB (%ld files of %s, %s per read()) at %.1f "
	       "MiB/s; %.1f%% of the set "
	       "in the page cache at start (--cache %s)\n",
	       (double)bytes_total(run) / 1048576.0, run->params.tasks, size,
	       block, throughput_bytes_per_s(run) / 1048576.0,
	       file_set.resident_at_start * 100,
	       run->params.cache == CACHE_WARM ? "warm" : "cold");
	if (run->params.check_off)
		printf("  content check: off (--check off): only the length "
		       "was checked\n");
	else
		printf("  content check: %.4f s in all tasks\n", check_s(run));
}

static void file_cleanup(struct run *run)
{
	(void)run;
	if (file_set.dir_fd >= 0)
		close(file_set.dir_fd);
	file_set.dir_fd = -1;
}

const struct file_ops file_ops = {
    .open = file_open,
    .name = file_name,
    .path = file_path,
    .check = file_check,
    .check_end = file_check_end,
};

const struct workload workload_file = {
    .name = "file",
    .summary = "each task reads one file of a set end to end (--size, --block, "
	       "--cache)",
    .kind = WORKLOAD_FILE,
    .delays_known = false,
    .prepare = file_prepare,
    .task_run = file_task_run,
    .describe = file_describe,
    .params_json = file_params_json,
    .summary_json = file_summary_json,
    .print_summary = file_print_summary,
    .cleanup = file_cleanup,
    .file = &file_ops,
};
