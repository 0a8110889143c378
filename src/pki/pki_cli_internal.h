/* Shared pieces of the `gatehouse pki` command files (not a public API).
 * Single-threaded, like the CLI itself. */
#ifndef GH_PKI_PKI_CLI_INTERNAL_H
#define GH_PKI_PKI_CLI_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>

#include "pki/pki.h"
#include "pki/pki_cert.h"
#include "pki/pki_cli.h"
#include "pki/pki_files.h"
#include "pki/pki_names.h"
#include "pki/pki_store.h"

/* Option ids: index into the option table of pki_cli.c. */
enum cli_opt {
    OPT_DIR,
    OPT_JSON,
    OPT_FORCE,
    OPT_NAME,
    OPT_CN,
    OPT_ORG,
    OPT_KEY_TYPE,
    OPT_DAYS,
    OPT_MONTHS,
    OPT_YEARS,
    OPT_PATHLEN,
    OPT_ISSUER,
    OPT_ISSUER_CERT,
    OPT_ISSUER_KEY,
    OPT_ISSUER_CHAIN,
    OPT_CA_PASSWORD_FILE,
    OPT_KEY_PASSWORD_FILE,
    OPT_CERT,
    OPT_KEY,
    OPT_CHAIN,
    OPT_DNS,
    OPT_IP,
    OPT_PROFILE,
    OPT_NEW_KEY,
    OPT_OUT,
    OPT_CHECK_CHAIN,
    OPT_CA_ONLY,
    OPT_BUNDLE,
    OPT_HOST,
    OPT_HELP,
    OPT_COUNT
};

/* Most positional arguments (bundle takes a list). */
#define GH_PKI_CLI_POS_MAX 64
/* Default state directory, overridden by GH_PKI_DIR and --dir. */
#define GH_PKI_DIR_DEFAULT "pki"

/* A parsed command line. */
struct cli {
    const char *cmd;
    const char *val[OPT_COUNT];
    bool flag[OPT_COUNT];
    const char *dns[GH_PKI_SAN_MAX];
    size_t ndns;
    const char *ip[GH_PKI_SAN_MAX];
    size_t nip;
    const char *pos[GH_PKI_CLI_POS_MAX];
    size_t npos;
    struct gh_pki_diag diag;
    FILE *out;     /* stdout */
    bool reported; /* the command printed its own (JSON) result despite failing */
};

/* Command entry points (pki_cli_issue.c, pki_cli_renew.c, pki_cli_show.c). */
GH_NODISCARD gh_err gh_pki_cli_init_root(struct cli *c);
GH_NODISCARD gh_err gh_pki_cli_issue_ca(struct cli *c);
GH_NODISCARD gh_err gh_pki_cli_issue_server(struct cli *c);
GH_NODISCARD gh_err gh_pki_cli_issue_device(struct cli *c);
GH_NODISCARD gh_err gh_pki_cli_verification_cert(struct cli *c);
GH_NODISCARD gh_err gh_pki_cli_sign_csr(struct cli *c);
GH_NODISCARD gh_err gh_pki_cli_renew(struct cli *c);
GH_NODISCARD gh_err gh_pki_cli_bundle(struct cli *c);
GH_NODISCARD gh_err gh_pki_cli_inspect(struct cli *c);

/* Helpers (pki_cli.c). Errors carry their reason in c->diag. */
const char *gh_pki_cli_dir(const struct cli *c);
GH_NODISCARD gh_err gh_pki_cli_period(struct cli *c, struct gh_pki_period *out);
GH_NODISCARD gh_err gh_pki_cli_key_type(struct cli *c, enum gh_pki_key_type *out);
GH_NODISCARD gh_err gh_pki_cli_pathlen(struct cli *c, int *pathlen);
/* Password from the file option, else the environment variable, else none. */
GH_NODISCARD gh_err gh_pki_cli_password(struct cli *c, enum cli_opt opt, const char *env,
                                        struct gh_pki_secret *out);
/* A certificate argument: an existing file, else a name in the state dir. */
GH_NODISCARD gh_err gh_pki_cli_cert_path(struct cli *c, const char *item, char *path, size_t cap);
/* Load the issuer named by --issuer / --issuer-cert / --issuer-key /
 * --issuer-chain (def_issuer when none is given; NULL: required), with the
 * --ca-password-file / $GH_PKI_CA_PASSWORD password. Free with
 * gh_pki_ca_cleanup. */
GH_NODISCARD gh_err gh_pki_cli_issuer_load(struct cli *c, const char *def_issuer,
                                           struct gh_pki_ca *out);

/* Results. */
struct cli_written {
    const char *cert;
    const char *chain; /* NULL if not written */
    const char *key;   /* NULL if not written */
};
GH_NODISCARD gh_err gh_pki_cli_report_issued(struct cli *c, const char *kind, X509 *cert,
                                             const struct gh_pki_issued *facts,
                                             const struct cli_written *files);
/* Warn on stderr (never in --json stdout). */
void gh_pki_cli_warn(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One certificate to issue and write (pki_cli_issue.c). */
struct cli_job {
    const char *kind;              /* "root CA", "server", ... for the report */
    struct gh_pki_issue_req req;   /* subject, SANs, validity, profile */
    const char *stem;              /* state-dir name of the outputs; NULL: --cert etc. only */
    struct gh_pki_ca *issuer;      /* NULL for a self-signed root */
    struct gh_pki_key *key;        /* subject key to reuse (borrowed), NULL: generate */
    EVP_PKEY *subject_pub;         /* CSR public key (borrowed): no key at all */
    enum gh_pki_key_type key_type; /* for a generated key */
    bool write_key;                /* store the subject key (not for CSRs, verification) */
    bool write_chain;              /* write <name>.chain.pem */
    bool replace_cert;             /* renew: certificate and chain may be replaced */
};
GH_NODISCARD gh_err gh_pki_cli_run_job(struct cli *c, struct cli_job *job);

#endif
