/* `gatehouse pki`: the command-line face of the PKI library.
 *
 * Commands and options come from one table (pki_cli.c), which also prints
 * the help text; docs/pki.md documents every entry and a unit test checks
 * that it does.
 */
#ifndef GH_PKI_PKI_CLI_H
#define GH_PKI_PKI_CLI_H

#include <stddef.h>

/* Run `gatehouse pki ...`; argv[0] is "pki". Returns the process exit
 * status (gh_err_exit_status of the outcome: 0 success, 2 usage, 3 config,
 * 4 io, 8 auth, 9 not found, ...). Writes results to stdout and errors to
 * stderr. Not thread-safe (it reads the environment and writes to stdio). */
int gh_pki_cli_main(int argc, char **argv);

/* The option table (all OPT entries, *n of them) and the i-th command
 * (NULL past the last), for help and documentation checks. Static storage;
 * thread-safe. */
struct gh_pki_cli_option {
    const char *name; /* "--dir" */
    const char *arg;  /* "DIR", or NULL for a flag */
    const char *help;
};
struct gh_pki_cli_command {
    const char *name;  /* "issue-server" */
    const char *usage; /* "NAME --issuer CA --dns HOST..." */
    const char *summary;
};
const struct gh_pki_cli_option *gh_pki_cli_options(size_t *n);
const struct gh_pki_cli_command *gh_pki_cli_command(size_t i);

#endif
