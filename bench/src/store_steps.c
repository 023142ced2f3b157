/* store_steps: what each step of a durable store costs, one thread, one store after another, in
 * DIR. Three orders, so the figures sit side by side in one run (bench/bench.py rows T0, T1):
 *
 *   flat        D0's store, the baseline: O_TMPFILE + write, linkat, fdatasync, fsync(DIR)
 *   pixelhook   what Spool.store, PendingBuilds and RequestLog do for a build's first event:
 *               mkdir BUILD, append BUILD/.arrivals, O_TMPFILE + write, linkat, fdatasync,
 *               fsync(BUILD), fsync(PROJECT), chmod 0400, link pending/P:B, append requests.log;
 *               the payload's data, its name and the new directory share one journal commit
 *   sync-first  the same with fdatasync before linkat, pixelhook's order until 877100c: two
 *               journal commits (README, Performance)
 *
 *   store_steps DIR STORES flat|pixelhook|sync-first
 *
 * Prints one line per step, "STEP<TAB>step<TAB>mean microseconds", then "STEP<TAB>total<TAB>mean",
 * the mean of a whole store including what is not timed step by step (names, loop). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { MKDIR, ARRIVALS, CREATE, SYNC_DATA, LINK, SYNC_BUILD, SYNC_PROJECT, MARK, PENDING, LOG, STEPS };
static const char *step_names[STEPS] = {
    "mkdir build", "append .arrivals", "O_TMPFILE + write", "fdatasync payload", "linkat name",
    "fsync build dir", "fsync project dir", "chmod 0400", "link pending entry", "append requests.log"};
static double total_us[STEPS];
static int used[STEPS];
static long started_at;

static long now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000L + t.tv_nsec / 1000;
}

static void begin(void) { started_at = now_us(); }
static void end(int step)
{
    total_us[step] += now_us() - started_at;
    used[step] = 1;
}

/* A path into a PATH_MAX buffer; exits on one too long (the run's DIR is short). */
static void path(char *out, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    int n = vsnprintf(out, 4096, format, arguments);
    va_end(arguments);
    if (n < 0 || n >= 4096) {
        fprintf(stderr, "store_steps: path too long\n");
        exit(2);
    }
}

static int sync_directory(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int result = fsync(fd);
    close(fd);
    return result;
}

static int append_line(const char *path, const char *line)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    ssize_t n = write(fd, line, strlen(line));
    close(fd);
    return n == (ssize_t)strlen(line) ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: store_steps DIR STORES flat|pixelhook|sync-first\n");
        return 2;
    }
    const char *root = argv[1];
    long stores = atol(argv[2]);
    int flat = strcmp(argv[3], "flat") == 0, sync_first = strcmp(argv[3], "sync-first") == 0;
    if (stores < 1 || !(flat || sync_first || strcmp(argv[3], "pixelhook") == 0)) {
        fprintf(stderr, "store_steps: STORES >= 1 and one of flat, pixelhook, sync-first\n");
        return 2;
    }
    char body[300], deliveries[4096], project[4096], pending[4096], log_path[4096];
    memset(body, 'x', sizeof body);
    path(deliveries, "%s/deliveries", root);
    path(project, "%s/deliveries/project", root);
    path(pending, "%s/pending", root);
    path(log_path, "%s/requests.log", root);
    mkdir(root, 0700);
    mkdir(deliveries, 0700);
    mkdir(project, 0700);
    mkdir(pending, 0700);

    int failures = 0;
    long run_started = now_us();
    for (long i = 0; i < stores; i++) {
        char build[4096], payload[4096], arrivals[4096], entry[4096], proc[64];
        path(build, "%s/b%ld", flat ? root : project, i);
        path(payload, flat ? "%s.json" : "%s/build.approved.json", build);
        path(arrivals, "%s/.arrivals", build);
        const char *directory = flat ? root : build;
        if (!flat) {
            begin(); failures += mkdir(build, 0700) != 0; end(MKDIR);
            begin(); failures += append_line(arrivals, "build.approved\n") != 0; end(ARRIVALS);
        }
        begin();
        int fd = open(directory, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        failures += fd < 0 || write(fd, body, sizeof body) != (ssize_t)sizeof body;
        end(CREATE);
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        int sync_before_link = sync_first;
        if (sync_before_link) { begin(); failures += fdatasync(fd) != 0; end(SYNC_DATA); }
        begin(); failures += linkat(AT_FDCWD, proc, AT_FDCWD, payload, AT_SYMLINK_FOLLOW) != 0; end(LINK);
        if (!sync_before_link) { begin(); failures += fdatasync(fd) != 0; end(SYNC_DATA); }
        close(fd);
        begin(); failures += sync_directory(directory) != 0; end(SYNC_BUILD);
        if (!flat) {
            begin(); failures += sync_directory(project) != 0; end(SYNC_PROJECT);
            begin(); failures += chmod(payload, 0400) != 0; end(MARK);
            path(entry, "%s/project:b%ld", pending, i);
            begin(); failures += link(arrivals, entry) != 0; end(PENDING);
            begin(); failures += append_line(log_path, "{\"outcome\":\"stored\"}\n") != 0; end(LOG);
        }
    }
    double mean_total = (double)(now_us() - run_started) / stores;
    for (int step = 0; step < STEPS; step++)
        if (used[step])
            printf("STEP\t%s\t%.1f\n", step_names[step], total_us[step] / stores);
    printf("STEP\ttotal\t%.1f\n", mean_total);
    if (failures) fprintf(stderr, "store_steps: %d system calls failed\n", failures);
    return failures ? 1 : 0;
}
