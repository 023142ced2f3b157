// libfcgi (Debian: libfcgi-dev), the FastCGI library nginx and lighttpd deployments already use.
#include <fcgiapp.h>
