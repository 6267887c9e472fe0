/* bare.c - iostrat-bare: each strategy's primitive on its own, used the way the
 * strategy uses it (fork all, then reap; create all threads, then join; N
 * deadlines in one epoll loop; N GETs from a one-thread epoll client), so a
 * strategy's overhead per task can be set beside its floor. Built twice:
 * iostrat-bare maps iostrat's libraries (a fork() copies what the parent maps),
 * iostrat-bare-lean maps libc only. Teaches: fork, vfork, posix_spawn,
 * pthread_create, timerfd, epoll, non-blocking connect(). */
#include <arpa/inet.h>
#include <errno.h>
#include <link.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/units.h"

#ifndef IOSTRAT_BARE_IMAGE
#define IOSTRAT_BARE_IMAGE                                                     \
	"iostrat" /* the Makefile says "lean" for the libc-only build */
#endif

#define BARE_MAX_ROUNDS 101
#define BARE_HTTP_STARTS_PER_ROUND                                             \
	64 /* as the event loops hand transfers to libcurl */
#define BARE_HTTP_HEAD_BYTES 8192 /* a response's head must fit in this */
#define BARE_SPAWN_PROGRAM "/bin/true"

extern char **environ;

struct bare_options {
	long count; /* -n: operations per round */
	long jobs;  /* -j: most in flight (http), 0 for all */
	int64_t
	    delay_ns; /* --delay: how long each child, thread or timer waits */
	long rounds;  /* --rounds: repeats, the median is reported */
	const char *url;	/* --url: http only */
	uint64_t touched_bytes; /* --touch: heap written before measuring */
	bool touch_given; /* fork-cost: --touch is the largest heap measured */
};

/* What one round measured. */
struct bare_round {
	int64_t wall_ns; /* the whole round */
	long failed; /* operations that failed (http: not status 200, or cut) */
	long connections; /* http: connections opened */
	uint64_t bytes;	  /* http: body bytes received */
	int64_t user_ns;  /* CPU time of this process in the round, user */
	int64_t sys_ns;	  /* and system */
};

typedef int bare_measure_fn(const struct bare_options *options,
			    struct bare_round *round);

static int64_t timeval_ns(struct timeval tv)
{
	return (int64_t)tv.tv_sec * 1000000000LL + (int64_t)tv.tv_usec * 1000;
}

static int64_t now_ns(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

static void sleep_ns(int64_t ns)
{
	struct timespec left = {.tv_sec = ns / 1000000000,
				.tv_nsec = ns % 1000000000};
	while (ns > 0 && nanosleep(&left, &left) < 0 && errno == EINTR)
		;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "iostrat-bare: %s: %s\n", what, strerror(err));
	return -1;
}

/* ---- processes
 * ------------------------------------------------------------------------- */

/* fork + _exit + waitpid, one after another: the serial form, not what
 * processes does. */
static int bare_fork_serial(const struct bare_options *options,
			    struct bare_round *round)
{
	int64_t start = now_ns();
	for (long i = 0; i < options->count; i++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid < 0)
			return fail("fork", errno);
		if (waitpid(pid, NULL, 0) < 0)
			return fail("waitpid", errno);
	}
	round->wall_ns = now_ns() - start;
	return 0;
}

/* What processes does: fork all N (each child waits --delay, then _exits), then
 * reap them. */
static int bare_fork_all(const struct bare_options *options,
			 struct bare_round *round)
{
	int64_t start = now_ns();
	long forked = 0;
	int err = 0;

	for (; forked < options->count; forked++) {
		pid_t pid = fork();
		if (pid == 0) {
			sleep_ns(options->delay_ns);
			_exit(0);
		}
		if (pid < 0) {
			err = errno;
			break;
		}
	}
	for (long i = 0; i < forked; i++) {
		int status;
		if (wait(&status) < 0)
			return fail("wait", errno);
	}
	if (err != 0)
		return fail("fork", err);
	round->wall_ns = now_ns() - start;
	return 0;
}

/* One vfork() whose child _exits at once; a function of its own, so that no
 * variable of the caller lives in the frame the child borrows. */
static __attribute__((noinline)) pid_t vfork_exit(void)
{
	pid_t pid = vfork();
	if (pid == 0)
		_exit(0);
	return pid;
}

/* vfork + _exit + waitpid: the child borrows the parent's memory, nothing is
 * copied. */
static int bare_vfork(const struct bare_options *options,
		      struct bare_round *round)
{
	int64_t start = now_ns();
	for (long i = 0; i < options->count; i++) {
		pid_t pid = vfork_exit();
		if (pid < 0)
			return fail("vfork", errno);
		if (waitpid(pid, NULL, 0) < 0)
			return fail("waitpid", errno);
	}
	round->wall_ns = now_ns() - start;
	return 0;
}

/* fork + execve(/bin/true) + waitpid, the classic way to start a program. */
static int bare_fork_exec(const struct bare_options *options,
			  struct bare_round *round)
{
	char *argv[] = {BARE_SPAWN_PROGRAM, NULL};
	int64_t start = now_ns();

	for (long i = 0; i < options->count; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			execve(argv[0], argv, environ);
			_exit(127);
		}
		if (pid < 0)
			return fail("fork", errno);
		if (waitpid(pid, NULL, 0) < 0)
			return fail("waitpid", errno);
	}
	round->wall_ns = now_ns() - start;
	return 0;
}

/* posix_spawn(/bin/true) + waitpid: glibc starts the child with clone(CLONE_VM
 * | CLONE_VFORK), so what the parent maps is not copied. */
static int bare_posix_spawn(const struct bare_options *options,
			    struct bare_round *round)
{
	char *argv[] = {BARE_SPAWN_PROGRAM, NULL};
	int64_t start = now_ns();

	for (long i = 0; i < options->count; i++) {
		pid_t pid;
		int err = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
		if (err != 0)
			return fail("posix_spawn " BARE_SPAWN_PROGRAM, err);
		if (waitpid(pid, NULL, 0) < 0)
			return fail("waitpid", errno);
	}
	round->wall_ns = now_ns() - start;
	return 0;
}

/* ---- threads
 * ---------------------------------------------------------------------------
 */

static void *thread_body(void *arg)
{
	const int64_t *delay_ns = arg;
	sleep_ns(*delay_ns);
	return NULL;
}

static int bare_thread_serial(const struct bare_options *options,
			      struct bare_round *round)
{
	int64_t no_delay_ns = 0;
	int64_t start = now_ns();

	for (long i = 0; i < options->count; i++) {
		pthread_t thread;
		int err =
		    pthread_create(&thread, NULL, thread_body, &no_delay_ns);
		if (err != 0)
			return fail("pthread_create", err);
		pthread_join(thread, NULL);
	}
	round->wall_ns = now_ns() - start;
	return 0;
}

/* What threads does: create all N (default attributes, each waits --delay),
 * then join. */
static int bare_thread_all(const struct bare_options *options,
			   struct bare_round *round)
{
	pthread_t *threads = calloc((size_t)options->count, sizeof(*threads));
	int64_t delay_ns = options->delay_ns;
	long created = 0;
	int err = 0;

	if (threads == NULL)
		return fail("thread table", ENOMEM);
	int64_t start = now_ns();
	for (; created < options->count; created++) {
		err = pthread_create(&threads[created], NULL, thread_body,
				     &delay_ns);
		if (err != 0)
			break;
	}
	for (long i = 0; i < created; i++)
		pthread_join(threads[i], NULL);
	round->wall_ns = now_ns() - start;
	free(threads);
	return err != 0 ? fail("pthread_create", err) : 0;
}

/* ---- timers
 * ----------------------------------------------------------------------------
 */

static int timer_arm(int timer_fd, int64_t due_ns)
{
	struct itimerspec when = {.it_value = {.tv_sec = due_ns / 1000000000,
					       .tv_nsec = due_ns % 1000000000}};
	if (when.it_value.tv_sec == 0 && when.it_value.tv_nsec == 0)
		when.it_value.tv_nsec = 1; /* zero would disarm it */
	return timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &when, NULL);
}

/* timerfd_settime + epoll_wait + read for each timer, one after another. */
static int bare_timer_serial(const struct bare_options *options,
			     struct bare_round *round)
{
	int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	int timer_fd =
	    timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	struct epoll_event event = {.events = EPOLLIN};
	int result = -1;

	if (epoll_fd < 0 || timer_fd < 0 ||
	    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, timer_fd, &event) < 0) {
		fail("timerfd/epoll", errno);
		goto out_close;
	}
	int64_t start = now_ns();
	for (long i = 0; i < options->count; i++) {
		uint64_t expirations;
		if (timer_arm(timer_fd, 0) < 0 ||
		    epoll_wait(epoll_fd, &event, 1, -1) != 1 ||
		    read(timer_fd, &expirations, sizeof(expirations)) < 0) {
			fail("timer loop", errno);
			goto out_close;
		}
	}
	round->wall_ns = now_ns() - start;
	result = 0;
out_close:
	if (timer_fd >= 0)
		close(timer_fd);
	if (epoll_fd >= 0)
		close(epoll_fd);
	return result;
}

/* What epoll does with sleeps: N deadlines (now + --delay, taken as each
 * starts) behind one timerfd in one epoll loop, armed for the earliest. With
 * one delay for all, the deadlines come in the order they were taken, so a
 * queue is the min-heap. */
static int bare_timer_all(const struct bare_options *options,
			  struct bare_round *round)
{
	int64_t *deadlines =
	    malloc((size_t)options->count * sizeof(*deadlines));
	int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	int timer_fd =
	    timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	struct epoll_event event = {.events = EPOLLIN};
	int result = -1;

	if (deadlines == NULL) {
		fail("deadlines", ENOMEM);
		goto out_close;
	}
	if (epoll_fd < 0 || timer_fd < 0 ||
	    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, timer_fd, &event) < 0) {
		fail("timerfd/epoll", errno);
		goto out_close;
	}
	int64_t start = now_ns();
	for (long i = 0; i < options->count; i++) {
		deadlines[i] = now_ns() + options->delay_ns;
		if (i == 0 && timer_arm(timer_fd, deadlines[0]) < 0) {
			fail("timerfd_settime", errno);
			goto out_close;
		}
	}
	for (long next = 0; next < options->count;) {
		uint64_t expirations;
		if (epoll_wait(epoll_fd, &event, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			fail("epoll_wait", errno);
			goto out_close;
		}
		if (read(timer_fd, &expirations, sizeof(expirations)) < 0 &&
		    errno != EAGAIN) {
			fail("read timerfd", errno);
			goto out_close;
		}
		int64_t now = now_ns();
		while (next < options->count && deadlines[next] <= now)
			next++;
		if (next < options->count &&
		    timer_arm(timer_fd, deadlines[next]) < 0) {
			fail("timerfd_settime", errno);
			goto out_close;
		}
	}
	round->wall_ns = now_ns() - start;
	result = 0;
out_close:
	if (timer_fd >= 0)
		close(timer_fd);
	if (epoll_fd >= 0)
		close(epoll_fd);
	free(deadlines);
	return result;
}

/* ---- http: a bare one-thread epoll client
 * ---------------------------------------------- */

enum conn_state { CONN_FREE = 0, CONN_CONNECTING, CONN_READING };

struct http_conn {
	int fd;				 /* the socket, -1 when free */
	enum conn_state state;		 /* where the request stands */
	char head[BARE_HTTP_HEAD_BYTES]; /* the response's head, until the blank
					    line */
	size_t head_bytes;		 /* bytes in head */
	bool head_done;			 /* the blank line was seen */
	long status;			 /* the response's status code */
	long long content_length;	 /* from the head, -1 when absent */
	uint64_t body_bytes;		 /* body bytes read */
};

struct http_client {
	struct sockaddr_in server; /* numeric address and port of the URL */
	char request[1024];	   /* the GET, as libcurl sends it (HTTP/1.1,
				      keep-alive) */
	size_t request_bytes;	   /* bytes in request */
	int epoll_fd;		   /* the loop */
	struct http_conn *conns;   /* jobs of them */
	long *free_conns;	   /* indexes of free conns, a stack */
	long free_count;	   /* entries in free_conns */
	long started;		   /* requests started */
	long done;		   /* requests over */
	struct bare_round *round;  /* what is counted */
};

/* http://A.B.C.D:PORT/path: a numeric IPv4 address only (no name is ever
 * resolved). */
static int http_parse_url(const char *url, struct http_client *client)
{
	char host[64];
	unsigned port = 80;
	const char *rest = strncmp(url, "http://", 7) == 0 ? url + 7 : NULL;
	size_t host_len = rest != NULL ? strcspn(rest, ":/") : 0;

	if (rest == NULL || host_len == 0 || host_len >= sizeof(host))
		return -1;
	memcpy(host, rest, host_len);
	host[host_len] = '\0';
	const char *path = rest + host_len;
	if (*path == ':') {
		char *end;
		unsigned long value = strtoul(path + 1, &end, 10);
		if (end == path + 1 || value == 0 || value > 65535 ||
		    (*end != '/' && *end))
			return -1;
		port = (unsigned)value;
		path = end;
	}
	if (*path == '\0')
		path = "/";
	client->server.sin_family = AF_INET;
	client->server.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &client->server.sin_addr) != 1)
		return -1;
	int len = snprintf(
	    client->request, sizeof(client->request),
	    "GET %s HTTP/1.1\r\nHost: %s:%u\r\nUser-Agent: iostrat-bare\r\n"
	    "Accept: */*\r\n\r\n",
	    path, host, port);
	if (len < 0 || (size_t)len >= sizeof(client->request))
		return -1;
	client->request_bytes = (size_t)len;
	return 0;
}

static void http_conn_end(struct http_client *client, struct http_conn *conn,
			  bool ok)
{
	close(conn->fd); /* the client closes first, as libcurl does without
			    reuse */
	conn->fd = -1;
	conn->state = CONN_FREE;
	if (!ok)
		client->round->failed++;
	client->round->bytes += conn->body_bytes;
	client->done++;
	client->free_conns[client->free_count++] = conn - client->conns;
}

static int http_start(struct http_client *client)
{
	struct http_conn *conn =
	    &client->conns[client->free_conns[--client->free_count]];
	int one = 1;

	client->started++;
	conn->fd =
	    socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (conn->fd < 0)
		return fail("socket", errno);
	setsockopt(conn->fd, IPPROTO_TCP, TCP_NODELAY, &one,
		   sizeof(one)); /* libcurl's default */
	conn->state = CONN_CONNECTING;
	conn->head_bytes = 0;
	conn->head_done = false;
	conn->status = 0;
	conn->content_length = -1;
	conn->body_bytes = 0;
	client->round->connections++;
	if (connect(conn->fd, (struct sockaddr *)&client->server,
		    sizeof(client->server)) < 0 &&
	    errno != EINPROGRESS)
		return fail("connect", errno);
	struct epoll_event event = {.events = EPOLLOUT, .data.ptr = conn};
	if (epoll_ctl(client->epoll_fd, EPOLL_CTL_ADD, conn->fd, &event) < 0)
		return fail("epoll_ctl", errno);
	return 0;
}

/* The head is complete: its status code and Content-Length. */
static void http_parse_head(struct http_conn *conn)
{
	conn->status = strncmp(conn->head, "HTTP/1.", 7) == 0
			   ? strtol(conn->head + 9, NULL, 10)
			   : 0;
	for (char *line = strstr(conn->head, "\r\n"); line != NULL;
	     line = strstr(line + 2, "\r\n"))
		if (strncasecmp(line + 2, "Content-Length:", 15) == 0)
			conn->content_length = strtoll(line + 17, NULL, 10);
}

/* Read what there is; true when the response is over (or failed). */
static bool http_read(struct http_conn *conn, bool *ok)
{
	char buf[65536];

	for (;;) {
		ssize_t got = read(conn->fd, buf, sizeof(buf));
		if (got < 0) {
			*ok = false;
			return errno != EAGAIN;
		}
		if (got == 0) {
			*ok = false; /* closed before the whole body */
			return true;
		}
		size_t used = 0;
		if (!conn->head_done) {
			size_t room = sizeof(conn->head) - 1 - conn->head_bytes;
			size_t take = (size_t)got < room ? (size_t)got : room;
			memcpy(conn->head + conn->head_bytes, buf, take);
			conn->head_bytes += take;
			conn->head[conn->head_bytes] = '\0';
			char *end = strstr(conn->head, "\r\n\r\n");
			if (end == NULL) {
				*ok = false;
				if (conn->head_bytes == sizeof(conn->head) - 1)
					return true; /* a head this large is not
							nginx's */
				continue;
			}
			*end = '\0';
			conn->head_done = true;
			http_parse_head(conn);
			used = (size_t)(end + 4 - conn->head) -
			       (conn->head_bytes - take);
		}
		conn->body_bytes += (uint64_t)got - used;
		if (conn->content_length >= 0 &&
		    conn->body_bytes >= (uint64_t)conn->content_length) {
			*ok =
			    conn->status == 200 &&
			    conn->body_bytes == (uint64_t)conn->content_length;
			return true;
		}
	}
}

static int http_event(struct http_client *client, struct http_conn *conn,
		      uint32_t events)
{
	bool ok = false;

	if (conn->state == CONN_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);
		getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
			http_conn_end(client, conn, false);
			return 0;
		}
		ssize_t sent =
		    write(conn->fd, client->request, client->request_bytes);
		if (sent != (ssize_t)client->request_bytes) {
			http_conn_end(client, conn, false);
			return 0;
		}
		conn->state = CONN_READING;
		struct epoll_event event = {.events = EPOLLIN,
					    .data.ptr = conn};
		if (epoll_ctl(client->epoll_fd, EPOLL_CTL_MOD, conn->fd,
			      &event) < 0)
			return fail("epoll_ctl", errno);
		return 0;
	}
	if (http_read(conn, &ok))
		http_conn_end(client, conn, ok);
	return 0;
}

static int bare_http(const struct bare_options *options,
		     struct bare_round *round)
{
	long jobs = options->jobs > 0 && options->jobs < options->count
			? options->jobs
			: options->count;
	struct http_client client = {.round = round, .epoll_fd = -1};
	struct epoll_event events[256];
	int result = -1;

	if (http_parse_url(options->url, &client) < 0) {
		fprintf(stderr,
			"iostrat-bare: --url '%s' is not "
			"http://A.B.C.D:PORT/PATH\n",
			options->url);
		return -1;
	}
	client.conns = calloc((size_t)jobs, sizeof(*client.conns));
	client.free_conns = calloc((size_t)jobs, sizeof(*client.free_conns));
	client.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (client.conns == NULL || client.free_conns == NULL) {
		fail("connections", ENOMEM);
		goto out_free;
	}
	if (client.epoll_fd < 0) {
		fail("epoll_create1", errno);
		goto out_free;
	}
	for (long i = jobs - 1; i >= 0; i--) {
		client.conns[i].fd = -1;
		client.free_conns[client.free_count++] = i;
	}
	int64_t start = now_ns();
	while (client.done < options->count) {
		for (long added = 0;
		     added < BARE_HTTP_STARTS_PER_ROUND &&
		     client.free_count > 0 && client.started < options->count;
		     added++) {
			if (http_start(&client) < 0)
				goto out_free;
		}
		int timeout_ms =
		    client.started < options->count && client.free_count > 0
			? 0
			: -1;
		int ready =
		    epoll_wait(client.epoll_fd, events, 256, timeout_ms);
		if (ready < 0 && errno != EINTR) {
			fail("epoll_wait", errno);
			goto out_free;
		}
		for (int i = 0; i < ready; i++)
			if (http_event(&client, events[i].data.ptr,
				       events[i].events) < 0)
				goto out_free;
	}
	round->wall_ns = now_ns() - start;
	result = 0;
out_free:
	for (long i = 0; client.conns != NULL && i < jobs; i++)
		if (client.conns[i].fd >= 0)
			close(client.conns[i].fd);
	if (client.epoll_fd >= 0)
		close(client.epoll_fd);
	free(client.conns);
	free(client.free_conns);
	return result;
}

/* ---- the clocks the workloads time their own work with ----------------------
 */

static int64_t clock_pairs_ns(clockid_t clock, long count)
{
	struct timespec before, after;
	int64_t start = now_ns();

	for (long i = 0; i < count; i++) {
		clock_gettime(clock, &before);
		clock_gettime(clock, &after);
	}
	return now_ns() - start;
}

/* Two clock_gettime(CLOCK_THREAD_CPUTIME_ID) calls (a system call each): what
 * timing one JSON parse costs. */
static int bare_cputime(const struct bare_options *options,
			struct bare_round *round)
{
	round->wall_ns =
	    clock_pairs_ns(CLOCK_THREAD_CPUTIME_ID, options->count);
	return 0;
}

/* Two clock_gettime(CLOCK_MONOTONIC) calls (the vDSO, no system call): what
 * timing one piece of the file check costs. */
static int bare_monotonic(const struct bare_options *options,
			  struct bare_round *round)
{
	round->wall_ns = clock_pairs_ns(CLOCK_MONOTONIC, options->count);
	return 0;
}

/* ---- the table of primitives
 * ----------------------------------------------------------- */

static const struct bare_primitive {
	const char *name;     /* on the command line and in the output */
	const char *what;     /* what one operation is */
	const char *strategy; /* the strategy it is the floor of, or "" */
	bool waits; /* per op = (wall - delay) / n: the operations wait together
		     */
	bare_measure_fn *measure; /* one round */
} primitives[] = {
    {"fork", "fork all N (each child waits --delay, then _exit), then reap all",
     "processes", true, bare_fork_all},
    {"fork-serial", "fork + _exit + waitpid, one after another", "", false,
     bare_fork_serial},
    {"vfork", "vfork + _exit + waitpid, one after another", "", false,
     bare_vfork},
    {"fork-exec",
     "fork + execve " BARE_SPAWN_PROGRAM " + waitpid, one after another", "",
     false, bare_fork_exec},
    {"posix_spawn",
     "posix_spawn " BARE_SPAWN_PROGRAM " + waitpid, one after another", "",
     false, bare_posix_spawn},
    {"thread", "pthread_create all N (each waits --delay), then join all",
     "threads", true, bare_thread_all},
    {"thread-serial", "pthread_create + pthread_join, one after another", "",
     false, bare_thread_serial},
    {"timer",
     "N deadlines (now + --delay) behind one timerfd in one epoll loop",
     "epoll", true, bare_timer_all},
    {"timer-serial", "timerfd_settime + epoll_wait + read, one after another",
     "", false, bare_timer_serial},
    {"http",
     "GET --url over a new connection each, -j at once, one-thread epoll "
     "client",
     "epoll", true, bare_http},
    {"cputime", "two clock_gettime(CLOCK_THREAD_CPUTIME_ID) calls", "", false,
     bare_cputime},
    {"monotonic", "two clock_gettime(CLOCK_MONOTONIC) calls", "", false,
     bare_monotonic},
};

static const struct bare_primitive *primitive_find(const char *name)
{
	for (size_t p = 0; p < sizeof(primitives) / sizeof(primitives[0]); p++)
		if (strcmp(name, primitives[p].name) == 0)
			return &primitives[p];
	return NULL;
}

static int count_object(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	if (info->dlpi_name != NULL && info->dlpi_name[0] != '\0')
		++*(int *)data;
	return 0;
}

/* Shared objects this process maps (ld.so and the vDSO included). */
static int mapped_objects(void)
{
	int count = 0;
	dl_iterate_phdr(count_object, &count);
	return count;
}

/* Write --touch bytes of anonymous memory in 4 KiB pages, as a heap of small
 * allocations is (no transparent huge pages, whatever the system's default). */
static void *touch_heap(uint64_t bytes)
{
	if (bytes == 0)
		return NULL;
	void *heap = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (heap == MAP_FAILED)
		return NULL;
	madvise(heap, bytes, MADV_NOHUGEPAGE);
	memset(heap, 0xa5, bytes);
	return heap;
}

static int compare_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

struct bare_figures {
	double per_op_s;     /* median over the rounds */
	double per_op_min_s; /* fastest round */
	double per_op_max_s; /* slowest round */
	double wall_s;	     /* median round's wall time */
	long failed;	     /* failed operations, all rounds */
	long connections;    /* http: connections, median round */
	uint64_t bytes;	     /* http: body bytes, median round */
	double user_s;	     /* this process's CPU in the median round, user */
	double sys_s;	     /* and system (not its children's) */
};

/* A warm-up round (not counted, at most 100 operations, none for http: an
 * iostrat run is not warmed up either), then --rounds rounds. */
static int measure(const struct bare_primitive *primitive,
		   const struct bare_options *options,
		   struct bare_figures *figures)
{
	struct bare_round rounds[BARE_MAX_ROUNDS];
	int64_t per_op_ns[BARE_MAX_ROUNDS];
	long order[BARE_MAX_ROUNDS]; /* rounds by wall time */
	struct bare_options warm = *options;

	warm.count = options->count < 100 ? options->count : 100;
	warm.delay_ns = 0;
	struct bare_round ignored = {0};
	if (primitive->measure != bare_http &&
	    primitive->measure(&warm, &ignored) < 0)
		return -1;
	*figures = (struct bare_figures){0};
	for (long r = 0; r < options->rounds; r++) {
		struct rusage before, after;
		rounds[r] = (struct bare_round){0};
		getrusage(RUSAGE_SELF, &before);
		if (primitive->measure(options, &rounds[r]) < 0)
			return -1;
		getrusage(RUSAGE_SELF, &after);
		rounds[r].user_ns =
		    timeval_ns(after.ru_utime) - timeval_ns(before.ru_utime);
		rounds[r].sys_ns =
		    timeval_ns(after.ru_stime) - timeval_ns(before.ru_stime);
		int64_t work_ns = rounds[r].wall_ns -
				  (primitive->waits ? options->delay_ns : 0);
		per_op_ns[r] = work_ns / options->count;
		figures->failed += rounds[r].failed;
		long at = r; /* insertion sort: a handful of rounds */
		for (; at > 0 &&
		       rounds[order[at - 1]].wall_ns > rounds[r].wall_ns;
		     at--)
			order[at] = order[at - 1];
		order[at] = r;
	}
	const struct bare_round *middle = &rounds[order[options->rounds / 2]];
	figures->wall_s = (double)middle->wall_ns / 1e9;
	figures->connections = middle->connections;
	figures->bytes = middle->bytes;
	figures->user_s = (double)middle->user_ns / 1e9;
	figures->sys_s = (double)middle->sys_ns / 1e9;
	qsort(per_op_ns, (size_t)options->rounds, sizeof(per_op_ns[0]),
	      compare_i64);
	figures->per_op_s = (double)per_op_ns[options->rounds / 2] / 1e9;
	figures->per_op_min_s = (double)per_op_ns[0] / 1e9;
	figures->per_op_max_s = (double)per_op_ns[options->rounds - 1] / 1e9;
	return 0;
}

static int write_json(const char *path, const struct bare_primitive *primitive,
		      const struct bare_options *options,
		      const struct bare_figures *figures)
{
	FILE *out = fopen(path, "w");

	if (out == NULL)
		return fail(path, errno);
	fprintf(
	    out,
	    "{\"primitive\": \"%s\", \"what\": \"%s\", \"floor_of\": \"%s\", "
	    "\"image\": \"%s\", \"mapped_objects\": %d, \"touched_bytes\": "
	    "%llu, "
	    "\"n\": %ld, \"count\": %ld, \"jobs\": %ld, \"delay_s\": %.9f, "
	    "\"rounds\": %ld, "
	    "\"per_op_s\": %.9g, \"per_op_min_s\": %.9g, \"per_op_max_s\": "
	    "%.9g, "
	    "\"spread_s\": %.9g, \"wall_s\": %.9f, \"total_s\": %.9f, "
	    "\"user_s\": %.6f, "
	    "\"sys_s\": %.6f, \"failed\": %ld",
	    primitive->name, primitive->what, primitive->strategy,
	    IOSTRAT_BARE_IMAGE, mapped_objects(),
	    (unsigned long long)options->touched_bytes, options->count,
	    options->count,
	    options->jobs > 0 && options->jobs < options->count
		? options->jobs
		: options->count,
	    (double)options->delay_ns / 1e9, options->rounds, figures->per_op_s,
	    figures->per_op_min_s, figures->per_op_max_s,
	    figures->per_op_max_s - figures->per_op_min_s, figures->wall_s,
	    figures->wall_s, figures->user_s, figures->sys_s, figures->failed);
	if (primitive->measure == bare_http)
		fprintf(out,
			", \"url\": \"%s\", \"connections\": %ld, "
			"\"bytes_total\": %llu, "
			"\"requests_per_s\": %.3f",
			options->url, figures->connections,
			(unsigned long long)figures->bytes,
			figures->wall_s > 0
			    ? (double)options->count / figures->wall_s
			    : 0.0);
	fprintf(out, "}\n");
	if (fclose(out) != 0)
		return fail(path, errno);
	return 0;
}

/* ---- fork cost against what the parent maps and has touched
 * ---------------------------- */

static const char *const fork_cost_primitives[] = {"fork-serial", "vfork",
						   "fork-exec", "posix_spawn"};
static const uint64_t fork_cost_touched[] = {0, 100ULL << 20, 1ULL << 30};

/* Fewer forks of a large parent: each copies its page tables. */
static long fork_cost_count(uint64_t touched_bytes, long count)
{
	long scaled = touched_bytes >= (1ULL << 30) ? count / 20
		      : touched_bytes > 0	    ? count / 4
						    : count;
	return scaled > 5 ? scaled : 5;
}

/* iostrat-bare-lean beside this program, for the libc-only rows; NULL when
 * there is none. */
static char *lean_path(void)
{
	static char path[4096];
	const char *given = getenv("IOSTRAT_BARE_LEAN");

	if (given != NULL)
		return access(given, X_OK) == 0 ? strcpy(path, given) : NULL;
	ssize_t len = readlink("/proc/self/exe", path, sizeof(path) - 32);
	if (len < 0)
		return NULL;
	path[len] = '\0';
	char *slash = strrchr(path, '/');
	strcpy(slash != NULL ? slash + 1 : path, "iostrat-bare-lean");
	return access(path, X_OK) == 0 ? path : NULL;
}

static int fork_cost(const struct bare_options *options, const char *tsv_path,
		     bool header)
{
	bool to_stdout = strcmp(tsv_path, "-") == 0;
	FILE *out = to_stdout ? stdout : fopen(tsv_path, "w");

	if (out == NULL)
		return fail(tsv_path, errno);
	if (header)
		fprintf(
		    out,
		    "image\ttouched_bytes\tprimitive\tper_op_us\tspread_us\n");
	fflush(out);
	char *lean =
	    strcmp(IOSTRAT_BARE_IMAGE, "lean") != 0 ? lean_path() : NULL;
	if (lean != NULL) { /* its rows first, written into the same file */
		char count[32], rounds[32], touch[32];
		snprintf(count, sizeof(count), "%ld", options->count);
		snprintf(rounds, sizeof(rounds), "%ld", options->rounds);
		snprintf(touch, sizeof(touch), "%llu",
			 (unsigned long long)(options->touch_given
						  ? options->touched_bytes
						  : fork_cost_touched[2]));
		char *argv[] = {lean,	       "fork-cost", "--tsv", "-",
				"--no-header", "-n",	    count,   "--rounds",
				rounds,	       "--touch",   touch,   NULL};
		posix_spawn_file_actions_t actions;
		pid_t pid;
		int status = 0;
		posix_spawn_file_actions_init(&actions);
		posix_spawn_file_actions_adddup2(&actions, fileno(out),
						 STDOUT_FILENO);
		int err =
		    posix_spawn(&pid, lean, &actions, NULL, argv, environ);
		posix_spawn_file_actions_destroy(&actions);
		if (err != 0 || waitpid(pid, &status, 0) < 0 ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fprintf(stderr,
				"iostrat-bare: %s fork-cost failed: its rows "
				"are missing\n",
				lean);
		if (!to_stdout)
			fseek(out, 0, SEEK_END);
	} else if (strcmp(IOSTRAT_BARE_IMAGE, "lean") != 0) {
		fprintf(stderr, "iostrat-bare: no iostrat-bare-lean beside "
				"this program: only the "
				"rows of iostrat's image are written\n");
	}
	for (size_t t = 0;
	     t < sizeof(fork_cost_touched) / sizeof(fork_cost_touched[0]);
	     t++) {
		uint64_t touched = fork_cost_touched[t];
		if (options->touch_given && touched > options->touched_bytes)
			break;
		void *heap = touch_heap(touched);
		if (touched > 0 && heap == NULL) {
			fprintf(stderr,
				"iostrat-bare: cannot map %llu bytes: %s\n",
				(unsigned long long)touched, strerror(errno));
			break;
		}
		for (size_t p = 0;
		     p < sizeof(fork_cost_primitives) / sizeof(char *); p++) {
			struct bare_options each = *options;
			struct bare_figures figures;
			each.count = fork_cost_count(touched, options->count);
			each.touched_bytes = touched;
			if (measure(primitive_find(fork_cost_primitives[p]),
				    &each, &figures) < 0)
				return -1;
			fprintf(out, "%s\t%llu\t%s\t%.3f\t%.3f\n",
				IOSTRAT_BARE_IMAGE, (unsigned long long)touched,
				fork_cost_primitives[p], figures.per_op_s * 1e6,
				(figures.per_op_max_s - figures.per_op_min_s) *
				    1e6);
			fflush(out);
		}
		if (heap != NULL)
			munmap(heap, touched);
	}
	if (!to_stdout && fclose(out) != 0)
		return fail(tsv_path, errno);
	return 0;
}

/* ---- the command line
 * ------------------------------------------------------------------ */

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: iostrat-bare PRIMITIVE [-n N] [--delay D] [-j K] [--url "
	    "URL]\n"
	    "                    [--rounds R] [--touch SIZE] [--json FILE]\n"
	    "       iostrat-bare fork-cost [--tsv FILE] [-n N] [--rounds R] "
	    "[--touch MAX]\n"
	    "Times N operations of one primitive, R rounds after a warm-up, "
	    "and prints the\n"
	    "median cost of one (min..max over the rounds). Where the "
	    "operations wait together\n"
	    "(fork, thread, timer, http) one costs (wall - delay) / N. This "
	    "image: %s.\n"
	    "Primitives:\n",
	    IOSTRAT_BARE_IMAGE);
	for (size_t p = 0; p < sizeof(primitives) / sizeof(primitives[0]); p++)
		fprintf(out, "  %-13s %s%s%s%s\n", primitives[p].name,
			primitives[p].what,
			primitives[p].strategy[0] ? " (the floor of " : "",
			primitives[p].strategy,
			primitives[p].strategy[0] ? ")" : "");
	fprintf(out, "  fork-cost     fork-serial, vfork, fork-exec and "
		     "posix_spawn with 0, 100 MiB and\n"
		     "                1 GiB of touched heap, as TSV (image, "
		     "touched_bytes, primitive,\n"
		     "                per_op_us, spread_us), for "
		     "iostrat-bare-lean too when it is beside\n"
		     "                this program (IOSTRAT_BARE_LEAN names "
		     "another); --touch MAX leaves\n"
		     "                out the heaps above MAX; -n N forks "
		     "(default 200: a quarter of\n"
		     "                them with 100 MiB touched, a twentieth "
		     "with 1 GiB, at least 5)\n");
}

static int bad_value(const char *option, const char *value, const char *want)
{
	fprintf(stderr, "iostrat-bare: %s: '%s' is not %s\n", option, value,
		want);
	return 2;
}

int main(int argc, char **argv)
{
	struct bare_options options = {.count = 1000, .rounds = 1};
	const char *json_path = NULL;
	const char *tsv_path = "-";
	const char *name = NULL;
	bool header = true;
	bool count_given = false;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const char *value = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = true;
		if ((strcmp(arg, "-n") == 0 || strcmp(arg, "--count") == 0) &&
		    value) {
			if (!units_parse_long(value, 1, 10000000,
					      &options.count))
				return bad_value(
				    arg, value,
				    "a whole number from 1 to 10000000");
			count_given = true;
		} else if ((strcmp(arg, "-j") == 0 ||
			    strcmp(arg, "--jobs") == 0) &&
			   value) {
			if (!units_parse_long(value, 0, 10000000,
					      &options.jobs))
				return bad_value(
				    arg, value,
				    "a whole number from 0 (all) to 10000000");
		} else if (strcmp(arg, "--rounds") == 0 && value) {
			if (!units_parse_long(value, 1, BARE_MAX_ROUNDS,
					      &options.rounds))
				return bad_value(
				    arg, value, "a whole number from 1 to 101");
		} else if (strcmp(arg, "--delay") == 0 && value) {
			if (!units_parse_duration(value, &options.delay_ns))
				return bad_value(arg, value,
						 "a duration (1, 1.5s, 250ms)");
		} else if (strcmp(arg, "--touch") == 0 && value) {
			if (!units_parse_size(value, &options.touched_bytes))
				return bad_value(arg, value,
						 "a size (100M, 1G)");
			options.touch_given = true;
		} else if (strcmp(arg, "--url") == 0 && value) {
			options.url = value;
		} else if (strcmp(arg, "--json") == 0 && value) {
			json_path = value;
		} else if (strcmp(arg, "--tsv") == 0 && value) {
			tsv_path = value;
		} else if (strcmp(arg, "--no-header") == 0) {
			header = false;
			takes = false;
		} else if (strcmp(arg, "--help") == 0 ||
			   strcmp(arg, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (name == NULL && arg[0] != '-') {
			name = arg;
			takes = false;
		} else {
			fprintf(
			    stderr,
			    "iostrat-bare: unknown or incomplete option '%s'\n",
			    arg);
			usage(stderr);
			return 2;
		}
		i += takes;
	}
	if (name == NULL) {
		usage(stderr);
		return 2;
	}
	struct rlimit files;
	if (getrlimit(RLIMIT_NOFILE, &files) == 0 &&
	    files.rlim_cur < files.rlim_max) {
		files.rlim_cur = files.rlim_max; /* http: a descriptor per
						    request in flight */
		setrlimit(RLIMIT_NOFILE, &files);
	}
	if (strcmp(name, "fork-cost") == 0) {
		if (!count_given)
			options.count = 200;
		return fork_cost(&options, tsv_path, header) < 0 ? 1 : 0;
	}
	const struct bare_primitive *primitive = primitive_find(name);
	if (primitive == NULL) {
		fprintf(stderr, "iostrat-bare: unknown primitive '%s'\n", name);
		usage(stderr);
		return 2;
	}
	if (primitive->measure == bare_http) {
		struct http_client check = {0};
		if (options.url == NULL ||
		    http_parse_url(options.url, &check) < 0) {
			fprintf(stderr,
				"iostrat-bare: http needs --url "
				"http://A.B.C.D:PORT/PATH (a "
				"numeric IPv4 address: no name is resolved)\n");
			return 2;
		}
	}
	void *heap = touch_heap(options.touched_bytes);
	if (options.touched_bytes > 0 && heap == NULL)
		return fail("--touch", errno) < 0 ? 1 : 0;
	struct bare_figures figures;
	if (measure(primitive, &options, &figures) < 0)
		return 1;
	printf("%s (%s), %s image, %d objects mapped: %ld x %ld rounds, %.3f "
	       "us each "
	       "(%.3f..%.3f), wall %.6f s",
	       name, primitive->what, IOSTRAT_BARE_IMAGE, mapped_objects(),
	       options.count, options.rounds, figures.per_op_s * 1e6,
	       figures.per_op_min_s * 1e6, figures.per_op_max_s * 1e6,
	       figures.wall_s);
	if (primitive->measure == bare_http)
		printf(", %.1f requests/s, %ld failed",
		       (double)options.count / figures.wall_s, figures.failed);
	printf("\n");
	if (json_path != NULL &&
	    write_json(json_path, primitive, &options, &figures) < 0)
		return 1;
	return figures.failed > 0 ? 1 : 0;
}
