/* Helpers shared by the pki tests: temporary directories, running the real
 * `gatehouse` and `openssl` binaries with bounded run time, directory
 * snapshots. Header-only (each test file is its own executable). */
#ifndef GH_TESTS_PKI_TEST_UTIL_H
#define GH_TESTS_PKI_TEST_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

extern char **environ;

/* Every child runs under coreutils timeout(1): no test waits unbounded. */
#define PT_CHILD_TIMEOUT "60"
#define PT_OUT_MAX (256 * 1024)
#define PT_ARGS_MAX 64

struct pt_run {
    int status; /* exit status, or 128 + signal */
    char *out;  /* stdout, NUL-terminated */
    char *err;  /* stderr, NUL-terminated */
};

static inline void pt_run_free(struct pt_run *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

static inline char *pt_read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(PT_OUT_MAX + 1);
    size_t n = buf ? fread(buf, 1, PT_OUT_MAX, f) : 0;
    fclose(f);
    if (!buf) return NULL;
    buf[n] = '\0';
    if (len_out) *len_out = n;
    return buf;
}

static inline int pt_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t n = fwrite(data, 1, len, f);
    return fclose(f) == 0 && n == len ? 0 : -1;
}

/* A fresh directory under $TMPDIR (or /tmp). */
static inline char *pt_mkdtemp(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[PATH_MAX];
    snprintf(tmpl, sizeof tmpl, "%s/gh-pki-test-XXXXXX", base && base[0] ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

/* Visit every entry below dir (sorted, children before their directory
 * when post is true, else after it). */
typedef int (*pt_visit)(const char *path, const struct stat *st, void *ctx);

static inline int pt_walk(const char *dir, pt_visit fn, void *ctx, int post)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0) return -1;
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *e = names[i]->d_name;
        if (strcmp(e, ".") != 0 && strcmp(e, "..") != 0 && rc == 0) {
            char path[PATH_MAX];
            struct stat st;
            int m = snprintf(path, sizeof path, "%s/%s", dir, e);
            if (m < 0 || (size_t)m >= sizeof path || lstat(path, &st) != 0) {
                rc = -1;
            } else {
                if (!post) rc = fn(path, &st, ctx);
                if (rc == 0 && S_ISDIR(st.st_mode)) rc = pt_walk(path, fn, ctx, post);
                if (rc == 0 && post) rc = fn(path, &st, ctx);
            }
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

static inline int pt_rm_cb(const char *path, const struct stat *st, void *ctx)
{
    (void)st;
    (void)ctx;
    return remove(path);
}

static inline void pt_rmtree(const char *dir)
{
    if (!dir) return;
    pt_walk(dir, pt_rm_cb, NULL, 1);
    remove(dir);
}

/* Run argv (NULL-terminated; argv[0] "gatehouse" means $GH_GATEHOUSE) with
 * stdin from /dev/null, capturing stdout and stderr through files in
 * scratch. Returns 0 when the child ran (see r->status), -1 otherwise. */
static inline int pt_runv(const char *scratch, const char *const *argv, struct pt_run *r)
{
    const char *args[PT_ARGS_MAX + 5];
    size_t n = 0;
    args[n++] = "timeout";
    args[n++] = "-k";
    args[n++] = "5";
    args[n++] = PT_CHILD_TIMEOUT;
    for (size_t i = 0; argv[i] && n < PT_ARGS_MAX + 4; i++) {
        const char *a = argv[i];
        if (i == 0 && strcmp(a, "gatehouse") == 0) a = getenv("GH_GATEHOUSE");
        if (!a) return -1;
        args[n++] = a;
    }
    args[n] = NULL;
    char outp[PATH_MAX], errp[PATH_MAX];
    snprintf(outp, sizeof outp, "%s/.stdout", scratch);
    snprintf(errp, sizeof errp, "%s/.stderr", scratch);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    int rc = posix_spawnp(&pid, "timeout", &fa, NULL, (char *const *)args, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return -1;
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r->out = pt_read_file(outp, NULL);
    r->err = pt_read_file(errp, NULL);
    unlink(outp);
    unlink(errp);
    if (!r->out || !r->err) {
        pt_run_free(r);
        return -1;
    }
    return 0;
}

/* pt_runv with a NULL-terminated variadic argument list. */
static inline int pt_run(const char *scratch, struct pt_run *r, ...)
{
    const char *argv[PT_ARGS_MAX + 1];
    size_t n = 0;
    va_list ap;
    va_start(ap, r);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < PT_ARGS_MAX) argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    return pt_runv(scratch, argv, r);
}

/* Snapshot of a tree: one line per entry "path mode size sha256", sorted. */
struct pt_snap {
    char *text;
    size_t len, cap;
    size_t root_len;
};

static inline int pt_snap_cb(const char *path, const struct stat *st, void *ctx)
{
    struct pt_snap *s = ctx;
    char line[PATH_MAX + 200];
    char hash[65] = "-";
    if (S_ISREG(st->st_mode)) {
        size_t len = 0;
        char *data = pt_read_file(path, &len);
        unsigned char md[32];
        unsigned int mdlen = 0;
        if (data && EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) == 1) {
            for (unsigned i = 0; i < mdlen; i++) snprintf(hash + 2 * i, 3, "%02x", md[i]);
        }
        free(data);
    }
    int n = snprintf(line, sizeof line, "%s %o %lld %s\n", path + s->root_len,
                     (unsigned)st->st_mode, (long long)st->st_size, hash);
    if (n < 0) return -1;
    if (s->len + (size_t)n + 1 > s->cap) {
        size_t cap = (s->cap + (size_t)n + 1) * 2;
        char *t = realloc(s->text, cap);
        if (!t) return -1;
        s->text = t;
        s->cap = cap;
    }
    memcpy(s->text + s->len, line, (size_t)n + 1);
    s->len += (size_t)n;
    return 0;
}

/* Malloc'ed snapshot text of dir (caller frees); "" for an empty or
 * missing directory. */
static inline char *pt_snapshot(const char *dir)
{
    struct pt_snap s = {calloc(1, 1), 0, 1, strlen(dir)};
    pt_walk(dir, pt_snap_cb, &s, 0);
    return s.text;
}

static inline char *pt_path(const char *dir, const char *rel)
{
    char *p = malloc(strlen(dir) + strlen(rel) + 2);
    if (p) sprintf(p, "%s/%s", dir, rel);
    return p;
}

static inline int pt_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

#endif
