/* Files of the PKI: bounded reads, atomic all-or-nothing writes, the state
 * directory layout and password files.
 *
 * State directory (like certGen.sh's):
 *   <dir>/certs/<name>.cert.pem    the certificate            (mode 0644)
 *   <dir>/certs/<name>.chain.pem   certificate + intermediates (mode 0644)
 *   <dir>/private/<name>.key.pem   the private key             (mode 0600)
 * <dir>/private is created with mode 0700.
 *
 * Thread-safety: functions are safe on distinct paths; two writers of the
 * same path race like any two programs would (the loser of a no-replace
 * write gets GH_ERR_EXISTS, never a mixed file).
 */
#ifndef GH_PKI_PKI_STORE_H
#define GH_PKI_PKI_STORE_H

#include "pki/pki.h"

/* Largest file read (certificates, bundles, CSRs, keys, passwords). */
#define GH_PKI_FILE_MAX (1024 * 1024)
#define GH_PKI_PATH_MAX 4096
/* Most files written by one operation. */
#define GH_PKI_OUTPUTS_MAX 4

/* Read a whole regular file of at most max bytes. *data (NUL-terminated, not
 * counted in *len) is malloc'ed and owned by the caller; wipe it with
 * gh_pki_wipe_free when it may hold a secret.
 * Errors: GH_ERR_NOENT, GH_ERR_PERM, GH_ERR_TOO_LARGE, GH_ERR_IO (also for a
 * directory or other non-regular file), GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_pki_file_read(const char *path, size_t max, uint8_t **data, size_t *len,
                                     struct gh_pki_diag *diag);

/* A password from the first line of a file (a trailing "\n" or "\r\n" is
 * dropped; at most GH_PKI_PASSWORD_MAX bytes; must not be empty).
 * Errors: those of gh_pki_file_read, GH_ERR_ARG (empty or too long). */
GH_NODISCARD gh_err gh_pki_password_file(const char *path, struct gh_pki_secret *out,
                                         struct gh_pki_diag *diag);

/* A password from an environment variable; GH_OK with out->data == NULL if
 * the variable is unset. Errors: GH_ERR_ARG (empty or too long),
 * GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_pki_password_env(const char *var, struct gh_pki_secret *out,
                                        struct gh_pki_diag *diag);

/* Load a private key from a file (gh_pki_key_from_pem) with the path in
 * diag. Errors: those of gh_pki_file_read and gh_pki_key_from_pem. */
GH_NODISCARD gh_err gh_pki_key_load(const char *path, const struct gh_pki_secret *pw,
                                    struct gh_pki_key **out, struct gh_pki_diag *diag);

/* Paths of <name> in the state directory dir.
 * Errors: GH_ERR_ARG (name fails gh_pki_stem_check), GH_ERR_TOO_LARGE. */
struct gh_pki_paths {
    char cert[GH_PKI_PATH_MAX];
    char chain[GH_PKI_PATH_MAX];
    char key[GH_PKI_PATH_MAX];
};
GH_NODISCARD gh_err gh_pki_state_paths(const char *dir, const char *name, struct gh_pki_paths *out);

/* One file to write. */
struct gh_pki_output {
    const char *path;
    const void *data;
    size_t len;
    bool secret;  /* private key: mode 0600, parent directory 0700 */
    bool replace; /* may replace an existing file (else GH_ERR_EXISTS) */
};

/* Would writing outs succeed as far as existing files go? Checks every
 * output that may not replace. Writes nothing.
 * Errors: GH_ERR_EXISTS (first such path in diag), GH_ERR_ARG (same path
 * twice, empty path), GH_ERR_IO (lstat failed). */
GH_NODISCARD gh_err gh_pki_outputs_check(const struct gh_pki_output *outs, size_t n,
                                         struct gh_pki_diag *diag);

/* Write every output, all or nothing: check (as above), create missing
 * parent directories (0755; 0700 for secret files), write each to a
 * temporary file in its directory (created O_EXCL with its final mode),
 * fsync, then publish: no-replace files by link(2), so an existing file is
 * never replaced even if it appeared meanwhile, replace files by rename(2);
 * then fsync the directories. If any step fails, the files published so far
 * by this call that were new are removed and every temporary is deleted.
 * Errors: those of gh_pki_outputs_check, GH_ERR_PERM, GH_ERR_NOSPACE,
 * GH_ERR_IO, GH_ERR_TOO_LARGE (path too long), GH_ERR_TOO_MANY (more than
 * GH_PKI_OUTPUTS_MAX). */
GH_NODISCARD gh_err gh_pki_outputs_write(const struct gh_pki_output *outs, size_t n,
                                         struct gh_pki_diag *diag);

#endif
