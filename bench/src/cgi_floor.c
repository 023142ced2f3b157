/* cgi_floor: the CGI floor (bench/bench.py rows C2, C3, S0). A one-shot CGI program that does the least a
 * webhook receiver must do: read CONTENT_LENGTH bytes of the request body from stdin and
 * answer 200 {"received":true}. Nothing else (no parsing, no disk). Built once by the
 * bench, `cc -O2` (dynamic glibc). */
#include <stdlib.h>
#include <unistd.h>

int main(void)
{
    static const char response[] =
        "Status: 200 OK\r\n"
        "Content-Type: application/json\r\n"
        "Content-Length: 17\r\n"
        "\r\n"
        "{\"received\":true}";
    char buffer[65536];
    const char *length = getenv("CONTENT_LENGTH");
    long want = length ? strtol(length, NULL, 10) : 0;

    while (want > 0) {
        ssize_t got = read(0, buffer, want < (long)sizeof buffer ? (size_t)want : sizeof buffer);
        if (got <= 0)
            break;
        want -= got;
    }
    return write(1, response, sizeof response - 1) == (ssize_t)(sizeof response - 1) ? 0 : 1;
}
