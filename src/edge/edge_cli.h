#ifndef GH_EDGE_EDGE_CLI_H
#define GH_EDGE_EDGE_CLI_H

/* `gatehouse edge <command> [--home DIR]`; argv[0] is "edge". Commands:
 * config apply, run, start, stop, restart, status, logs, version, check
 * (docs/cli.md). Returns the process exit status (gh_err_exit_status).
 * Not thread-safe (installs signal handlers, may fork). */
int gh_edge_cli_main(int argc, char **argv);

#endif
