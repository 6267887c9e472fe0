/* bare.c - iostrat-bare: the bare kernel cost of each strategy's primitive, measured on its
 * own so a strategy's overhead per task can be set beside it: fork + _exit + waitpid,
 * pthread_create + pthread_join, and a timer loop (arm a timerfd, epoll_wait, read). It is
 * linked to map the same libraries as iostrat: a fork() copies what the parent maps. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "core/units.h"

static int64_t now_ns(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

static int bare_fork(long count)
{
	for (long i = 0; i < count; i++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid < 0) {
			fprintf(stderr, "iostrat-bare: fork: %s\n", strerror(errno));
			return -1;
		}
		if (waitpid(pid, NULL, 0) < 0) {
			fprintf(stderr, "iostrat-bare: waitpid: %s\n", strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void *thread_body(void *arg)
{
	return arg;
}

static int bare_thread(long count)
{
	for (long i = 0; i < count; i++) {
		pthread_t thread;
		int err = pthread_create(&thread, NULL, thread_body, NULL);
		if (err != 0) {
			fprintf(stderr, "iostrat-bare: pthread_create: %s\n", strerror(err));
			return -1;
		}
		pthread_join(thread, NULL);
	}
	return 0;
}

static int bare_timer(long count)
{
	int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	int timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	struct epoll_event event = {.events = EPOLLIN};
	int result = -1;

	if (epoll_fd < 0 || timer_fd < 0 ||
	    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, timer_fd, &event) < 0) {
		fprintf(stderr, "iostrat-bare: timerfd/epoll: %s\n", strerror(errno));
		goto out_close;
	}
	for (long i = 0; i < count; i++) {
		struct itimerspec when = {.it_value = {.tv_nsec = 1}}; /* due at once */
		uint64_t expirations;
		if (timerfd_settime(timer_fd, 0, &when, NULL) < 0 ||
		    epoll_wait(epoll_fd, &event, 1, -1) != 1 ||
		    read(timer_fd, &expirations, sizeof(expirations)) < 0) {
			fprintf(stderr, "iostrat-bare: timer loop: %s\n", strerror(errno));
			goto out_close;
		}
	}
	result = 0;
out_close:
	if (timer_fd >= 0)
		close(timer_fd);
	if (epoll_fd >= 0)
		close(epoll_fd);
	return result;
}

static const struct {
	const char *name; /* on the command line */
	const char *what; /* what one operation is */
	int (*measure)(long count);
} primitives[] = {
    {"fork", "fork + _exit + waitpid", bare_fork},
    {"thread", "pthread_create + pthread_join", bare_thread},
    {"timer", "timerfd_settime + epoll_wait + read", bare_timer},
};

static int usage(void)
{
	fprintf(stderr,
		"Usage: iostrat-bare fork|thread|timer [-n N] [--json FILE]\n"
		"Times N of one primitive, one after another, and prints the cost of each.\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *json_path = NULL;
	const char *name = NULL;
	long count = 1000;

	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-n") == 0 || strcmp(argv[i], "--count") == 0) &&
		    i + 1 < argc) {
			if (!units_parse_long(argv[++i], 1, 10000000, &count)) {
				fprintf(stderr,
					"iostrat-bare: -n: '%s' is not a whole number from 1 to "
					"10000000\n",
					argv[i]);
				return 2;
			}
		} else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
			json_path = argv[++i];
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage();
			return 0;
		} else if (name == NULL && argv[i][0] != '-') {
			name = argv[i];
		} else {
			return usage();
		}
	}
	for (size_t p = 0; name != NULL && p < sizeof(primitives) / sizeof(primitives[0]); p++) {
		if (strcmp(name, primitives[p].name) != 0)
			continue;
		primitives[p].measure(count < 100 ? count : 100); /* warm up */
		int64_t start = now_ns();
		if (primitives[p].measure(count) < 0)
			return 1;
		double total_s = (double)(now_ns() - start) / 1e9;
		printf("%s (%s): %ld in %.6f s, %.3f us each\n", name, primitives[p].what, count,
		       total_s, total_s * 1e6 / (double)count);
		if (json_path != NULL) {
			json_t *doc =
			    json_pack("{s:s, s:s, s:I, s:f, s:f}", "primitive", name, "what",
				      primitives[p].what, "count", (json_int_t)count, "total_s",
				      total_s, "per_op_s", total_s / (double)count);
			int bad = json_dump_file(doc, json_path, JSON_INDENT(1)) < 0;
			json_decref(doc);
			if (bad) {
				fprintf(stderr, "iostrat-bare: cannot write %s\n", json_path);
				return 1;
			}
		}
		return 0;
	}
	if (name != NULL)
		fprintf(stderr, "iostrat-bare: unknown primitive '%s'\n", name);
	return usage();
}
