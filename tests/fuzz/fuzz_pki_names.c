/* Fuzz the PKI's name validators and period arithmetic. The first byte
 * picks the validator, the rest is the text. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pki/pki_names.h"

/* Results a fuzz target does not need (gcc will not take a (void) cast). */
static void ignore(gh_err rc)
{
    (void)rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t sel = data[0];
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    uint8_t ip[16];
    size_t iplen;
    unsigned count = 0;
    switch (sel % 8) {
    case 0:
        ignore(gh_pki_dns_name_check(s, n, (sel & 8) != 0));
        break;
    case 1:
        if (gh_pki_ip_parse(s, n, ip, &iplen) == GH_OK && iplen != 4 && iplen != 16)
            __builtin_trap();
        break;
    case 2:
        ignore(gh_pki_device_id_check(s, n));
        break;
    case 3:
        ignore(gh_pki_verification_code_check(s, n));
        break;
    case 4:
        ignore(gh_pki_stem_check(s, n));
        break;
    case 5:
        ignore(gh_pki_text_attr_check(s, n, 64));
        break;
    case 6:
        if (gh_pki_count_parse(s, n, 100000, &count) == GH_OK && (count < 1 || count > 100000))
            __builtin_trap();
        break;
    case 7: {
        if (n < 12) break;
        int64_t start;
        uint32_t c;
        memcpy(&start, s, 8);
        memcpy(&c, s + 8, 4);
        /* Any start a time_t can hold within +-10000 years. */
        start %= 315569520000LL;
        struct gh_pki_period p = {(enum gh_pki_period_unit)(sel >> 3) % 3, c % 40000};
        time_t end;
        if (gh_pki_period_end((time_t)start, p, &end) == GH_OK && end <= (time_t)start)
            __builtin_trap();
        break;
    }
    }
    return 0;
}
