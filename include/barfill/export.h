// Marks what libbarfill.so exports: everything else in it is hidden (-fvisibility=hidden), so
// embedding programs see only the API in include/barfill/.
#pragma once

#if defined(__GNUC__)
#define BARFILL_API __attribute__((visibility("default")))
#else
#define BARFILL_API
#endif
