/* libFuzzer target: the hub's configuration (its option table, arrays of
 * tables and the [[dps.linked_hubs]] checks) on arbitrary TOML text, then
 * the cross-option checks. Every refusal must say what and where. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct gh_hub_config cfg;
    struct gh_toml_error err;
    gh_err rc = gh_hub_config_load_text((const char *)data, size, "fuzz.toml", &cfg, &err);
    if (rc != GH_OK) {
        if (err.msg[0] == '\0') __builtin_trap();
        if (cfg.dps_nlinked != 0) __builtin_trap(); /* a refused config keeps no key */
        return 0;
    }
    if (cfg.dps_nlinked > GH_HUB_LINKED_MAX) __builtin_trap();
    for (size_t i = 0; i < cfg.dps_nlinked; i++) {
        const struct gh_hub_linked_hub *h = &cfg.dps_linked[i];
        if (h->host_name[0] == '\0' || h->key[0] == '\0' || h->port < 1 || h->port > 65535)
            __builtin_trap();
    }
    char why[256];
    (void)gh_hub_config_validate(&cfg, why, sizeof why);
    gh_hub_config_wipe(&cfg);
    return 0;
}
