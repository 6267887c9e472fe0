/* http_multi.h - what the two event loops (epoll, uring) share when they drive libcurl's
 * multi-socket API: the multi handle, one reused easy handle per --jobs slot, a task set up
 * through the workload's http_ops, the options that keep libcurl 7.88 from walking its
 * connections n^2 times, transfers handed over in rounds, finished transfers drained. What makes
 * a loop itself stays in its strategy file: its CURLMOPT_SOCKETFUNCTION (how a socket is
 * watched), its CURLMOPT_TIMERFUNCTION (how libcurl's timeout is kept) and its calls to
 * curl_multi_socket_action(), each followed by http_multi_drain(). */
#ifndef IOSTRAT_HTTP_MULTI_H
#define IOSTRAT_HTTP_MULTI_H

#include <stdbool.h>

#include <curl/curl.h>

#include "../bench/core/run.h"

/* Transfers handed to libcurl per round of a loop. libcurl 7.88 connects every transfer it was
 * handed in one go and sends their requests only on the writable events that follow: given
 * 10,000 at once, the first request leaves after the last connect(). Handed at most this many
 * per round, it sends each round's requests while it connects the next round's. */
#define HTTP_MULTI_ADDS_PER_ROUND 64

/* A task is over (its record is complete): the loop prints it and counts it as done. */
typedef void http_multi_finished_fn(void *user, struct task *task);

/* What a loop hands over: libcurl's two callbacks, which are the loop's own, and what it keeps
 * for each socket. */
struct http_multi_hooks {
	curl_socket_callback on_socket;	     /* CURLMOPT_SOCKETFUNCTION: watch a socket, or stop */
	curl_multi_timer_callback on_timer;  /* CURLMOPT_TIMERFUNCTION: call libcurl back, when */
	http_multi_finished_fn *on_finished; /* a task is over */
	size_t socket_bytes;		     /* the loop's record for each socket: its size */
};

struct http_multi;

/* The multi handle with jobs slots, hooks->on_socket and on_timer set as libcurl's callbacks
 * (CURLMOPT_SOCKETFUNCTION, CURLMOPT_TIMERFUNCTION, both called with user), and at most jobs
 * idle connections kept (CURLMOPT_MAXCONNECTS). hooks->on_finished is called with user for
 * every task that ends, in any of the calls below. NULL with errno set (ENOMEM) on failure. */
struct http_multi *http_multi_init(struct run *run, long jobs, const struct http_multi_hooks *hooks,
				   void *user);

/* libcurl's multi handle, for curl_multi_socket_action(). */
CURLM *http_multi_curl(const struct http_multi *multi);

/* The loop's record for socket fd (hooks->socket_bytes, zeroed when made), made on first use;
 * NULL when out of memory. A record stays where it is until http_multi_free(), so an event or
 * a completion that comes after libcurl has let go of the socket still finds it. */
void *http_multi_socket(struct http_multi *multi, curl_socket_t fd);
/* The record of fd if one was made, else NULL. */
void *http_multi_socket_find(const struct http_multi *multi, curl_socket_t fd);

/* A new round of the loop begins: up to HTTP_MULTI_ADDS_PER_ROUND transfers may be added.
 * Nothing happens for a NULL multi (a run of another workload). */
void http_multi_round_begin(struct http_multi *multi);
/* A NULL multi, or a free slot and room for another transfer in this round. */
bool http_multi_may_start(const struct http_multi *multi);

/* Hand task (started and counted in flight by the loop) to libcurl in a free slot. A task that
 * cannot be set up ends here, failed (on_finished is called); the run goes on. */
void http_multi_start(struct http_multi *multi, struct task *task);

/* Every transfer libcurl has finished since the last call: checked by the workload
 * (http_ops->easy_done), its slot freed, on_finished called. After each socket action. */
void http_multi_drain(struct http_multi *multi);

/* The run stops: every transfer still in flight ends where it stands, cancelled. NULL is
 * allowed. */
void http_multi_cancel(struct http_multi *multi);

/* The easy handles, the multi handle (which closes the connections it keeps: libcurl's socket
 * callback is called meanwhile, and finds the records of its sockets), then the records. NULL
 * is allowed. */
void http_multi_free(struct http_multi *multi);

#endif
