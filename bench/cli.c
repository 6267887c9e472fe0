/* cli.c - parses the command line into struct params, strictly: every bad value is named. */
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

enum option_id {
	OPT_JSON = 256,
	OPT_SEED,
	OPT_MAX_DELAY,
	OPT_DELAY,
	OPT_SIZE,
	OPT_BLOCK,
	OPT_DIR,
	OPT_CACHE,
	OPT_POOL,
	OPT_INLINE,
	OPT_URL,
	OPT_URLS,
	OPT_TIMEOUT,
	OPT_LIST,
	OPT_VERSION,
};

static const struct option cli_options[] = {
    {"tasks", required_argument, NULL, 'n'},
    {"jobs", required_argument, NULL, 'j'},
    {"quiet", no_argument, NULL, 'q'},
    {"json", required_argument, NULL, OPT_JSON},
    {"seed", required_argument, NULL, OPT_SEED},
    {"max-delay", required_argument, NULL, OPT_MAX_DELAY},
    {"delay", required_argument, NULL, OPT_DELAY},
    {"size", required_argument, NULL, OPT_SIZE},
    {"block", required_argument, NULL, OPT_BLOCK},
    {"dir", required_argument, NULL, OPT_DIR},
    {"cache", required_argument, NULL, OPT_CACHE},
    {"pool", required_argument, NULL, OPT_POOL},
    {"inline", no_argument, NULL, OPT_INLINE},
    {"url", required_argument, NULL, OPT_URL},
    {"urls", required_argument, NULL, OPT_URLS},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"list", no_argument, NULL, OPT_LIST},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* Which workloads an option applies to, so "--size" on a sleep run is an error, not ignored. */
static unsigned option_workloads(int id)
{
	switch (id) {
	case OPT_MAX_DELAY:
		return WORKLOAD_BIT(WORKLOAD_SLEEP);
	case OPT_DELAY:
		return WORKLOAD_BIT(WORKLOAD_SLEEP) | WORKLOAD_BIT(WORKLOAD_HTTP);
	case OPT_SIZE:
	case OPT_BLOCK:
	case OPT_DIR:
	case OPT_CACHE:
	case OPT_POOL:
	case OPT_INLINE:
		return WORKLOAD_BIT(WORKLOAD_FILE);
	case OPT_URL:
	case OPT_URLS:
	case OPT_TIMEOUT:
		return WORKLOAD_BIT(WORKLOAD_HTTP);
	default:
		return ~0u;
	}
}

static const char *option_name(int id)
{
	for (size_t i = 0; cli_options[i].name != NULL; i++) {
		if (cli_options[i].val == id)
			return cli_options[i].name;
	}
	return "?";
}

void cli_print_help(void)
{
	printf(
	    "Usage: iostrat STRATEGY WORKLOAD [OPTIONS]\n"
	    "       iostrat --list | --help | --version\n"
	    "\n"
	    "Runs N tasks of one workload under one strategy for waiting on I/O, prints the\n"
	    "tutorial's line when each task starts and ends, then a summary of time and memory.\n"
	    "`iostrat processes sleep` is the tutorial's multiprocessing demo, `iostrat threads\n"
	    "sleep` its threading demo. `iostrat --list` shows every strategy and workload.\n"
	    "\n"
	    "Options for every run:\n"
	    "  -n, --tasks N      number of tasks (default 4; 1 to %ld)\n"
	    "  -j, --jobs K       most tasks in flight at once (default: all; blocking: 1)\n"
	    "  -q, --quiet        no per-task lines (printing is I/O too)\n"
	    "      --json FILE    write the result document to FILE (written atomically, also\n"
	    "                     when the run fails or is interrupted)\n"
	    "      --seed N       seed for random delays (default: from the clock; printed)\n"
	    "\n"
	    "sleep:\n"
	    "      --max-delay M  each task sleeps a random whole number of seconds from 0 to\n"
	    "                     M-1, as the tutorial does (default 6)\n"
	    "      --delay D      every task sleeps D instead: 1.5, 1.5s, 250ms, 100us\n"
	    "\n"
	    "file:\n"
	    "      --size S       bytes per file (default 1M; 4K, 16M, 1G accepted)\n"
	    "      --block B      bytes per read() (default 64K)\n"
	    "      --dir DIR      where the file set lives (default: a cache folder per user)\n"
	    "      --cache MODE   cold (default: evicted before timing) or warm (read once)\n"
	    "      --pool N       epoll: worker threads that read files for the loop (default 4)\n"
	    "      --inline       epoll: read files in the loop thread, blocking it\n"
	    "\n"
	    "http:\n"
	    "      --url URL      fetch URL N times (default: the local server's listings)\n"
	    "      --urls FILE    one URL a line; task i fetches line i mod count\n"
	    "      --delay D      ask the local server to hold each response D (default 0)\n"
	    "      --timeout T    give up on a request after T (default 30s)\n"
	    "\n"
	    "Exit status: 0 every task ok; 1 a task failed or the run broke down part-way (the\n"
	    "result is still written); 2 bad arguments or an unavailable strategy (nothing ran);\n"
	    "130 after Ctrl-C, 143 after SIGTERM.\n",
	    CLI_MAX_TASKS);
}

void cli_print_list(void)
{
	printf("strategies:\n");
	for (const struct strategy *const *s = strategy_list(); *s != NULL; s++) {
		const char *why = (*s)->unavailable != NULL ? (*s)->unavailable() : NULL;
		if (why != NULL)
			printf("  %-10s unavailable: %s\n", (*s)->name, why);
		else
			printf("  %-10s %s\n", (*s)->name, (*s)->summary);
	}
	printf("workloads:\n");
	for (const struct workload *const *w = workload_list(); *w != NULL; w++) {
		const char *why = (*w)->unavailable != NULL ? (*w)->unavailable() : NULL;
		if (why != NULL)
			printf("  %-10s unavailable: %s\n", (*w)->name, why);
		else
			printf("  %-10s %s\n", (*w)->name, (*w)->summary);
	}
	/* Not an entry of either list: scripts that read the lists stop at this unindented line. */
	printf("\nThe tutorial's Python: scripts/python/iostrat-py "
	       "python-blocking|python-processes|python-threads|python-asyncio WORKLOAD [options] "
	       "(see scripts/python/README.md)\n");
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

static enum cli_action bad_value(const char *option, const char *value, const char *expected)
{
	fprintf(stderr, "iostrat: --%s: '%s' is not %s\n", option, value, expected);
	return CLI_USAGE;
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
		if (i > 0)
			strcat(joined, " ");
		bool plain = strpbrk(argv[i], " \t'\"$&;|<>*?()") == NULL && argv[i][0] != '\0';
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
	params->timeout_ns = 30 * 1000000000LL;
}

enum cli_action cli_parse(int argc, char **argv, struct params *params)
{
	unsigned given_for[OPT_VERSION + 1] = {0}; /* options seen, by id */
	bool list = false;
	int opt;

	set_defaults(params);
	params->argv_joined = join_argv(argc, argv); /* before getopt reorders argv */
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":n:j:qh", cli_options, NULL)) != -1) {
		uint64_t bytes;
		if (opt > 0 && opt <= OPT_VERSION)
			given_for[opt] = 1;
		switch (opt) {
		case 'n':
			if (!units_parse_long(optarg, 1, CLI_MAX_TASKS, &params->tasks))
				return bad_value("tasks", optarg,
						 "a whole number from 1 to 1000000");
			break;
		case 'j':
			if (!units_parse_long(optarg, 1, CLI_MAX_TASKS, &params->jobs))
				return bad_value("jobs", optarg,
						 "a whole number from 1 to 1000000");
			break;
		case 'q':
			params->quiet = true;
			break;
		case OPT_JSON:
			if (optarg[0] == '\0')
				return bad_value("json", optarg, "a file name");
			params->json_path = optarg;
			break;
		case OPT_SEED: {
			char *end;
			errno = 0;
			unsigned long long seed = strtoull(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || optarg[0] == '-' || optarg[0] == '\0')
				return bad_value("seed", optarg, "a whole number from 0 to 2^64-1");
			params->seed = seed;
			params->seed_given = true;
			break;
		}
		case OPT_MAX_DELAY:
			if (!units_parse_long(optarg, 1, 86400, &params->max_delay_s))
				return bad_value("max-delay", optarg,
						 "a whole number of seconds from 1 to 86400");
			break;
		case OPT_DELAY:
			if (!units_parse_duration(optarg, &params->delay_ns) ||
			    params->delay_ns > 86400LL * 1000000000LL)
				return bad_value(
				    "delay", optarg,
				    "a duration from 0 to 1 day (1.5, 1.5s, 250ms, 100us)");
			break;
		case OPT_SIZE:
			if (!units_parse_size(optarg, &params->file_size_bytes) ||
			    params->file_size_bytes == 0)
				return bad_value("size", optarg,
						 "a size above 0 (4096, 4K, 16M, 1G)");
			break;
		case OPT_BLOCK:
			if (!units_parse_size(optarg, &bytes) || bytes == 0 || bytes > (1u << 30))
				return bad_value("block", optarg,
						 "a size from 1 byte to 1G (4K, 64K)");
			params->block_bytes = bytes;
			break;
		case OPT_DIR:
			if (optarg[0] == '\0')
				return bad_value("dir", optarg, "a folder");
			params->dir = optarg;
			break;
		case OPT_CACHE:
			if (strcmp(optarg, "cold") == 0)
				params->cache = CACHE_COLD;
			else if (strcmp(optarg, "warm") == 0)
				params->cache = CACHE_WARM;
			else
				return bad_value("cache", optarg, "warm or cold");
			break;
		case OPT_POOL:
			if (!units_parse_long(optarg, 1, 1024, &params->pool_threads))
				return bad_value("pool", optarg, "a whole number from 1 to 1024");
			break;
		case OPT_INLINE:
			params->inline_reads = true;
			break;
		case OPT_URL:
			if (optarg[0] == '\0')
				return bad_value("url", optarg, "a URL");
			params->url = optarg;
			break;
		case OPT_URLS:
			if (optarg[0] == '\0')
				return bad_value("urls", optarg, "a file name");
			params->urls_file = optarg;
			break;
		case OPT_TIMEOUT:
			if (!units_parse_duration(optarg, &params->timeout_ns) ||
			    params->timeout_ns < 1000000)
				return bad_value("timeout", optarg, "a duration of at least 1ms");
			break;
		case OPT_LIST:
			list = true;
			break;
		case 'h':
			cli_print_help();
			return CLI_DONE;
		case OPT_VERSION:
			printf("iostrat %s (commit %s)\n", IOSTRAT_VERSION, IOSTRAT_COMMIT);
			return CLI_DONE;
		case ':':
			fprintf(stderr, "iostrat: %s%s needs a value\n", optopt > 255 ? "--" : "-",
				optopt > 255 ? option_name(optopt) : (char[]){(char)optopt, 0});
			return CLI_USAGE;
		default:
			if (optopt != 0 && optopt < 256)
				fprintf(stderr, "iostrat: unknown option -%c\n", optopt);
			else
				fprintf(stderr, "iostrat: unknown option %s\n", argv[optind - 1]);
			fprintf(stderr, "Try 'iostrat --help'.\n");
			return CLI_USAGE;
		}
	}
	if (list) {
		cli_print_list();
		return CLI_DONE;
	}
	if (argc - optind != 2) {
		fprintf(stderr, "iostrat: %s\nUsage: iostrat STRATEGY WORKLOAD [OPTIONS]\n",
			argc - optind < 2 ? "a strategy and a workload are needed"
					  : "too many arguments");
		list_names(stderr);
		return CLI_USAGE;
	}
	params->strategy = strategy_find(argv[optind]);
	if (params->strategy == NULL) {
		fprintf(stderr, "iostrat: unknown strategy '%s'\n", argv[optind]);
		list_names(stderr);
		return CLI_USAGE;
	}
	params->strategy_name = params->strategy->name;
	params->serial = (params->strategy->flags & STRATEGY_SERIAL) != 0;
	params->tasks_in_children = (params->strategy->flags & STRATEGY_FORKS) != 0;
	params->workload = workload_find(argv[optind + 1]);
	if (params->workload == NULL) {
		fprintf(stderr, "iostrat: unknown workload '%s'\n", argv[optind + 1]);
		list_names(stderr);
		return CLI_USAGE;
	}
	for (int id = OPT_JSON; id <= OPT_VERSION; id++) {
		if (given_for[id] &&
		    !(option_workloads(id) & WORKLOAD_BIT(params->workload->kind))) {
			fprintf(stderr, "iostrat: --%s does not apply to the %s workload\n",
				option_name(id), params->workload->name);
			return CLI_USAGE;
		}
	}
	/* a pool's size is the strategy's own default: one worker per CPU */
	if (params->jobs == 0 && params->strategy->flags & STRATEGY_JOBS_DEFAULT_CPUS)
		params->jobs = sysconf(_SC_NPROCESSORS_ONLN);
	if (params->jobs == 0 || params->jobs > params->tasks)
		params->jobs = params->tasks;
	if (!params->seed_given) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		params->seed =
		    (uint64_t)now.tv_sec * 1000003u ^ (uint64_t)now.tv_nsec ^ (uint64_t)getpid();
	}
	return CLI_RUN;
}
