/* gatehouse: one binary, one subcommand per part. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "common/error.h"

struct command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* NULL: planned, not built yet */
};

static const struct command commands[] = {
    {"hub", "run the IoT Hub-compatible hub and its provisioning service (DPS)", GH_CLI_HUB},
    {"edge", "run and manage the transparent gateway (config.toml)", GH_CLI_EDGE},
    {"pki", "make and inspect certificates: root, edge and tenant CAs, servers, devices",
     GH_CLI_PKI},
    {"device", "manage device identities in a hub", GH_CLI_MGMT},
    {"ca", "register and verify CA certificates with a hub", GH_CLI_MGMT},
    {"twin", "show and update device twins", GH_CLI_MGMT},
    {"method", "invoke direct methods", GH_CLI_MGMT},
    {"c2d", "send cloud-to-device messages", GH_CLI_MGMT},
    {"telemetry", "read telemetry from a hub", GH_CLI_MGMT},
    {"enrollment", "manage provisioning (DPS) enrollments", GH_CLI_MGMT},
    {"registration", "show and reset provisioning (DPS) registration states", GH_CLI_MGMT},
    {"sim", "simulate a fleet of devices", GH_CLI_SIM},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: gatehouse <command> [options]\n"
               "       gatehouse <command> --help\n\n"
               "A self-hosted, Azure IoT-compatible device platform: hub, provisioning,\n"
               "transparent gateway and PKI in one binary.\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-13s %s%s\n", commands[i].name, commands[i].summary,
                commands[i].run ? "" : " (planned)");
    fprintf(f, "  %-13s %s\n", "version", "print the version");
    fprintf(f, "  %-13s %s\n", "help", "print this help");
    fprintf(f, "\nExit status: 0 success, 2 usage, 3 config, 4 io, 5 closed, 6 protocol,\n"
               "7 limit, 8 auth, 9 not found, 10 conflict, 70 internal.\n");
}

int main(int argc, char **argv)
{
    /* OpenSSL and libevent write to sockets with write(2): a peer that went
     * away must give EPIPE, not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return argc < 2 ? gh_err_exit_status(GH_ERR_USAGE) : 0;
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("gatehouse %s\n", GH_VERSION);
        return 0;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(argv[1], commands[i].name) != 0) continue;
        if (!commands[i].run) {
            fprintf(stderr, "gatehouse %s: not available in this build yet (planned)\n",
                    commands[i].name);
            return gh_err_exit_status(GH_ERR_USAGE);
        }
        return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "gatehouse: unknown command '%s'; run 'gatehouse help'\n", argv[1]);
    return gh_err_exit_status(GH_ERR_USAGE);
}
