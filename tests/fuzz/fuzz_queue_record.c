/* Fuzz the queue record decoder: decode records back to back; every record
 * that decodes must re-encode to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue/queue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gh_reader r;
    gh_reader_init(&r, data, size);
    while (gh_reader_remaining(&r)) {
        size_t at = r.pos;
        struct gh_queue_record rec;
        gh_err rc = gh_queue_record_decode(&r, &rec);
        if (rc != GH_OK) {
            if (r.pos != at) abort(); /* a failed read must not move */
            break;
        }
        size_t n = r.pos - at;
        if (n != gh_queue_record_size(rec.payload.len)) abort();
        uint8_t *buf = malloc(n);
        if (!buf) abort();
        struct gh_writer w;
        gh_writer_init(&w, buf, n);
        if (gh_queue_record_encode(&w, &rec) != GH_OK) abort();
        if (w.len != n || memcmp(buf, data + at, n) != 0) abort();
        free(buf);
    }
    return 0;
}
