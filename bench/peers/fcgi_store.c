/* fcgi_store (bench/bench.py rows F1n and F1s): the FastCGI "new delivery" floor, i.e. the least that any
 * receiver which keeps the payload durably, dedups on uploadId+event and runs
 * a handler has to do. A libfcgi responder on the listening socket at fd 0.
 *
 *   key     <event>_<uploadId>.json, both found by a plain string scan (no JSON
 *           parser) and limited to [A-Za-z0-9._-]
 *   store   openat(spool, key, O_CREAT|O_EXCL): EEXIST means duplicate -> 200;
 *           else write(body), fdatasync(file), fsync(spool dir)  (PB_NOSYNC=1: no sync;
 *           fdatasync, not fsync: it covers the size and blocks the data needs, and on ext4
 *           without a journal a full fsync of a new file also writes its directory, 2-8x slower)
 *   answer  200 {"received":true}, FCGX_Finish_r (the client has its answer now)
 *   handler posix_spawn(HANDLER, [HANDLER, event]), stdin = the stored payload,
 *           empty environment, then waitpid. HANDLER "-": none (row F1s, the ceiling of a
 *           receiver that stores before answering, run with many processes).
 *
 * usage: fcgi_store SPOOL_DIR HANDLER|- */
#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_BODY 65536

static int field(const char *body, const char *name, char *out, size_t cap)
{
    char pat[64];
    const char *p;
    size_t n = 0;

    snprintf(pat, sizeof pat, "\"%s\":\"", name);
    p = strstr(body, pat);
    if (!p)
        return -1;
    p += strlen(pat);
    for (; p[n] && p[n] != '"'; n++) {
        char c = p[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_'))
            return -1;
        if (n + 1 >= cap)
            return -1;
        out[n] = c;
    }
    if (p[n] != '"' || n == 0)
        return -1;
    out[n] = '\0';
    return 0;
}

static void answer(FCGX_Request *r, const char *status, const char *json)
{
    FCGX_FPrintF(r->out,
                 "Status: %s\r\nContent-Type: application/json\r\n"
                 "Content-Length: %d\r\n\r\n%s",
                 status, (int)strlen(json), json);
    FCGX_Finish_r(r);
}

int main(int argc, char **argv)
{
    static char body[MAX_BODY + 1];
    char event[128], upload[128], name[300], path[4096];
    const char *spool, *handler, *ns;
    int dirfd, nosync;
    FCGX_Request req;

    if (argc != 3) {
        fprintf(stderr, "usage: fcgi_store SPOOL_DIR HANDLER|-\n");
        return 2;
    }
    spool = argv[1];
    handler = argv[2];
    ns = getenv("PB_NOSYNC");
    nosync = ns && strcmp(ns, "1") == 0;
    dirfd = open(spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        perror(spool);
        return 1;
    }
    if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0)
        return 1;

    while (FCGX_Accept_r(&req) >= 0) {
        const char *cl = FCGX_GetParam("CONTENT_LENGTH", req.envp);
        long want = cl ? strtol(cl, NULL, 10) : 0, len = 0;
        int fd, ok;

        if (want <= 0 || want > MAX_BODY) {
            answer(&req, "413 Payload Too Large", "{\"error\":\"body size\"}");
            continue;
        }
        while (len < want) {
            int n = FCGX_GetStr(body + len, (int)(want - len), req.in);
            if (n <= 0)
                break;
            len += n;
        }
        body[len] = '\0';
        if (len != want || field(body, "event", event, sizeof event) != 0 ||
            field(body, "uploadId", upload, sizeof upload) != 0) {
            answer(&req, "400 Bad Request", "{\"error\":\"bad payload\"}");
            continue;
        }
        snprintf(name, sizeof name, "%s_%s.json", event, upload);
        fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
            if (errno == EEXIST)
                answer(&req, "200 OK", "{\"received\":true,\"duplicate\":true}");
            else
                answer(&req, "503 Service Unavailable", "{\"error\":\"spool\"}");
            continue;
        }
        ok = write(fd, body, (size_t)len) == (ssize_t)len && (nosync || fdatasync(fd) == 0);
        close(fd);
        if (ok && !nosync)
            ok = fsync(dirfd) == 0;
        if (!ok) {
            unlinkat(dirfd, name, 0);
            answer(&req, "503 Service Unavailable", "{\"error\":\"spool\"}");
            continue;
        }
        answer(&req, "200 OK", "{\"received\":true}");

        /* after the answer: run the handler, payload on stdin */
        if (strcmp(handler, "-") != 0) {
            posix_spawn_file_actions_t fa;
            char *hargv[] = {(char *)handler, event, NULL};
            char *henv[] = {NULL};
            pid_t pid;

            snprintf(path, sizeof path, "%s/%s", spool, name);
            posix_spawn_file_actions_init(&fa);
            posix_spawn_file_actions_addopen(&fa, 0, path, O_RDONLY, 0);
            posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
            if (posix_spawn(&pid, handler, &fa, NULL, hargv, henv) == 0)
                waitpid(pid, NULL, 0);
            posix_spawn_file_actions_destroy(&fa);
        }
    }
    return 0;
}
