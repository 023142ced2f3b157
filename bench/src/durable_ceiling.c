/* durable_ceiling: how many durable stores per second the disk under DIR allows, with no HTTP,
 * no parsing and no handler. THREADS threads loop, each store as pixelhook's Spool does it:
 * O_TMPFILE, write the body, linkat to a new name, fdatasync, fsync the directory (the data and
 * the name share one journal commit). Nothing that
 * answers only after such a store (SPEC: "durably, and only then the answer is 200") can answer
 * faster than this on the same disk; a receiver that answers first (webhook) is not bound by it.
 *
 *   durable_ceiling DIR THREADS SECONDS BODY_FILE
 *
 * Prints one line in the format of bench/lua/*.lua, so bench/bench.py records it like a wrk run:
 *   BENCHRESULT requests=N rps=R p50_us=.. p90_us=.. p99_us=.. max_us=.. non2xx=0 errors=E */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES (1 << 21)

static const char *directory;
static char body[65536];
static size_t body_length;
static atomic_int stopping;
static atomic_long stores, errors, sample_count;
static long samples[MAX_SAMPLES];

static long now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000L + t.tv_nsec / 1000;
}

static int store_once(long thread, long sequence)
{
    char name[4096], proc[64];
    int fd = open(directory, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    int ok = write(fd, body, body_length) == (ssize_t)body_length;
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    snprintf(name, sizeof name, "%s/%ld-%ld.json", directory, thread, sequence);
    ok = ok && linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW) == 0 && fdatasync(fd) == 0;
    close(fd);
    int dir = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ok = ok && dir >= 0 && fsync(dir) == 0;
    if (dir >= 0) close(dir);
    return ok ? 0 : -1;
}

static void *worker(void *argument)
{
    long thread = (long)argument;
    for (long sequence = 0; !atomic_load(&stopping); sequence++) {
        long started = now_us();
        if (store_once(thread, sequence) != 0) {
            atomic_fetch_add(&errors, 1);
            continue;
        }
        long slot = atomic_fetch_add(&sample_count, 1);
        if (slot < MAX_SAMPLES) samples[slot] = now_us() - started;
        atomic_fetch_add(&stores, 1);
    }
    return NULL;
}

static int by_value(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: durable_ceiling DIR THREADS SECONDS BODY_FILE\n");
        return 2;
    }
    directory = argv[1];
    int threads = atoi(argv[2]);
    double seconds = atof(argv[3]);
    FILE *file = fopen(argv[4], "rb");
    if (!file || threads < 1 || threads > 256 || seconds <= 0) {
        fprintf(stderr, "durable_ceiling: bad arguments (THREADS 1-256, SECONDS > 0, BODY_FILE readable)\n");
        return 2;
    }
    body_length = fread(body, 1, sizeof body, file);
    fclose(file);

    pthread_t running[256];
    long started = now_us();
    for (long i = 0; i < threads; i++) pthread_create(&running[i], NULL, worker, (void *)i);
    struct timespec pause = {(time_t)seconds, (long)((seconds - (long)seconds) * 1e9)};
    nanosleep(&pause, NULL);
    atomic_store(&stopping, 1);
    for (int i = 0; i < threads; i++) pthread_join(running[i], NULL);
    double elapsed = (now_us() - started) / 1e6;

    long n = atomic_load(&sample_count);
    if (n > MAX_SAMPLES) n = MAX_SAMPLES;
    qsort(samples, n, sizeof samples[0], by_value);
#define AT(q) (n ? samples[(long)((n - 1) * (q))] : 0)
    printf("BENCHRESULT requests=%ld rps=%.1f p50_us=%ld p90_us=%ld p99_us=%ld max_us=%ld non2xx=0 errors=%ld\n",
           atomic_load(&stores), atomic_load(&stores) / elapsed, AT(0.5), AT(0.9), AT(0.99), AT(1.0),
           atomic_load(&errors));
    return 0;
}
