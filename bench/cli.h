/* cli.h - the command line: iostrat STRATEGY WORKLOAD [OPTIONS], --help, --version, --list. */
#ifndef IOSTRAT_CLI_H
#define IOSTRAT_CLI_H

#include "core/run.h"

enum cli_action {
	CLI_RUN = 0, /* params are filled: run them */
	CLI_DONE,    /* --help, --version or --list was printed: exit 0 */
	CLI_USAGE,   /* bad arguments, already explained on stderr: exit 2 */
};

#define CLI_MAX_TASKS 1000000L

enum cli_action cli_parse(int argc, char **argv, struct params *params);
void cli_print_help(void);
void cli_print_list(bool tsv);

#endif
