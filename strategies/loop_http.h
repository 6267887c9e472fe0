/* loop_http.h - libcurl's multi-socket API for any readiness loop (epoll, poll,
 * uring, a coroutine loop): this glue owns the multi handle, its callbacks and
 * the sockets' records; a loop plugs in with two calls of its own, "watch this
 * socket for IN/OUT, or stop" and "call me back at this time", and reports back
 * what it saw. */
#ifndef IOSTRAT_LOOP_HTTP_H
#define IOSTRAT_LOOP_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>

#include "../bench/core/run.h"

/* Transfers handed to libcurl per round of a loop. libcurl 7.88 connects every
 * transfer it was handed in one go and sends their requests only on the
 * writable events that follow: given 10,000 at once, the first request leaves
 * after the last connect(). Handed at most this many per round, it sends each
 * round's requests while it connects the next round's. */
#define LOOP_HTTP_ADDS_PER_ROUND 64

/* What a socket is watched for, and what the loop saw on it. */
enum loop_http_events {
	LOOP_HTTP_IN = 1u << 0,	 /* readable */
	LOOP_HTTP_OUT = 1u << 1, /* writable */
	LOOP_HTTP_ERR = 1u << 2, /* error or hang-up (reported only) */
};

/* A socket libcurl asked to have watched. Its record stays until
 * loop_http_free(), so an event or a completion that comes after libcurl has
 * let go of it still finds it. */
struct loop_http_socket {
	curl_socket_t fd; /* the socket */
	unsigned
	    want; /* LOOP_HTTP_IN/OUT libcurl waits for, 0 once it let go */
	unsigned registered; /* the loop's: what its kernel object was last
				told, 0: none */
	long slot; /* poll: the socket's index in the pollfd array, -1: none */
	uint32_t
	    generation; /* uring: bumped when a one-shot watch is taken back */
};

/* What a loop gives: its two calls, each 0 or -1 after run_fail(), and where
 * tasks end. */
struct loop_http_backend {
	/* libcurl changed what it waits for on socket->fd: socket->want (0:
	 * nothing). */
	int (*watch)(void *loop, struct loop_http_socket *socket);
	/* Call loop_http_timeout() at due_ns (CLOCK_MONOTONIC; -1: never; a
	 * time already past: at once, but from the loop, not from inside this
	 * call). */
	int (*timer)(void *loop, int64_t due_ns);
	/* A task is over, its record complete: print it, count it done. */
	void (*finished)(void *loop, struct task *task);
};

struct loop_http;

/* The multi handle with run_jobs() slots, at most so many idle connections kept
 * (CURLMOPT_MAXCONNECTS), libcurl's callbacks wired to backend (called with
 * loop). NULL after run_fail() on failure. */
struct loop_http *loop_http_init(struct run *run,
				 const struct loop_http_backend *backend,
				 void *loop);

/* The record of fd if libcurl ever asked for it, else NULL. */
struct loop_http_socket *loop_http_socket_find(const struct loop_http *http,
					       curl_socket_t fd);

/* The loop saw events (LOOP_HTTP_*) on socket: libcurl acts on them
 * (curl_multi_socket_action), then every transfer it has finished is checked
 * and its task ended. 0, or -1 after run_fail(). */
int loop_http_ready(struct loop_http *http, curl_socket_t fd, unsigned events);
/* The time asked for through backend->timer has come: libcurl's timeout, and
 * any transfer past its --timeout. 0, or -1 after run_fail(). */
int loop_http_timeout(struct loop_http *http);

/* A new round of the loop begins: up to LOOP_HTTP_ADDS_PER_ROUND transfers may
 * be added. Nothing happens for a NULL http (a run of another workload). */
void loop_http_round_begin(struct loop_http *http);
/* A NULL http, or a free slot and room for another transfer in this round. */
bool loop_http_may_start(const struct loop_http *http);

/* Hand task (started and counted in flight by the loop) to libcurl in a free
 * slot. A task that cannot be set up ends here, failed (backend->finished); the
 * run goes on. */
void loop_http_start(struct loop_http *http, struct task *task);

/* The run stops: every transfer still in flight ends where it stands,
 * cancelled. NULL is allowed. */
void loop_http_cancel(struct loop_http *http);

/* The easy handles, the multi handle (which closes the connections it keeps:
 * libcurl's socket callback is called meanwhile, and finds the records of its
 * sockets), then the records. NULL is allowed. */
void loop_http_free(struct loop_http *http);

#endif
