/* `gatehouse edge`: command dispatch, config apply, run, version. The
 * daemon control commands are in edge_cli_daemon.c, status and logs in
 * edge_cli_status.c, check in edge_check.c. */
#include "edge/edge_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "edge/config_internal.h"
#include "edge/edge.h"
#include "edge/edge_cli_int.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gatehouse edge <command> [--home DIR] [options]\n"
            "       gatehouse edge <command> --help\n"
            "       gatehouse edge --print-config-doc\n\n"
            "The transparent gateway: children connect to it with GatewayHostName; it\n"
            "provisions itself, authenticates them (also offline) and carries their traffic\n"
            "to the hub over one connection. Configuration: config.toml (docs/edge-config.md).\n\n"
            "commands:\n"
            "  config apply [-c FILE]  validate FILE (default %s),\n"
            "                          make it the active configuration, reload or restart\n"
            "  run                     run the gateway in the foreground (systemd)\n"
            "  start | stop | restart  control the gateway as a background process\n"
            "  status [--json]         ask the running gateway how it is doing\n"
            "  logs [-f] [-n N]        show (and follow) the log of a started gateway\n"
            "  check                   check configuration, certificates, clock and the hub\n"
            "  version                 print the version and the gateway's device id\n\n"
            "  --home DIR   directory of the active config.toml and, by default, the data\n"
            "               (default $%s, else %s)\n\n"
            "Exit status: 0 success, 2 usage, 3 config, 4 io, 5 not running / closed,\n"
            "6 protocol, 7 limit, 8 auth, 9 not found, 10 conflict, 70 internal.\n",
            GH_EDGE_CONFIG_DEFAULT, GH_EDGE_HOME_ENV, GH_EDGE_HOME_DEFAULT);
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, CLI_NAME ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "; run 'gatehouse edge --help'\n");
    return gh_err_exit_status(GH_ERR_USAGE);
}

void gh_edge_cli_print_load_error(const char *path, gh_err rc, const struct gh_toml_error *err)
{
    if (err->line)
        fprintf(stderr, CLI_NAME ": %s:%u:%u: %s\n", err->file, err->line, err->col, err->msg);
    else
        fprintf(stderr, CLI_NAME ": %s: %s\n", path, err->msg[0] ? err->msg : gh_err_str(rc));
}

gh_err gh_edge_cli_load_active(const char *home, struct gh_edge_config *cfg, bool print)
{
    char path[GH_EDGE_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", home, GH_EDGE_FILE_CONFIG);
    struct gh_toml_error err;
    memset(&err, 0, sizeof err);
    gh_err rc = gh_edge_config_load(path, home, cfg, &err);
    if (rc == GH_ERR_NOENT && print && err.line == 0) {
        fprintf(stderr,
                CLI_NAME ": no active configuration %s; write one with 'gatehouse edge config "
                         "apply -c FILE'\n",
                path);
    } else if (rc != GH_OK && print) {
        gh_edge_cli_print_load_error(path, rc, &err);
    }
    return rc;
}

static gh_err mkdir_p(const char *dir, mode_t mode)
{
    char tmp[GH_EDGE_PATH_MAX];
    int n = snprintf(tmp, sizeof tmp, "%s", dir);
    if (n < 0 || (size_t)n >= sizeof tmp) return GH_ERR_NOBUFS;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, mode) != 0 && errno != EEXIST)
            return errno == EACCES ? GH_ERR_PERM : GH_ERR_IO;
        *p = '/';
    }
    if (mkdir(tmp, mode) != 0 && errno != EEXIST) return errno == EACCES ? GH_ERR_PERM : GH_ERR_IO;
    return GH_OK;
}

/* Read a whole config file (bounded by the TOML limit). */
static gh_err read_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return errno == ENOENT ? GH_ERR_NOENT : errno == EACCES ? GH_ERR_PERM : GH_ERR_IO;
    char *buf = malloc(GH_TOML_MAX_INPUT + 1);
    if (!buf) {
        fclose(f);
        return GH_ERR_NOMEM;
    }
    size_t n = fread(buf, 1, GH_TOML_MAX_INPUT + 1, f);
    bool bad = ferror(f) || n > GH_TOML_MAX_INPUT;
    fclose(f);
    if (bad) {
        gh_edge_wipe(buf, n);
        free(buf);
        return n > GH_TOML_MAX_INPUT ? GH_ERR_TOO_LARGE : GH_ERR_IO;
    }
    *out = buf;
    *len = n;
    return GH_OK;
}

/* Write data to path atomically: temporary file (0600), fsync, rename,
 * directory fsync. */
static gh_err write_atomic(const char *dir, const char *tmp, const char *path, const char *data,
                           size_t len)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return errno == EACCES ? GH_ERR_PERM : GH_ERR_IO;
    gh_err rc = GH_OK;
    if (fchmod(fd, 0600) != 0) rc = GH_ERR_IO;
    for (size_t off = 0; rc == GH_OK && off < len;) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0)
            rc = errno == ENOSPC ? GH_ERR_NOSPACE : GH_ERR_IO;
        else
            off += (size_t)w;
    }
    if (rc == GH_OK && fsync(fd) != 0) rc = GH_ERR_IO;
    if (close(fd) != 0 && rc == GH_OK) rc = GH_ERR_IO;
    if (rc == GH_OK && rename(tmp, path) != 0) rc = GH_ERR_IO;
    if (rc != GH_OK) {
        unlink(tmp);
        return rc;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return GH_ERR_IO;
    if (fsync(dfd) != 0) rc = GH_ERR_IO;
    close(dfd);
    return rc;
}

/* The file references of a and b (loaded from different directories) must
 * name the same files, else the copy would point elsewhere. */
static const char *moved_reference(const struct gh_edge_config *a, const struct gh_edge_config *b)
{
    if (strcmp(a->trust_bundle_cert, b->trust_bundle_cert) != 0) return "trust_bundle_cert";
    if (strcmp(a->edge_ca_cert, b->edge_ca_cert) != 0) return "edge_ca.cert";
    if (strcmp(a->edge_ca_pk, b->edge_ca_pk) != 0) return "edge_ca.pk";
    if (strcmp(a->identity_cert, b->identity_cert) != 0) return "identity_cert";
    if (strcmp(a->identity_pk, b->identity_pk) != 0) return "identity_pk";
    if (strcmp(a->symmetric_key, b->symmetric_key) != 0) return "the key's uri";
    return NULL;
}

static int apply_to_daemon(const char *home, bool had_old, const struct gh_edge_config *old_cfg,
                           const struct gh_edge_config *cfg)
{
    struct gh_edge_daemon st;
    gh_edge_cli_daemon_state(had_old ? old_cfg->data_dir : cfg->data_dir, &st);
    if (!st.running) {
        if (st.stale)
            printf("removed a stale pid file %s (pid %d is gone)\n", st.pid_path, (int)st.pid);
        if (st.stale) unlink(st.pid_path);
        printf("the gateway is not running; start it with 'gatehouse edge start'\n");
        return 0;
    }
    const char *changed = had_old ? gh_edge_config_changed(old_cfg, cfg) : "everything";
    if (!changed) {
        gh_err rc = gh_edge_cli_signal(&st, SIGHUP);
        if (rc != GH_OK) {
            fprintf(stderr, CLI_NAME ": cannot signal pid %d: %s\n", (int)st.pid, gh_err_str(rc));
            return gh_err_exit_status(rc);
        }
        printf("reloaded the running gateway (pid %d, SIGHUP): only reloadable options "
               "changed\n",
               (int)st.pid);
        return 0;
    }
    printf("restarting the running gateway (pid %d): %s changed\n", (int)st.pid, changed);
    int status = gh_edge_cli_stop(had_old ? old_cfg->data_dir : cfg->data_dir, true);
    if (status != 0) return status;
    return gh_edge_cli_start(home, cfg);
}

static int config_apply(const char *home, int argc, char **argv)
{
    const char *src = GH_EDGE_CONFIG_DEFAULT;
    for (int i = 0; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
            src = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: gatehouse edge config apply [-c FILE] [--home DIR]\n\n"
                   "Validate FILE (default %s) and make it the active\n"
                   "configuration <home>/config.toml (written atomically, mode 0600: it may hold\n"
                   "keys). A running gateway is reloaded (SIGHUP) when only reloadable options\n"
                   "changed (trust bundle, edge CA, log level), else restarted. On any error\n"
                   "the active configuration is left unchanged. File references are resolved\n"
                   "against FILE's directory and must resolve the same from home.\n",
                   GH_EDGE_CONFIG_DEFAULT);
            return 0;
        } else {
            return usage_error("config apply: unknown option '%s'", argv[i]);
        }
    }
    struct gh_edge_config cfg, old_cfg, copy;
    struct gh_toml_error err;
    char why[512] = "", path[GH_EDGE_PATH_MAX + 32], tmp[GH_EDGE_PATH_MAX + 48];
    char *text = NULL;
    size_t len = 0;
    bool had_old = false;
    int status;
    memset(&err, 0, sizeof err);
    memset(&old_cfg, 0, sizeof old_cfg);
    gh_err rc = gh_edge_config_load(src, home, &cfg, &err);
    if (rc != GH_OK) {
        gh_edge_cli_print_load_error(src, rc, &err);
        return gh_err_exit_status(rc);
    }
    if ((rc = gh_edge_config_validate(&cfg, why, sizeof why)) != GH_OK) {
        fprintf(stderr, CLI_NAME ": %s: %s\n", src, why);
        status = gh_err_exit_status(rc);
        goto out;
    }
    if ((rc = mkdir_p(home, 0700)) != GH_OK) {
        fprintf(stderr, CLI_NAME ": cannot create home directory %s: %s\n", home, gh_err_str(rc));
        status = gh_err_exit_status(rc);
        goto out;
    }
    snprintf(path, sizeof path, "%s/%s", home, GH_EDGE_FILE_CONFIG);
    snprintf(tmp, sizeof tmp, "%s/.%s.new", home, GH_EDGE_FILE_CONFIG);
    had_old = gh_edge_cli_load_active(home, &old_cfg, false) == GH_OK;
    char real_src[PATH_MAX], real_dst[PATH_MAX];
    bool same =
        realpath(src, real_src) && realpath(path, real_dst) && strcmp(real_src, real_dst) == 0;
    if (!same) {
        if ((rc = read_file(src, &text, &len)) != GH_OK) {
            fprintf(stderr, CLI_NAME ": cannot read %s: %s\n", src, gh_err_str(rc));
            status = gh_err_exit_status(rc);
            goto out;
        }
        /* Load the bytes from home's point of view before making them active. */
        rc = write_atomic(home, tmp, tmp, text, len);
        if (rc == GH_OK) rc = gh_edge_config_load(tmp, home, &copy, &err);
        if (rc != GH_OK) {
            unlink(tmp);
            fprintf(stderr, CLI_NAME ": cannot stage %s in %s: %s\n", src, home, gh_err_str(rc));
            status = gh_err_exit_status(rc);
            goto out;
        }
        const char *moved = moved_reference(&cfg, &copy);
        gh_edge_config_cleanup(&copy);
        if (moved) {
            unlink(tmp);
            fprintf(stderr,
                    CLI_NAME ": %s: %s is a relative path that would name another file from "
                             "%s; use an absolute path or file:///\n",
                    src, moved, home);
            status = gh_err_exit_status(GH_ERR_CONFIG_VALUE);
            goto out;
        }
        if ((rc = write_atomic(home, tmp, path, text, len)) != GH_OK) {
            fprintf(stderr, CLI_NAME ": cannot write %s: %s\n", path, gh_err_str(rc));
            status = gh_err_exit_status(rc);
            goto out;
        }
        printf("wrote %s (from %s)\n", path, src);
    } else {
        printf("%s is already the active configuration\n", path);
    }
    status = apply_to_daemon(home, had_old, &old_cfg, &cfg);
out:
    if (text) {
        gh_edge_wipe(text, len);
        free(text);
    }
    gh_edge_config_cleanup(&old_cfg);
    gh_edge_config_cleanup(&cfg);
    return status;
}

static int run(const char *home, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: gatehouse edge run [--home DIR]\n\n"
                   "Run the gateway in the foreground with <home>/config.toml, logging to\n"
                   "stderr (for systemd: Type=simple). SIGTERM or SIGINT stop it; SIGHUP\n"
                   "re-reads the configuration and applies what is reloadable.\n");
            return 0;
        }
        return usage_error("run: unknown option '%s'", argv[i]);
    }
    struct gh_edge_config cfg;
    char why[512] = "";
    gh_err rc = gh_edge_cli_load_active(home, &cfg, true);
    if (rc != GH_OK) return gh_err_exit_status(rc);
    if ((rc = gh_edge_config_validate(&cfg, why, sizeof why)) != GH_OK) {
        fprintf(stderr, CLI_NAME ": %s/%s: %s\n", home, GH_EDGE_FILE_CONFIG, why);
        gh_edge_config_cleanup(&cfg);
        return gh_err_exit_status(rc);
    }
    gh_log_set_level((enum gh_log_level)cfg.log_level);
    signal(SIGPIPE, SIG_IGN);
    rc = gh_edge_run(&cfg, home, why, sizeof why);
    if (rc != GH_OK) fprintf(stderr, CLI_NAME ": %s\n", why[0] ? why : gh_err_str(rc));
    gh_edge_config_cleanup(&cfg);
    return gh_err_exit_status(rc);
}

static int version(const char *home)
{
    printf("gatehouse %s\n", GH_VERSION);
    struct gh_edge_config cfg;
    if (gh_edge_cli_load_active(home, &cfg, false) != GH_OK) return 0;
    char dev[GH_EDGE_ID_MAX + 1], hub[GH_EDGE_HOST_MAX];
    if (gh_edge_cli_identity(cfg.data_dir, dev, sizeof dev, hub, sizeof hub) == GH_OK)
        printf("device %s on hub %s\n", dev, hub);
    else
        printf("not provisioned yet\n");
    gh_edge_config_cleanup(&cfg);
    return 0;
}

static int daemon_command(const char *cmd, const char *home, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: gatehouse edge %s [--home DIR]\n\n"
                   "start: run the gateway in the background (its output is appended to\n"
                   "<data_dir>/edge.log) and wait until it has written its pid file.\n"
                   "stop: SIGTERM the gateway named by <data_dir>/edge.pid, wait up to %u s,\n"
                   "then SIGKILL it. restart: stop (if running), then start.\n",
                   cmd, GH_EDGE_STOP_TIMEOUT_MS / 1000);
            return 0;
        }
        return usage_error("unknown option '%s'", argv[i]);
    }
    struct gh_edge_config cfg;
    gh_err rc = gh_edge_cli_load_active(home, &cfg, strcmp(cmd, "stop") != 0);
    if (strcmp(cmd, "stop") == 0) {
        /* Without a loadable config, the data directory defaults to home. */
        int status = gh_edge_cli_stop(rc == GH_OK ? cfg.data_dir : home, false);
        if (rc == GH_OK) gh_edge_config_cleanup(&cfg);
        return status;
    }
    if (rc != GH_OK) return gh_err_exit_status(rc);
    char why[512] = "";
    int status;
    if ((rc = gh_edge_config_validate(&cfg, why, sizeof why)) != GH_OK) {
        fprintf(stderr, CLI_NAME ": %s/%s: %s\n", home, GH_EDGE_FILE_CONFIG, why);
        status = gh_err_exit_status(rc);
    } else if (strcmp(cmd, "restart") == 0) {
        status = gh_edge_cli_stop(cfg.data_dir, true);
        if (status == 0) status = gh_edge_cli_start(home, &cfg);
    } else {
        status = gh_edge_cli_start(home, &cfg);
    }
    gh_edge_config_cleanup(&cfg);
    return status;
}

int gh_edge_cli_main(int argc, char **argv)
{
    const char *home_opt = NULL;
    char *rest[64];
    int nrest = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--home") == 0) {
            if (i + 1 >= argc) return usage_error("%s needs a directory", argv[i]);
            home_opt = argv[++i];
        } else if (strncmp(argv[i], "--home=", 7) == 0) {
            home_opt = argv[i] + 7;
        } else if (nrest < (int)(sizeof rest / sizeof *rest)) {
            rest[nrest++] = argv[i];
        } else {
            return usage_error("%s: too many arguments", argv[i]);
        }
    }
    if (nrest == 0) {
        usage(stderr);
        return gh_err_exit_status(GH_ERR_USAGE);
    }
    const char *cmd = rest[0];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--print-config-doc") == 0)
        return gh_err_exit_status(gh_edge_config_print_doc(stdout));
    /* An absolute home: the daemon changes directory, and pid files name it. */
    char home[GH_EDGE_PATH_MAX];
    const char *h = gh_edge_home(home_opt);
    if (h[0] == '/') {
        snprintf(home, sizeof home, "%s", h);
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd)) return usage_error("cannot resolve --home '%s'", h);
        int n = snprintf(home, sizeof home, "%s/%s", cwd, h);
        if (n < 0 || (size_t)n >= sizeof home) return usage_error("--home '%s' is too long", h);
    }
    int n = nrest - 1;
    char **args = rest + 1;
    if (strcmp(cmd, "config") == 0) {
        if (n >= 1 && strcmp(args[0], "apply") == 0) return config_apply(home, n - 1, args + 1);
        if (n >= 1 && (strcmp(args[0], "--help") == 0 || strcmp(args[0], "-h") == 0))
            return config_apply(home, 1, args);
        return usage_error("config: expected 'config apply [-c FILE]'%s", "");
    }
    if (strcmp(cmd, "run") == 0) return run(home, n, args);
    if (strcmp(cmd, "start") == 0 || strcmp(cmd, "stop") == 0 || strcmp(cmd, "restart") == 0)
        return daemon_command(cmd, home, n, args);
    if (strcmp(cmd, "status") == 0) return gh_edge_cli_status(home, n, args);
    if (strcmp(cmd, "logs") == 0) return gh_edge_cli_logs(home, n, args);
    if (strcmp(cmd, "check") == 0) return gh_edge_cli_check(home, n, args);
    if (strcmp(cmd, "version") == 0) {
        if (n > 0 && (strcmp(args[0], "--help") == 0 || strcmp(args[0], "-h") == 0)) {
            printf("usage: gatehouse edge version [--home DIR]\n\nPrint the version and, once "
                   "provisioned, the gateway's device id and hub.\n");
            return 0;
        }
        if (n > 0) return usage_error("version: unknown option '%s'", args[0]);
        return version(home);
    }
    return usage_error("unknown command '%s'", cmd);
}
