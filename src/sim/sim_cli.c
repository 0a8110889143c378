/* gatehouse sim: the subcommand's entry point. */
#include <stdio.h>

#include "sim/sim.h"

#define USAGE_MSG_MAX 256

int gh_sim_main(int argc, char **argv)
{
    struct gh_sim_opts o;
    char msg[USAGE_MSG_MAX] = "";
    gh_err rc = gh_sim_opts_parse(argc, argv, &o, msg, sizeof msg);
    if (rc != GH_OK) {
        fprintf(stderr, "gatehouse sim: %s\n(see gatehouse sim --help)\n",
                msg[0] ? msg : gh_err_str(rc));
        return gh_err_exit_status(rc);
    }
    if (o.help) {
        gh_sim_help(stdout);
        return 0;
    }
    return gh_sim_run(&o);
}
