#ifndef VMMANAGER_CLIBVIRT_SHIM_H
#define VMMANAGER_CLIBVIRT_SHIM_H
/*
 * The libvirt C API as the `Libvirt` Swift module sees it. Only small static inline helpers live
 * here, where the C API relies on a macro or on a function-pointer cast that Swift cannot express,
 * plus the thread naming of the binding's own threads (see DedicatedThread.swift).
 */
#include <stddef.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <linux/nsfs.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt-lxc.h>

/* libvirt prints every error to stderr unless a handler is installed. stderr of a resource agent is
 * read by the cluster manager, so we install one that does nothing; errors are read with
 * virGetLastError right after each failing call instead. */
static void vmmSilentErrorHandler(void *userData, virErrorPtr error) {
    (void)userData;
    (void)error;
}

static inline void vmmSilenceLibvirtErrors(void) {
    virSetErrorFunc(NULL, vmmSilentErrorHandler);
}

/* VIR_DOMAIN_EVENT_CALLBACK is a cast macro; these helpers register the typed callbacks for all
 * domains of a connection. They return the callback id, or -1 on error. */
static inline int vmmRegisterLifecycleEvents(virConnectPtr conn,
                                             virConnectDomainEventCallback callback,
                                             void *opaque, virFreeCallback freeOpaque) {
    return virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                            callback, opaque, freeOpaque);
}

static inline int vmmRegisterAgentLifecycleEvents(virConnectPtr conn,
                                                  virConnectDomainEventCallback callback,
                                                  void *opaque, virFreeCallback freeOpaque) {
    return virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE,
                                            callback, opaque, freeOpaque);
}

/* glibc declares pthread_setname_np only under _GNU_SOURCE, which Swift's Glibc module is not built
 * with; the declaration below is glibc's own (pthread.h, glibc 2.12 and later). Names the calling
 * thread, for `top -H`, `ps -L` and debuggers; `name` must fit in 16 bytes with its NUL. */
extern int pthread_setname_np(pthread_t thread, const char *name);

static inline int vmmSetCurrentThreadName(const char *name) {
    return pthread_setname_np(pthread_self(), name);
}
/* ioctl is variadic, which Swift cannot call. The parent of a PID or user namespace (a new descriptor), or -1
 * with errno EPERM when the parent lies outside the caller's own namespace: how the container code tells whether
 * a container's PID namespace is below ours and can be entered (setns refuses any other). */
static inline int vmmNamespaceParent(int fd) {
    return ioctl(fd, NS_GET_PARENT);
}
#endif
