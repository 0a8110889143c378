/* `gatehouse hub`: run the hub daemon. */
#include "hub/hub_cli.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "hub/config.h"
#include "hub/hub.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: gatehouse hub [--config FILE] [--check-config] [--print-config-doc]\n\n"
               "Run the IoT Hub-compatible hub: MQTT over TLS for devices (listen.mqtt_port,\n"
               "default 8883) and the HTTPS service API (listen.https_port, default 443).\n\n"
               "  --config FILE       TOML configuration (default: built-in defaults only)\n"
               "  --check-config      validate the configuration and exit (0 = valid)\n"
               "  --print-config-doc  print every configuration option as a Markdown table\n\n"
               "On first start the hub creates its database in data_dir, the default shared\n"
               "access policies, a service connection string file (iothubowner) in data_dir,\n"
               "and, when tls.ca_cert/tls.ca_key are set, its server certificate.\n"
               "SIGTERM or SIGINT stop it gracefully. See docs/hub.md.\n");
}

int gh_hub_cli_main(int argc, char **argv)
{
    const char *config = NULL;
    bool check = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config = argv[++i];
        } else if (strcmp(argv[i], "--check-config") == 0) {
            check = true;
        } else if (strcmp(argv[i], "--print-config-doc") == 0) {
            return gh_err_exit_status(gh_hub_config_print_doc(stdout));
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "gatehouse hub: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return gh_err_exit_status(GH_ERR_USAGE);
        }
    }
    struct gh_hub_config cfg;
    struct gh_toml_error terr;
    memset(&terr, 0, sizeof terr);
    gh_err rc = gh_hub_config_load(config, &cfg, &terr);
    if (rc != GH_OK) {
        if (terr.line)
            fprintf(stderr, "gatehouse hub: %s:%u:%u: %s\n", terr.file, terr.line, terr.col,
                    terr.msg);
        else
            fprintf(stderr, "gatehouse hub: %s: %s\n", config ? config : "config",
                    terr.msg[0] ? terr.msg : gh_err_str(rc));
        return gh_err_exit_status(rc);
    }
    char why[512] = "";
    if ((rc = gh_hub_config_validate(&cfg, why, sizeof why)) != GH_OK) {
        fprintf(stderr, "gatehouse hub: %s: %s\n", config ? config : "config", why);
        return gh_err_exit_status(rc);
    }
    if (check) {
        printf("gatehouse hub: configuration %s is valid\n", config ? config : "(defaults)");
        return 0;
    }
    gh_log_set_level((enum gh_log_level)cfg.log_level);
    signal(SIGPIPE, SIG_IGN);
    struct gh_hub *hub = NULL;
    if ((rc = gh_hub_new(&cfg, &hub, why, sizeof why)) != GH_OK) {
        gh_log_error("hub.start.failed", "err=%s detail=\"%s\"", gh_err_str(rc), why);
        fprintf(stderr, "gatehouse hub: %s\n", why[0] ? why : gh_err_str(rc));
        return gh_err_exit_status(rc);
    }
    rc = gh_hub_run(hub);
    gh_hub_free(hub);
    gh_log_info("hub.stop", "status=%s", gh_err_str(rc));
    return gh_err_exit_status(rc);
}
