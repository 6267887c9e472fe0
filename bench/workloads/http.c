/* http.c - the tutorial's showpiece: fetch reddit-style listings with libcurl, require status
 * 200, parse every body with jansson and print each listing as it arrives. The blocking task is
 * curl_easy_perform() on one easy handle per thread, reused so connections are kept alive; the
 * event loops use the same easy_setup/easy_done hooks (bench/http.h) around their own waiting. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "http.h"
#include "../core/log.h"
#include "../core/units.h"
#include "../core/version.h"
#include "../core/wait.h"
#include "../core/workload.h"

#define HTTP_LISTING_LIMIT 5		 /* posts asked for in each listing */
#define HTTP_DELAY_MAX_NS 999999000000LL /* the local server holds at most 999.999 s */
#define HTTP_BODY_MAX_BYTES (64u << 20)	 /* a body larger than this fails the task */
#define HTTP_BODY_FIRST_BYTES 4096	 /* a body buffer starts this large */
#define HTTP_MAX_REDIRECTS 5		 /* redirects followed, as aiohttp does */
#define HTTP_URL_MAX 2048		 /* longest URL read from --urls or a state file */
#define HTTP_URLS_MAX_BYTES (64u << 20)	 /* a --urls source longer than this is refused */
#define HTTP_URLS_CHUNK_BYTES 65536	 /* bytes per read() of --urls */
#define HTTP_ARENA_PER_BODY_BYTE 8	 /* arena bytes per body byte: a listing takes ~7 */
#define HTTP_ARENA_MAX_BYTES (1u << 20)	 /* past this, a parse takes the rest from malloc */

/* The subreddits that scripts/httpd serves (its SUBREDDITS): the default target cycles them. */
static const char *const http_subreddits[] = {
    "python",	     "programming",	 "compsci", "linux",
    "c_programming", "learnprogramming", "golang",  "rust",
};

/* What every process and thread of a run adds to: a shared mapping, so that forked children
 * add theirs too; updated with atomic operations. */
struct http_shared {
	uint64_t connections; /* new connections made by every transfer */
	long threads_peak;    /* most threads seen in one process while a host name resolved */
};

/* The workload's state for one run (run->workload_state). */
struct http_state {
	char **urls;		    /* what the tasks fetch: task i fetches urls[i % url_count] */
	int64_t *url_delays_ns;	    /* what the server holds each one (its delay=) */
	long url_count;		    /* entries in urls */
	long url_capacity;	    /* entries allocated in urls and url_delays_ns */
	struct http_shared *shared; /* counters every process and thread adds to */
	pthread_key_t easy_key;	    /* each thread's struct http_thread */
	bool easy_key_made;	    /* easy_key exists */
	bool curl_ready;	    /* curl_global_init succeeded */
};

/* One transfer in progress: what easy_setup hands to easy_done. */
struct http_transfer {
	struct http_shared *shared;	  /* the run's counters */
	bool resolving;			  /* a name lookup began: count threads while it runs */
	char *body;			  /* the response body, NUL-terminated */
	size_t body_bytes;		  /* bytes in body */
	size_t body_capacity;		  /* bytes allocated for body */
	bool body_too_large;		  /* the body went past HTTP_BODY_MAX_BYTES */
	bool body_discard;		  /* --body discard: counted, not kept */
	int socket_errno;		  /* why socket() failed (EMFILE...), or 0 */
	char curl_error[CURL_ERROR_SIZE]; /* libcurl's own words on a failure */
};

/* The result document and the printed summary are written after the workload's cleanup has
 * run (so that the heap figure at the end is the program's own): what they need is kept here. */
static struct {
	uint64_t connections;	   /* new connections made by every transfer */
	char target[HTTP_URL_MAX]; /* the local server's base URL, "" for --url or --urls */
} http_report;

/* ---- the parse's memory ------------------------------------------------------------------ */

/* jansson makes a malloc() for every value it parses (some 150 for a listing of 5 posts) and a
 * free() for each in json_decref(). With thousands of transfers in flight the heap is
 * fragmented and those calls cost as much as the parse itself: a body is parsed into an arena
 * instead, one block handed out front to back and freed whole once the document is freed.
 * jansson's allocator is global (json_set_alloc_funcs), the arena in use is per thread. */
struct http_arena {
	char *bytes; /* the block */
	size_t len;  /* its size in bytes */
	size_t used; /* bytes handed out */
};

static __thread struct http_arena *http_arena_current; /* the parse going on in this thread */

static bool http_arena_holds(const struct http_arena *arena, const void *pointer)
{
	uintptr_t at = (uintptr_t)pointer;
	uintptr_t start = (uintptr_t)arena->bytes;

	return at >= start && at - start < arena->len;
}

static void *http_json_malloc(size_t size)
{
	struct http_arena *arena = http_arena_current;
	size_t rounded = (size + 15) & ~(size_t)15; /* malloc's alignment */

	if (arena != NULL && rounded >= size && rounded <= arena->len - arena->used) {
		void *pointer = arena->bytes + arena->used;
		arena->used += rounded;
		return pointer;
	}
	return malloc(size); /* no parse going on, or the arena is full */
}

static void http_json_free(void *pointer)
{
	struct http_arena *arena = http_arena_current;

	if (arena != NULL && http_arena_holds(arena, pointer))
		return; /* freed with the arena */
	free(pointer);
}

/* ---- URLs ---------------------------------------------------------------------------- */

/* The delay=<seconds> a URL's query already holds: 1 and *delay_ns when there
 * is one (-1 when it is not decimal seconds, which the server refuses), else 0.
 */
static int http_query_delay(CURLU *url, int64_t *delay_ns)
{
	char *query = NULL;
	int found = 0;

	if (curl_url_get(url, CURLUPART_QUERY, &query, 0) != CURLUE_OK)
		return 0;
	for (char *item = query; item != NULL && *item != '\0';) {
		size_t len = strcspn(item, "&");
		if (strncmp(item, "delay=", 6) == 0) {
			char value[32];
			snprintf(value, sizeof(value), "%.*s", (int)len - 6, item + 6);
			found = 1;
			*delay_ns = -1;
			if (strspn(value, "0123456789.") == strlen(value) &&
			    !units_parse_duration(value, delay_ns))
				*delay_ns = -1;
		}
		item += len + (item[len] == '&');
	}
	curl_free(query);
	return found;
}

/* Check that text is an http or https URL, append delay=<seconds> to its query
 * when --delay was given (delay_ns >= 0; a URL that holds a delay= of its own
 * then is refused), and return it normalised in *out (malloc'ed), with what
 * the server holds it in *held_ns. 0, or -1 with why filled. */
static int http_url_make(const char *text, int64_t delay_ns, char **out,
			 int64_t *held_ns, char *why, size_t why_len)
{
	CURLU *url = curl_url();
	char *scheme = NULL;
	char *host = NULL;
	char *full = NULL;
	CURLUcode rc;
	int result = -1;

	*out = NULL;
	*held_ns = delay_ns > 0 ? delay_ns : 0;
	for (const char *c = text; *c != '\0'; c++) {
		if (isspace((unsigned char)*c) || iscntrl((unsigned char)*c)) {
			snprintf(why, why_len,
				 "it holds white space or a control character "
				 "(write a space as %%20)");
			curl_url_cleanup(url);
			return -1;
		}
	}
	if (url == NULL) {
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	rc = curl_url_set(url, CURLUPART_URL, text, 0);
	if (rc != CURLUE_OK) {
		snprintf(why, why_len, "%s", curl_url_strerror(rc));
		goto out_free_url;
	}
	rc = curl_url_get(url, CURLUPART_SCHEME, &scheme, 0);
	if (rc != CURLUE_OK || (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
		snprintf(why, why_len, "the scheme is %s: only http and https URLs are fetched",
			 scheme != NULL ? scheme : "missing");
		goto out_free_url;
	}
	rc = curl_url_get(url, CURLUPART_HOST, &host, 0);
	if (rc != CURLUE_OK || host[0] == '\0') {
		snprintf(why, why_len, "no host name");
		goto out_free_url;
	}
	int64_t own_ns = 0;
	if (http_query_delay(url, &own_ns) && delay_ns >= 0) {
		snprintf(why, why_len,
			 "it holds a delay= of its own, and --delay says another: "
			 "give one");
		goto out_free_url;
	}
	if (delay_ns < 0 && own_ns > 0)
		*held_ns = own_ns; /* the server holds it that long: the ideal */
	if (delay_ns > 0) {
		char query[32];
		snprintf(query, sizeof(query), "delay=%lld.%03lld",
			 (long long)(delay_ns / 1000000000LL),
			 (long long)(delay_ns % 1000000000LL / 1000000LL));
		rc = curl_url_set(url, CURLUPART_QUERY, query, CURLU_APPENDQUERY);
		if (rc != CURLUE_OK) {
			snprintf(why, why_len, "adding %s: %s", query, curl_url_strerror(rc));
			goto out_free_url;
		}
	}
	rc = curl_url_get(url, CURLUPART_URL, &full, 0);
	if (rc != CURLUE_OK) {
		snprintf(why, why_len, "%s", curl_url_strerror(rc));
		goto out_free_url;
	}
	*out = strdup(full);
	if (*out == NULL) {
		snprintf(why, why_len, "out of memory");
		goto out_free_url;
	}
	result = 0;
out_free_url:
	curl_free(full);
	curl_free(host);
	curl_free(scheme);
	curl_url_cleanup(url);
	return result;
}

/* Append a URL; the list doubles when full, so a long --urls file costs a
 * linear time. */
static int http_add_url(struct http_state *state, char *url, int64_t held_ns)
{
	if (state->url_count == state->url_capacity) {
		long capacity = state->url_capacity > 0 ? 2 * state->url_capacity : 16;
		char **urls = realloc(state->urls, (size_t)capacity * sizeof(*urls));
		if (urls != NULL)
			state->urls = urls;
		int64_t *delays = realloc(state->url_delays_ns,
					  (size_t)capacity * sizeof(*delays));
		if (delays != NULL)
			state->url_delays_ns = delays;
		if (urls == NULL || delays == NULL) {
			free(url);
			fprintf(stderr, "iostrat: out of memory for the URL list\n");
			return -1;
		}
		state->url_capacity = capacity;
	}
	state->url_delays_ns[state->url_count] = held_ns;
	state->urls[state->url_count++] = url;
	return 0;
}

/* Strip trailing white space (and the newline) in place; returns the line's start past any
 * leading white space. */
static char *http_trim(char *line)
{
	size_t len = strlen(line);
	while (len > 0 && strchr(" \t\r\n", line[len - 1]) != NULL)
		line[--len] = '\0';
	while (*line == ' ' || *line == '\t')
		line++;
	return line;
}

/* One line of --urls: blank lines and lines starting with '#' are skipped. */
static int http_url_line(struct http_state *state, const char *path,
			 long line_number, char *line, int64_t delay_ns)
{
	char why[160];
	char *url;
	int64_t held_ns;
	char *text = http_trim(line);

	if (text[0] == '\0' || text[0] == '#')
		return 0;
	if (http_url_make(text, delay_ns, &url, &held_ns, why, sizeof(why)) < 0) {
		fprintf(stderr,
			"iostrat: --urls %s, line %ld: '%s' is not a URL iostrat "
			"fetches: %s\n",
			path, line_number, text, why);
		return -1;
	}
	return http_add_url(state, url, held_ns);
}

/* --urls FILE: one URL a line, read with read() so that every limit holds
 * whatever FILE is (a FIFO, /dev/zero): HTTP_URL_MAX bytes a line,
 * HTTP_URLS_MAX_BYTES in all, and Ctrl-C stops the reading. */
static int http_read_url_file(struct http_state *state, const char *path,
			      int64_t delay_ns)
{
	char line[HTTP_URL_MAX + 1];
	size_t line_len = 0;
	long line_number = 1;
	uint64_t total_bytes = 0;
	int result = -1;
	struct stat info;
	char *chunk = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC); /* a FIFO waits for a writer */

	if (fd < 0) {
		fprintf(stderr, "iostrat: --urls %s: %s\n", path,
			run_stopping() ? "interrupted while opening it"
				       : strerror(errno));
		return -1;
	}
	if (fstat(fd, &info) == 0 && S_ISREG(info.st_mode) &&
	    (uint64_t)info.st_size > HTTP_URLS_MAX_BYTES) {
		fprintf(stderr, "iostrat: --urls %s: larger than %u MiB\n", path,
			HTTP_URLS_MAX_BYTES >> 20);
		goto out_close;
	}
	chunk = malloc(HTTP_URLS_CHUNK_BYTES);
	if (chunk == NULL) {
		fprintf(stderr, "iostrat: --urls %s: out of memory\n", path);
		goto out_close;
	}
	for (;;) {
		ssize_t got = read(fd, chunk, HTTP_URLS_CHUNK_BYTES);
		if (run_stopping()) {
			fprintf(stderr, "iostrat: --urls %s: interrupted while reading it\n",
				path);
			goto out_close;
		}
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			fprintf(stderr, "iostrat: --urls %s: %s\n", path, strerror(errno));
			goto out_close;
		}
		if (got == 0)
			break;
		total_bytes += (uint64_t)got;
		if (total_bytes > HTTP_URLS_MAX_BYTES) {
			fprintf(stderr,
				"iostrat: --urls %s: more than %u MiB: not a list of URLs\n",
				path, HTTP_URLS_MAX_BYTES >> 20);
			goto out_close;
		}
		for (ssize_t i = 0; i < got; i++) {
			if (chunk[i] == '\n') {
				line[line_len] = '\0';
				if (http_url_line(state, path, line_number, line, delay_ns) < 0)
					goto out_close;
				line_len = 0;
				line_number++;
			} else if (chunk[i] == '\0' || line_len == HTTP_URL_MAX) {
				fprintf(stderr,
					"iostrat: --urls %s, line %ld: %s\n", path, line_number,
					chunk[i] == '\0'
					    ? "a NUL byte: not a list of URLs"
					    : "longer than the longest URL iostrat takes "
					      "(2048 bytes)");
				goto out_close;
			} else {
				line[line_len++] = chunk[i];
			}
		}
	}
	line[line_len] = '\0';
	if (http_url_line(state, path, line_number, line, delay_ns) < 0)
		goto out_close;
	if (state->url_count == 0) {
		fprintf(stderr, "iostrat: --urls %s: no URL in the file (one a line)\n", path);
		goto out_close;
	}
	result = 0;
out_close:
	free(chunk);
	close(fd);
	return result;
}

/* The local server's run folder, as scripts/httpd computes it. */
static void http_server_dir(char *dir, size_t len)
{
	const char *given = getenv("IOSTRAT_HTTPD_DIR");
	const char *runtime = getenv("XDG_RUNTIME_DIR");

	if (given != NULL && given[0] != '\0')
		snprintf(dir, len, "%s", given);
	else
		snprintf(dir, len, "%s/iostrat-httpd-%u",
			 runtime != NULL && runtime[0] != '\0' ? runtime : "/tmp",
			 (unsigned)getuid());
}

/* Read the first line of path into buf; 0, or -1 with errno set. */
static int http_read_line(const char *path, char *buf, size_t len)
{
	FILE *file = fopen(path, "r");
	if (file == NULL)
		return -1;
	if (fgets(buf, (int)len, file) == NULL) {
		fclose(file);
		errno = ENODATA;
		return -1;
	}
	fclose(file);
	char *text = http_trim(buf);
	memmove(buf, text, strlen(text) + 1);
	return 0;
}

/* Is pid the nginx master of the run folder dir, as `scripts/httpd status`
 * decides: alive, not a zombie, and started with -c dir/nginx.conf (a stale pid
 * file may name a recycled pid of another program). */
static bool http_server_alive(int pid, const char *dir)
{
	char path[64], conf[1100], buf[4096];

	if (pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (http_read_line(path, buf, sizeof(buf)) < 0 ||
	    strrchr(buf, ')') == NULL || strrchr(buf, ')')[2] == 'Z')
		return false;
	/* nginx rewrites its command line into one string: the arguments are
	 * joined with spaces, as the script joins them */
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	snprintf(conf, sizeof(conf), "-c %s/nginx.conf ", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t len = fd >= 0 ? read(fd, buf, sizeof(buf) - 2) : -1;
	if (fd >= 0)
		close(fd);
	if (len <= 0)
		return false;
	buf[len] = '\0';
	for (ssize_t i = 0; i < len; i++)
		buf[i] = buf[i] == '\0' ? ' ' : buf[i];
	if (buf[len - 1] != ' ')
		strcat(buf, " ");
	return strstr(buf, conf) != NULL;
}

/* The local server's base URL: $IOSTRAT_HTTP_URL, or the url file that `scripts/httpd start`
 * writes into its run folder (while the nginx whose pid is beside it is alive). */
static int http_server_url(char *url, size_t len)
{
	const char *given = getenv("IOSTRAT_HTTP_URL");
	char dir[1024];
	char path[1100];
	char pid_text[32];

	if (given != NULL && given[0] != '\0') {
		snprintf(url, len, "%s", given);
		return 0;
	}
	http_server_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/url", dir);
	if (http_read_line(path, url, len) < 0 || url[0] == '\0') {
		fprintf(stderr,
			"iostrat: no local HTTP server is running (no URL in %s): start it with "
			"`scripts/httpd start`, or pass --url URL or --urls FILE\n",
			path);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/nginx.pid", dir);
	if (http_read_line(path, pid_text, sizeof(pid_text)) < 0 ||
	    !http_server_alive(atoi(pid_text), dir)) {
		fprintf(
		    stderr,
		    "iostrat: the local HTTP server of %s (%s) is not running any more: start it "
		    "with `scripts/httpd start`, or pass --url URL or --urls FILE\n",
		    dir, url);
		return -1;
	}
	return 0;
}

/* The default target: the local server's listings, one subreddit after another. */
static int http_server_listings(struct http_state *state, int64_t delay_ns)
{
	char base[HTTP_URL_MAX];
	char text[HTTP_URL_MAX + 128];
	char why[160];
	int64_t held_ns;

	if (http_server_url(base, sizeof(base)) < 0)
		return -1;
	size_t base_len = strlen(base);
	while (base_len > 0 && base[base_len - 1] == '/')
		base[--base_len] = '\0';
	snprintf(http_report.target, sizeof(http_report.target), "%s", base);
	for (size_t i = 0; i < sizeof(http_subreddits) / sizeof(http_subreddits[0]); i++) {
		char *url;
		snprintf(text, sizeof(text), "%s/r/%s/top.json?sort=top&t=day&limit=%d", base,
			 http_subreddits[i], HTTP_LISTING_LIMIT);
		if (http_url_make(text, delay_ns, &url, &held_ns, why, sizeof(why)) < 0) {
			fprintf(stderr, "iostrat: the local server's URL '%s' is not usable: %s\n",
				base, why);
			return -1;
		}
		if (http_add_url(state, url, held_ns) < 0)
			return -1;
	}
	return 0;
}

/* ---- the workload's life --------------------------------------------------------------- */

/* A thread's transfer machinery, kept from task to task so that its
 * connection stays open. */
struct http_thread {
	CURL *easy;   /* the handle every task of the thread uses */
	CURLM *multi; /* blocking: its connection cache, which waits on the stop
		       * descriptor too; NULL until wait_transfer() needs it */
};

static void http_thread_free(void *thread_state)
{
	struct http_thread *thread = thread_state;

	if (thread == NULL)
		return;
	if (thread->easy != NULL)
		curl_easy_cleanup(thread->easy);
	if (thread->multi != NULL)
		curl_multi_cleanup(thread->multi);
	free(thread);
}

static int http_prepare(struct run *run)
{
	const struct params *params = &run->params;
	int64_t delay_ns = params->delay_ns; /* -1 when not given */
	struct http_state *state;

	memset(&http_report, 0, sizeof(http_report));
	if (params->url != NULL && params->urls_file != NULL) {
		fprintf(stderr, "iostrat: --url and --urls both name what to fetch: give one\n");
		return -1;
	}
	if (delay_ns > HTTP_DELAY_MAX_NS || (delay_ns > 0 && delay_ns % 1000000LL != 0)) {
		fprintf(stderr, "iostrat: --delay: the local server holds a response from 0 to "
				"999.999 s, to the millisecond\n");
		return -1;
	}
	state = calloc(1, sizeof(*state));
	if (state == NULL) {
		fprintf(stderr, "iostrat: out of memory for the http workload\n");
		return -1;
	}
	run->workload_state = state;
	/* before any thread: libcurl's global state, and jansson's hash seed */
	CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK) {
		fprintf(stderr, "iostrat: curl_global_init: %s\n", curl_easy_strerror(rc));
		return -1;
	}
	state->curl_ready = true;
	json_object_seed(0);
	json_set_alloc_funcs(http_json_malloc, http_json_free);
	int err = pthread_key_create(&state->easy_key, http_thread_free);
	if (err != 0) {
		fprintf(stderr, "iostrat: pthread_key_create: %s\n", strerror(err));
		return -1;
	}
	state->easy_key_made = true;
	state->shared = mmap(NULL, sizeof(*state->shared), PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (state->shared == MAP_FAILED) {
		state->shared = NULL;
		fprintf(stderr, "iostrat: mmap for the http counters: %s\n", strerror(errno));
		return -1;
	}

	if (params->url != NULL) {
		char why[160];
		char *url;
		int64_t held_ns;
		if (http_url_make(params->url, delay_ns, &url, &held_ns, why,
				  sizeof(why)) < 0) {
			fprintf(stderr, "iostrat: --url: '%s' is not a URL iostrat fetches: %s\n",
				params->url, why);
			return -1;
		}
		if (http_add_url(state, url, held_ns) < 0)
			return -1;
	} else if (params->urls_file != NULL) {
		if (http_read_url_file(state, params->urls_file, delay_ns) < 0)
			return -1;
	} else if (http_server_listings(state, delay_ns) < 0) {
		return -1;
	}
	for (long i = 0; i < params->tasks; i++)
		run->tasks[i].delay_ns = state->url_delays_ns[i % state->url_count];
	return 0;
}

static void http_cleanup(struct run *run)
{
	struct http_state *state = run->workload_state;

	if (state == NULL)
		return;
	if (state->easy_key_made) {
		/* the main thread's handle (blocking): key destructors run only in threads that end
		 */
		http_thread_free(pthread_getspecific(state->easy_key));
		pthread_setspecific(state->easy_key, NULL);
		pthread_key_delete(state->easy_key);
	}
	if (state->shared != NULL) {
		http_report.connections = state->shared->connections;
		/* the resolver threads libcurl started, which the strategy's own counts can miss */
		if (state->shared->threads_peak > run->threads_peak)
			run->threads_peak = state->shared->threads_peak;
		munmap(state->shared, sizeof(*state->shared));
	}
	for (long i = 0; i < state->url_count; i++)
		free(state->urls[i]);
	free(state->urls);
	free(state->url_delays_ns);
	if (state->curl_ready)
		curl_global_cleanup();
	json_set_alloc_funcs(malloc, free);
	free(state);
	run->workload_state = NULL;
}

/* ---- one transfer: setup, body, checks, the listing ------------------------------------ */

/* Fail the task with a message; task->error is short (TASK_ERROR_LEN), so a long one is cut. */
__attribute__((format(printf, 2, 3))) static void http_task_error(struct task *task,
								  const char *format, ...)
{
	va_list args;

	task->status = TASK_ERROR;
	va_start(args, format);
	vsnprintf(task->error, sizeof(task->error), format, args);
	va_end(args);
}

static const char *http_task_url(const struct run *run, const struct task *task)
{
	const struct http_state *state = run->workload_state;
	return state->urls[task->id % state->url_count];
}

static size_t http_on_body(char *data, size_t size, size_t count, void *userp)
{
	struct http_transfer *transfer = userp;
	size_t bytes = size * count;
	size_t needed = transfer->body_bytes + bytes + 1; /* and a NUL */

	if (needed > HTTP_BODY_MAX_BYTES) {
		transfer->body_too_large = true;
		return 0; /* libcurl fails the transfer with CURLE_WRITE_ERROR */
	}
	if (transfer->body_discard) {
		transfer->body_bytes += bytes;
		return bytes;
	}
	if (needed > transfer->body_capacity) {
		size_t capacity =
		    transfer->body_capacity > 0 ? transfer->body_capacity : HTTP_BODY_FIRST_BYTES;
		while (capacity < needed)
			capacity *= 2;
		char *grown = realloc(transfer->body, capacity);
		if (grown == NULL)
			return 0;
		transfer->body = grown;
		transfer->body_capacity = capacity;
	}
	memcpy(transfer->body + transfer->body_bytes, data, bytes);
	transfer->body_bytes += bytes;
	transfer->body[transfer->body_bytes] = '\0';
	return bytes;
}

/* CURLOPT_OPENSOCKETFUNCTION: socket() as libcurl would call it, so that when it fails (too
 * many descriptors in flight) the task can say why; libcurl itself only says it could not
 * connect. */
static curl_socket_t http_open_socket(void *userp, curlsocktype purpose,
				      struct curl_sockaddr *address)
{
	struct http_transfer *transfer = userp;
	(void)purpose;

	int fd = socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
	if (fd < 0) {
		transfer->socket_errno = errno;
		return CURL_SOCKET_BAD;
	}
	return fd;
}

/* CURLOPT_RESOLVER_START_FUNCTION: a name lookup begins; libcurl runs it in a thread of its
 * own unless the host is a numeric address. */
static int http_on_resolver_start(void *resolver, void *reserved, void *userp)
{
	struct http_transfer *transfer = userp;
	(void)resolver;
	(void)reserved;

	transfer->resolving = true;
	return 0;
}

/* Count this process's threads while a lookup may be running, so that the run's thread count
 * shows libcurl's resolver thread: "one thread" is only true with a numeric address. */
static void http_count_threads(struct http_transfer *transfer)
{
	long threads = run_count_threads();
	long seen = __atomic_load_n(&transfer->shared->threads_peak, __ATOMIC_RELAXED);

	transfer->resolving = false;
	while (threads > seen &&
	       !__atomic_compare_exchange_n(&transfer->shared->threads_peak, &seen, threads, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
	}
}

/* libcurl calls this while a transfer goes on, also while it waits (the first call comes while
 * the name is looked up): after Ctrl-C a blocking curl_easy_perform() ends here, within a
 * second. */
static int http_on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
			    curl_off_t ulnow)
{
	struct http_transfer *transfer = userp;
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (transfer->resolving)
		http_count_threads(transfer);
	return run_stopping() ? 1 : 0;
}

static int http_easy_setup(struct run *run, struct task *task, CURL *easy, void **ctx)
{
	struct http_transfer *transfer = calloc(1, sizeof(*transfer));
	long timeout_ms = (long)(run->params.timeout_ns / 1000000LL);

	*ctx = NULL;
	if (transfer == NULL) {
		run_task_failed(run, task, ENOMEM, "the transfer's state");
		return -1;
	}
	transfer->shared = ((struct http_state *)run->workload_state)->shared;
	transfer->body_discard = run->params.body_discard;
	curl_easy_reset(easy);
	CURLcode rc = curl_easy_setopt(easy, CURLOPT_URL, http_task_url(run, task));
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L); /* no SIGALRM in threads */
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, http_on_body);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->curl_error);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_USERAGENT, "iostrat/" IOSTRAT_VERSION);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_MAXREDIRS, (long)HTTP_MAX_REDIRECTS);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, http_on_progress);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_XFERINFODATA, transfer);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, http_open_socket);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, transfer);
	if (rc == CURLE_OK)
		rc =
		    curl_easy_setopt(easy, CURLOPT_RESOLVER_START_FUNCTION, http_on_resolver_start);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_RESOLVER_START_DATA, transfer);
	if (rc != CURLE_OK) {
		http_task_error(task, "curl_easy_setopt: %s", curl_easy_strerror(rc));
		free(transfer);
		return -1;
	}
	*ctx = transfer;
	return 0;
}

/* The name of the listing: the subreddit in the URL (/r/<name>/), as the tutorial prints the
 * one it asked for, else the first post's. */
static void http_listing_name(const char *url, json_t *children, char *name, size_t len)
{
	const char *at = strstr(url, "/r/");
	if (at != NULL) {
		at += 3;
		size_t name_len = strcspn(at, "/?#");
		snprintf(name, len, "%.*s", (int)name_len, at);
		return;
	}
	const char *subreddit = json_string_value(
	    json_object_get(json_object_get(json_array_get(children, 0), "data"), "subreddit"));
	snprintf(name, len, "%s", subreddit != NULL ? subreddit : "?");
}

/* A reddit listing: check every post has a score and a title, print the block with one
 * write() so that lines of other threads and processes never land inside it. */
static int http_listing(const struct run *run, const struct task *task, json_t *data, char *why,
			size_t why_len)
{
	json_t *children = json_object_get(data, "children");
	json_t *child;
	size_t index;
	char name[64];
	char *block = NULL;
	size_t block_bytes = 0;
	FILE *out = NULL;

	if (!json_is_array(children)) {
		snprintf(why, why_len, "a Listing without data.children");
		return -1;
	}
	if (!run->params.quiet) {
		out = open_memstream(&block, &block_bytes);
		if (out == NULL) {
			snprintf(why, why_len, "open_memstream: %s", strerror(errno));
			return -1;
		}
		http_listing_name(http_task_url(run, task), children, name, sizeof(name));
		fprintf(out, "/r/%s:\n", name);
	}
	json_array_foreach(children, index, child)
	{
		json_t *post = json_object_get(child, "data");
		json_t *score = json_object_get(post, "score");
		const char *title = json_string_value(json_object_get(post, "title"));
		const char *link = json_string_value(json_object_get(post, "url"));
		if (!json_is_number(score) || title == NULL) {
			snprintf(why, why_len, "listing post %zu has no score or no title", index);
			if (out != NULL)
				fclose(out);
			free(block);
			return -1;
		}
		if (out == NULL)
			continue;
		if (json_is_integer(score))
			fprintf(out, "\t%lld: %s\n", (long long)json_integer_value(score), title);
		else
			fprintf(out, "\t%g: %s\n", json_real_value(score), title);
		fprintf(out, "\t\t(%s)\n", link != NULL ? link : "");
	}
	if (out != NULL) {
		fclose(out);
		log_write(block, block_bytes);
		free(block);
	}
	return 0;
}

static int64_t http_thread_cpu_ns(void)
{
	struct timespec now;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
	return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

/* Parse the body; a listing is printed, any other JSON only counted. The thread's CPU time in
 * the parse and the listing's check goes into task->work_ns (two clock reads, some 1 us). */
static void http_parse_body(const struct run *run, struct task *task,
			    const struct http_transfer *transfer)
{
	json_error_t error;
	char why[TASK_ERROR_LEN];
	struct http_arena arena = {.len = HTTP_ARENA_MAX_BYTES};

	if (transfer->body_bytes < HTTP_ARENA_MAX_BYTES / HTTP_ARENA_PER_BODY_BYTE)
		arena.len = (transfer->body_bytes + 128) * HTTP_ARENA_PER_BODY_BYTE;
	arena.bytes = malloc(arena.len);
	http_arena_current = arena.bytes != NULL ? &arena : NULL; /* else malloc for each value */
	json_t *root = json_loadb(transfer->body != NULL ? transfer->body : "",
				  transfer->body_bytes, JSON_ALLOW_NUL, &error);
	if (root == NULL) {
		http_task_error(task, "not JSON: %s (line %d, column %d)", error.text, error.line,
				error.column);
		goto out_free_arena;
	}
	task->status = TASK_OK;
	const char *kind = json_string_value(json_object_get(root, "kind"));
	if (kind != NULL && strcmp(kind, "Listing") == 0 &&
	    http_listing(run, task, json_object_get(root, "data"), why, sizeof(why)) < 0) {
		http_task_error(task, "%s", why);
	}
	json_decref(root);
out_free_arena:
	http_arena_current = NULL;
	free(arena.bytes);
}

static void http_transfer_failed(struct task *task, CURL *easy, CURLcode result,
				 const struct http_transfer *transfer)
{
	const char *text =
	    transfer->curl_error[0] != '\0' ? transfer->curl_error : curl_easy_strerror(result);
	long os_errno = 0;

	curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
	if (transfer->body_too_large)
		http_task_error(task, "body larger than %u MiB", HTTP_BODY_MAX_BYTES >> 20);
	else if (transfer->socket_errno != 0)
		http_task_error(task, "socket: %s (%s)", strerror(transfer->socket_errno), text);
	else if (os_errno != 0 && strstr(text, strerror((int)os_errno)) == NULL)
		http_task_error(task, "%s (%s)", text, strerror((int)os_errno));
	else
		http_task_error(task, "%s", text);
}

static void http_easy_done(struct run *run, struct task *task, CURL *easy, CURLcode result,
			   void *ctx)
{
	struct http_transfer *transfer = ctx;
	long status = 0;
	long connects = 0;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &connects);
	__atomic_fetch_add(&transfer->shared->connections, (uint64_t)connects, __ATOMIC_RELAXED);
	task->http_status = (int)status;
	task->bytes = transfer->body_bytes;
	if (result == CURLE_ABORTED_BY_CALLBACK && run_stopping()) {
		task->status = TASK_CANCELLED;
	} else if (result != CURLE_OK) {
		http_transfer_failed(task, easy, result, transfer);
	} else if (status != 200) {
		http_task_error(task, "HTTP status %ld, not 200", status);
	} else if (transfer->body_discard) {
		task->status = TASK_OK; /* --body discard: the status is all that is checked */
	} else {
		int64_t start_ns = http_thread_cpu_ns();
		http_parse_body(run, task, transfer);
		task->work_ns += http_thread_cpu_ns() - start_ns;
	}
	free(transfer->body);
	free(transfer);
}

/* This flow's easy handle, made on its first task (a thread's, or a
 * coroutine's: wait_local_get); its multi handle is made by a blocking
 * wait_transfer() when it first needs one. */
static struct http_thread *http_thread_get(struct http_state *state)
{
	struct http_thread *thread = wait_local_get(state->easy_key);

	if (thread != NULL)
		return thread;
	thread = calloc(1, sizeof(*thread));
	if (thread == NULL)
		return NULL;
	thread->easy = curl_easy_init();
	if (thread->easy == NULL ||
	    wait_local_set(state->easy_key, thread, http_thread_free) != 0) {
		http_thread_free(thread);
		return NULL;
	}
	return thread;
}

/* The blocking task: one transfer on this thread's handles, waiting in
 * curl_multi_poll() on the transfer's sockets and on the run's stop
 * descriptor, so that Ctrl-C ends it at once (curl_easy_perform() would wait
 * for libcurl's next progress call, up to a second). */
static void http_task_run(struct run *run, struct task *task)
{
	struct http_state *state = run->workload_state;
	struct http_thread *thread = http_thread_get(state);
	void *ctx;

	if (thread == NULL) {
		http_task_error(task, "curl_easy_init failed");
		return;
	}
	if (http_easy_setup(run, task, thread->easy, &ctx) < 0)
		return;
	CURLcode result = wait_transfer(thread->easy, &thread->multi);
	http_easy_done(run, task, thread->easy, result, ctx);
}

/* ---- what a run shows -------------------------------------------------------------------- */

static void http_describe(const struct run *run, const struct task *task, char *buf, size_t len)
{
	snprintf(buf, len, "GET %s", http_task_url(run, task));
}

struct http_figures {
	uint64_t bytes_total; /* body bytes received */
	long requests_ok;     /* tasks that ended ok */
	double wall_s;	      /* the run's wall time */
	double parse_s;	      /* CPU seconds in the parse, all tasks */
};

static struct http_figures http_figures(const struct run *run)
{
	struct http_figures figures = {.wall_s = (double)(run->end_ns - run->start_ns) / 1e9};

	for (long i = 0; i < run->params.tasks; i++) {
		figures.bytes_total += run->tasks[i].bytes;
		figures.parse_s += (double)run->tasks[i].work_ns / 1e9;
		if (run->tasks[i].status == TASK_OK)
			figures.requests_ok++;
	}
	return figures;
}

static double http_per_s(double count, double wall_s)
{
	return wall_s > 0 ? count / wall_s : 0;
}

static void http_params_json(const struct run *run, json_t *params)
{
	const struct params *p = &run->params;

	json_object_set_new(params, "url", p->url != NULL ? json_string(p->url) : json_null());
	json_object_set_new(params, "urls_file",
			    p->urls_file != NULL ? json_string(p->urls_file) : json_null());
	json_object_set_new(params, "server_url",
			    http_report.target[0] != '\0' ? json_string(http_report.target)
							  : json_null());
	json_object_set_new(params, "delay_s",
			    json_real((double)(p->delay_ns > 0 ? p->delay_ns : 0) / 1e9));
	json_object_set_new(params, "timeout_s", json_real((double)p->timeout_ns / 1e9));
	json_object_set_new(params, "body", json_string(p->body_discard ? "discard" : "parse"));
}

static void http_summary_json(const struct run *run, json_t *summary)
{
	struct http_figures figures = http_figures(run);

	json_object_set_new(summary, "parse_s",
			    run->params.body_discard ? json_null() : json_real(figures.parse_s));

	json_object_set_new(summary, "bytes_total", json_integer((json_int_t)figures.bytes_total));
	json_object_set_new(summary, "throughput_bytes_per_s",
			    json_real(http_per_s((double)figures.bytes_total, figures.wall_s)));
	json_object_set_new(summary, "requests_per_s",
			    json_real(http_per_s((double)figures.requests_ok, figures.wall_s)));
	json_object_set_new(summary, "connections",
			    json_integer((json_int_t)http_report.connections));
}

static void http_print_summary(const struct run *run)
{
	struct http_figures figures = http_figures(run);

	printf("  http: %ld requests ok, %.1f per second; %llu body bytes (%.1f MiB/s); "
	       "%llu connection%s opened\n",
	       figures.requests_ok, http_per_s((double)figures.requests_ok, figures.wall_s),
	       (unsigned long long)figures.bytes_total,
	       http_per_s((double)figures.bytes_total, figures.wall_s) / 1048576.0,
	       (unsigned long long)http_report.connections,
	       http_report.connections == 1 ? "" : "s");
	if (run->params.body_discard)
		printf("  bodies: discarded (--body discard): counted, not parsed\n");
	else
		printf("  bodies: parsed as JSON in %.4f s of CPU\n", figures.parse_s);
}

static const struct http_ops http_hooks = {
    .easy_setup = http_easy_setup,
    .easy_done = http_easy_done,
};

const struct workload workload_http = {
    .name = "http",
    .summary = "GET JSON with libcurl (status 200, parsed by jansson); listings are printed",
    .kind = WORKLOAD_HTTP,
    .delays_known = true, /* delay_ns is what the server holds each response: 0 without --delay */
    .library_threads = true, /* libcurl resolves a host name in a thread of its own */
    .prepare = http_prepare,
    .task_run = http_task_run,
    .describe = http_describe,
    .params_json = http_params_json,
    .summary_json = http_summary_json,
    .print_summary = http_print_summary,
    .cleanup = http_cleanup,
    .http = &http_hooks,
};
