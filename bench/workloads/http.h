/* http.h - the http workload's hooks for event-loop strategies. A transfer is one libcurl easy
 * handle: easy_setup() makes it ready for a task (URL, options, body buffer), the strategy
 * carries out the waiting (curl_easy_perform, or a multi handle driven by epoll or io_uring
 * through strategies/loop_http.h), and easy_done() checks what came back (status 200, JSON), prints a
 * listing and records the task's outcome. The body buffer, the parse and the printing live in
 * bench/http.c only. */
#ifndef IOSTRAT_HTTP_H
#define IOSTRAT_HTTP_H

#include <curl/curl.h>

#include "../core/run.h"

struct http_ops {
	/* Reset easy (curl_easy_reset: its connections and DNS cache are kept), set it up to
	 * fetch task's URL and store the transfer's state in *ctx. 0, or -1 when the task failed
	 * already (task->status and task->error are set, *ctx is NULL, nothing to undo). The
	 * caller may set CURLOPT_PRIVATE afterwards: it is the strategy's, never the workload's. */
	int (*easy_setup)(struct run *run, struct task *task, CURL *easy, void **ctx);
	/* The transfer is over with result (curl_easy_perform's, or CURLMsg.data.result; pass
	 * CURLE_ABORTED_BY_CALLBACK for a transfer cancelled by Ctrl-C). Sets task->status,
	 * task->error, task->http_status and task->bytes, prints a listing, frees ctx. easy is
	 * left as it is, for the caller to reuse or clean up. */
	void (*easy_done)(struct run *run, struct task *task, CURL *easy, CURLcode result,
			  void *ctx);
};

extern const struct workload workload_http;

#endif
