/* cli.c - parses the command line into struct params, strictly: every bad value
 * is named. One table declares each option once; getopt_long's table, --help
 * and the "does not apply" checks are all made from it. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "core/units.h"
#include "core/version.h"
#include "core/workload.h"
#include "core/strategy.h"

#define ALL_WORKLOADS (~0u)
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* What the parse has seen besides params: the program's own actions. */
struct cli_state {
	struct params *params;
	bool done;	 /* --help or --version was printed: stop, exit 0 */
	bool list;	 /* --list */
	bool list_tsv;	 /* --format tsv */
	bool format_set; /* --format was given */
};

/* One command-line option. Adding an option is adding a row to cli_options[]
 * (and its parser): getopt_long's table, --help and the checks follow. */
struct cli_option {
	const char *name;   /* long name, without the leading "--" */
	char short_name;    /* -x, or 0 */
	const char *arg;    /* the argument's name in --help; NULL: a switch */
	unsigned workloads; /* WORKLOAD_BIT()s it applies to, ALL_WORKLOADS */
	unsigned strategy_flags; /* only strategies with one of these flags */
	const char *strategies;	 /* only these ("poll,coroutines"); NULL: all */
	const char *excludes;	 /* another option it cannot be given with */
	const char *help;     /* for --help; '\n' starts a continuation line */
	const char *expected; /* what a good argument is, for the message */
	bool (*parse)(struct cli_state *cli, const char *arg); /* false: bad */
};

static bool parse_tasks(struct cli_state *cli, const char *arg)
{
	return units_parse_long(arg, 1, CLI_MAX_TASKS, &cli->params->tasks);
}

static bool parse_jobs(struct cli_state *cli, const char *arg)
{
	return units_parse_long(arg, 1, CLI_MAX_TASKS, &cli->params->jobs);
}

static bool parse_quiet(struct cli_state *cli, const char *arg)
{
	(void)arg;
	cli->params->quiet = true;
	return true;
}

static bool parse_json(struct cli_state *cli, const char *arg)
{
	cli->params->json_path = arg;
	return arg[0] != '\0';
}

static bool parse_seed(struct cli_state *cli, const char *arg)
{
	cli->params->seed_given = true;
	return units_parse_u64(arg, &cli->params->seed);
}

static bool parse_max_delay(struct cli_state *cli, const char *arg)
{
	return units_parse_long(arg, 1, 86400, &cli->params->max_delay_s);
}

static bool parse_delay(struct cli_state *cli, const char *arg)
{
	return units_parse_duration(arg, &cli->params->delay_ns) &&
	       cli->params->delay_ns <= 86400LL * 1000000000LL;
}

static bool parse_size(struct cli_state *cli, const char *arg)
{
	return units_parse_size(arg, &cli->params->file_size_bytes) &&
	       cli->params->file_size_bytes > 0;
}

static bool parse_block(struct cli_state *cli, const char *arg)
{
	return units_parse_size(arg, &cli->params->block_bytes) &&
	       cli->params->block_bytes > 0 &&
	       cli->params->block_bytes <= (1u << 30);
}

static bool parse_dir(struct cli_state *cli, const char *arg)
{
	cli->params->dir = arg;
	return arg[0] != '\0';
}

static bool parse_cache(struct cli_state *cli, const char *arg)
{
	bool warm = strcmp(arg, "warm") == 0;

	cli->params->cache = warm ? CACHE_WARM : CACHE_COLD;
	return warm || strcmp(arg, "cold") == 0;
}

static bool parse_pool(struct cli_state *cli, const char *arg)
{
	return units_parse_long(arg, 1, 1024, &cli->params->pool_threads);
}

static bool parse_inline(struct cli_state *cli, const char *arg)
{
	(void)arg;
	cli->params->inline_reads = true;
	return true;
}

static bool parse_select(struct cli_state *cli, const char *arg)
{
	(void)arg;
	cli->params->use_select = true;
	return true;
}

static bool parse_stack(struct cli_state *cli, const char *arg)
{
	uint64_t *bytes = &cli->params->stack_bytes;

	return units_parse_size(arg, bytes) && *bytes >= 4096 &&
	       *bytes <= (1u << 30);
}

static bool parse_switch(struct cli_state *cli, const char *arg)
{
	if (strcmp(arg, "ucontext") == 0)
		cli->params->minimal_switch = false;
	else if (strcmp(arg, "minimal") == 0)
		cli->params->minimal_switch = true;
	else
		return false;
	return true;
}

static bool parse_check(struct cli_state *cli, const char *arg)
{
	cli->params->check_off = strcmp(arg, "off") == 0;
	return cli->params->check_off || strcmp(arg, "on") == 0;
}

static bool parse_body(struct cli_state *cli, const char *arg)
{
	cli->params->body_discard = strcmp(arg, "discard") == 0;
	return cli->params->body_discard || strcmp(arg, "parse") == 0;
}

static bool parse_url(struct cli_state *cli, const char *arg)
{
	cli->params->url = arg;
	return arg[0] != '\0';
}

static bool parse_urls(struct cli_state *cli, const char *arg)
{
	cli->params->urls_file = arg;
	return arg[0] != '\0';
}

static bool parse_timeout(struct cli_state *cli, const char *arg)
{
	return units_parse_duration(arg, &cli->params->timeout_ns) &&
	       cli->params->timeout_ns >= 1000000;
}

static bool parse_list(struct cli_state *cli, const char *arg)
{
	(void)arg;
	cli->list = true;
	return true;
}

static bool parse_format(struct cli_state *cli, const char *arg)
{
	cli->format_set = true;
	cli->list_tsv = strcmp(arg, "tsv") == 0;
	return cli->list_tsv || strcmp(arg, "text") == 0;
}

static bool parse_help(struct cli_state *cli, const char *arg)
{
	(void)arg;
	cli_print_help();
	cli->done = true;
	return true;
}

static bool parse_version(struct cli_state *cli, const char *arg)
{
	(void)arg;
	printf("iostrat %s (commit %s)\n", IOSTRAT_VERSION, IOSTRAT_COMMIT);
	cli->done = true;
	return true;
}

#define SLEEP WORKLOAD_BIT(WORKLOAD_SLEEP)
#define FILE_ WORKLOAD_BIT(WORKLOAD_FILE)
#define HTTP WORKLOAD_BIT(WORKLOAD_HTTP)

static const struct cli_option cli_options[] = {
    {.name = "tasks",
     .short_name = 'n',
     .arg = "N",
     .workloads = ALL_WORKLOADS,
     .help = "number of tasks (default 4; 1 to 1000000)",
     .expected = "a whole number from 1 to 1000000",
     .parse = parse_tasks},
    {.name = "jobs",
     .short_name = 'j',
     .arg = "K",
     .workloads = ALL_WORKLOADS,
     .help = "most tasks in flight at once (default: all; blocking: 1; "
	     "pool: one per CPU)",
     .expected = "a whole number from 1 to 1000000",
     .parse = parse_jobs},
    {.name = "quiet",
     .short_name = 'q',
     .workloads = ALL_WORKLOADS,
     .help = "no per-task lines (printing is I/O too)",
     .parse = parse_quiet},
    {.name = "json",
     .arg = "FILE",
     .workloads = ALL_WORKLOADS,
     .help = "write the result document to FILE (atomically; also when\n"
	     "the run fails or is interrupted)",
     .expected = "a file name",
     .parse = parse_json},
    {.name = "seed",
     .arg = "N",
     .workloads = ALL_WORKLOADS,
     .help = "seed for random delays (default: from the clock; printed)",
     .expected = "a whole number from 0 to 2^64-1",
     .parse = parse_seed},
    {.name = "max-delay",
     .arg = "M",
     .workloads = SLEEP,
     .help = "each task sleeps a random whole number of seconds from 0\n"
	     "to M-1, as the tutorial does (default 6)",
     .expected = "a whole number of seconds from 1 to 86400",
     .parse = parse_max_delay},
    {.name = "delay",
     .arg = "D",
     .workloads = SLEEP | HTTP,
     .help = "sleep: every task sleeps D, not a random delay;\n"
	     "http: the local server holds each response D (default 0);\n"
	     "1.5, 1.5s, 250ms, 100us",
     .expected = "a duration from 0 to 1 day (1.5, 1.5s, 250ms, 100us)",
     .parse = parse_delay},
    {.name = "size",
     .arg = "S",
     .workloads = FILE_,
     .help = "bytes per file (default 1M; 4K, 16M, 1G accepted)",
     .expected = "a size above 0 (4096, 4K, 16M, 1G)",
     .parse = parse_size},
    {.name = "block",
     .arg = "B",
     .workloads = FILE_,
     .help = "bytes per read() (default 64K)",
     .expected = "a size from 1 byte to 1G (4K, 64K)",
     .parse = parse_block},
    {.name = "dir",
     .arg = "DIR",
     .workloads = FILE_,
     .help = "where the file set lives (default: a cache folder per user)",
     .expected = "a folder",
     .parse = parse_dir},
    {.name = "cache",
     .arg = "MODE",
     .workloads = FILE_,
     .help = "cold (default: evicted before timing) or warm (read once)",
     .expected = "warm or cold",
     .parse = parse_cache},
    {.name = "pool",
     .arg = "N",
     .workloads = FILE_,
     .strategy_flags = STRATEGY_FILE_POOL,
     .excludes = "inline",
     .help = "worker threads that read files for the loop (default 4)",
     .expected = "a whole number from 1 to 1024",
     .parse = parse_pool},
    {.name = "inline",
     .workloads = FILE_,
     .strategy_flags = STRATEGY_FILE_POOL,
     .excludes = "pool",
     .help = "read files in the loop thread, blocking it (no pool)",
     .parse = parse_inline},
    {.name = "select",
     .workloads = ALL_WORKLOADS,
     .strategy_flags = STRATEGY_SELECT,
     .help = "wait with select() instead of poll() (at most FD_SETSIZE\n"
	     "descriptors)",
     .parse = parse_select},
    {.name = "stack",
     .arg = "SIZE",
     .workloads = ALL_WORKLOADS,
     .strategies = "coroutines",
     .help = "each coroutine's stack, a guard page below it (default 64K)",
     .expected = "a size from 4K to 1G (16K, 64K, 1M)",
     .parse = parse_stack},
    {.name = "switch",
     .arg = "HOW",
     .workloads = ALL_WORKLOADS,
     .strategies = "coroutines",
     .help = "ucontext (default: glibc's swapcontext, a system call a\n"
	     "switch) or minimal (x86-64: registers only)",
     .expected = "ucontext or minimal",
     .parse = parse_switch},
    {.name = "check",
     .arg = "on|off",
     .workloads = FILE_,
     .help = "check every word read (default on); off: read only, to\n"
	     "measure what the check costs",
     .expected = "on or off",
     .parse = parse_check},
    {.name = "url",
     .arg = "URL",
     .workloads = HTTP,
     .help = "fetch URL N times (default: the local server's listings)",
     .expected = "a URL",
     .parse = parse_url},
    {.name = "urls",
     .arg = "FILE",
     .workloads = HTTP,
     .help = "one URL a line; task i fetches line i mod count",
     .expected = "a file name",
     .parse = parse_urls},
    {.name = "timeout",
     .arg = "T",
     .workloads = HTTP,
     .help = "give up on a request after T (default 30s)",
     .expected = "a duration of at least 1ms",
     .parse = parse_timeout},
    {.name = "body",
     .arg = "MODE",
     .workloads = HTTP,
     .help = "parse (default: every body parsed as JSON) or discard (the\n"
	     "status checked, the body counted, not kept nor parsed)",
     .expected = "parse or discard",
     .parse = parse_body},
    {.name = "list",
     .help = "list the strategies and workloads",
     .parse = parse_list},
    {.name = "format",
     .arg = "FMT",
     .help = "with --list: text (default) or tsv (for scripts: a line\n"
	     "per strategy and workload)",
     .expected = "text or tsv",
     .parse = parse_format},
    {.name = "help",
     .short_name = 'h',
     .help = "this help",
     .parse = parse_help},
    {.name = "version",
     .help = "the version and commit",
     .parse = parse_version},
};

#undef SLEEP
#undef FILE_
#undef HTTP

#define OPTION_VAL(i) (256 + (int)(i)) /* getopt_long's value for row i */

/* Is the strategy among the option's? By flag, or by name in the row's list. */
static bool applies_to_strategy(const struct cli_option *opt,
				const struct strategy *strategy)
{
	if (opt->strategy_flags != 0 &&
	    !(strategy->flags & opt->strategy_flags))
		return false;
	if (opt->strategies == NULL)
		return true;
	size_t len = strlen(strategy->name);
	for (const char *s = opt->strategies; *s != '\0';
	     s += strcspn(s, ",")) {
		s += *s == ',';
		if (strncmp(s, strategy->name, len) == 0 &&
		    (s[len] == ',' || s[len] == '\0'))
			return true;
	}
	return false;
}

/* "epoll, poll": the strategies an option applies to, for --help and errors. */
static void strategies_of(const struct cli_option *opt, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (const struct strategy *const *s = strategy_list(); *s != NULL;
	     s++) {
		if (applies_to_strategy(opt, *s) && used < len)
			used +=
			    (size_t)snprintf(buf + used, len - used, "%s%s",
					     used > 0 ? ", " : "", (*s)->name);
	}
}

static bool only_some_strategies(const struct cli_option *opt)
{
	return opt->strategy_flags != 0 || opt->strategies != NULL;
}

static void print_option(const struct cli_option *opt)
{
	char left[40], names[160];
	const char *help = opt->help;

	snprintf(left, sizeof(left), "%s%c%s--%s%s%s",
		 opt->short_name ? "-" : " ",
		 opt->short_name ? opt->short_name : ' ',
		 opt->short_name ? ", " : "  ", opt->name, opt->arg ? " " : "",
		 opt->arg ? opt->arg : "");
	for (bool first = true; *help != '\0'; first = false) {
		int line = (int)strcspn(help, "\n");
		printf("  %-18s %.*s\n", first ? left : "", line, help);
		help += line + (help[line] == '\n');
	}
	if (only_some_strategies(opt)) {
		strategies_of(opt, names, sizeof(names));
		printf("  %-18s (strategies: %s)\n", "", names);
	}
}

/* The options of one group: those for exactly these workloads. */
static void print_group(const char *title, unsigned workloads)
{
	printf("\n%s:\n", title);
	for (size_t i = 0; i < ARRAY_LEN(cli_options); i++) {
		if (cli_options[i].workloads == workloads)
			print_option(&cli_options[i]);
	}
}

void cli_print_help(void)
{
	printf("Usage: iostrat STRATEGY WORKLOAD [OPTIONS]\n"
	       "       iostrat --list [--format tsv] | --help | --version\n"
	       "\n"
	       "Runs N tasks of one workload under one strategy for waiting on "
	       "I/O,\n"
	       "prints the tutorial's line when each task starts and ends, "
	       "then a\n"
	       "summary of time and memory. `iostrat processes sleep` is the\n"
	       "tutorial's multiprocessing demo, `iostrat threads sleep` its "
	       "threading\n"
	       "demo. `iostrat --list` shows every strategy and workload.\n");
	print_group("Options for every run", ALL_WORKLOADS);
	/* then one group per workload, and one per other set of workloads */
	for (size_t i = 0; i < ARRAY_LEN(cli_options); i++) {
		unsigned set = cli_options[i].workloads;
		char title[128] = "";
		bool seen = false;
		if (set == 0 || set == ALL_WORKLOADS)
			continue;
		for (size_t j = 0; j < i; j++)
			seen = seen || cli_options[j].workloads == set;
		if (seen)
			continue;
		for (const struct workload *const *w = workload_list(); *w;
		     w++) {
			if (set & WORKLOAD_BIT((*w)->kind))
				snprintf(title + strlen(title),
					 sizeof(title) - strlen(title), "%s%s",
					 title[0] ? " and " : "", (*w)->name);
		}
		print_group(title, set);
	}
	print_group("Other", 0);
	printf(
	    "\nExit status: 0 every task ok; 1 a task failed or the run broke "
	    "down\n"
	    "part-way (the result is still written); 2 bad arguments or an\n"
	    "unavailable strategy (nothing ran); 130 after Ctrl-C, 143 after\n"
	    "SIGTERM or SIGHUP (the result is written).\n");
}

static const char *why_unavailable(const char *(*unavailable)(void))
{
	return unavailable != NULL ? unavailable() : NULL;
}

static void print_list_text(void)
{
	printf("strategies:\n");
	for (const struct strategy *const *s = strategy_list(); *s != NULL;
	     s++) {
		const char *why = why_unavailable((*s)->unavailable);
		printf("  %-10s %s%s\n", (*s)->name, why ? "unavailable: " : "",
		       why ? why : (*s)->summary);
	}
	printf("workloads:\n");
	for (const struct workload *const *w = workload_list(); *w != NULL;
	     w++) {
		const char *why = why_unavailable((*w)->unavailable);
		printf("  %-10s %s%s\n", (*w)->name, why ? "unavailable: " : "",
		       why ? why : (*w)->summary);
	}
	/* Not an entry of either list: scripts that read the lists stop at this
	 * unindented line. */
	printf("\nThe tutorial's Python: scripts/python/iostrat-py "
	       "python-blocking|python-processes|python-threads|python-asyncio "
	       "WORKLOAD [options] (see scripts/python/README.md)\n");
}

/* A field of the TSV listing: tabs and newlines would break the line. */
static void print_tsv_field(const char *text, const char *end)
{
	for (; *text != '\0'; text++)
		putchar(*text == '\t' || *text == '\n' ? ' ' : *text);
	fputs(end, stdout);
}

/* kind, name, workloads, available, reason, summary: one line per entry. */
static void print_list_tsv(void)
{
	printf("kind\tname\tworkloads\tavailable\treason\tsummary\n");
	for (const struct strategy *const *s = strategy_list(); *s != NULL;
	     s++) {
		const char *why = why_unavailable((*s)->unavailable);
		bool first = true;
		printf("strategy\t%s\t", (*s)->name);
		for (const struct workload *const *w = workload_list(); *w;
		     w++) {
			if ((*s)->workloads & WORKLOAD_BIT((*w)->kind)) {
				printf("%s%s", first ? "" : ",", (*w)->name);
				first = false;
			}
		}
		printf("%s\t%s\t", first ? "-" : "", why ? "no" : "yes");
		print_tsv_field(why ? why : "", "\t");
		print_tsv_field((*s)->summary, "\n");
	}
	for (const struct workload *const *w = workload_list(); *w != NULL;
	     w++) {
		const char *why = why_unavailable((*w)->unavailable);
		printf("workload\t%s\t-\t%s\t", (*w)->name, why ? "no" : "yes");
		print_tsv_field(why ? why : "", "\t");
		print_tsv_field((*w)->summary, "\n");
	}
}

void cli_print_list(bool tsv)
{
	if (tsv)
		print_list_tsv();
	else
		print_list_text();
}

static void list_names(FILE *out)
{
	fprintf(out, "strategies:");
	for (const struct strategy *const *s = strategy_list(); *s != NULL; s++)
		fprintf(out, " %s", (*s)->name);
	fprintf(out, "\nworkloads:");
	for (const struct workload *const *w = workload_list(); *w != NULL; w++)
		fprintf(out, " %s", (*w)->name);
	fprintf(out, "\n");
}

static char *join_argv(int argc, char **argv)
{
	size_t len = 1;
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 3;
	char *joined = calloc(1, len);
	if (joined == NULL)
		return NULL;
	for (int i = 0; i < argc; i++) {
		bool plain = strpbrk(argv[i], " \t'\"$&;|<>*?()") == NULL &&
			     argv[i][0] != '\0';
		if (i > 0)
			strcat(joined, " ");
		if (!plain)
			strcat(joined, "'");
		strcat(joined, i == 0 ? "iostrat" : argv[i]);
		if (!plain)
			strcat(joined, "'");
	}
	return joined;
}

static void set_defaults(struct params *params)
{
	memset(params, 0, sizeof(*params));
	params->tasks = 4;
	params->jobs = 0;
	params->max_delay_s = 6;
	params->delay_ns = -1;
	params->file_size_bytes = 1024 * 1024;
	params->block_bytes = 64 * 1024;
	params->cache = CACHE_COLD;
	params->pool_threads = 4;
	params->stack_bytes = 64 * 1024;
	params->timeout_ns = 30 * 1000000000LL;
}

/* getopt_long's table and short options, made from cli_options. */
static void make_getopt_table(struct option *longopts, char *shortopts)
{
	char *s = shortopts;

	*s++ = ':'; /* a missing value is ':', not '?' */
	for (size_t i = 0; i < ARRAY_LEN(cli_options); i++) {
		const struct cli_option *opt = &cli_options[i];
		longopts[i] = (struct option){
		    opt->name, opt->arg ? required_argument : no_argument, NULL,
		    OPTION_VAL(i)};
		if (opt->short_name != 0) {
			*s++ = opt->short_name;
			if (opt->arg != NULL)
				*s++ = ':';
		}
	}
	longopts[ARRAY_LEN(cli_options)] = (struct option){0};
	*s = '\0';
}

/* The row of getopt_long's answer: a long option's value or a short name. */
static const struct cli_option *option_of(int val)
{
	for (size_t i = 0; i < ARRAY_LEN(cli_options); i++) {
		if (OPTION_VAL(i) == val ||
		    (val < 256 && val != 0 && cli_options[i].short_name == val))
			return &cli_options[i];
	}
	return NULL;
}

static enum cli_action unknown_option(int argc, char **argv, int opt)
{
	const struct cli_option *row = option_of(optopt);

	if (opt == ':' && row != NULL)
		fprintf(stderr, "iostrat: --%s needs a value\n", row->name);
	else if (optopt != 0 && optopt < 256)
		fprintf(stderr, "iostrat: unknown option -%c\n", optopt);
	else
		fprintf(stderr, "iostrat: unknown option %s\n",
			argv[optind - 1 < argc ? optind - 1 : argc - 1]);
	fprintf(stderr, "Try 'iostrat --help'.\n");
	return CLI_USAGE;
}

/* The options given that do not apply to this strategy or workload, or that
 * exclude one another: a message and false. */
static bool options_apply(const struct params *params, const bool *given)
{
	char names[160];

	for (size_t i = 0; i < ARRAY_LEN(cli_options); i++) {
		const struct cli_option *opt = &cli_options[i];
		if (!given[i])
			continue;
		if (!(opt->workloads & WORKLOAD_BIT(params->workload->kind))) {
			fprintf(
			    stderr,
			    "iostrat: --%s does not apply to the %s workload\n",
			    opt->name, params->workload->name);
			return false;
		}
		if (!applies_to_strategy(opt, params->strategy)) {
			strategies_of(opt, names, sizeof(names));
			fprintf(
			    stderr,
			    "iostrat: --%s does not apply to the %s strategy "
			    "(only to: %s)\n",
			    opt->name, params->strategy->name, names);
			return false;
		}
		for (size_t j = 0; opt->excludes != NULL && j < i; j++) {
			if (given[j] &&
			    strcmp(cli_options[j].name, opt->excludes) == 0) {
				fprintf(stderr,
					"iostrat: --%s and --%s cannot be used "
					"together\n",
					opt->excludes, opt->name);
				return false;
			}
		}
	}
	return true;
}

/* STRATEGY WORKLOAD: both known, and the facts of the strategy the core needs.
 */
static enum cli_action take_positionals(int argc, char **argv,
					struct params *params)
{
	if (argc - optind != 2) {
		fprintf(
		    stderr,
		    "iostrat: %s\nUsage: iostrat STRATEGY WORKLOAD [OPTIONS]\n",
		    argc - optind < 2 ? "a strategy and a workload are needed"
				      : "too many arguments");
		list_names(stderr);
		return CLI_USAGE;
	}
	params->strategy = strategy_find(argv[optind]);
	params->workload = workload_find(argv[optind + 1]);
	if (params->strategy == NULL || params->workload == NULL) {
		fprintf(stderr, "iostrat: unknown %s '%s'\n",
			params->strategy == NULL ? "strategy" : "workload",
			argv[optind + (params->strategy != NULL)]);
		list_names(stderr);
		return CLI_USAGE;
	}
	params->strategy_name = params->strategy->name;
	params->serial = (params->strategy->flags & STRATEGY_SERIAL) != 0;
	params->tasks_in_children =
	    (params->strategy->flags & STRATEGY_FORKS) != 0;
	params->file_pool = (params->strategy->flags & STRATEGY_FILE_POOL) != 0;
	return CLI_RUN;
}

enum cli_action cli_parse(int argc, char **argv, struct params *params)
{
	struct option longopts[ARRAY_LEN(cli_options) + 1];
	char shortopts[2 + 2 * ARRAY_LEN(cli_options)];
	bool given[ARRAY_LEN(cli_options)] = {false};
	struct cli_state cli = {.params = params};
	int opt;

	set_defaults(params);
	params->argv_joined = join_argv(argc, argv); /* before getopt reorders
						      */
	make_getopt_table(longopts, shortopts);
	opterr = 0;
	optind = 1;
	while (!cli.done && (opt = getopt_long(argc, argv, shortopts, longopts,
					       NULL)) != -1) {
		const struct cli_option *row = option_of(opt);
		if (opt == '?' || opt == ':' || row == NULL)
			return unknown_option(argc, argv, opt);
		given[row - cli_options] = true;
		if (!row->parse(&cli, optarg)) {
			fprintf(stderr, "iostrat: --%s: '%s' is not %s\n",
				row->name, optarg, row->expected);
			return CLI_USAGE;
		}
	}
	if (cli.done)
		return CLI_DONE;
	if (cli.format_set && !cli.list) {
		fprintf(stderr, "iostrat: --format applies to --list only\n");
		return CLI_USAGE;
	}
	if (cli.list) {
		cli_print_list(cli.list_tsv);
		return CLI_DONE;
	}
	if (take_positionals(argc, argv, params) != CLI_RUN ||
	    !options_apply(params, given))
		return CLI_USAGE;
	/* a pool's size is the strategy's own default: one worker per CPU */
	if (params->jobs == 0 &&
	    params->strategy->flags & STRATEGY_JOBS_DEFAULT_CPUS)
		params->jobs = sysconf(_SC_NPROCESSORS_ONLN);
	if (params->jobs == 0 || params->jobs > params->tasks)
		params->jobs = params->tasks;
	if (!params->seed_given) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		params->seed = (uint64_t)now.tv_sec * 1000003u ^
			       (uint64_t)now.tv_nsec ^ (uint64_t)getpid();
	}
	return CLI_RUN;
}
