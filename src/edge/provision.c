/* The gateway's identity: manual provisioning, the identity file (render,
 * save, load), the start-up policy (auto_reprovisioning_mode) and the
 * gateway's own SAS tokens. DPS registration itself is in provision_dps.c,
 * the decoders in provision_json.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "edge/provision.h"
#include "edge/provision_int.h"
#include "iothub/crypto.h"
#include "iothub/sas.h"

#define TMP_SUFFIX ".tmp"

void gh_edge_say(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int64_t gh_edge_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void gh_edge_identity_wipe(struct gh_edge_identity *id)
{
    if (id) gh_secure_zero(id, sizeof *id);
}

static bool same_secret(const char *a, const char *b)
{
    size_t n = strlen(a);
    return n == strlen(b) && gh_ct_equal(a, b, n);
}

/* ---- manual ---------------------------------------------------------------- */

gh_err gh_edge_provision_manual(const struct gh_edge_config *cfg, struct gh_edge_identity *out,
                                char *err, size_t errlen)
{
    if (cfg->prov_source != GH_EDGE_PROV_MANUAL) {
        gh_edge_say(err, errlen, "provisioning.source is not \"manual\"");
        return GH_ERR_CONFIG_VALUE;
    }
    bool x509 = cfg->attest_method == GH_EDGE_ATTEST_X509;
    if (cfg->iothub_hostname[0] == '\0' || cfg->device_id[0] == '\0') {
        gh_edge_say(
            err, errlen,
            "manual provisioning needs iothub_hostname and device_id (or connection_string)");
        return GH_ERR_CONFIG_MISSING;
    }
    if (!gh_edge_host_valid(cfg->iothub_hostname) || !gh_edge_device_id_valid(cfg->device_id)) {
        gh_edge_say(err, errlen, "manual provisioning: iothub_hostname or device_id is not valid");
        return GH_ERR_CONFIG_VALUE;
    }
    if (x509 ? (cfg->identity_cert[0] == '\0' || cfg->identity_pk[0] == '\0')
             : cfg->symmetric_key[0] == '\0') {
        gh_edge_say(err, errlen, "manual provisioning with %s needs %s", x509 ? "x509" : "sas",
                    x509 ? "identity_cert and identity_pk"
                         : "a device key (device_id_pk or "
                           "SharedAccessKey)");
        return GH_ERR_CONFIG_MISSING;
    }
    if (!x509) {
        uint8_t raw[GH_SYMKEY_MAX];
        size_t rawlen = 0;
        gh_err krc = gh_symkey_decode(gh_slice_cstr(cfg->symmetric_key), raw, &rawlen);
        gh_secure_zero(raw, sizeof raw);
        if (krc != GH_OK) {
            gh_edge_say(err, errlen, "manual provisioning: the device key is not base64: %s",
                        gh_err_str(krc));
            return GH_ERR_CONFIG_VALUE;
        }
    }
    struct gh_edge_identity id;
    memset(&id, 0, sizeof id);
    memcpy(id.hub, cfg->iothub_hostname, sizeof id.hub);
    memcpy(id.device_id, cfg->device_id, sizeof id.device_id);
    id.auth = x509 ? GH_EDGE_AUTH_X509 : GH_EDGE_AUTH_SAS;
    if (!x509) memcpy(id.key, cfg->symmetric_key, sizeof id.key);
    memcpy(id.source, GH_EDGE_SOURCE_MANUAL, sizeof GH_EDGE_SOURCE_MANUAL);
    id.provisioned_ms = gh_edge_wall_ms();
    *out = id;
    gh_edge_identity_wipe(&id);
    return GH_OK;
}

/* ---- rendering -------------------------------------------------------------------- */

static gh_err put_string(struct gh_writer *w, const char *name, const char *value, bool comma)
{
    if (comma) GH_GUARD(gh_writer_u8(w, ','));
    GH_GUARD(gh_writer_u8(w, '"'));
    GH_GUARD(gh_writer_cstr(w, name));
    GH_GUARD(gh_writer_cstr(w, "\":\""));
    for (const char *p = value; *p; p++) {
        uint8_t c = (uint8_t)*p;
        GH_ENSURE(c >= 0x20 && c <= 0x7e, GH_ERR_ARG);
        if (c == '"' || c == '\\') GH_GUARD(gh_writer_u8(w, '\\'));
        GH_GUARD(gh_writer_u8(w, c));
    }
    return gh_writer_u8(w, '"');
}

gh_err gh_edge_identity_render(const struct gh_edge_identity *id, struct gh_writer *w)
{
    GH_ENSURE(id->hub[0] && id->device_id[0], GH_ERR_ARG);
    GH_ENSURE(id->auth == GH_EDGE_AUTH_SAS || id->auth == GH_EDGE_AUTH_X509, GH_ERR_ARG);
    GH_ENSURE(strcmp(id->source, GH_EDGE_SOURCE_DPS) == 0 ||
                  strcmp(id->source, GH_EDGE_SOURCE_MANUAL) == 0,
              GH_ERR_ARG);
    GH_ENSURE(id->provisioned_ms >= 0, GH_ERR_ARG);
    char num[24]; /* any int64_t in decimal: at most 20 characters and the NUL */
    GH_GUARD(gh_writer_cstr(w, "{\"version\":1"));
    GH_GUARD(put_string(w, "source", id->source, true));
    GH_GUARD(put_string(w, "hub", id->hub, true));
    GH_GUARD(put_string(w, "deviceId", id->device_id, true));
    GH_GUARD(put_string(w, "auth", id->auth == GH_EDGE_AUTH_SAS ? "sas" : "x509", true));
    GH_GUARD(put_string(w, "key", id->key, true));
    int n = snprintf(num, sizeof num, "%lld", (long long)id->provisioned_ms);
    GH_ENSURE(n > 0 && (size_t)n < sizeof num, GH_ERR_INTERNAL);
    GH_GUARD(gh_writer_cstr(w, ",\"provisionedMs\":"));
    GH_GUARD(gh_writer_cstr(w, num));
    GH_GUARD(put_string(w, "registrationId", id->registration_id, true));
    GH_GUARD(put_string(w, "idScope", id->id_scope, true));
    GH_GUARD(put_string(w, "endpoint", id->endpoint, true));
    return gh_writer_cstr(w, "}\n");
}

/* ---- names ------------------------------------------------------------------------ */

bool gh_edge_host_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= GH_EDGE_HOST_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.';
        if (!ok) return false;
    }
    return s[0] != '.' && s[0] != '-';
}

bool gh_edge_device_id_valid(const char *s)
{
    /* IoT Hub device ids: ASCII letters, digits and - . % _ * ? ! ( ) , : = @ $ ' + #
     * (PROTOCOL.md 5.2), at most 128 characters. */
    size_t n = strlen(s);
    if (n == 0 || n > GH_EDGE_ID_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  (c != '\0' && strchr("-.%_*?!(),:=@$'+#", c));
        if (!ok) return false;
    }
    return true;
}

/* ---- identity file ---------------------------------------------------------- */

static gh_err write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return k < 0 ? gh_err_from_errno(errno) : GH_ERR_IO;
        p += k;
        n -= (size_t)k;
    }
    return GH_OK;
}

static gh_err fsync_dir(const char *path)
{
    char dir[GH_EDGE_PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash) {
        memcpy(dir, ".", 2);
    } else {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        GH_ENSURE(n < sizeof dir, GH_ERR_NOBUFS);
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return gh_err_from_errno(errno);
    gh_err rc = fsync(fd) == 0 ? GH_OK : gh_err_from_errno(errno);
    close(fd);
    return rc;
}

gh_err gh_edge_identity_save(const char *path, const struct gh_edge_identity *id)
{
    uint8_t buf[GH_EDGE_IDENTITY_FILE_MAX];
    char tmp[GH_EDGE_PATH_MAX + sizeof TMP_SUFFIX];
    int fd = -1;
    bool created = false;
    gh_err rc = GH_OK;
    struct gh_writer w;
    gh_writer_init(&w, buf, sizeof buf);
    int n = snprintf(tmp, sizeof tmp, "%s" TMP_SUFFIX, path);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        rc = GH_ERR_NOBUFS;
        goto out;
    }
    if ((rc = gh_edge_identity_render(id, &w)) != GH_OK) goto out;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = gh_err_from_errno(errno);
        goto out;
    }
    created = true;
    /* O_CREAT keeps the mode of an existing leftover file: force 0600. */
    if (fchmod(fd, 0600) != 0 || (rc = write_all(fd, buf, w.len)) != GH_OK || fsync(fd) != 0) {
        if (rc == GH_OK) rc = gh_err_from_errno(errno);
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = gh_err_from_errno(errno);
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        rc = gh_err_from_errno(errno);
        goto out;
    }
    created = false;
    rc = fsync_dir(path);
out:
    if (fd >= 0) close(fd);
    if (created) (void)unlink(tmp);
    gh_secure_zero(buf, sizeof buf);
    return rc;
}

gh_err gh_edge_identity_load(const char *path, struct gh_edge_identity *out)
{
    uint8_t buf[GH_EDGE_IDENTITY_FILE_MAX + 1];
    size_t len = 0;
    gh_err rc = GH_OK;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return errno == ELOOP ? GH_ERR_IO : gh_err_from_errno(errno);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = gh_err_from_errno(errno);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = GH_ERR_IO;
        goto out;
    }
    /* It holds the device key: only its owner (this user) may touch it. */
    if ((st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
        rc = GH_ERR_PERM;
        goto out;
    }
    if (st.st_size > (off_t)GH_EDGE_IDENTITY_FILE_MAX) {
        rc = GH_ERR_TOO_LARGE;
        goto out;
    }
    while (len < sizeof buf) {
        ssize_t k = read(fd, buf + len, sizeof buf - len);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            rc = gh_err_from_errno(errno);
            goto out;
        }
        if (k == 0) break;
        len += (size_t)k;
    }
    if (len > GH_EDGE_IDENTITY_FILE_MAX) {
        rc = GH_ERR_TOO_LARGE; /* grew after fstat */
        goto out;
    }
    rc = gh_edge_identity_parse((struct gh_slice){buf, len}, out);
out:
    close(fd);
    gh_secure_zero(buf, sizeof buf);
    return rc;
}

/* ---- policy ------------------------------------------------------------------- */

bool gh_edge_identity_matches(const struct gh_edge_identity *id, const struct gh_edge_config *cfg)
{
    int want_auth =
        cfg->attest_method == GH_EDGE_ATTEST_X509 ? GH_EDGE_AUTH_X509 : GH_EDGE_AUTH_SAS;
    if (id->auth != want_auth) return false;
    if (want_auth == GH_EDGE_AUTH_SAS && !same_secret(id->key, cfg->symmetric_key)) return false;
    if (cfg->prov_source == GH_EDGE_PROV_DPS)
        return strcmp(id->source, GH_EDGE_SOURCE_DPS) == 0 &&
               strcmp(id->registration_id, cfg->registration_id) == 0 &&
               strcasecmp(id->id_scope, cfg->id_scope) == 0 &&
               strcmp(id->endpoint, cfg->global_endpoint) == 0;
    return strcmp(id->source, GH_EDGE_SOURCE_MANUAL) == 0 &&
           strcasecmp(id->hub, cfg->iothub_hostname) == 0 &&
           strcmp(id->device_id, cfg->device_id) == 0;
}

static void save(const char *path, const struct gh_edge_identity *id)
{
    gh_err rc = gh_edge_identity_save(path, id);
    if (rc != GH_OK)
        gh_log_warn("edge.provision.save_failed", "path=%s err=%s", path, gh_err_str(rc));
}

gh_err gh_edge_provision(const struct gh_edge_config *cfg, const char *data_dir,
                         struct gh_edge_identity *out, char *err, size_t errlen)
{
    char path[GH_EDGE_PATH_MAX + sizeof GH_EDGE_FILE_IDENTITY + 1];
    int n = snprintf(path, sizeof path, "%s/%s", data_dir, GH_EDGE_FILE_IDENTITY);
    if (n < 0 || (size_t)n >= sizeof path) {
        gh_edge_say(err, errlen, "data directory path too long");
        return GH_ERR_NOBUFS;
    }
    struct gh_edge_identity id, cached;
    memset(&id, 0, sizeof id);
    memset(&cached, 0, sizeof cached);
    gh_err rc;
    if (cfg->prov_source == GH_EDGE_PROV_MANUAL) {
        if ((rc = gh_edge_provision_manual(cfg, &id, err, errlen)) != GH_OK) goto out;
        save(path, &id);
        goto done;
    }
    /* DPS: what does the cache hold? */
    gh_err crc = gh_edge_identity_load(path, &cached);
    bool have = crc == GH_OK && strcmp(cached.source, GH_EDGE_SOURCE_DPS) == 0;
    bool match = have && gh_edge_identity_matches(&cached, cfg);
    if (crc == GH_ERR_PERM)
        gh_log_warn("edge.provision.cache_refused",
                    "path=%s err=%s reason=\"readable or writable by others, or not owned by this "
                    "user: chmod 600 it or delete it\"",
                    path, gh_err_str(crc));
    else if (crc != GH_OK && crc != GH_ERR_NOENT)
        gh_log_warn("edge.provision.cache_unusable", "path=%s err=%s", path, gh_err_str(crc));
    else if (crc == GH_OK && !match)
        gh_log_info("edge.provision.cache_stale",
                    "path=%s reason=\"provisioning settings changed\"", path);
    if ((cfg->reprovisioning == GH_EDGE_REPROV_DYNAMIC && match) ||
        (cfg->reprovisioning == GH_EDGE_REPROV_ON_ERROR && have)) {
        if (!match)
            gh_log_warn("edge.provision.cache_kept",
                        "path=%s reason=\"auto_reprovisioning_mode OnErrorOnly keeps the cached "
                        "identity although the provisioning settings changed\"",
                        path);
        gh_log_info("edge.provision.cached", "hub=%s device=%s", cached.hub, cached.device_id);
        id = cached;
        goto done;
    }
    bool unreachable = false;
    rc = gh_edge_provision_dps_ex(cfg, &id, err, errlen, &unreachable);
    if (rc == GH_OK) {
        save(path, &id);
        goto done;
    }
    if (cfg->reprovisioning == GH_EDGE_REPROV_ON_STARTUP && unreachable && match) {
        gh_log_warn("edge.provision.dps_unreachable",
                    "err=%s hub=%s device=%s reason=\"using the cached identity\"", gh_err_str(rc),
                    cached.hub, cached.device_id);
        id = cached;
        goto done;
    }
    goto out;
done:
    rc = GH_OK;
    *out = id;
out:
    gh_edge_identity_wipe(&id);
    gh_edge_identity_wipe(&cached);
    return rc;
}

/* ---- tokens ----------------------------------------------------------------------- */

gh_err gh_edge_identity_sas(const struct gh_edge_identity *id, int64_t now_s, int64_t lifetime_s,
                            char *out, size_t cap)
{
    GH_ENSURE(id->auth == GH_EDGE_AUTH_SAS && lifetime_s > 0 && id->hub[0] && id->device_id[0],
              GH_ERR_ARG);
    GH_ENSURE(now_s >= 0 && now_s <= INT64_MAX - lifetime_s, GH_ERR_ARG);
    char sr[3 * (GH_EDGE_HOST_MAX + GH_EDGE_ID_MAX) + 32];
    struct gh_writer a;
    gh_writer_init(&a, sr, sizeof sr);
    GH_GUARD(
        gh_sas_audience_encode(gh_slice_cstr(id->hub), gh_slice_cstr(id->device_id), NULL, &a));
    struct gh_writer w;
    gh_writer_init(&w, out, cap);
    gh_err rc =
        gh_sas_build(gh_writer_slice(&a), gh_slice_cstr(id->key), now_s + lifetime_s, NULL, &w);
    if (rc == GH_OK) rc = gh_writer_terminate(&w);
    if (rc != GH_OK && cap > 0) gh_secure_zero(out, cap);
    return rc;
}
