/* Internals shared by the files of `gatehouse edge` (edge_cli.c,
 * edge_cli_daemon.c, edge_cli_status.c, edge_check.c). Process-level code:
 * not thread-safe, prints to stdout/stderr. */
#ifndef GH_EDGE_EDGE_CLI_INT_H
#define GH_EDGE_EDGE_CLI_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"
#include "edge/config.h"

#define CLI_NAME "gatehouse edge"
#define GH_EDGE_CONFIG_DEFAULT "/etc/gatehouse/edge/config.toml" /* config apply -c */
#define GH_EDGE_START_TIMEOUT_MS 15000u                          /* start: wait for the pid file */
#define GH_EDGE_STOP_TIMEOUT_MS 10000u       /* stop: wait after SIGTERM, then SIGKILL */
#define GH_EDGE_KILL_TIMEOUT_MS 5000u        /* stop: wait after SIGKILL */
#define GH_EDGE_POLL_MS 50u                  /* polling step of the waits above */
#define GH_EDGE_FOLLOW_POLL_MS 200u          /* logs -f: polling step */
#define GH_EDGE_LOG_TAIL_DEFAULT 50          /* logs: lines shown without -n */
#define GH_EDGE_LOG_TAIL_BYTES (1024 * 1024) /* logs: bytes scanned for the tail */
#define GH_EDGE_START_TAIL_LINES 20          /* start failed: log lines shown */
#define GH_EDGE_STATUS_TIMEOUT_MS 5000u      /* status: GET /status */
#define GH_EDGE_STATUS_MAX (256u * 1024u)    /* status: response bytes */

/* The state of the daemon of a data directory. */
struct gh_edge_daemon {
    char pid_path[GH_EDGE_PATH_MAX + 16];
    pid_t pid;    /* 0 when no pid file */
    bool running; /* pid names a live gatehouse edge process */
    bool stale;   /* a pid file whose process is gone */
};

/* Load <home>/config.toml (errors printed with file:line:column when
 * print is true). Errors: those of gh_edge_config_load. */
GH_NODISCARD gh_err gh_edge_cli_load_active(const char *home, struct gh_edge_config *cfg,
                                            bool print);

/* Print a load error: "gatehouse edge: file:line:col: msg". */
void gh_edge_cli_print_load_error(const char *path, gh_err rc, const struct gh_toml_error *err);

/* Look at <data_dir>/edge.pid. */
void gh_edge_cli_daemon_state(const char *data_dir, struct gh_edge_daemon *st);

/* Start / stop the daemon of home with this configuration; print what
 * happened. Return the exit status. */
int gh_edge_cli_start(const char *home, const struct gh_edge_config *cfg);
int gh_edge_cli_stop(const char *data_dir, bool quiet_if_stopped);

/* Send sig to a running daemon. Errors: GH_ERR_CLOSED (not running),
 * GH_ERR_PERM. */
GH_NODISCARD gh_err gh_edge_cli_signal(const struct gh_edge_daemon *st, int sig);

/* Subcommands (argv after the command word, options already stripped of
 * --home). Return the exit status. */
int gh_edge_cli_status(const char *home, int argc, char **argv);
int gh_edge_cli_logs(const char *home, int argc, char **argv);
int gh_edge_cli_check(const char *home, int argc, char **argv);

/* <data_dir>/identity.json: device id and hub, when present and readable.
 * Errors: GH_ERR_NOENT, GH_ERR_PERM, GH_ERR_IO, GH_ERR_BAD_JSON. */
GH_NODISCARD gh_err gh_edge_cli_identity(const char *data_dir, char *device_id, size_t dcap,
                                         char *hub, size_t hcap);

/* Sleep ms milliseconds (polling step of bounded waits). */
void gh_edge_cli_nap(unsigned ms);

#endif
