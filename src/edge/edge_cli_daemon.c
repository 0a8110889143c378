/* `gatehouse edge start|stop|restart`: the pid file, starting the daemon in
 * the background and stopping it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "edge/config_internal.h"
#include "edge/edge_cli_int.h"

#define PID_TEXT_MAX 32
#define CMDLINE_MAX 4096

void gh_edge_cli_nap(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Is pid a `gatehouse edge run` process? /proc/<pid>/cmdline holds the
 * arguments NUL-separated: look for "edge" followed by "run". A process we
 * may not inspect counts as one. */
static bool is_edge_daemon(pid_t pid)
{
    char path[64], buf[CMDLINE_MAX];
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno != ENOENT;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return false; /* a zombie has an empty command line */
    buf[n] = '\0';
    bool prev_edge = false;
    for (ssize_t off = 0; off < n;) {
        const char *arg = buf + off;
        if (prev_edge && strcmp(arg, "run") == 0) return true;
        prev_edge = strcmp(arg, "edge") == 0;
        off += (ssize_t)strlen(arg) + 1;
    }
    return false;
}

void gh_edge_cli_daemon_state(const char *data_dir, struct gh_edge_daemon *st)
{
    memset(st, 0, sizeof *st);
    snprintf(st->pid_path, sizeof st->pid_path, "%s/%s", data_dir, GH_EDGE_FILE_PID);
    char text[PID_TEXT_MAX];
    int fd = open(st->pid_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) {
        st->stale = true;
        return;
    }
    text[n] = '\0';
    char *end = NULL;
    long v = strtol(text, &end, 10);
    if (v <= 1 || v > INT32_MAX || (end && *end != '\0' && *end != '\n')) {
        st->stale = true;
        return;
    }
    st->pid = (pid_t)v;
    bool alive = kill(st->pid, 0) == 0 || errno == EPERM;
    st->running = alive && is_edge_daemon(st->pid);
    st->stale = !st->running;
}

gh_err gh_edge_cli_signal(const struct gh_edge_daemon *st, int sig)
{
    if (!st->running) return GH_ERR_CLOSED;
    if (kill(st->pid, sig) != 0) return errno == EPERM ? GH_ERR_PERM : GH_ERR_CLOSED;
    return GH_OK;
}

/* Wait until pid is gone (bounded). A child of ours is reaped. */
static bool wait_gone(pid_t pid, unsigned timeout_ms)
{
    for (unsigned waited = 0;; waited += GH_EDGE_POLL_MS) {
        (void)waitpid(pid, NULL, WNOHANG);
        if (kill(pid, 0) != 0 && errno == ESRCH) return true;
        if (!is_edge_daemon(pid)) return true; /* zombie of another parent, or reused */
        if (waited >= timeout_ms) return false;
        gh_edge_cli_nap(GH_EDGE_POLL_MS);
    }
}

int gh_edge_cli_stop(const char *data_dir, bool quiet_if_stopped)
{
    struct gh_edge_daemon st;
    gh_edge_cli_daemon_state(data_dir, &st);
    if (!st.running) {
        if (st.stale) {
            printf("removed a stale pid file %s (pid %d is gone)\n", st.pid_path, (int)st.pid);
            unlink(st.pid_path);
        }
        if (!quiet_if_stopped) printf("gatehouse edge is not running; nothing to stop\n");
        return 0;
    }
    gh_err rc = gh_edge_cli_signal(&st, SIGTERM);
    if (rc != GH_OK) {
        fprintf(stderr, CLI_NAME ": cannot stop pid %d: %s\n", (int)st.pid, gh_err_str(rc));
        return gh_err_exit_status(rc);
    }
    if (wait_gone(st.pid, GH_EDGE_STOP_TIMEOUT_MS)) {
        printf("stopped gatehouse edge (pid %d)\n", (int)st.pid);
        return 0;
    }
    fprintf(stderr,
            CLI_NAME ": pid %d did not exit within %u s of SIGTERM; sending SIGKILL (queued "
                     "messages are safe on disk, children will reconnect)\n",
            (int)st.pid, GH_EDGE_STOP_TIMEOUT_MS / 1000);
    if (kill(st.pid, SIGKILL) != 0 && errno != ESRCH) {
        fprintf(stderr, CLI_NAME ": cannot kill pid %d: %s\n", (int)st.pid, strerror(errno));
        return gh_err_exit_status(GH_ERR_PERM);
    }
    if (!wait_gone(st.pid, GH_EDGE_KILL_TIMEOUT_MS)) {
        fprintf(stderr, CLI_NAME ": pid %d is still there after SIGKILL\n", (int)st.pid);
        return gh_err_exit_status(GH_ERR_TIMEOUT);
    }
    unlink(st.pid_path);
    printf("killed gatehouse edge (pid %d)\n", (int)st.pid);
    return 0;
}

/* Print the lines of path written after offset `from` (the last max_lines). */
static void print_log_since(const char *path, off_t from, int max_lines)
{
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (fseeko(f, from, SEEK_SET) != 0) {
        fclose(f);
        return;
    }
    char *lines[GH_EDGE_START_TAIL_LINES] = {0};
    char *line = NULL;
    size_t cap = 0;
    int count = 0;
    while (getline(&line, &cap, f) >= 0) {
        free(lines[count % GH_EDGE_START_TAIL_LINES]);
        lines[count % GH_EDGE_START_TAIL_LINES] = line;
        line = NULL;
        cap = 0;
        count++;
    }
    free(line);
    fclose(f);
    int n = count < max_lines ? count : max_lines;
    if (n > GH_EDGE_START_TAIL_LINES) n = GH_EDGE_START_TAIL_LINES;
    if (n > 0) fprintf(stderr, "--- last lines of %s ---\n", path);
    for (int i = count - n; i < count; i++) fputs(lines[i % GH_EDGE_START_TAIL_LINES], stderr);
    for (int i = 0; i < GH_EDGE_START_TAIL_LINES; i++) free(lines[i]);
}

static gh_err ensure_dir(const char *dir)
{
    if (mkdir(dir, 0700) == 0 || errno == EEXIST) return GH_OK;
    return errno == EACCES ? GH_ERR_PERM : errno == ENOENT ? GH_ERR_NOENT : GH_ERR_IO;
}

/* In the child: detach and become `gatehouse edge run --home HOME`. */
__attribute__((noreturn)) static void exec_daemon(const char *home, int log_fd)
{
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (setsid() < 0 || null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 ||
        dup2(log_fd, 2) < 0 || chdir("/") != 0)
        _exit(gh_err_exit_status(GH_ERR_IO));
    signal(SIGHUP, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    execl("/proc/self/exe", "gatehouse", "edge", "run", "--home", home, (char *)NULL);
    dprintf(2, CLI_NAME ": cannot execute /proc/self/exe: %s\n", strerror(errno));
    _exit(gh_err_exit_status(GH_ERR_IO));
}

int gh_edge_cli_start(const char *home, const struct gh_edge_config *cfg)
{
    struct gh_edge_daemon st;
    gh_edge_cli_daemon_state(cfg->data_dir, &st);
    if (st.running) {
        printf("gatehouse edge is already running (pid %d)\n", (int)st.pid);
        return 0;
    }
    if (st.stale) {
        printf("removed a stale pid file %s (pid %d is gone)\n", st.pid_path, (int)st.pid);
        unlink(st.pid_path);
    }
    gh_err rc = ensure_dir(cfg->data_dir);
    if (rc != GH_OK) {
        fprintf(stderr, CLI_NAME ": cannot create data directory %s: %s\n", cfg->data_dir,
                gh_err_str(rc));
        return gh_err_exit_status(rc);
    }
    char log_path[GH_EDGE_PATH_MAX + 16];
    snprintf(log_path, sizeof log_path, "%s/%s", cfg->data_dir, GH_EDGE_FILE_LOG);
    int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd < 0) {
        fprintf(stderr, CLI_NAME ": cannot open %s: %s\n", log_path, strerror(errno));
        return gh_err_exit_status(errno == EACCES ? GH_ERR_PERM : GH_ERR_IO);
    }
    struct stat sb;
    off_t log_start = fstat(log_fd, &sb) == 0 ? sb.st_size : 0;
    fflush(NULL);
    pid_t child = fork();
    if (child < 0) {
        close(log_fd);
        fprintf(stderr, CLI_NAME ": fork: %s\n", strerror(errno));
        return gh_err_exit_status(GH_ERR_IO);
    }
    if (child == 0) exec_daemon(home, log_fd);
    close(log_fd);
    for (unsigned waited = 0;; waited += GH_EDGE_POLL_MS) {
        int wstatus = 0;
        if (waitpid(child, &wstatus, WNOHANG) == child) {
            int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 70;
            fprintf(stderr, CLI_NAME ": the gateway exited during start (status %d)\n", code);
            print_log_since(log_path, log_start, GH_EDGE_START_TAIL_LINES);
            return code ? code : gh_err_exit_status(GH_ERR_CLOSED);
        }
        gh_edge_cli_daemon_state(cfg->data_dir, &st);
        if (st.running && st.pid == child) {
            printf("started gatehouse edge (pid %d); log: %s\n", (int)child, log_path);
            return 0;
        }
        if (waited >= GH_EDGE_START_TIMEOUT_MS) break;
        gh_edge_cli_nap(GH_EDGE_POLL_MS);
    }
    fprintf(stderr,
            CLI_NAME ": pid %d has not written %s within %u s; it may still be starting "
                     "(see 'gatehouse edge logs')\n",
            (int)child, st.pid_path, GH_EDGE_START_TIMEOUT_MS / 1000);
    print_log_since(log_path, log_start, GH_EDGE_START_TAIL_LINES);
    return gh_err_exit_status(GH_ERR_TIMEOUT);
}

gh_err gh_edge_cli_identity(const char *data_dir, char *device_id, size_t dcap, char *hub,
                            size_t hcap)
{
    char path[GH_EDGE_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/%s", data_dir, GH_EDGE_FILE_IDENTITY);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? GH_ERR_NOENT : errno == EACCES ? GH_ERR_PERM : GH_ERR_IO;
    char buf[16384];
    size_t len = 0;
    ssize_t r;
    while (len < sizeof buf && (r = read(fd, buf + len, sizeof buf - len)) > 0) len += (size_t)r;
    close(fd);
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, 0, &jerr);
    gh_edge_wipe(buf, sizeof buf);
    const char *d = json_string_value(json_object_get(root, "deviceId"));
    const char *h = json_string_value(json_object_get(root, "hub"));
    gh_err rc = GH_ERR_BAD_JSON;
    if (d && h) {
        snprintf(device_id, dcap, "%s", d);
        snprintf(hub, hcap, "%s", h);
        rc = GH_OK;
    }
    json_t *key = json_object_get(root, "key");
    if (json_is_string(key)) {
        /* Best effort: jansson owns the copy of the key. */
        char *k = (char *)json_string_value(key);
        gh_edge_wipe(k, strlen(k));
    }
    json_decref(root);
    return rc;
}
