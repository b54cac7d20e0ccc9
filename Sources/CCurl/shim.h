#ifndef VMMANAGER_CCURL_SHIM_H
#define VMMANAGER_CCURL_SHIM_H
/*
 * libcurl as the notifier sees it. curl_easy_setopt and curl_easy_getinfo are variadic, which Swift
 * cannot call; each wrapper below fixes the type of the third argument, so a Swift caller can only
 * pass what the option expects (the pattern of swift-corelibs-foundation's CFURLSessionInterface).
 * Only `Sources/VMManager/Notification/Curl.swift` uses this module.
 */
#define CURL_DISABLE_TYPECHECK 1
#include <stddef.h>
#include <curl/curl.h>

/* CURLOPT_READFUNCTION / CURLOPT_WRITEFUNCTION callbacks share this shape. */
typedef size_t (*vmm_curl_io_callback)(char *buffer, size_t size, size_t count, void *userdata);

static inline CURLcode vmm_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode vmm_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode vmm_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode vmm_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode vmm_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode vmm_curl_setopt_io_callback(CURL *handle, CURLoption option, vmm_curl_io_callback value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode vmm_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

/* CURL_GLOBAL_DEFAULT is a macro of macros; Swift imports only simple literals. */
static inline CURLcode vmm_curl_global_init(void) {
    return curl_global_init(CURL_GLOBAL_DEFAULT);
}
#endif
