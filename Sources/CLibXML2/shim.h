#ifndef VMMANAGER_CLIBXML2_SHIM_H
#define VMMANAGER_CLIBXML2_SHIM_H
/* Debian's libxml2 is built with ICU. Its headers would pull the system ICU headers into this module,
 * and they clash with the private ICU copy that Foundation ships (_FoundationICU: "'UErrorCode' has
 * different definitions in different modules") in any module that imports both. We never touch
 * libxml2's ICU-dependent fields, so hide them. */
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <libxml/xmlsave.h>
#endif
