#ifndef GH_HUB_HUB_CLI_H
#define GH_HUB_HUB_CLI_H

/* `gatehouse hub`; argv[0] is "hub". Returns the process exit status. */
int gh_hub_cli_main(int argc, char **argv);

#endif
