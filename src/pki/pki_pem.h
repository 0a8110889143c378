/* PEM decoder (RFC 7468, plus the RFC 1421 headers of traditional
 * encrypted keys): bytes in, blocks out.
 *
 * Certificate files, bundles, CSRs and key files are untrusted input; they
 * are read through a gh_reader cursor. The decoder does no I/O, no
 * allocation and no logging; returned slices borrow the reader's memory.
 * Thread-safe on distinct readers.
 */
#ifndef GH_PKI_PKI_PEM_H
#define GH_PKI_PKI_PEM_H

#include "common/buf.h"

/* Longest label accepted ("ENCRYPTED PRIVATE KEY" is 21). */
#define GH_PKI_PEM_LABEL_MAX 64
/* Longest line accepted inside a block (RFC 7468 writers use 64). */
#define GH_PKI_PEM_LINE_MAX 1024

struct gh_pki_pem_block {
    struct gh_slice label;   /* "CERTIFICATE" */
    struct gh_slice headers; /* "Proc-Type: ...\nDEK-Info: ...", or empty */
    struct gh_slice body;    /* base64 text, line breaks included */
    struct gh_slice whole;   /* from "-----BEGIN" to the end of the END line */
};

/* Find the next block. Text before a BEGIN line (explanatory text) is
 * skipped. The cursor moves past the block's END line on success and to the
 * end of input on GH_ERR_NOT_FOUND; on any other error it is unchanged.
 * Errors: GH_ERR_NOT_FOUND (no further BEGIN line), GH_ERR_MALFORMED (bad
 * label, END label differs, a line longer than GH_PKI_PEM_LINE_MAX, a body
 * character outside base64), GH_ERR_TRUNCATED (no END line). */
GH_NODISCARD gh_err gh_pki_pem_next(struct gh_reader *r, struct gh_pki_pem_block *out);

/* Decode a block body (base64 split over lines; spaces, tabs, CR and LF are
 * ignored) into w. '=' padding may only end the body.
 * Errors: GH_ERR_BAD_BASE64, GH_ERR_NOBUFS (w is then partly written). */
GH_NODISCARD gh_err gh_pki_pem_decode_body(struct gh_slice body, struct gh_writer *w);

/* Is the block an encrypted private key ("ENCRYPTED PRIVATE KEY", or a
 * traditional key with a "Proc-Type: 4,ENCRYPTED" header)? */
bool gh_pki_pem_is_encrypted_key(const struct gh_pki_pem_block *b);

/* Does the label name a private key ("PRIVATE KEY", "ENCRYPTED PRIVATE
 * KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY", ...: ends in "PRIVATE KEY")? */
bool gh_pki_pem_is_private_key(const struct gh_pki_pem_block *b);

#endif
