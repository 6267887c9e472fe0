/* loop_http.c - libcurl's multi handle driven by an event loop (loop_http.h):
 * slots of reused easy handles, libcurl's CURLMOPT_SOCKETFUNCTION and
 * CURLMOPT_TIMERFUNCTION turned into the loop's watch and timer calls, finished
 * transfers read with curl_multi_info_read(), the options libcurl 7.88 needs to
 * stay linear in the transfers in flight. The model is curl's
 * docs/examples/ephiperfifo.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bench/core/workload.h"
#include "../bench/workloads/http.h"
#include "loop_http.h"

/* Where libcurl's own wait for a transfer's --timeout can be lost (7.88 drops a
 * timer less than 1 ms away when another of the transfer's events is handled),
 * the loop calls libcurl back on the transfer's socket at its deadline, and
 * again this much later until libcurl agrees the time is up. */
#define DEADLINE_RETRY_NS 1000000LL

/* One transfer in flight. Its easy handle is made once and reused by the slot's
 * next tasks: the connections themselves live in the multi handle's cache. */
struct http_slot {
	CURL *easy;	   /* made on the slot's first transfer */
	struct task *task; /* the task in flight, NULL when the slot is free */
	void *ctx; /* the workload's state for the transfer (http_ops) */
	int64_t deadline_ns; /* when its --timeout is up (CLOCK_MONOTONIC) */
	curl_socket_t fd;    /* the socket libcurl last named for it, or -1 */
	long prev, next; /* the deadline list, earliest first; -1 at its ends */
	bool keeps;	 /* its connection may stay in libcurl's cache when done */
};

struct loop_http {
	struct run *run;	    /* the run being carried out */
	const struct http_ops *ops; /* the workload's easy_setup, easy_done */
	const struct loop_http_backend *backend; /* the loop's calls */
	void *loop;				 /* passed to them */
	CURLM *curl;				 /* libcurl's multi handle */
	struct http_slot *slots;		 /* slot_count of them */
	long slot_count;			 /* --jobs */
	long *free_slots;   /* indexes of free slots, a stack */
	long free_count;    /* entries in free_slots */
	long deadline_head; /* slot with the earliest deadline, -1 */
	long deadline_tail; /* slot with the latest deadline, -1 */
	long started;	    /* tasks handed to loop_http_start() */
	long ended;	    /* transfers libcurl has handed back */
	long kept;	    /* of them, those that could leave their connection */
	long added;	    /* transfers added in this round */
	struct loop_http_socket *
	    *sockets;	      /* the records, by descriptor number */
	size_t sockets_len;   /* entries in sockets */
	int64_t curl_due_ns;  /* when libcurl wants a call, -1: never */
	int64_t told_ns;      /* what the loop's timer was last told */
	bool callback_failed; /* a callback said why with run_fail() */
};

static int http_fail(struct loop_http *http, int err, const char *what)
{
	return run_fail(http->run, err, "%s: %s: %s",
			http->run->params.strategy_name, what, strerror(err));
}

/* ---- the deadline list: slots in flight, earliest --timeout first -------- */


static void deadline_unlink(struct loop_http *http, long index)
{
	struct http_slot *slot = &http->slots[index];

	if (slot->prev >= 0)
		http->slots[slot->prev].next = slot->next;
	else
		http->deadline_head = slot->next;
	if (slot->next >= 0)
		http->slots[slot->next].prev = slot->prev;
	else
		http->deadline_tail = slot->prev;
	slot->prev = slot->next = -1;
}

/* In order of deadline: a new transfer from the tail (every task has the same
 * --timeout, so it goes last), a retried one from the head (it is due soon). */
static void deadline_insert(struct loop_http *http, long index, bool from_head)
{
	struct http_slot *slot = &http->slots[index];
	long after = http->deadline_tail;

	if (from_head) {
		long before = http->deadline_head;
		while (before >= 0 &&
		       http->slots[before].deadline_ns <= slot->deadline_ns)
			before = http->slots[before].next;
		after = before >= 0 ? http->slots[before].prev
				    : http->deadline_tail;
	}
	while (after >= 0 && http->slots[after].deadline_ns > slot->deadline_ns)
		after = http->slots[after].prev;
	slot->prev = after;
	slot->next = after >= 0 ? http->slots[after].next : http->deadline_head;
	if (slot->next >= 0)
		http->slots[slot->next].prev = index;
	else
		http->deadline_tail = index;
	if (after >= 0)
		http->slots[after].next = index;
	else
		http->deadline_head = index;
}

/* Tell the loop the earliest of libcurl's wish and the first deadline, when it
 * changed. A deadline that moves later (its transfer ended) is not told: the
 * timer comes early, finds nothing due and is told again then. */
static int tell_timer(struct loop_http *http)
{
	int64_t due_ns = http->curl_due_ns;

	if (http->deadline_head >= 0) {
		int64_t deadline_ns =
		    http->slots[http->deadline_head].deadline_ns;
		if (due_ns < 0 || deadline_ns < due_ns)
			due_ns = deadline_ns;
	}
	if (due_ns == http->told_ns)
		return 0;
	http->told_ns = due_ns;
	return http->backend->timer(http->loop, due_ns);
}

/* ---- libcurl's two callbacks --------------------------------------------- */


static struct loop_http_socket *socket_record(struct loop_http *http,
					      curl_socket_t fd)
{
	size_t index = (size_t)fd;

	if (index >= http->sockets_len) {
		size_t len = http->sockets_len > 0 ? http->sockets_len * 2 : 64;
		while (len <= index)
			len *= 2;
		struct loop_http_socket **grown =
		    realloc(http->sockets, len * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		memset(grown + http->sockets_len, 0,
		       (len - http->sockets_len) * sizeof(*grown));
		http->sockets = grown;
		http->sockets_len = len;
	}
	if (http->sockets[index] == NULL) {
		http->sockets[index] = calloc(1, sizeof(**http->sockets));
		if (http->sockets[index] == NULL)
			return NULL;
		http->sockets[index]->fd = fd;
		http->sockets[index]->slot = -1;
	}
	return http->sockets[index];
}

struct loop_http_socket *loop_http_socket_find(const struct loop_http *http,
					       curl_socket_t fd)
{
	if (fd < 0 || (size_t)fd >= http->sockets_len)
		return NULL;
	return http->sockets[fd];
}

/* CURLMOPT_SOCKETFUNCTION: what libcurl waits for on fd, or that it let go of
 * it. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp,
			  void *socketp)
{
	struct loop_http *http = userp;
	struct loop_http_socket *socket;
	struct http_slot *slot = NULL;
	(void)socketp;

	if (easy != NULL)
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&slot);
	if (slot != NULL)
		slot->fd = what == CURL_POLL_REMOVE ? CURL_SOCKET_BAD : fd;
	if (what == CURL_POLL_REMOVE) {
		socket = loop_http_socket_find(http, fd);
		if (socket == NULL)
			return 0;
		socket->want = 0;
	} else {
		socket = socket_record(http, fd);
		if (socket == NULL) {
			http_fail(http, ENOMEM, "the sockets' records");
			http->callback_failed = true;
			return -1;
		}
		socket->want = ((what & CURL_POLL_IN) ? LOOP_HTTP_IN : 0) |
			       ((what & CURL_POLL_OUT) ? LOOP_HTTP_OUT : 0);
	}
	if (http->backend->watch(http->loop, socket) < 0) {
		http->callback_failed = true;
		return -1;
	}
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: libcurl wants to be called back in timeout_ms (-1:
 * never; 0: at once, but from the loop). */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct loop_http *http = userp;
	(void)multi;

	http->curl_due_ns =
	    timeout_ms < 0 ? -1
			   : run_now_ns() + (int64_t)timeout_ms * 1000000LL;
	if (tell_timer(http) < 0) {
		http->callback_failed = true;
		return -1;
	}
	return 0;
}

/* ---- the slots ----------------------------------------------------------- */


struct loop_http *loop_http_init(struct run *run,
				 const struct loop_http_backend *backend,
				 void *loop)
{
	struct loop_http *http = calloc(1, sizeof(*http));
	long jobs = run_jobs(run);

	if (http == NULL)
		goto out_no_memory;
	*http = (struct loop_http){
	    .run = run,
	    .ops = run->params.workload->http,
	    .backend = backend,
	    .loop = loop,
	    .slot_count = jobs,
	    .deadline_head = -1,
	    .deadline_tail = -1,
	    .curl_due_ns = -1,
	    .told_ns = -1,
	};
	http->slots = calloc((size_t)jobs, sizeof(*http->slots));
	http->free_slots = calloc((size_t)jobs, sizeof(*http->free_slots));
	if (http->slots == NULL || http->free_slots == NULL)
		goto out_free;
	for (long i = jobs - 1; i >= 0; i--) {
		http->slots[i].prev = http->slots[i].next = -1;
		http->free_slots[http->free_count++] = i; /* slot 0 on top */
	}
	http->curl = curl_multi_init();
	if (http->curl == NULL)
		goto out_free;
	curl_multi_setopt(http->curl, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(http->curl, CURLMOPT_SOCKETDATA, http);
	curl_multi_setopt(http->curl, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(http->curl, CURLMOPT_TIMERDATA, http);
	/* One idle connection kept per slot. libcurl's own bound is 4 x the
	 * handles in the multi handle, which drops while finished transfers are
	 * removed before new ones are added, and then it closes the very
	 * connections the next tasks would reuse. */
	curl_multi_setopt(http->curl, CURLMOPT_MAXCONNECTS, jobs);
	return http;
out_free:
	loop_http_free(http);
out_no_memory:
	run_fail(run, ENOMEM,
		 "%s: libcurl's multi handle and the transfer slots: %s",
		 run->params.strategy_name, strerror(ENOMEM));
	return NULL;
}

void loop_http_round_begin(struct loop_http *http)
{
	if (http != NULL)
		http->added = 0;
}

bool loop_http_may_start(const struct loop_http *http)
{
	return http == NULL ||
	       (http->free_count > 0 && http->added < LOOP_HTTP_ADDS_PER_ROUND);
}

/* The transfer in slot is over: the workload checks it, the slot is free again.
 * The task is returned for the caller to end. */
static struct task *slot_end(struct loop_http *http, struct http_slot *slot,
			     CURLcode result)
{
	struct task *task = slot->task;
	long index = slot - http->slots;

	http->ops->easy_done(http->run, task, slot->easy, result, slot->ctx);
	deadline_unlink(http, index);
	slot->task = NULL;
	slot->ctx = NULL;
	http->free_slots[http->free_count++] = index;
	return task;
}

/* libcurl 7.88 walks every connection to the host for an idle one to reuse when
 * a transfer starts, and every connection in its cache when a transfer that
 * left its connection there is removed: with n transfers in flight, n^2 steps.
 * When every task not yet started has a free slot waiting for it (all in
 * flight), none waits for this transfer to end: its connection is closed when
 * it is done (CURLOPT_FORBID_REUSE), not kept for a reuse that only the timing
 * of the rounds could bring. Until a transfer that could leave its connection
 * in the cache has ended, there is no idle connection to find
 * (CURLOPT_FRESH_CONNECT): not "until any transfer has ended", for then every
 * start after the first end of 10,000 held ones walked thousands of busy
 * connections, and a run that started slower walked more. */
static void slot_connection_rule(struct loop_http *http, struct http_slot *slot)
{
	long unstarted = http->run->params.tasks - http->started;

	slot->keeps = unstarted > http->free_count;
	curl_easy_setopt(slot->easy, CURLOPT_FRESH_CONNECT,
			 http->kept == 0 ? 1L : 0L);
	curl_easy_setopt(slot->easy, CURLOPT_FORBID_REUSE,
			 slot->keeps ? 0L : 1L);
}

void loop_http_start(struct loop_http *http, struct task *task)
{
	long index = http->free_slots[--http->free_count];
	struct http_slot *slot = &http->slots[index];

	http->started++;
	http->added++;
	slot->task = task;
	if (slot->easy == NULL)
		slot->easy = curl_easy_init();
	if (slot->easy == NULL) {
		run_task_failed(http->run, task, ENOMEM, "curl_easy_init");
		goto out_free_slot;
	}
	if (http->ops->easy_setup(http->run, task, slot->easy, &slot->ctx) < 0)
		goto out_free_slot;
	curl_easy_setopt(slot->easy, CURLOPT_PRIVATE, slot);
	slot->fd = CURL_SOCKET_BAD;
	slot_connection_rule(http, slot);
	slot->deadline_ns = run_now_ns() + http->run->params.timeout_ns;
	deadline_insert(http, index, false);
	CURLMcode rc = curl_multi_add_handle(http->curl, slot->easy);
	if (rc != CURLM_OK) {
		slot_end(http, slot, CURLE_FAILED_INIT);
		task->status = TASK_ERROR;
		snprintf(task->error, sizeof(task->error),
			 "curl_multi_add_handle: %s", curl_multi_strerror(rc));
		http->backend->finished(http->loop, task);
	}
	return;
out_free_slot:
	slot->task = NULL;
	http->free_slots[http->free_count++] = index;
	http->backend->finished(http->loop, task);
}

/* Every transfer libcurl has finished since the last call: checked by the
 * workload (http_ops->easy_done), its slot freed, its task ended. */
static void drain(struct loop_http *http)
{
	int queued;

	for (;;) {
		CURLMsg *message = curl_multi_info_read(http->curl, &queued);
		if (message == NULL)
			break;
		if (message->msg != CURLMSG_DONE)
			continue;
		struct http_slot *slot = NULL;
		CURLcode result =
		    message->data.result; /* gone with the handle */
		curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE,
				  (char **)&slot);
		curl_multi_remove_handle(http->curl, slot->easy);
		http->ended++;
		http->kept += slot->keeps;
		http->backend->finished(http->loop,
					slot_end(http, slot, result));
	}
}

/* Tell libcurl what happened on fd (or that its time came,
 * CURL_SOCKET_TIMEOUT), then end every transfer it has finished meanwhile. */
static int act(struct loop_http *http, curl_socket_t fd, int flags)
{
	int running;
	CURLMcode rc =
	    curl_multi_socket_action(http->curl, fd, flags, &running);

	if (rc != CURLM_OK) {
		if (http->callback_failed)
			return -1; /* the callback said why */
		return run_fail(
		    http->run, EIO, "%s: curl_multi_socket_action: %s",
		    http->run->params.strategy_name, curl_multi_strerror(rc));
	}
	drain(http);
	return 0;
}

int loop_http_ready(struct loop_http *http, curl_socket_t fd, unsigned events)
{
	int flags = ((events & LOOP_HTTP_IN) ? CURL_CSELECT_IN : 0) |
		    ((events & LOOP_HTTP_OUT) ? CURL_CSELECT_OUT : 0) |
		    ((events & LOOP_HTTP_ERR) ? CURL_CSELECT_ERR : 0);

	return act(http, fd, flags);
}

int loop_http_timeout(struct loop_http *http)
{
	int64_t now_ns = run_now_ns();

	http->told_ns =
	    -1; /* the loop's timer has fired: it holds nothing now */
	if (http->curl_due_ns >= 0 && http->curl_due_ns <= now_ns) {
		http->curl_due_ns = -1;
		if (act(http, CURL_SOCKET_TIMEOUT, 0) < 0)
			return -1;
	}
	/* Transfers past their --timeout: libcurl checks the time whenever it
	 * handles a transfer, so it is called on the socket it last named for
	 * the transfer. */
	while (http->deadline_head >= 0 &&
	       http->slots[http->deadline_head].deadline_ns <= now_ns) {
		long index = http->deadline_head;
		struct http_slot *slot = &http->slots[index];
		curl_socket_t fd = slot->fd;

		deadline_unlink(http, index);
		slot->deadline_ns = now_ns + DEADLINE_RETRY_NS;
		deadline_insert(http, index, true);
		if (act(http, fd != CURL_SOCKET_BAD ? fd : CURL_SOCKET_TIMEOUT,
			0) < 0)
			return -1;
	}
	return tell_timer(http);
}

void loop_http_cancel(struct loop_http *http)
{
	for (long i = 0; http != NULL && i < http->slot_count; i++) {
		struct http_slot *slot = &http->slots[i];
		if (slot->task == NULL)
			continue;
		curl_multi_remove_handle(http->curl, slot->easy);
		http->backend->finished(
		    http->loop,
		    slot_end(http, slot, CURLE_ABORTED_BY_CALLBACK));
	}
}

void loop_http_free(struct loop_http *http)
{
	if (http == NULL)
		return;
	for (long i = 0; http->slots != NULL && i < http->slot_count; i++) {
		if (http->slots[i].easy == NULL)
			continue;
		if (http->curl != NULL)
			curl_multi_remove_handle(http->curl,
						 http->slots[i].easy);
		curl_easy_cleanup(http->slots[i].easy);
	}
	if (http->curl != NULL)
		curl_multi_cleanup(
		    http->curl); /* closes the cached connections */
	for (size_t fd = 0; fd < http->sockets_len; fd++)
		free(http->sockets[fd]);
	free(http->sockets);
	free(http->free_slots);
	free(http->slots);
	free(http);
}
