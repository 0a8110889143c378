/* Fuzz recovery: the input becomes a segment file (or the cursor file) of a
 * queue directory, which is opened, drained with acks and nacks, and
 * closed. Byte 0 selects the mode:
 *   0: a valid segment header + the input as records
 *   1: the input as the whole segment file
 *   2: the input as the cursor file, beside a valid 3-record segment. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "queue/queue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void put(const char *name, const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) abort();
    if (an && write(fd, a, an) != (ssize_t)an) abort();
    if (bn && write(fd, b, bn) != (ssize_t)bn) abort();
    close(fd);
}

static void clean(void)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[512];
    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        unlink(p);
    }
    if (d) closedir(d);
}

static void seg_header(uint8_t h[24])
{
    memset(h, 0, 24);
    memcpy(h, "GHQS", 4);
    h[5] = 1;
    h[15] = 1; /* id 1, class 0 */
    uint32_t c = gh_queue_crc32c(0, h, 20);
    h[20] = (uint8_t)(c >> 24);
    h[21] = (uint8_t)(c >> 16);
    h[22] = (uint8_t)(c >> 8);
    h[23] = (uint8_t)c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        /* tmpfs when there is one: the fsyncs are then cheap */
        snprintf(dir, sizeof dir, "%s/ghq-fuzz-XXXXXX",
                 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        if (!mkdtemp(dir)) abort();
        gh_log_set_level(GH_LOG_OFF);
    }
    if (size < 1) return 0;
    unsigned mode = data[0] % 3;
    data++;
    size--;
    uint8_t h[24];
    seg_header(h);
    clean();
    if (mode == 0) {
        put("p00-0000000000000001.seg", h, sizeof h, data, size);
    } else if (mode == 1) {
        put("p00-0000000000000001.seg", data, size, NULL, 0);
    } else {
        uint8_t recs[3 * 44];
        struct gh_writer w;
        gh_writer_init(&w, recs, sizeof recs);
        for (uint64_t i = 1; i <= 3; i++) {
            struct gh_queue_record r = {.seq = i, .payload = {(const uint8_t *)"abcd", 4}};
            if (gh_queue_record_encode(&w, &r) != GH_OK) abort();
        }
        put("p00-0000000000000001.seg", h, sizeof h, recs, w.len);
        put("cursor", data, size, NULL, 0);
    }
    struct gh_queue_options o;
    gh_queue_options_default(&o);
    o.window = 8;
    struct gh_queue *q = NULL;
    if (gh_queue_open(dir, &o, &q) != GH_OK) return 0;
    struct gh_queue_stats st;
    for (unsigned i = 0; i < 10000; i++) {
        struct gh_queue_msg m;
        bool have = false;
        gh_err rc = gh_queue_next(q, &m, &have);
        if (rc == GH_ERR_TOO_MANY) {
            gh_queue_nack_all(q);
            continue;
        }
        if (rc != GH_OK || !have) break;
        if (m.payload.len > GH_QUEUE_PAYLOAD_MAX) abort();
        if (i % 3 == 1) {
            if (gh_queue_nack(q, m.seq) != GH_OK) abort();
        } else if (gh_queue_ack(q, m.seq) != GH_OK) {
            abort();
        }
    }
    if (gh_queue_stats(q, &st) != GH_OK) abort();
    char buf[16] = "after-recovery";
    if (gh_queue_append(q, 0, 0, (struct gh_slice){(const uint8_t *)buf, sizeof buf}, NULL) ==
        GH_OK) {
        if (gh_queue_commit(q) != GH_OK) abort();
    }
    gh_queue_close(q);
    return 0;
}
