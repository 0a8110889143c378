/* Entry points of the subcommands, each defined in its part's folder.
 * Each takes argv[0] = the subcommand name and returns a process exit status. */
#ifndef GH_CLI_COMMANDS_H
#define GH_CLI_COMMANDS_H

#include "edge/edge_cli.h"
#include "hub/hub_cli.h"
#include "mgmt/mgmt.h"
#include "pki/pki_cli.h"
#include "sim/sim.h"
#define GH_CLI_PKI gh_pki_cli_main
#define GH_CLI_HUB gh_hub_cli_main
#define GH_CLI_EDGE gh_edge_cli_main
#define GH_CLI_SIM gh_sim_main
#define GH_CLI_MGMT                                                                                \
    gh_mgmt_main /* device, ca, twin, method, c2d, telemetry, enrollment, registration */

#endif
