/*
 * The readers' error convention: a function that fails writes its message
 * into the caller's err buffer (FL_ERRLEN bytes) and returns FL_ERR.
 * Shared by the capture reader (scap_reader.c) and the live reader
 * (live_reader.c).
 */
#ifndef FALCOLITE_FAIL_H
#define FALCOLITE_FAIL_H

#include <stdarg.h>
#include <stdio.h>

#include "scap_reader.h"

__attribute__((format(printf, 2, 3)))
static inline int fail(char *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, FL_ERRLEN, fmt, ap);
	va_end(ap);
	return FL_ERR;
}

#endif
