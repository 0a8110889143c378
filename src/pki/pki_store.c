#include "pki/pki_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "pki/pki_key.h"
#include "pki/pki_names.h"

/* ---- diagnostics and secrets --------------------------------------------- */

void gh_pki_diag_set(struct gh_pki_diag *d, const char *fmt, ...)
{
    if (!d || d->msg[0] != '\0') return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof d->msg, fmt, ap);
    va_end(ap);
}

void gh_pki_wipe_free(void *p, size_t len)
{
    if (!p) return;
    OPENSSL_cleanse(p, len);
    free(p);
}

void gh_pki_secret_cleanup(struct gh_pki_secret *s)
{
    if (!s) return;
    gh_pki_wipe_free(s->data, s->len);
    s->data = NULL;
    s->len = 0;
}

/* ---- reading ------------------------------------------------------------- */

gh_err gh_pki_file_read(const char *path, size_t max, uint8_t **data, size_t *len,
                        struct gh_pki_diag *diag)
{
    gh_err rc = GH_OK;
    uint8_t *buf = NULL;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = gh_err_from_errno(errno);
        gh_pki_diag_set(diag, "cannot open %s: %s", path, strerror(errno));
        return rc;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        gh_pki_diag_set(diag, "%s is not a regular file", path);
        rc = GH_ERR_IO;
        goto out;
    }
    if ((unsigned long long)st.st_size > max) {
        gh_pki_diag_set(diag, "%s is larger than %zu bytes", path, max);
        rc = GH_ERR_TOO_LARGE;
        goto out;
    }
    size_t cap = (size_t)st.st_size + 1;
    buf = malloc(cap);
    if (!buf) {
        rc = GH_ERR_NOMEM;
        goto out;
    }
    for (;;) {
        if (got == cap - 1) {
            /* The file grew after fstat: read one probe byte. */
            char probe;
            ssize_t m = read(fd, &probe, 1);
            if (m == 0) break;
            if (m < 0 && errno == EINTR) continue;
            gh_pki_diag_set(diag, "%s changed while being read", path);
            rc = m < 0 ? GH_ERR_IO : GH_ERR_TOO_LARGE;
            goto out;
        }
        ssize_t m = read(fd, buf + got, cap - 1 - got);
        if (m == 0) break;
        if (m < 0) {
            if (errno == EINTR) continue;
            gh_pki_diag_set(diag, "cannot read %s: %s", path, strerror(errno));
            rc = gh_err_from_errno(errno);
            goto out;
        }
        got += (size_t)m;
    }
    buf[got] = '\0';
    *data = buf;
    *len = got;
    buf = NULL;
out:
    if (buf) gh_pki_wipe_free(buf, got);
    close(fd);
    return rc;
}

static gh_err password_take(const char *text, size_t n, struct gh_pki_secret *out, const char *what,
                            struct gh_pki_diag *diag)
{
    const char *nl = memchr(text, '\n', n);
    if (nl) n = (size_t)(nl - text);
    if (n > 0 && text[n - 1] == '\r') n--;
    if (n == 0 || n > GH_PKI_PASSWORD_MAX) {
        if (n == 0)
            gh_pki_diag_set(diag, "the password in %s is empty", what);
        else
            gh_pki_diag_set(diag, "the password in %s is longer than %d bytes", what,
                            GH_PKI_PASSWORD_MAX);
        return GH_ERR_ARG;
    }
    char *p = malloc(n + 1);
    if (!p) return GH_ERR_NOMEM;
    memcpy(p, text, n);
    p[n] = '\0';
    gh_pki_secret_cleanup(out);
    out->data = p;
    out->len = n;
    return GH_OK;
}

gh_err gh_pki_password_file(const char *path, struct gh_pki_secret *out, struct gh_pki_diag *diag)
{
    uint8_t *data = NULL;
    size_t len = 0;
    GH_GUARD(gh_pki_file_read(path, GH_PKI_PASSWORD_MAX + 2, &data, &len, diag));
    gh_err rc = password_take((const char *)data, len, out, path, diag);
    gh_pki_wipe_free(data, len);
    return rc;
}

gh_err gh_pki_password_env(const char *var, struct gh_pki_secret *out, struct gh_pki_diag *diag)
{
    const char *v = getenv(var);
    if (!v) return GH_OK;
    return password_take(v, strlen(v), out, var, diag);
}

gh_err gh_pki_key_load(const char *path, const struct gh_pki_secret *pw, struct gh_pki_key **out,
                       struct gh_pki_diag *diag)
{
    uint8_t *data = NULL;
    size_t len = 0;
    GH_GUARD(gh_pki_file_read(path, GH_PKI_FILE_MAX, &data, &len, diag));
    struct gh_pki_diag inner = {{0}};
    gh_err rc = gh_pki_key_from_pem(data, len, pw, out, &inner);
    gh_pki_wipe_free(data, len);
    if (rc != GH_OK) gh_pki_diag_set(diag, "%s: %s", path, inner.msg);
    return rc;
}

gh_err gh_pki_state_paths(const char *dir, const char *name, struct gh_pki_paths *out)
{
    GH_ENSURE(dir != NULL && dir[0] != '\0' && name != NULL, GH_ERR_ARG);
    GH_GUARD(gh_pki_stem_check(name, strlen(name)));
    int a = snprintf(out->cert, sizeof out->cert, "%s/certs/%s.cert.pem", dir, name);
    int b = snprintf(out->chain, sizeof out->chain, "%s/certs/%s.chain.pem", dir, name);
    int c = snprintf(out->key, sizeof out->key, "%s/private/%s.key.pem", dir, name);
    GH_ENSURE(a > 0 && (size_t)a < sizeof out->cert, GH_ERR_TOO_LARGE);
    GH_ENSURE(b > 0 && (size_t)b < sizeof out->chain, GH_ERR_TOO_LARGE);
    GH_ENSURE(c > 0 && (size_t)c < sizeof out->key, GH_ERR_TOO_LARGE);
    return GH_OK;
}

/* ---- writing ------------------------------------------------------------- */

gh_err gh_pki_outputs_check(const struct gh_pki_output *outs, size_t n, struct gh_pki_diag *diag)
{
    GH_ENSURE(n <= GH_PKI_OUTPUTS_MAX, GH_ERR_TOO_MANY);
    for (size_t i = 0; i < n; i++) {
        GH_ENSURE(outs[i].path && outs[i].path[0] != '\0', GH_ERR_ARG);
        for (size_t j = 0; j < i; j++) {
            if (strcmp(outs[i].path, outs[j].path) == 0) {
                gh_pki_diag_set(diag, "%s is given for two outputs", outs[i].path);
                return GH_ERR_ARG;
            }
        }
        struct stat st;
        if (lstat(outs[i].path, &st) == 0) {
            if (!outs[i].replace) {
                gh_pki_diag_set(diag, "%s already exists (use --force to replace it)",
                                outs[i].path);
                return GH_ERR_EXISTS;
            }
            if (!S_ISREG(st.st_mode)) {
                gh_pki_diag_set(diag, "%s exists and is not a regular file", outs[i].path);
                return GH_ERR_IO;
            }
        } else if (errno != ENOENT) {
            gh_pki_diag_set(diag, "cannot check %s: %s", outs[i].path, strerror(errno));
            return gh_err_from_errno(errno);
        }
    }
    return GH_OK;
}

/* Directory part of path into dir ("." when none). */
static gh_err dir_of(const char *path, char *dir, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        GH_ENSURE(cap >= 2, GH_ERR_TOO_LARGE);
        strcpy(dir, ".");
        return GH_OK;
    }
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    GH_ENSURE(n < cap, GH_ERR_TOO_LARGE);
    memcpy(dir, path, n);
    dir[n] = '\0';
    return GH_OK;
}

/* mkdir -p; the last component gets mode, missing parents 0755. */
static gh_err make_dirs(char *dir, mode_t mode, struct gh_pki_diag *diag)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (S_ISDIR(st.st_mode)) return GH_OK;
        gh_pki_diag_set(diag, "%s is not a directory", dir);
        return GH_ERR_IO;
    }
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        gh_err rc = make_dirs(dir, 0755, diag);
        *slash = '/';
        GH_GUARD(rc);
    }
    if (mkdir(dir, mode) != 0 && errno != EEXIST) {
        gh_pki_diag_set(diag, "cannot create directory %s: %s", dir, strerror(errno));
        return gh_err_from_errno(errno);
    }
    return GH_OK;
}

static gh_err write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t m = write(fd, p, len);
        if (m < 0) {
            if (errno == EINTR) continue;
            return gh_err_from_errno(errno);
        }
        p += m;
        len -= (size_t)m;
    }
    return GH_OK;
}

static gh_err fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return gh_err_from_errno(errno);
    gh_err rc = fsync(fd) == 0 ? GH_OK : gh_err_from_errno(errno);
    close(fd);
    return rc;
}

struct pending {
    char tmp[GH_PKI_PATH_MAX];
    char dir[GH_PKI_PATH_MAX];
    bool have_tmp;
    bool published; /* a new file now exists at the final path */
};

static gh_err write_temp(const struct gh_pki_output *o, struct pending *p, struct gh_pki_diag *diag)
{
    GH_GUARD(dir_of(o->path, p->dir, sizeof p->dir));
    GH_GUARD(make_dirs(p->dir, o->secret ? 0700 : 0755, diag));
    const char *base = strrchr(o->path, '/');
    base = base ? base + 1 : o->path;
    int m = snprintf(p->tmp, sizeof p->tmp, "%s/.%s.tmp-XXXXXX", p->dir, base);
    GH_ENSURE(m > 0 && (size_t)m < sizeof p->tmp, GH_ERR_TOO_LARGE);
    int fd = mkstemp(p->tmp); /* O_CREAT|O_EXCL, mode 0600 */
    if (fd < 0) {
        gh_pki_diag_set(diag, "cannot create a file in %s: %s", p->dir, strerror(errno));
        return gh_err_from_errno(errno);
    }
    p->have_tmp = true;
    gh_err rc = GH_OK;
    if (!o->secret && fchmod(fd, 0644) != 0) rc = gh_err_from_errno(errno);
    if (rc == GH_OK) rc = write_all(fd, o->data, o->len);
    if (rc == GH_OK && fsync(fd) != 0) rc = gh_err_from_errno(errno);
    if (close(fd) != 0 && rc == GH_OK) rc = gh_err_from_errno(errno);
    if (rc != GH_OK) gh_pki_diag_set(diag, "cannot write %s: %s", p->tmp, strerror(errno));
    return rc;
}

/* Publish a no-replace output without ever replacing a file. */
static gh_err publish_new(const struct gh_pki_output *o, struct pending *p,
                          struct gh_pki_diag *diag)
{
    if (link(p->tmp, o->path) == 0) {
        p->published = true;
        (void)unlink(p->tmp);
        p->have_tmp = false;
        return GH_OK;
    }
    int e = errno;
    if (e == EEXIST) {
        gh_pki_diag_set(diag, "%s already exists (use --force to replace it)", o->path);
        return GH_ERR_EXISTS;
    }
    if (e != EPERM && e != EOPNOTSUPP && e != ENOSYS && e != EXDEV) {
        gh_pki_diag_set(diag, "cannot create %s: %s", o->path, strerror(e));
        return gh_err_from_errno(e);
    }
    /* File systems without hard links: check, then rename (small race). */
    struct stat st;
    if (lstat(o->path, &st) == 0) {
        gh_pki_diag_set(diag, "%s already exists (use --force to replace it)", o->path);
        return GH_ERR_EXISTS;
    }
    if (rename(p->tmp, o->path) != 0) {
        gh_pki_diag_set(diag, "cannot create %s: %s", o->path, strerror(errno));
        return gh_err_from_errno(errno);
    }
    p->have_tmp = false;
    p->published = true;
    return GH_OK;
}

gh_err gh_pki_outputs_write(const struct gh_pki_output *outs, size_t n, struct gh_pki_diag *diag)
{
    GH_GUARD(gh_pki_outputs_check(outs, n, diag));
    struct pending *pend = calloc(n ? n : 1, sizeof *pend);
    if (!pend) return GH_ERR_NOMEM;
    gh_err rc = GH_OK;
    for (size_t i = 0; i < n && rc == GH_OK; i++) rc = write_temp(&outs[i], &pend[i], diag);
    /* New files first: they are the ones that can still fail with EEXIST. */
    for (size_t i = 0; i < n && rc == GH_OK; i++)
        if (!outs[i].replace) rc = publish_new(&outs[i], &pend[i], diag);
    for (size_t i = 0; i < n && rc == GH_OK; i++) {
        if (!outs[i].replace) continue;
        if (rename(pend[i].tmp, outs[i].path) != 0) {
            gh_pki_diag_set(diag, "cannot replace %s: %s", outs[i].path, strerror(errno));
            rc = gh_err_from_errno(errno);
        } else {
            pend[i].have_tmp = false;
        }
    }
    for (size_t i = 0; i < n && rc == GH_OK; i++) {
        if (fsync_dir(pend[i].dir) != GH_OK) {
            gh_pki_diag_set(diag, "cannot sync directory %s", pend[i].dir);
            rc = GH_ERR_IO;
        }
    }
    if (rc != GH_OK) {
        for (size_t i = 0; i < n; i++) {
            if (pend[i].published) (void)unlink(outs[i].path);
            if (pend[i].have_tmp) (void)unlink(pend[i].tmp);
        }
    }
    free(pend);
    return rc;
}
