#include "common/encoding.h"

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t gh_base64_encoded_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

gh_err gh_base64_encode(const uint8_t *in, size_t n, struct gh_writer *w)
{
    GH_ENSURE(n / 3 < SIZE_MAX / 4 - 1, GH_ERR_TOO_LARGE);
    GH_ENSURE(gh_base64_encoded_len(n) <= gh_writer_space(w), GH_ERR_NOBUFS);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        size_t left = n - i;
        if (left > 1) v |= (uint32_t)in[i + 1] << 8;
        if (left > 2) v |= in[i + 2];
        char q[4] = {b64chars[(v >> 18) & 63], b64chars[(v >> 12) & 63],
                     left > 1 ? b64chars[(v >> 6) & 63] : '=', left > 2 ? b64chars[v & 63] : '='};
        GH_GUARD(gh_writer_bytes(w, q, 4));
    }
    return GH_OK;
}

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

gh_err gh_base64_decode(const char *in, size_t n, struct gh_writer *out)
{
    /* Strip correct padding: only when the total length is a multiple of 4. */
    size_t pad = 0;
    if (n % 4 == 0 && n > 0 && in[n - 1] == '=') {
        pad = (n > 1 && in[n - 2] == '=') ? 2 : 1;
    }
    size_t m = n - pad;
    GH_ENSURE(m % 4 != 1, GH_ERR_BAD_BASE64);
    uint32_t acc = 0;
    unsigned bits = 0;
    for (size_t i = 0; i < m; i++) {
        int v = b64val((unsigned char)in[i]);
        GH_ENSURE(v >= 0, GH_ERR_BAD_BASE64);
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            GH_GUARD(gh_writer_u8(out, (uint8_t)(acc >> bits)));
            acc &= (1u << bits) - 1;
        }
    }
    /* Leftover bits must be zero (canonical encoding). */
    GH_ENSURE(acc == 0, GH_ERR_BAD_BASE64);
    return GH_OK;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

gh_err gh_pct_decode(const char *in, size_t n, struct gh_writer *out)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '%' && n - i > 2) {
            int hi = hexval((unsigned char)in[i + 1]), lo = hexval((unsigned char)in[i + 2]);
            if (hi >= 0 && lo >= 0) {
                GH_GUARD(gh_writer_u8(out, (uint8_t)(hi << 4 | lo)));
                i += 2;
                continue;
            }
        }
        GH_GUARD(gh_writer_u8(out, c));
    }
    return GH_OK;
}

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

static const char hexdig[] = "0123456789ABCDEF";

gh_err gh_pct_encode(const char *in, size_t n, struct gh_writer *out)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (unreserved(c)) {
            GH_GUARD(gh_writer_u8(out, c));
        } else {
            char e[3] = {'%', hexdig[c >> 4], hexdig[c & 15]};
            GH_GUARD(gh_writer_bytes(out, e, 3));
        }
    }
    return GH_OK;
}

gh_err gh_hex_encode(const uint8_t *in, size_t n, struct gh_writer *out)
{
    static const char lowerhex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        char e[2] = {lowerhex[in[i] >> 4], lowerhex[in[i] & 15]};
        GH_GUARD(gh_writer_bytes(out, e, 2));
    }
    return GH_OK;
}

gh_err gh_hex_decode(const char *in, size_t n, struct gh_writer *out)
{
    GH_ENSURE(n % 2 == 0, GH_ERR_MALFORMED);
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval((unsigned char)in[i]), lo = hexval((unsigned char)in[i + 1]);
        GH_ENSURE(hi >= 0 && lo >= 0, GH_ERR_MALFORMED);
        GH_GUARD(gh_writer_u8(out, (uint8_t)(hi << 4 | lo)));
    }
    return GH_OK;
}
