/*
 * LD_PRELOAD shim for Debian bookworm's user-mode-linux (6.1) on hosts whose XSAVE area is
 * larger than the 832 bytes (x87/SSE + AVX) UML 6.1 was built for: CPUs with AVX-512 or AMX.
 *
 * UML switches its guest's FP state with PTRACE_GETREGSET/SETREGSET(NT_X86_XSTATE) and an
 * 832-byte buffer. A short GET is fine (the kernel truncates), but the host kernel only
 * accepts a SET of the whole XSAVE area and answers EFAULT, and UML dies at the first guest
 * process ("userspace - ptrace set fp regs failed, errno = 14", "Attempted to kill init").
 * Later kernels size the buffer from CPUID.
 *
 * Here a short SETREGSET(NT_X86_XSTATE) becomes: GET the target's whole XSAVE area, lay
 * UML's 832 bytes (legacy x87/SSE area, XSAVE header, AVX upper halves) over its start, SET
 * the whole area. The components beyond (AVX-512 opmask and upper registers, AMX, PKRU) keep
 * the values the host process already holds: they are not switched per guest thread, which
 * single-threaded guest programs never notice.
 *
 * Making UML fall back to PTRACE_SETFPREGS instead is not enough: then static glibc binaries
 * in the guest lose their TLS image (an AVX-512 masked memcpy restarted after a page fault
 * writes nothing) and crash in __ctype_init.
 *
 * Hosts whose XSAVE area is exactly 832 bytes never reach the rewrite.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

typedef long (*ptrace_fn)(enum __ptrace_request, pid_t, void *, void *);

static ptrace_fn real_ptrace(void)
{
	static ptrace_fn real;

	if (!real)
		real = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
	return real;
}

long ptrace(enum __ptrace_request request, ...)
{
	static unsigned char *full;
	static size_t full_len;
	ptrace_fn real = real_ptrace();
	va_list ap;
	pid_t pid;
	void *addr, *data;

	va_start(ap, request);
	pid = va_arg(ap, pid_t);
	addr = va_arg(ap, void *);
	data = va_arg(ap, void *);
	va_end(ap);

	if (request == PTRACE_SETREGSET && (unsigned long)addr == NT_X86_XSTATE && data) {
		struct iovec *uml = data;
		struct iovec whole;

		if (!full) {
			/* The kernel shortens iov_len to the whole area's size. */
			size_t cap = 1 << 16;

			full = calloc(1, cap);
			if (!full)
				return real(request, pid, addr, data);
			whole.iov_base = full;
			whole.iov_len = cap;
			if (real(PTRACE_GETREGSET, pid, addr, &whole) < 0)
				return -1;
			full_len = whole.iov_len;
		}
		if (uml->iov_len < full_len) {
			whole.iov_base = full;
			whole.iov_len = full_len;
			if (real(PTRACE_GETREGSET, pid, addr, &whole) < 0)
				return -1;
			memcpy(full, uml->iov_base, uml->iov_len);
			return real(PTRACE_SETREGSET, pid, addr, &whole);
		}
	}
	return real(request, pid, addr, data);
}
