/* `gatehouse pki init-root | issue-ca | issue-server | issue-device |
 * verification-cert`, and the issue-and-write engine shared with renew and
 * sign-csr. */
#include <stdlib.h>
#include <string.h>

#include "pki/pki_cli_internal.h"
#include "pki/pki_key.h"
#include "pki/pki_names.h"

gh_err gh_pki_cli_run_job(struct cli *c, struct cli_job *job)
{
    struct gh_pki_paths state;
    struct gh_pki_files files = {0};
    struct gh_pki_secret pw = {0};
    X509 *cert = NULL;
    struct gh_pki_issued facts;
    if (job->stem) {
        gh_err rc = gh_pki_state_paths(gh_pki_cli_dir(c), job->stem, &state);
        if (rc != GH_OK) {
            gh_pki_diag_set(&c->diag, "'%.128s' cannot be a file name (use --name)", job->stem);
            return rc;
        }
        files = (struct gh_pki_files){state.cert, state.chain, state.key, false, false, NULL};
    }
    if (c->val[OPT_CERT]) files.cert = c->val[OPT_CERT];
    if (c->val[OPT_KEY]) files.key = c->val[OPT_KEY];
    if (c->val[OPT_CHAIN]) files.chain = c->val[OPT_CHAIN];
    if (!files.cert || (job->write_key && !files.key)) {
        gh_pki_diag_set(&c->diag, "give the output files (--cert, --key)");
        return GH_ERR_USAGE;
    }
    if (!job->write_key) files.key = NULL;
    if (!job->write_chain) files.chain = NULL;
    files.replace_cert = c->flag[OPT_FORCE] || job->replace_cert;
    files.replace_key = c->flag[OPT_FORCE];
    if (job->write_key) {
        GH_GUARD(gh_pki_cli_password(c, OPT_KEY_PASSWORD_FILE, "GH_PKI_KEY_PASSWORD", &pw));
        files.key_pw = &pw;
    }
    struct gh_pki_subject_key sk = {job->key, job->subject_pub, job->key_type};
    gh_err rc = gh_pki_issue_files(&job->req, job->issuer, &sk, &files, &cert, &facts, &c->diag);
    gh_pki_secret_cleanup(&pw);
    if (rc == GH_OK) {
        struct cli_written w = {files.cert, files.chain, files.key};
        rc = gh_pki_cli_report_issued(c, job->kind, cert, &facts, &w);
    }
    X509_free(cert);
    return rc;
}

/* Options every issuing command shares: validity, key type. */
static gh_err common_opts(struct cli *c, struct cli_job *job, enum gh_pki_profile profile)
{
    gh_pki_issue_req_init(&job->req, profile);
    job->key_type = GH_PKI_KEY_TYPE_DEFAULT;
    GH_GUARD(gh_pki_cli_period(c, &job->req.validity));
    GH_GUARD(gh_pki_cli_key_type(c, &job->key_type));
    job->req.org = c->val[OPT_ORG];
    return GH_OK;
}

gh_err gh_pki_cli_init_root(struct cli *c)
{
    struct cli_job job = {0};
    char cn[GH_PKI_STEM_MAX + 32];
    GH_GUARD(common_opts(c, &job, GH_PKI_PROFILE_ROOT));
    GH_GUARD(gh_pki_cli_pathlen(c, &job.req.pathlen));
    job.kind = "root CA";
    job.stem = c->val[OPT_NAME] ? c->val[OPT_NAME] : "root";
    snprintf(cn, sizeof cn, "gatehouse %s CA", job.stem);
    job.req.cn = c->val[OPT_CN] ? c->val[OPT_CN] : cn;
    job.write_key = true;
    return gh_pki_cli_run_job(c, &job);
}

/* Load the issuer, run the job, release the issuer. */
static gh_err issued_job(struct cli *c, struct cli_job *job, const char *def_issuer)
{
    struct gh_pki_ca iss;
    GH_GUARD(gh_pki_issue_req_check(&job->req, &c->diag)); /* before any file is read */
    GH_GUARD(gh_pki_cli_issuer_load(c, def_issuer, &iss));
    job->issuer = &iss;
    gh_err rc = gh_pki_cli_run_job(c, job);
    gh_pki_ca_cleanup(&iss);
    return rc;
}

gh_err gh_pki_cli_issue_ca(struct cli *c)
{
    struct cli_job job = {0};
    GH_GUARD(common_opts(c, &job, GH_PKI_PROFILE_CA));
    GH_GUARD(gh_pki_cli_pathlen(c, &job.req.pathlen));
    job.kind = "CA";
    job.stem = c->pos[0];
    job.req.cn = c->val[OPT_CN] ? c->val[OPT_CN] : c->pos[0];
    job.write_key = job.write_chain = true;
    return issued_job(c, &job, "root");
}

gh_err gh_pki_cli_issue_server(struct cli *c)
{
    struct cli_job job = {0};
    GH_GUARD(common_opts(c, &job, GH_PKI_PROFILE_SERVER));
    job.kind = "server";
    job.stem = c->pos[0];
    job.req.dns = c->dns;
    job.req.ndns = c->ndns;
    job.req.ips = c->ip;
    job.req.nips = c->nip;
    job.req.cn = c->val[OPT_CN] ? c->val[OPT_CN] : c->ndns ? c->dns[0] : c->nip ? c->ip[0] : NULL;
    if (!job.req.cn) {
        gh_pki_diag_set(&c->diag, "a server certificate needs at least one --dns or --ip");
        return GH_ERR_USAGE;
    }
    job.write_key = job.write_chain = true;
    return issued_job(c, &job, NULL);
}

gh_err gh_pki_cli_issue_device(struct cli *c)
{
    struct cli_job job = {0};
    GH_GUARD(common_opts(c, &job, GH_PKI_PROFILE_DEVICE));
    job.kind = "device";
    job.req.cn = c->pos[0];
    job.stem = c->val[OPT_NAME] ? c->val[OPT_NAME] : c->pos[0];
    job.write_key = job.write_chain = true;
    return issued_job(c, &job, NULL);
}

gh_err gh_pki_cli_verification_cert(struct cli *c)
{
    struct cli_job job = {0};
    char stem[GH_PKI_STEM_MAX + 1];
    GH_GUARD(common_opts(c, &job, GH_PKI_PROFILE_VERIFICATION));
    job.kind = "verification";
    job.req.cn = c->pos[0];
    const char *issuer = c->val[OPT_ISSUER];
    if (c->val[OPT_NAME]) {
        job.stem = c->val[OPT_NAME];
    } else {
        int m = snprintf(stem, sizeof stem, "%s-verification", issuer ? issuer : "ca");
        if (m < 0 || (size_t)m >= sizeof stem) {
            gh_pki_diag_set(&c->diag, "issuer name too long: use --name");
            return GH_ERR_ARG;
        }
        job.stem = stem;
    }
    /* The key only exists to make the certificate: it is never stored. */
    job.write_key = job.write_chain = false;
    return issued_job(c, &job, NULL);
}
