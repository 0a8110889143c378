/* Helpers shared by the edge configuration files (config.c,
 * config_util.c, config_validate.c) and the edge CLI. Not a public API of
 * the module: the daemon uses config.h. All are thread-safe (no state). */
#ifndef GH_EDGE_CONFIG_INTERNAL_H
#define GH_EDGE_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "config/toml.h"
#include "edge/config.h"

/* Largest key file read for a { uri = .. } key, in bytes. */
#define GH_EDGE_KEY_FILE_MAX 4096

/* A DNS host name: 1..GH_EDGE_HOST_MAX-1 bytes of letters, digits, '-' and
 * '.', no empty label, no label starting or ending with '-'. */
bool gh_edge_hostname_valid(const char *name);

/* s is an IPv4 or IPv6 address literal. */
bool gh_edge_ip_literal(const char *s);

/* len bytes of s are base64 text (padded or not) of a symmetric key of at
 * most GH_EDGE_KEY_MAX characters. Errors: GH_ERR_CONFIG_VALUE. */
GH_NODISCARD gh_err gh_edge_key_text_check(const char *s, size_t len);

/* A file reference from the config as an absolute path into out: "file://"
 * URIs ("file:///abs", "file://localhost/abs") are percent-decoded; a
 * relative result is taken relative to dir (the config file's directory,
 * absolute). *why gets a static reason on error.
 * Errors: GH_ERR_CONFIG_VALUE (pkcs11: or other URI schemes, empty, too
 * long for cap). */
GH_NODISCARD gh_err gh_edge_uri_to_path(const char *in, const char *dir, char *out, size_t cap,
                                        const char **why);

/* The absolute directory holding the file at path (realpath of its
 * directory). Errors: GH_ERR_NOENT, GH_ERR_IO, GH_ERR_NOBUFS. */
GH_NODISCARD gh_err gh_edge_config_dir(const char *path, char *out, size_t cap);

/* Read a key file: base64 text (trailing whitespace ignored) or the raw key
 * bytes (then encoded). out gets the base64 text (NUL-terminated); buffers
 * are wiped. *why gets a static reason on error.
 * Errors: GH_ERR_NOENT, GH_ERR_PERM, GH_ERR_IO (reading), GH_ERR_CONFIG_VALUE
 * (empty, larger than GH_EDGE_KEY_FILE_MAX, key too long for cap). */
GH_NODISCARD gh_err gh_edge_read_key_file(const char *path, char *out, size_t cap,
                                          const char **why);

/* Split cfg->connection_string (if set) into iothub_hostname, device_id and
 * symmetric_key; refuses module, gateway, SAS-token and x509 connection
 * strings and a mix with iothub_hostname/device_id/[provisioning.
 * authentication]. Positions come from root. Errors: GH_ERR_CONFIG_VALUE. */
GH_NODISCARD gh_err gh_edge_connstr_split(struct gh_edge_config *cfg,
                                          const struct gh_toml_value *root,
                                          struct gh_toml_error *err);

/* Overwrite n bytes with zeros (not elided). */
void gh_edge_wipe(void *p, size_t n);

/* [routes] member (config_routes.c): checks the route text with the route
 * parser, so a route error points at its file:line:column. */
gh_err gh_edge_routes_map(void *config, const char *path, const char *key,
                          const struct gh_toml_value *value, struct gh_toml_error *err);

#endif
