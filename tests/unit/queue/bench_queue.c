/* Benchmark of the durable queue against SQLite (scripts/bench-queue).
 * Not a unit test. Prints append+commit throughput at batch 1/64/1024 with
 * 64- and 512-byte payloads, write amplification (bytes this process caused
 * to be written to the device, /proc/self/io write_bytes, per payload byte)
 * for the segment log and for SQLite (WAL, synchronous=FULL, one row per
 * message, one transaction per batch), and the next+ack drain rate with
 * 1,000,000 records queued. Usage: bench_queue DIR [drain_count] */
#include <dirent.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "queue/queue.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t write_bytes(void)
{
    FILE *f = fopen("/proc/self/io", "r");
    char line[128];
    uint64_t v = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "write_bytes: %" SCNu64, &v) == 1) break;
    if (f) fclose(f);
    return v;
}

static void rm_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[1024];
    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        unlink(p);
    }
    if (d) closedir(d);
    rmdir(dir);
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench: %s failed: %d\n", what, rc);
    exit(1);
}

static void bench_log(const char *base, size_t batch, size_t len, size_t total)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/log", base);
    rm_dir(dir);
    struct gh_queue *q;
    gh_err rc = gh_queue_open(dir, NULL, &q);
    if (rc != GH_OK) die("gh_queue_open", rc);
    uint8_t *payload = malloc(len);
    memset(payload, 'p', len);
    sync();
    uint64_t w0 = write_bytes();
    double t0 = now_s();
    for (size_t i = 0; i < total; i += batch) {
        for (size_t j = 0; j < batch; j++) {
            payload[0] = (uint8_t)j;
            rc = gh_queue_append(q, 0, 0, (struct gh_slice){payload, len}, NULL);
            if (rc != GH_OK) die("gh_queue_append", rc);
        }
        rc = gh_queue_commit(q);
        if (rc != GH_OK) die("gh_queue_commit", rc);
    }
    double dt = now_s() - t0;
    uint64_t w = write_bytes() - w0;
    printf("log     batch=%-5zu payload=%-4zu msgs=%-7zu %10.0f msg/s %8.2f MB/s  write_amp=%.2f\n",
           batch, len, total, (double)total / dt, (double)(total * len) / dt / 1e6,
           (double)w / (double)(total * len));
    gh_queue_close(q);
    free(payload);
    rm_dir(dir);
}

static void bench_sqlite(const char *base, size_t batch, size_t len, size_t total)
{
    char path[1024], p2[1100];
    snprintf(path, sizeof path, "%s/q.db", base);
    unlink(path);
    snprintf(p2, sizeof p2, "%s-wal", path);
    unlink(p2);
    snprintf(p2, sizeof p2, "%s-shm", path);
    unlink(p2);
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK) die("sqlite3_open", 0);
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                 "CREATE TABLE q(seq INTEGER PRIMARY KEY, prio INTEGER, enq INTEGER,"
                 " exp INTEGER, body BLOB);",
                 NULL, NULL, NULL);
    sqlite3_stmt *ins;
    sqlite3_prepare_v2(db, "INSERT INTO q(prio, enq, exp, body) VALUES(0, ?, 0, ?)", -1, &ins,
                       NULL);
    uint8_t *payload = malloc(len);
    memset(payload, 'p', len);
    sync();
    uint64_t w0 = write_bytes();
    double t0 = now_s();
    for (size_t i = 0; i < total; i += batch) {
        sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        for (size_t j = 0; j < batch; j++) {
            payload[0] = (uint8_t)j;
            sqlite3_bind_int64(ins, 1, (sqlite3_int64)i);
            sqlite3_bind_blob(ins, 2, payload, (int)len, SQLITE_STATIC);
            if (sqlite3_step(ins) != SQLITE_DONE) die("sqlite insert", 0);
            sqlite3_reset(ins);
        }
        if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) die("sqlite commit", 0);
    }
    double dt = now_s() - t0;
    /* Checkpoint: the WAL content is written again into the database. */
    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    uint64_t w = write_bytes() - w0;
    printf("sqlite  batch=%-5zu payload=%-4zu msgs=%-7zu %10.0f msg/s %8.2f MB/s  write_amp=%.2f "
           "(incl. checkpoint)\n",
           batch, len, total, (double)total / dt, (double)(total * len) / dt / 1e6,
           (double)w / (double)(total * len));
    sqlite3_finalize(ins);
    sqlite3_close(db);
    free(payload);
    unlink(path);
    snprintf(p2, sizeof p2, "%s-wal", path);
    unlink(p2);
    snprintf(p2, sizeof p2, "%s-shm", path);
    unlink(p2);
}

static void bench_drain(const char *base, size_t count)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/drain", base);
    rm_dir(dir);
    struct gh_queue *q;
    gh_err rc = gh_queue_open(dir, NULL, &q);
    if (rc != GH_OK) die("open", rc);
    uint8_t payload[64];
    memset(payload, 'd', sizeof payload);
    for (size_t i = 0; i < count; i += 1024) {
        for (size_t j = 0; j < 1024 && i + j < count; j++)
            if (gh_queue_append(q, (unsigned)(j % 3), 0, (struct gh_slice){payload, 64}, NULL))
                die("append", 0);
        if ((rc = gh_queue_commit(q)) != GH_OK) die("commit", rc);
    }
    gh_queue_close(q);
    double t0 = now_s();
    if ((rc = gh_queue_open(dir, NULL, &q)) != GH_OK) die("reopen", rc);
    double topen = now_s() - t0;
    uint64_t *out = malloc(GH_QUEUE_WINDOW_DEFAULT * sizeof *out);
    size_t done = 0;
    t0 = now_s();
    for (;;) {
        size_t n = 0;
        struct gh_queue_msg m;
        bool have = false;
        while (n < GH_QUEUE_WINDOW_DEFAULT) {
            rc = gh_queue_next(q, &m, &have);
            if (rc != GH_OK) die("next", rc);
            if (!have) break;
            out[n++] = m.seq;
        }
        if (!n) break;
        for (size_t k = 0; k < n; k++)
            if (gh_queue_ack(q, out[k]) != GH_OK) die("ack", 0);
        done += n;
        if ((rc = gh_queue_commit(q)) != GH_OK) die("commit", rc);
    }
    double dt = now_s() - t0;
    struct gh_queue_stats st;
    if (gh_queue_stats(q, &st) != GH_OK) die("stats", 0);
    printf("drain   queued=%zu open+recover=%.2f s  next+ack %10.0f msg/s  (window %u, "
           "depth after=%" PRIu64 ")\n",
           count, topen, (double)done / dt, GH_QUEUE_WINDOW_DEFAULT, st.depth_msgs);
    gh_queue_close(q);
    free(out);
    rm_dir(dir);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_queue DIR [drain_count]\n");
        return 2;
    }
    gh_log_set_level(GH_LOG_WARN);
    size_t drain = argc > 2 ? (size_t)strtoull(argv[2], NULL, 10) : 1000000u;
    static const size_t batches[] = {1, 64, 1024};
    static const size_t lens[] = {64, 512};
    for (size_t b = 0; b < 3; b++) {
        for (size_t l = 0; l < 2; l++) {
            size_t total = batches[b] == 1 ? 2000 : batches[b] == 64 ? 64 * 400 : 1024 * 200;
            bench_log(argv[1], batches[b], lens[l], total);
            bench_sqlite(argv[1], batches[b], lens[l], total);
        }
    }
    bench_drain(argv[1], drain);
    return 0;
}
