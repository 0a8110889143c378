/* Fuzz the simulator's command-line parsing: the input is split on NUL
 * bytes into argv; each piece is also tried as HOST[:PORT] and duration. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sim/sim.h"

#define FUZZ_ARGS_MAX 64
#define FUZZ_INPUT_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_INPUT_MAX) return 0;
    char buf[FUZZ_INPUT_MAX + 1];
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *argv[FUZZ_ARGS_MAX + 1];
    int argc = 0;
    argv[argc++] = (char *)"sim";
    char *p = buf;
    while (p <= buf + size && argc < FUZZ_ARGS_MAX) {
        argv[argc++] = p;
        p += strlen(p) + 1;
    }
    struct gh_sim_opts o;
    char msg[256];
    (void)gh_sim_opts_parse(argc, argv, &o, msg, sizeof msg);
    for (int i = 1; i < argc; i++) {
        char host[GH_SIM_HOST_MAX + 1];
        uint16_t port = 1;
        int64_t d = 0;
        (void)gh_sim_hostport_parse(argv[i], host, sizeof host, &port);
        (void)gh_sim_duration_parse(argv[i], GH_SIM_DURATION_MAX_S, &d);
    }
    return 0;
}
