/* Internal to src/http: character classes shared by the parser and the
 * message writers, and the output queue shared by server and client.
 * Nothing outside src/http includes this header. */
#ifndef GH_HTTP_HTTP_INT_H
#define GH_HTTP_HTTP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/buf.h"
#include "common/error.h"

struct gh_conn;

/* Bytes handed to gh_conn_write at a time; connections need out_high >= this
 * (the default is 256 KiB). */
#define GH_HTTP_WRITE_CHUNK (16u * 1024u)
/* "Sun, 06 Nov 1994 08:49:37 GMT" + NUL */
#define GH_HTTP_DATE_LEN 30

/* tchar of RFC 9110 5.6.2. */
bool gh_http_is_tchar(uint8_t c);
/* Non-empty string of tchars. */
bool gh_http_is_token(struct gh_slice s);
/* s without leading and trailing SP / HTAB. */
struct gh_slice gh_http_trim_ows(struct gh_slice s);
/* Does the comma-separated list contain tok (ASCII case-insensitive)? */
bool gh_http_list_has(struct gh_slice list, const char *tok);
/* A field value we are willing to send: no control characters except HTAB
 * (so no CR, LF or NUL), no leading/trailing whitespace. */
bool gh_http_value_ok(const char *v);
/* Is target an origin-form request-target we send or accept? */
bool gh_http_target_ok(struct gh_slice t);
/* IMF-fixdate of t into out (GH_HTTP_DATE_LEN bytes). */
void gh_http_format_date(time_t t, char out[GH_HTTP_DATE_LEN]);
/* Standard reason phrase, "Unknown" for codes without one. Static. */
const char *gh_http_reason(unsigned status);

/* One message being written to a connection in pieces, with back-pressure. */
struct gh_http_outq {
    uint8_t *buf; /* owned; NULL when empty */
    size_t len, off;
};

/* Write as much of q as the connection takes. *done is true (and q emptied)
 * once everything is queued on the connection; false means: wait for
 * on_drain and pump again. Errors from gh_conn_write (GH_ERR_CLOSED,
 * GH_ERR_TOO_LARGE, GH_ERR_NOMEM); q is kept for gh_http_outq_clear. */
GH_NODISCARD gh_err gh_http_outq_pump(struct gh_http_outq *q, struct gh_conn *c, bool *done);
void gh_http_outq_clear(struct gh_http_outq *q);

#endif
