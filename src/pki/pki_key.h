/* Private keys: the only place in gatehouse that touches private-key
 * material for PKI work (STYLE.md 5).
 *
 * A struct gh_pki_key is a handle. Callers never see the private key: they
 * ask the handle to sign a certificate, to prove it matches a public key,
 * for its public half, or for its (optionally encrypted) PEM encoding to
 * store. Today the handle wraps an in-process EVP_PKEY; the interface is
 * small enough that a key process or a PKCS#11 token can replace it.
 *
 * Thread-safety: a handle may be used by several threads for signing at
 * once (OpenSSL 3 keys are immutable once built); free it from one thread.
 */
#ifndef GH_PKI_PKI_KEY_H
#define GH_PKI_PKI_KEY_H

#include "pki/pki.h"

/* Longest password accepted (bytes). */
#define GH_PKI_PASSWORD_MAX 1024
/* RSA key sizes accepted from files and CSRs. */
#define GH_PKI_RSA_BITS_MIN 2048
#define GH_PKI_RSA_BITS_MAX 16384

/* Parse a key type name: "ec-p256" (also "p256", "ec"), "ec-p384" ("p384"),
 * "rsa-2048" ("rsa2048", "rsa"), "rsa-3072" ("rsa3072"), "rsa-4096"
 * ("rsa4096"). Errors: GH_ERR_ARG. */
GH_NODISCARD gh_err gh_pki_key_type_parse(const char *s, enum gh_pki_key_type *out);

/* Canonical name ("ec-p256", ...). Static storage; never NULL. */
const char *gh_pki_key_type_name(enum gh_pki_key_type t);

/* The key type of a public key, if it is one gatehouse generates.
 * Errors: GH_ERR_ARG (other algorithm, curve or size). */
GH_NODISCARD gh_err gh_pki_key_type_of(const EVP_PKEY *pub, enum gh_pki_key_type *out);

/* Refuse keys too weak or unknown to sign with or certify: RSA below 2048
 * bits (GH_PKI_RSA_BITS_MIN) or above GH_PKI_RSA_BITS_MAX, EC curves other
 * than P-256/P-384/P-521, other algorithms.
 * Errors: GH_ERR_ARG (with the reason in diag). */
GH_NODISCARD gh_err gh_pki_pubkey_check(const EVP_PKEY *pub, struct gh_pki_diag *diag);

/* Generate a new key. *out owned by the caller (gh_pki_key_free).
 * Errors: GH_ERR_ARG (unknown type), GH_ERR_CRYPTO, GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_pki_key_generate(enum gh_pki_key_type type, struct gh_pki_key **out);

/* Load a private key from PEM text (PKCS#8, encrypted PKCS#8, or the
 * traditional "EC/RSA PRIVATE KEY" forms, possibly with other PEM blocks
 * around it). pw may be NULL or empty when the key is not encrypted; the
 * caller keeps and wipes pem. Never prompts.
 * Errors: GH_ERR_NOT_FOUND (no private key block), GH_ERR_BAD_PASSWORD (the
 * key is encrypted and no password was given, or it does not decrypt),
 * GH_ERR_MALFORMED (unreadable key), GH_ERR_ARG (weak key), GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_pki_key_from_pem(const uint8_t *pem, size_t len,
                                        const struct gh_pki_secret *pw, struct gh_pki_key **out,
                                        struct gh_pki_diag *diag);

/* PEM encoding for storage: PKCS#8 "PRIVATE KEY", or "ENCRYPTED PRIVATE KEY"
 * (PBES2, AES-256-CBC) when pw is non-NULL and non-empty. *pem (NUL
 * terminated, not counted in *len) is owned by the caller, who must release
 * it with gh_pki_wipe_free(*pem, *len).
 * Errors: GH_ERR_CRYPTO, GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_pki_key_to_pem(const struct gh_pki_key *k, const struct gh_pki_secret *pw,
                                      char **pem, size_t *len);

/* A new public-only EVP_PKEY of k (EVP_PKEY_free by the caller).
 * Errors: GH_ERR_CRYPTO, GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_pki_key_public(const struct gh_pki_key *k, EVP_PKEY **out);

/* Does k hold the private half of pub? Errors: GH_ERR_KEY_MISMATCH. */
GH_NODISCARD gh_err gh_pki_key_matches(const struct gh_pki_key *k, const EVP_PKEY *pub);

/* Sign cert (all fields set) with k: SHA-384 for P-384, SHA-512 for P-521,
 * SHA-256 otherwise. Errors: GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_pki_key_sign_cert(const struct gh_pki_key *k, X509 *cert);

/* Free (and wipe) a key; NULL is fine. */
void gh_pki_key_free(struct gh_pki_key *k);

#endif
