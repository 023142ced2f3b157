/* SHA-256 from the system's libcrypto (Debian libssl-dev). Only SHA256_Init/Update/Final: it
 * links statically as ~40 KB of libcrypto, where the EVP interface pulls in the provider
 * machinery (~4 MB). OpenSSL 3 marks it deprecated in favour of EVP but keeps it. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
