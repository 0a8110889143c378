/* `gatehouse pki`: command table, option parsing, shared helpers, output. */
#include "pki/pki_cli.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "pki/pki_cli_internal.h"
#include "pki/pki_info.h"
#include "pki/pki_key.h"
#include "pki/pki_names.h"

/* ---- tables -------------------------------------------------------------- */

/* Indexed by enum cli_opt. */
static const struct gh_pki_cli_option options[OPT_COUNT] = {
    [OPT_DIR] = {"--dir", "DIR", "state directory (default $GH_PKI_DIR, else ./pki)"},
    [OPT_JSON] = {"--json", NULL, "print the result as one JSON object"},
    [OPT_FORCE] = {"--force", NULL, "replace existing output files (private keys included)"},
    [OPT_NAME] = {"--name", "NAME", "file name in the state directory"},
    [OPT_CN] = {"--cn", "TEXT", "subject common name"},
    [OPT_ORG] = {"--org", "TEXT", "subject organization (O)"},
    [OPT_KEY_TYPE] = {"--key-type", "TYPE",
                      "ec-p256 (default), ec-p384, rsa-2048, rsa-3072 or rsa-4096"},
    [OPT_DAYS] = {"--days", "N", "validity in days"},
    [OPT_MONTHS] = {"--months", "N", "validity in calendar months"},
    [OPT_YEARS] = {"--years", "N", "validity in calendar years"},
    [OPT_PATHLEN] = {"--pathlen", "N|none", "CA path length constraint"},
    [OPT_ISSUER] = {"--issuer", "NAME", "issuing CA in the state directory"},
    [OPT_ISSUER_CERT] = {"--issuer-cert", "FILE", "issuing CA certificate file"},
    [OPT_ISSUER_KEY] = {"--issuer-key", "FILE", "issuing CA private key file"},
    [OPT_ISSUER_CHAIN] = {"--issuer-chain", "FILE", "issuing CA's chain (it + intermediates)"},
    [OPT_CA_PASSWORD_FILE] = {"--ca-password-file", "FILE",
                              "password of the issuer's key (else $GH_PKI_CA_PASSWORD)"},
    [OPT_KEY_PASSWORD_FILE] = {"--key-password-file", "FILE",
                               "encrypt the new key / decrypt the key read (else "
                               "$GH_PKI_KEY_PASSWORD)"},
    [OPT_CERT] = {"--cert", "FILE", "certificate file (instead of the state directory)"},
    [OPT_KEY] = {"--key", "FILE", "private key file (instead of the state directory)"},
    [OPT_CHAIN] = {"--chain", "FILE", "chain file (instead of the state directory)"},
    [OPT_DNS] = {"--dns", "HOST", "DNS name for the SAN (repeatable)"},
    [OPT_IP] = {"--ip", "ADDR", "IPv4 or IPv6 address for the SAN (repeatable)"},
    [OPT_PROFILE] = {"--profile", "server|device|ca", "what the CSR's certificate is for"},
    [OPT_NEW_KEY] = {"--new-key", NULL, "renew with a new private key"},
    [OPT_OUT] = {"--out", "FILE", "output file (default: standard output)"},
    [OPT_CHECK_CHAIN] = {"--check-chain", NULL,
                         "require each certificate to be issued by the next"},
    [OPT_CA_ONLY] = {"--ca-only", NULL, "require every certificate to be a CA (trust bundle)"},
    [OPT_BUNDLE] = {"--bundle", "FILE|NAME", "verify the chain against this trust bundle"},
    [OPT_HOST] = {"--host", "NAME|ADDR", "check the certificate is valid for this host"},
    [OPT_HELP] = {"--help", NULL, "show help"},
};

#define B(o) (UINT64_C(1) << (o))
#define COMMON (B(OPT_DIR) | B(OPT_JSON) | B(OPT_HELP))
#define ISSUING (COMMON | B(OPT_FORCE) | B(OPT_DAYS) | B(OPT_MONTHS) | B(OPT_YEARS) | B(OPT_CERT))
#define ISSUER                                                                                     \
    (B(OPT_ISSUER) | B(OPT_ISSUER_CERT) | B(OPT_ISSUER_KEY) | B(OPT_ISSUER_CHAIN) |                \
     B(OPT_CA_PASSWORD_FILE))
#define NEWKEY (B(OPT_KEY_TYPE) | B(OPT_KEY) | B(OPT_KEY_PASSWORD_FILE))

struct command {
    struct gh_pki_cli_command doc;
    uint64_t opts;
    size_t pos_min, pos_max;
    gh_err (*run)(struct cli *c);
};

static const struct command commands[] = {
    {{"init-root", "[--name root] [--cn TEXT]", "create a self-signed root CA (10 years)"},
     ISSUING | NEWKEY | B(OPT_NAME) | B(OPT_CN) | B(OPT_ORG) | B(OPT_PATHLEN),
     0,
     0,
     gh_pki_cli_init_root},
    {{"issue-ca", "NAME [--issuer root]",
      "issue an intermediate CA: edge CA or tenant CA (5 years)"},
     ISSUING | NEWKEY | ISSUER | B(OPT_CN) | B(OPT_ORG) | B(OPT_PATHLEN) | B(OPT_CHAIN),
     1,
     1,
     gh_pki_cli_issue_ca},
    {{"issue-server", "NAME --issuer CA --dns HOST [--ip ADDR]...",
      "issue a TLS server certificate (12 months)"},
     ISSUING | NEWKEY | ISSUER | B(OPT_CN) | B(OPT_ORG) | B(OPT_CHAIN) | B(OPT_DNS) | B(OPT_IP),
     1,
     1,
     gh_pki_cli_issue_server},
    {{"issue-device", "DEVICE_ID --issuer CA", "issue a device client certificate, CN = device id"},
     ISSUING | NEWKEY | ISSUER | B(OPT_NAME) | B(OPT_ORG) | B(OPT_CHAIN),
     1,
     1,
     gh_pki_cli_issue_device},
    {{"sign-csr", "CSR_FILE --issuer CA --profile server|device|ca [--name NAME]",
      "sign a certificate signing request made elsewhere"},
     ISSUING | ISSUER | B(OPT_NAME) | B(OPT_PROFILE) | B(OPT_PATHLEN) | B(OPT_DNS) | B(OPT_IP) |
         B(OPT_CHAIN),
     1,
     1,
     gh_pki_cli_sign_csr},
    {{"verification-cert", "CODE --issuer CA",
      "proof of possession: a certificate with CN = the hub's verification code"},
     ISSUING | ISSUER | B(OPT_NAME) | B(OPT_KEY_TYPE),
     1,
     1,
     gh_pki_cli_verification_cert},
    {{"renew", "NAME [--new-key] (or --cert FILE --key FILE)",
      "re-issue with the same subject and names and a new validity"},
     ISSUING | NEWKEY | ISSUER | B(OPT_NEW_KEY) | B(OPT_CHAIN),
     0,
     1,
     gh_pki_cli_renew},
    {{"bundle", "[--out FILE] ITEM...", "concatenate certificates into a chain or trust bundle"},
     COMMON | B(OPT_FORCE) | B(OPT_OUT) | B(OPT_CHECK_CHAIN) | B(OPT_CA_ONLY),
     1,
     GH_PKI_CLI_POS_MAX,
     gh_pki_cli_bundle},
    {{"inspect", "ITEM [--bundle FILE] [--host NAME] [--key FILE]",
      "show a certificate: names, validity, thumbprints, chain check"},
     COMMON | B(OPT_BUNDLE) | B(OPT_HOST) | B(OPT_KEY) | B(OPT_KEY_PASSWORD_FILE),
     1,
     1,
     gh_pki_cli_inspect},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

const struct gh_pki_cli_option *gh_pki_cli_options(size_t *n)
{
    *n = OPT_COUNT;
    return options;
}

const struct gh_pki_cli_command *gh_pki_cli_command(size_t i)
{
    return i < NCOMMANDS ? &commands[i].doc : NULL;
}

/* ---- help ---------------------------------------------------------------- */

static void usage_all(FILE *f)
{
    fprintf(f, "usage: gatehouse pki <command> [options]\n"
               "       gatehouse pki <command> --help\n\n"
               "Certificate authority for gatehouse: root, edge and tenant CAs, server and\n"
               "device certificates, CSR signing, bundles, inspection. See docs/pki.md.\n\n"
               "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-18s %s\n", commands[i].doc.name, commands[i].doc.summary);
    fprintf(f, "\nState directory (--dir, $GH_PKI_DIR, default ./pki): certs/<name>.cert.pem,\n"
               "certs/<name>.chain.pem, private/<name>.key.pem.\n");
}

static void usage_cmd(FILE *f, const struct command *cmd)
{
    fprintf(f, "usage: gatehouse pki %s %s\n\n%s\n\noptions:\n", cmd->doc.name, cmd->doc.usage,
            cmd->doc.summary);
    for (size_t o = 0; o < OPT_COUNT; o++) {
        if (!(cmd->opts & B(o))) continue;
        char left[48];
        snprintf(left, sizeof left, "%s%s%s", options[o].name, options[o].arg ? " " : "",
                 options[o].arg ? options[o].arg : "");
        fprintf(f, "  %-28s %s\n", left, options[o].help);
    }
}

/* ---- parsing ------------------------------------------------------------- */

static gh_err parse_args(struct cli *c, const struct command *cmd, int argc, char **argv)
{
    bool only_pos = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (!only_pos && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
            c->flag[OPT_HELP] = true;
            continue;
        }
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            if (c->npos >= cmd->pos_max) {
                gh_pki_diag_set(&c->diag, "unexpected argument '%.100s'", a);
                return GH_ERR_USAGE;
            }
            c->pos[c->npos++] = a;
            continue;
        }
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        size_t o = 0;
        while (o < OPT_COUNT &&
               !(strlen(options[o].name) == nlen && strncmp(options[o].name, a, nlen) == 0))
            o++;
        if (o == OPT_COUNT) {
            gh_pki_diag_set(&c->diag, "unknown option '%.*s'", (int)(nlen > 100 ? 100 : nlen), a);
            return GH_ERR_USAGE;
        }
        if (!(cmd->opts & B(o))) {
            gh_pki_diag_set(&c->diag, "option %s does not apply to %s", options[o].name,
                            cmd->doc.name);
            return GH_ERR_USAGE;
        }
        if (!options[o].arg) {
            if (eq) {
                gh_pki_diag_set(&c->diag, "option %s takes no value", options[o].name);
                return GH_ERR_USAGE;
            }
            c->flag[o] = true;
            continue;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (!v) {
            if (i + 1 >= argc) {
                gh_pki_diag_set(&c->diag, "option %s needs a value (%s)", options[o].name,
                                options[o].arg);
                return GH_ERR_USAGE;
            }
            v = argv[++i];
        }
        if (o == OPT_DNS || o == OPT_IP) {
            size_t *n = o == OPT_DNS ? &c->ndns : &c->nip;
            if (*n >= GH_PKI_SAN_MAX) {
                gh_pki_diag_set(&c->diag, "at most %d %s options", GH_PKI_SAN_MAX, options[o].name);
                return GH_ERR_TOO_MANY;
            }
            (o == OPT_DNS ? c->dns : c->ip)[(*n)++] = v;
            continue;
        }
        if (c->val[o]) {
            gh_pki_diag_set(&c->diag, "option %s is given twice", options[o].name);
            return GH_ERR_USAGE;
        }
        c->val[o] = v;
    }
    if (c->flag[OPT_HELP]) return GH_OK;
    if (c->npos < cmd->pos_min) {
        gh_pki_diag_set(&c->diag, "missing argument: gatehouse pki %s %s", cmd->doc.name,
                        cmd->doc.usage);
        return GH_ERR_USAGE;
    }
    return GH_OK;
}

/* ---- errors -------------------------------------------------------------- */

static const char *hint(gh_err rc)
{
    switch (rc) {
    case GH_ERR_EXISTS:
        return "nothing was written; use --force to replace, or choose another name";
    case GH_ERR_BAD_PASSWORD:
        return "give the key's password with --ca-password-file / --key-password-file "
               "(or $GH_PKI_CA_PASSWORD / $GH_PKI_KEY_PASSWORD)";
    case GH_ERR_KEY_MISMATCH:
        return "pair each certificate with its own private key file";
    case GH_ERR_NOT_CA:
        return "sign with a CA made by 'gatehouse pki init-root' or 'gatehouse pki issue-ca'";
    case GH_ERR_EXPIRED:
        return "renew the issuer with 'gatehouse pki renew <issuer>' and re-issue";
    case GH_ERR_BAD_SIGNATURE:
        return "make a new CSR with the requester's private key";
    case GH_ERR_NOENT:
        return "check the path, --dir and the names (see 'gatehouse pki inspect')";
    case GH_ERR_CERT_VERIFY:
        return "the bundle must hold the root (and any intermediates) that issued it";
    case GH_ERR_FORBIDDEN:
        return "issue the CA from a CA with a larger --pathlen";
    case GH_ERR_USAGE:
    case GH_ERR_ARG:
        return "run 'gatehouse pki <command> --help'";
    default:
        return NULL;
    }
}

static int fail(struct cli *c, gh_err rc)
{
    const char *msg = c->diag.msg[0] ? c->diag.msg : gh_err_str(rc);
    fprintf(stderr, "gatehouse pki %s: %s\n", c->cmd ? c->cmd : "", msg);
    const char *h = hint(rc);
    if (h && (rc == GH_ERR_USAGE || rc == GH_ERR_ARG) && c->cmd && c->cmd[0])
        fprintf(stderr, "  hint: run 'gatehouse pki %s --help'\n", c->cmd);
    else if (h)
        fprintf(stderr, "  hint: %s\n", h);
    if (c->flag[OPT_JSON] && !c->reported) {
        json_t *j = json_pack("{s:{s:s,s:s,s:i}}", "error", "code", gh_err_name(rc), "message", msg,
                              "exit", gh_err_exit_status(rc));
        if (j) {
            json_dumpf(j, c->out, JSON_COMPACT | JSON_ENSURE_ASCII);
            fputc('\n', c->out);
            json_decref(j);
        }
    }
    return gh_err_exit_status(rc);
}

void gh_pki_cli_warn(struct cli *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "gatehouse pki %s: warning: ", c->cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int gh_pki_cli_main(int argc, char **argv)
{
    struct cli c;
    memset(&c, 0, sizeof c);
    c.out = stdout;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage_all(argc < 2 ? stderr : stdout);
        return argc < 2 ? gh_err_exit_status(GH_ERR_USAGE) : 0;
    }
    const struct command *cmd = NULL;
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(argv[1], commands[i].doc.name) == 0) cmd = &commands[i];
    if (!cmd) {
        c.cmd = "";
        gh_pki_diag_set(&c.diag, "unknown command '%.100s'; run 'gatehouse pki --help'", argv[1]);
        return fail(&c, GH_ERR_USAGE);
    }
    c.cmd = cmd->doc.name;
    gh_err rc = parse_args(&c, cmd, argc - 1, argv + 1);
    if (rc != GH_OK) return fail(&c, rc);
    if (c.flag[OPT_HELP]) {
        usage_cmd(stdout, cmd);
        return 0;
    }
    rc = cmd->run(&c);
    fflush(c.out);
    return rc == GH_OK ? 0 : fail(&c, rc);
}

/* ---- shared helpers ------------------------------------------------------ */

const char *gh_pki_cli_dir(const struct cli *c)
{
    if (c->val[OPT_DIR]) return c->val[OPT_DIR];
    const char *env = getenv("GH_PKI_DIR");
    return env && env[0] ? env : GH_PKI_DIR_DEFAULT;
}

gh_err gh_pki_cli_period(struct cli *c, struct gh_pki_period *out)
{
    static const enum cli_opt opts[] = {OPT_DAYS, OPT_MONTHS, OPT_YEARS};
    static const enum gh_pki_period_unit units[] = {GH_PKI_PERIOD_DAYS, GH_PKI_PERIOD_MONTHS,
                                                    GH_PKI_PERIOD_YEARS};
    static const unsigned max[] = {GH_PKI_VALIDITY_DAYS_MAX, GH_PKI_VALIDITY_MONTHS_MAX,
                                   GH_PKI_VALIDITY_YEARS_MAX};
    *out = (struct gh_pki_period){GH_PKI_PERIOD_DAYS, 0};
    bool seen = false;
    for (size_t i = 0; i < 3; i++) {
        const char *v = c->val[opts[i]];
        if (!v) continue;
        if (seen) {
            gh_pki_diag_set(&c->diag, "give only one of --days, --months, --years");
            return GH_ERR_USAGE;
        }
        seen = true;
        out->unit = units[i];
        if (gh_pki_count_parse(v, strlen(v), max[i], &out->count) != GH_OK) {
            gh_pki_diag_set(&c->diag, "%s must be a whole number from 1 to %u",
                            options[opts[i]].name, max[i]);
            return GH_ERR_ARG;
        }
    }
    return GH_OK;
}

gh_err gh_pki_cli_key_type(struct cli *c, enum gh_pki_key_type *out)
{
    const char *v = c->val[OPT_KEY_TYPE];
    if (!v) return GH_OK; /* keep the caller's default */
    if (gh_pki_key_type_parse(v, out) != GH_OK) {
        gh_pki_diag_set(&c->diag,
                        "unknown --key-type '%.40s' (ec-p256, ec-p384, rsa-2048, "
                        "rsa-3072, rsa-4096)",
                        v);
        return GH_ERR_ARG;
    }
    return GH_OK;
}

gh_err gh_pki_cli_pathlen(struct cli *c, int *pathlen)
{
    const char *v = c->val[OPT_PATHLEN];
    if (!v) return GH_OK;
    if (strcmp(v, "none") == 0) {
        *pathlen = GH_PKI_PATHLEN_NONE;
        return GH_OK;
    }
    if (strcmp(v, "0") == 0) {
        *pathlen = 0;
        return GH_OK;
    }
    unsigned n;
    if (gh_pki_count_parse(v, strlen(v), GH_PKI_PATHLEN_MAX, &n) != GH_OK) {
        gh_pki_diag_set(&c->diag, "--pathlen must be 'none' or 0..%d", GH_PKI_PATHLEN_MAX);
        return GH_ERR_ARG;
    }
    *pathlen = (int)n;
    return GH_OK;
}

gh_err gh_pki_cli_password(struct cli *c, enum cli_opt opt, const char *env,
                           struct gh_pki_secret *out)
{
    if (c->val[opt]) return gh_pki_password_file(c->val[opt], out, &c->diag);
    return gh_pki_password_env(env, out, &c->diag);
}

gh_err gh_pki_cli_cert_path(struct cli *c, const char *item, char *path, size_t cap)
{
    struct stat st;
    if (stat(item, &st) == 0 && S_ISREG(st.st_mode)) {
        if (strlen(item) >= cap) return GH_ERR_TOO_LARGE;
        strcpy(path, item);
        return GH_OK;
    }
    struct gh_pki_paths p;
    gh_err rc = gh_pki_state_paths(gh_pki_cli_dir(c), item, &p);
    if (rc != GH_OK || strlen(p.cert) >= cap) {
        gh_pki_diag_set(&c->diag, "'%.200s' is neither a file nor a certificate name", item);
        return rc == GH_OK ? GH_ERR_TOO_LARGE : GH_ERR_NOENT;
    }
    strcpy(path, p.cert);
    return GH_OK;
}

gh_err gh_pki_cli_issuer_load(struct cli *c, const char *def_issuer, struct gh_pki_ca *out)
{
    struct gh_pki_paths p;
    const char *cert = c->val[OPT_ISSUER_CERT], *key = c->val[OPT_ISSUER_KEY];
    const char *chain = c->val[OPT_ISSUER_CHAIN], *name = c->val[OPT_ISSUER];
    struct gh_pki_secret pw = {0};
    memset(out, 0, sizeof *out);
    if (name && (cert || key)) {
        gh_pki_diag_set(&c->diag, "give --issuer NAME or --issuer-cert/--issuer-key, not both");
        return GH_ERR_USAGE;
    }
    if (!cert && !key && !name) name = def_issuer;
    if (name) {
        gh_err rc = gh_pki_state_paths(gh_pki_cli_dir(c), name, &p);
        if (rc != GH_OK) {
            gh_pki_diag_set(&c->diag, "'%.100s' is not a valid issuer name", name);
            return rc;
        }
        cert = p.cert;
        key = p.key;
        struct stat st;
        if (!chain && stat(p.chain, &st) == 0) chain = p.chain;
    } else if (!cert || !key) {
        gh_pki_diag_set(&c->diag, "%s",
                        cert || key ? "--issuer-cert and --issuer-key go together"
                                    : "an issuer is required: --issuer NAME (or "
                                      "--issuer-cert FILE --issuer-key FILE)");
        return GH_ERR_USAGE;
    }
    gh_err rc = gh_pki_cli_password(c, OPT_CA_PASSWORD_FILE, "GH_PKI_CA_PASSWORD", &pw);
    if (rc == GH_OK) rc = gh_pki_ca_load(cert, key, chain, &pw, out, &c->diag);
    gh_pki_secret_cleanup(&pw);
    return rc;
}

/* ---- results ------------------------------------------------------------- */

static json_t *json_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

gh_err gh_pki_cli_report_issued(struct cli *c, const char *kind, X509 *cert,
                                const struct gh_pki_issued *facts, const struct cli_written *files)
{
    struct gh_pki_cert_info *info = calloc(1, sizeof *info);
    if (!info) return GH_ERR_NOMEM;
    gh_err rc = gh_pki_cert_info(cert, time(NULL), info);
    if (rc != GH_OK) {
        free(info);
        return rc;
    }
    char nb[GH_PKI_TIME_TEXT_MAX], na[GH_PKI_TIME_TEXT_MAX];
    gh_pki_time_text(info->not_before, nb);
    gh_pki_time_text(info->not_after, na);
    if (facts && facts->clamped)
        gh_pki_cli_warn(c, "validity shortened to end with the issuer's, on %s", na);
    if (c->flag[OPT_JSON]) {
        json_t *j = json_object();
        json_object_set_new(j, "command", json_string(c->cmd));
        json_object_set_new(j, "kind", json_string(kind));
        json_object_set_new(j, "cert", json_string(files->cert));
        json_object_set_new(j, "chain", json_str_or_null(files->chain));
        json_object_set_new(j, "key", json_str_or_null(files->key));
        json_object_set_new(j, "subject", json_string(info->subject));
        json_object_set_new(j, "issuer", json_string(info->issuer));
        json_object_set_new(j, "serial", json_string(info->serial));
        json_object_set_new(j, "notBefore", json_string(nb));
        json_object_set_new(j, "notAfter", json_string(na));
        json_object_set_new(j, "clamped", json_boolean(facts && facts->clamped));
        json_object_set_new(j, "keyType", json_string(info->key_type));
        json_object_set_new(j, "sha1", json_string(info->sha1));
        json_object_set_new(j, "sha256", json_string(info->sha256));
        json_dumpf(j, c->out, JSON_INDENT(2) | JSON_ENSURE_ASCII);
        fputc('\n', c->out);
        json_decref(j);
    } else {
        FILE *f = c->out;
        fprintf(f, "issued %s certificate %s\n", kind, info->subject);
        fprintf(f, "  certificate:  %s\n", files->cert);
        if (files->chain) fprintf(f, "  chain:        %s\n", files->chain);
        if (files->key) fprintf(f, "  private key:  %s (mode 0600)\n", files->key);
        fprintf(f, "  issuer:       %s\n", info->issuer);
        fprintf(f, "  serial:       %s\n", info->serial);
        fprintf(f, "  key:          %s\n", info->key_type);
        fprintf(f, "  valid:        %s to %s (%lld days)\n", nb, na, info->days_left);
        fprintf(f, "  sha1:         %s\n", info->sha1);
        fprintf(f, "  sha256:       %s\n", info->sha256);
    }
    free(info);
    return GH_OK;
}
