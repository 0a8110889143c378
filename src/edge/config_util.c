/* Edge configuration helpers: host names, addresses, file URIs, key files
 * and the manual connection string. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/encoding.h"
#include "edge/config_internal.h"
#include "iothub/connstr.h"
#include "iothub/crypto.h"

#define FILE_SCHEME "file://"
#define PKCS11_SCHEME "pkcs11:"

void gh_edge_wipe(void *p, size_t n)
{
    gh_secure_zero(p, n);
}

bool gh_edge_hostname_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len >= GH_EDGE_HOST_MAX) return false;
    size_t label = 0;
    char prev = '.';
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (c == '.') {
            if (label == 0 || prev == '-') return false;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   (c == '-' && label > 0) || c == '_') {
            if (++label > 63) return false;
        } else {
            return false;
        }
        prev = c;
    }
    return prev != '.' && prev != '-';
}

bool gh_edge_ip_literal(const char *s)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

gh_err gh_edge_key_text_check(const char *s, size_t len)
{
    uint8_t key[GH_SYMKEY_MAX];
    size_t klen = 0;
    if (len == 0 || len > GH_EDGE_KEY_MAX) return GH_ERR_CONFIG_VALUE;
    gh_err rc = gh_symkey_decode((struct gh_slice){(const uint8_t *)s, len}, key, &klen);
    gh_secure_zero(key, sizeof key);
    return rc == GH_OK ? GH_OK : GH_ERR_CONFIG_VALUE;
}

static bool has_scheme(const char *s)
{
    size_t n = 0;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return false;
    while (s[n] && (s[n] == '+' || s[n] == '.' || s[n] == '-' || (s[n] >= '0' && s[n] <= '9') ||
                    (s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z')))
        n++;
    return n > 1 && s[n] == ':' && s[n + 1] == '/' && s[n + 2] == '/';
}

gh_err gh_edge_uri_to_path(const char *in, const char *dir, char *out, size_t cap, const char **why)
{
    char decoded[GH_EDGE_PATH_MAX];
    const char *p = in;
    if (strncasecmp(in, PKCS11_SCHEME, strlen(PKCS11_SCHEME)) == 0) {
        *why = "pkcs11: URIs are not supported yet; export the certificate or key to a PEM "
               "file and give its path or a file:// URI";
        return GH_ERR_CONFIG_VALUE;
    }
    if (strncasecmp(in, FILE_SCHEME, strlen(FILE_SCHEME)) == 0) {
        p = in + strlen(FILE_SCHEME);
        if (strncasecmp(p, "localhost/", 10) == 0) p += 9;
        struct gh_writer w;
        gh_writer_init(&w, decoded, sizeof decoded - 1);
        if (gh_pct_decode(p, strlen(p), &w) != GH_OK) {
            *why = "path too long";
            return GH_ERR_CONFIG_VALUE;
        }
        decoded[w.len] = '\0';
        if (strlen(decoded) != w.len) {
            *why = "file URI decodes to a NUL byte";
            return GH_ERR_CONFIG_VALUE;
        }
        p = decoded;
    } else if (has_scheme(in)) {
        *why = "only file:// URIs and plain paths are supported";
        return GH_ERR_CONFIG_VALUE;
    }
    if (*p == '\0') {
        *why = "empty path";
        return GH_ERR_CONFIG_VALUE;
    }
    int n = *p == '/' ? snprintf(out, cap, "%s", p) : snprintf(out, cap, "%s/%s", dir, p);
    if (n < 0 || (size_t)n >= cap) {
        *why = "path too long";
        return GH_ERR_CONFIG_VALUE;
    }
    return GH_OK;
}

gh_err gh_edge_config_dir(const char *path, char *out, size_t cap)
{
    char tmp[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(tmp, sizeof tmp, ".");
    } else {
        size_t n = (size_t)(slash - path);
        if (n == 0) n = 1; /* "/config.toml" */
        if (n >= sizeof tmp) return GH_ERR_NOBUFS;
        memcpy(tmp, path, n);
        tmp[n] = '\0';
    }
    char *real = realpath(tmp, NULL);
    if (!real) return errno == ENOENT ? GH_ERR_NOENT : GH_ERR_IO;
    int w = snprintf(out, cap, "%s", real);
    free(real);
    return (w < 0 || (size_t)w >= cap) ? GH_ERR_NOBUFS : GH_OK;
}

static bool is_b64_char(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/' || c == '=';
}

static gh_err read_small(const char *path, uint8_t *buf, size_t cap, size_t *len, const char **why)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        *why = e == ENOENT   ? "key file not found"
               : e == EACCES ? "key file not readable"
                             : "cannot open the key file";
        return e == ENOENT ? GH_ERR_NOENT : e == EACCES ? GH_ERR_PERM : GH_ERR_IO;
    }
    size_t got = 0;
    gh_err rc = GH_OK;
    for (;;) {
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            *why = "cannot read the key file";
            rc = GH_ERR_IO;
            break;
        }
        if (r == 0) break;
        got += (size_t)r;
        if (got == cap) {
            *why = "key file too large";
            rc = GH_ERR_CONFIG_VALUE;
            break;
        }
    }
    close(fd);
    *len = got;
    return rc;
}

gh_err gh_edge_read_key_file(const char *path, char *out, size_t cap, const char **why)
{
    uint8_t buf[GH_EDGE_KEY_FILE_MAX + 1];
    size_t len = 0;
    gh_err rc = read_small(path, buf, sizeof buf, &len, why);
    if (rc != GH_OK) goto out;
    size_t text = len;
    while (text > 0 && (buf[text - 1] == '\n' || buf[text - 1] == '\r' || buf[text - 1] == ' ' ||
                        buf[text - 1] == '\t'))
        text--;
    bool b64 = text > 0;
    for (size_t i = 0; i < text && b64; i++) b64 = is_b64_char(buf[i]);
    if (b64 && gh_edge_key_text_check((const char *)buf, text) == GH_OK && text < cap) {
        memcpy(out, buf, text);
        out[text] = '\0';
        goto out;
    }
    /* Raw key bytes (as IoT Edge's key service stores them). */
    if (len == 0 || len > GH_SYMKEY_MAX || gh_base64_encoded_len(len) >= cap ||
        gh_base64_encoded_len(len) > GH_EDGE_KEY_MAX) {
        *why = len == 0 ? "key file is empty"
                        : "key file holds neither a base64 key nor a raw "
                          "key of at most 96 bytes";
        rc = GH_ERR_CONFIG_VALUE;
        goto out;
    }
    struct gh_writer w;
    gh_writer_init(&w, out, cap - 1);
    rc = gh_base64_encode(buf, len, &w);
    if (rc != GH_OK) {
        *why = "key too long";
        rc = GH_ERR_CONFIG_VALUE;
        goto out;
    }
    out[w.len] = '\0';
out:
    gh_secure_zero(buf, sizeof buf);
    return rc;
}

static gh_err connstr_error(struct gh_toml_error *err, const struct gh_toml_value *v,
                            const char *what)
{
    gh_toml_error_at(err, gh_toml_pos(v), "provisioning.connection_string: %s", what);
    return GH_ERR_CONFIG_VALUE;
}

static bool copy_slice(char *dst, size_t cap, struct gh_slice s)
{
    if (s.len >= cap) return false;
    memcpy(dst, s.ptr, s.len);
    dst[s.len] = '\0';
    return true;
}

gh_err gh_edge_connstr_split(struct gh_edge_config *cfg, const struct gh_toml_value *root,
                             struct gh_toml_error *err)
{
    if (cfg->connection_string[0] == '\0') return GH_OK;
    const struct gh_toml_value *v = gh_toml_get(root, "provisioning.connection_string");
    static const char *const others[] = {"provisioning.iothub_hostname", "provisioning.device_id",
                                         "provisioning.authentication"};
    for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
        const struct gh_toml_value *o = gh_toml_get(root, others[i]);
        if (!o) continue;
        gh_toml_error_at(err, gh_toml_key_pos(o),
                         "give either provisioning.connection_string or %s, not both", others[i]);
        return GH_ERR_CONFIG_VALUE;
    }
    struct gh_connstr cs;
    const char *why = NULL;
    struct gh_slice text = {(const uint8_t *)cfg->connection_string,
                            strlen(cfg->connection_string)};
    if (gh_connstr_parse(text, &cs, &why) != GH_OK || gh_connstr_check_device(&cs, &why) != GH_OK)
        return connstr_error(err, v, why ? why : "malformed");
    if (cs.module_id.ptr) return connstr_error(err, v, "a module connection string (ModuleId)");
    if (cs.gateway_host_name.ptr)
        return connstr_error(err, v, "GatewayHostName: nested gateways are not supported");
    if (!cs.shared_access_key.ptr)
        return connstr_error(err, v,
                             "needs SharedAccessKey (for x509 use iothub_hostname, device_id "
                             "and [provisioning.authentication] method = \"x509\")");
    if (!copy_slice(cfg->iothub_hostname, sizeof cfg->iothub_hostname, cs.host_name))
        return connstr_error(err, v, "HostName too long");
    if (!copy_slice(cfg->device_id, sizeof cfg->device_id, cs.device_id))
        return connstr_error(err, v, "DeviceId too long");
    if (cs.shared_access_key.len > GH_EDGE_KEY_MAX ||
        !copy_slice(cfg->symmetric_key, sizeof cfg->symmetric_key, cs.shared_access_key))
        return connstr_error(err, v, "SharedAccessKey too long");
    cfg->attest_method = GH_EDGE_ATTEST_SYMMETRIC_KEY;
    return GH_OK;
}
