/* fcgi_floor: the FastCGI floor (bench/bench.py row F1). A libfcgi responder (FCGX_Accept_r
 * loop) on the listening socket it inherits as fd 0 (spawn-fcgi), doing the least a webhook
 * receiver must: read CONTENT_LENGTH bytes of body, answer 200 {"received":true}. */
#include <fcgiapp.h>
#include <stdlib.h>

int main(void)
{
    static const char response[] =
        "Status: 200 OK\r\n"
        "Content-Type: application/json\r\n"
        "Content-Length: 17\r\n"
        "\r\n"
        "{\"received\":true}";
    static char buffer[65536];
    FCGX_Request request;

    if (FCGX_Init() != 0 || FCGX_InitRequest(&request, 0, 0) != 0)
        return 1;
    while (FCGX_Accept_r(&request) >= 0) {
        const char *length = FCGX_GetParam("CONTENT_LENGTH", request.envp);
        long want = length ? strtol(length, NULL, 10) : 0;
        while (want > 0) {
            int n = FCGX_GetStr(buffer, want < (long)sizeof buffer ? (int)want : (int)sizeof buffer, request.in);
            if (n <= 0)
                break;
            want -= n;
        }
        FCGX_PutStr(response, (int)sizeof response - 1, request.out);
        FCGX_Finish_r(&request);
    }
    return 0;
}
