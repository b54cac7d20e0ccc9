#ifndef VMMANAGER_CLIBXML2_SHIM_H
#define VMMANAGER_CLIBXML2_SHIM_H
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <libxml/xmlsave.h>
#endif
