/* Entry points of the subcommands, each defined in its part's folder.
 * Each takes argv[0] = the subcommand name and returns a process exit status. */
#ifndef GH_CLI_COMMANDS_H
#define GH_CLI_COMMANDS_H

#define GH_CLI_PKI NULL /* bring-up: replaced by gh_pki_cli_main from pki/pki_cli.h */

#endif
