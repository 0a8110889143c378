/* `gatehouse edge status` (GET /status from the running daemon) and
 * `gatehouse edge logs [-f] [-n N]`. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "edge/edge_cli_int.h"
#include "http/client.h"

/* ---- status ------------------------------------------------------------ */

static const char *str_or(json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : dflt;
}

static long long int_or(json_t *o, const char *key, long long dflt)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

static void print_summary(json_t *st, pid_t pid)
{
    json_t *up = json_object_get(st, "upstream");
    json_t *ch = json_object_get(st, "children");
    json_t *cache = json_object_get(st, "cache");
    json_t *msgs = json_object_get(st, "messages");
    printf("gatehouse edge %s, pid %d: device %s on hub %s\n", str_or(st, "version", "?"), (int)pid,
           str_or(st, "deviceId", "(not provisioned)"), str_or(st, "hub", "(none)"));
    printf("upstream:     %s since %s", str_or(up, "state", "?"), str_or(up, "since", "?"));
    const char *last = str_or(up, "lastError", NULL);
    if (last) printf(" (last error: %s)", last);
    printf("\nchildren:     %lld connected, %lld known\n", int_or(ch, "connected", 0),
           int_or(ch, "known", 0));
    const char *sync = str_or(cache, "lastSync", NULL);
    if (sync)
        printf("cache:        last sync %s (%lld s ago)\n", sync, int_or(cache, "ageSeconds", -1));
    else
        printf("cache:        never synced with the hub\n");
    json_t *certs = json_object_get(st, "certificates");
    size_t i;
    json_t *c;
    printf("certificates:");
    if (json_array_size(certs) == 0) printf(" (none reported)");
    json_array_foreach(certs, i, c)
    {
        long long days = int_or(c, "daysLeft", 0);
        printf("%s %s %lld days left (%s)%s", i ? "," : "", str_or(c, "name", "?"), days,
               str_or(c, "notAfter", "?"),
               days < 0    ? " EXPIRED"
               : days < 30 ? " RENEW SOON"
                           : "");
    }
    printf("\nmessages:     %lld received, %lld forwarded, %lld pending\n",
           int_or(msgs, "received", 0), int_or(msgs, "forwarded", 0), int_or(msgs, "pending", 0));
}

int gh_edge_cli_status(const char *home, int argc, char **argv)
{
    bool json = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: gatehouse edge status [--json] [--home DIR]\n\n"
                   "Ask the running gateway (GET /status on metrics.address:metrics.port) for\n"
                   "its upstream link, children, identity cache, certificates and message\n"
                   "counts. --json prints the daemon's JSON as is. Exit status 5 when the\n"
                   "gateway is not running.\n");
            return 0;
        } else {
            fprintf(stderr, CLI_NAME " status: unknown option '%s'\n", argv[i]);
            return gh_err_exit_status(GH_ERR_USAGE);
        }
    }
    struct gh_edge_config cfg;
    gh_err rc = gh_edge_cli_load_active(home, &cfg, false);
    struct gh_edge_daemon st;
    gh_edge_cli_daemon_state(rc == GH_OK ? cfg.data_dir : home, &st);
    if (!st.running) {
        fprintf(stderr, "gatehouse edge is not running (no pid file / process gone)\n");
        if (rc == GH_OK) gh_edge_config_cleanup(&cfg);
        return gh_err_exit_status(GH_ERR_CLOSED);
    }
    if (rc != GH_OK) {
        if (gh_edge_cli_load_active(home, &cfg, true) == GH_OK) gh_edge_config_cleanup(&cfg);
        fprintf(stderr,
                "gatehouse edge is running (pid %d) but its configuration cannot be "
                "read, so its status endpoint is unknown\n",
                (int)st.pid);
        return gh_err_exit_status(rc);
    }
    if (cfg.metrics_port == 0) {
        printf("gatehouse edge is running (pid %d); its status endpoint is off (metrics.port = "
               "0)\n",
               (int)st.pid);
        gh_edge_config_cleanup(&cfg);
        return 0;
    }
    const char *addr = cfg.metrics_address;
    if (strcmp(addr, "0.0.0.0") == 0) addr = "127.0.0.1";
    if (strcmp(addr, "::") == 0) addr = "::1";
    struct gh_http_client_options opts = {.host = addr,
                                          .port = (uint16_t)cfg.metrics_port,
                                          .plaintext = true,
                                          .max_response = GH_EDGE_STATUS_MAX};
    struct gh_http_client_request rq = {
        .method = "GET", .target = "/status", .timeout_ms = GH_EDGE_STATUS_TIMEOUT_MS};
    struct gh_http_response resp;
    memset(&resp, 0, sizeof resp);
    int status = 0;
    rc = gh_http_fetch(&opts, &rq, &resp);
    if (rc != GH_OK || resp.status != 200) {
        fprintf(stderr, CLI_NAME ": the gateway runs (pid %d) but GET http://%s:%lld/status %s%s\n",
                (int)st.pid, addr, (long long)cfg.metrics_port,
                rc != GH_OK ? "failed: " : "answered ", rc != GH_OK ? gh_err_str(rc) : "non-200");
        status = gh_err_exit_status(rc != GH_OK ? rc : GH_ERR_UNSUPPORTED);
    } else if (json) {
        fwrite(resp.body, 1, resp.body_len, stdout);
        if (resp.body_len == 0 || resp.body[resp.body_len - 1] != '\n') putchar('\n');
    } else {
        json_error_t jerr;
        json_t *root = json_loadb((const char *)resp.body, resp.body_len, 0, &jerr);
        if (!json_is_object(root)) {
            fprintf(stderr, CLI_NAME ": /status is not a JSON object: %s\n", jerr.text);
            status = gh_err_exit_status(GH_ERR_BAD_JSON);
        } else {
            print_summary(root, st.pid);
        }
        json_decref(root);
    }
    gh_http_response_cleanup(&resp);
    gh_edge_config_cleanup(&cfg);
    return status;
}

/* ---- logs -------------------------------------------------------------- */

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Print the last n lines of f (which is size bytes long); leave f at its end. */
static void print_tail(FILE *f, off_t size, long n)
{
    off_t start = size > GH_EDGE_LOG_TAIL_BYTES ? size - GH_EDGE_LOG_TAIL_BYTES : 0;
    size_t len = (size_t)(size - start);
    char *buf = malloc(len + 1);
    if (!buf || fseeko(f, start, SEEK_SET) != 0) {
        free(buf);
        return;
    }
    len = fread(buf, 1, len, f);
    size_t pos = len;
    long lines = 0;
    /* Walk back over n line ends (a final newline does not start a line). */
    if (pos > 0 && buf[pos - 1] == '\n') pos--;
    while (pos > 0) {
        if (buf[pos - 1] == '\n' && ++lines == n) break;
        pos--;
    }
    if (n > 0) fwrite(buf + pos, 1, len - pos, stdout);
    fflush(stdout);
    free(buf);
}

int gh_edge_cli_logs(const char *home, int argc, char **argv)
{
    bool follow = false;
    long n = GH_EDGE_LOG_TAIL_DEFAULT;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--follow") == 0) {
            follow = true;
        } else if ((strcmp(argv[i], "-n") == 0 || strcmp(argv[i], "--lines") == 0) &&
                   i + 1 < argc) {
            char *end = NULL;
            errno = 0;
            n = strtol(argv[++i], &end, 10);
            if (errno || !end || *end || n < 0) {
                fprintf(stderr, CLI_NAME " logs: -n expects a number of lines, got '%s'\n",
                        argv[i]);
                return gh_err_exit_status(GH_ERR_USAGE);
            }
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: gatehouse edge logs [-f] [-n N] [--home DIR]\n\n"
                   "Print the last N lines (default %d) of <data_dir>/edge.log, the log of a\n"
                   "gateway started with 'gatehouse edge start'; -f keeps printing new lines\n"
                   "until interrupted. A gateway run by systemd logs to the journal instead\n"
                   "(journalctl -u gatehouse-edge).\n",
                   GH_EDGE_LOG_TAIL_DEFAULT);
            return 0;
        } else {
            fprintf(stderr, CLI_NAME " logs: unknown option '%s'\n", argv[i]);
            return gh_err_exit_status(GH_ERR_USAGE);
        }
    }
    struct gh_edge_config cfg;
    char path[GH_EDGE_PATH_MAX + 16];
    if (gh_edge_cli_load_active(home, &cfg, false) == GH_OK) {
        snprintf(path, sizeof path, "%s/%s", cfg.data_dir, GH_EDGE_FILE_LOG);
        gh_edge_config_cleanup(&cfg);
    } else {
        snprintf(path, sizeof path, "%s/%s", home, GH_EDGE_FILE_LOG);
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        int e = errno;
        fprintf(stderr,
                CLI_NAME ": no log at %s (%s); it is written by 'gatehouse edge start' (run "
                         "under systemd, see journalctl)\n",
                path, strerror(e));
        return gh_err_exit_status(e == ENOENT ? GH_ERR_NOENT : GH_ERR_IO);
    }
    struct stat sb;
    off_t pos = fstat(fileno(f), &sb) == 0 ? sb.st_size : 0;
    print_tail(f, pos, n);
    if (!follow) {
        fclose(f);
        return 0;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    char chunk[8192];
    while (!interrupted) {
        struct stat now;
        if (stat(path, &now) == 0 && (now.st_ino != sb.st_ino || now.st_size < pos)) {
            /* Rotated or truncated: start over with the new file. */
            FILE *g = fopen(path, "r");
            if (g) {
                fclose(f);
                f = g;
                sb = now;
                pos = 0;
            }
        }
        if (fseeko(f, pos, SEEK_SET) == 0) {
            size_t r;
            while ((r = fread(chunk, 1, sizeof chunk, f)) > 0) {
                fwrite(chunk, 1, r, stdout);
                pos += (off_t)r;
            }
            clearerr(f);
            fflush(stdout);
        }
        gh_edge_cli_nap(GH_EDGE_FOLLOW_POLL_MS);
    }
    fclose(f);
    return 0;
}
