// Declarations only: the definition is libFuzzer's (see the header).
#include "PixelhookFuzzDriver.h"
