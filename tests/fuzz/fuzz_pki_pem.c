/* Fuzz the PKI's readers of untrusted files: the PEM decoder, certificate
 * lists (PEM or DER) with their inspection, CSRs and private keys. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pki/pki.h"
#include "pki/pki_cert.h"
#include "pki/pki_info.h"
#include "pki/pki_key.h"
#include "pki/pki_pem.h"

/* Results a fuzz target does not need (gcc will not take a (void) cast). */
static void ignore(gh_err rc)
{
    (void)rc;
}

/* Keys are only tried on small inputs: decryption runs a slow KDF. */
#define FUZZ_KEY_MAX 4096

static void pem_blocks(const uint8_t *data, size_t size)
{
    static uint8_t out[64 * 1024];
    struct gh_reader r;
    struct gh_pki_pem_block b;
    gh_reader_init(&r, data, size);
    while (gh_pki_pem_next(&r, &b) == GH_OK) {
        struct gh_writer w;
        gh_writer_init(&w, out, sizeof out);
        ignore(gh_pki_pem_decode_body(b.body, &w));
        (void)gh_pki_pem_is_encrypted_key(&b);
    }
}

static void certs(const uint8_t *data, size_t size)
{
    struct gh_pki_certs l = {0};
    if (gh_pki_certs_parse(&l, data, size) != GH_OK) return;
    struct gh_pki_cert_info *info = malloc(sizeof *info);
    for (size_t i = 0; info && i < l.n; i++) {
        ignore(gh_pki_cert_info(l.v[i], 1800000000, info));
        char *dns[GH_PKI_SAN_MAX], *ips[GH_PKI_SAN_MAX];
        size_t ndns = 0, nips = 0;
        if (gh_pki_cert_sans(l.v[i], dns, &ndns, ips, &nips, NULL) == GH_OK) {
            gh_pki_strings_free(dns, ndns);
            gh_pki_strings_free(ips, nips);
        }
        (void)gh_pki_cert_is_ca(l.v[i]);
        ignore(gh_pki_check_host(l.v[i], "hub.gatehouse.test"));
    }
    if (l.n > 1) (void)gh_pki_cert_issued_by(l.v[0], l.v[1]);
    free(info);
    gh_pki_certs_cleanup(&l);
}

static void csr(const uint8_t *data, size_t size)
{
    X509_REQ *req = NULL;
    if (gh_pki_csr_parse(data, size, &req, NULL) != GH_OK) return;
    char *dns[GH_PKI_SAN_MAX], *ips[GH_PKI_SAN_MAX];
    size_t ndns = 0, nips = 0;
    if (gh_pki_csr_sans(req, dns, &ndns, ips, &nips, NULL) == GH_OK) {
        gh_pki_strings_free(dns, ndns);
        gh_pki_strings_free(ips, nips);
    }
    X509_REQ_free(req);
}

static void key(const uint8_t *data, size_t size)
{
    if (size > FUZZ_KEY_MAX) return;
    char pw_text[] = "fuzz";
    struct gh_pki_secret pw = {pw_text, 4};
    struct gh_pki_key *k = NULL;
    if (gh_pki_key_from_pem(data, size, &pw, &k, NULL) == GH_OK) gh_pki_key_free(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pem_blocks(data, size);
    certs(data, size);
    csr(data, size);
    key(data, size);
    return 0;
}
