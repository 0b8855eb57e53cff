/*
 * PID 1 of the VM guests (tests/vm/run-uml.sh; tests/vm/run-qemu.sh switches to it from its
 * initramfs once the host's root is mounted). Static, no shell needed:
 *   1. mounts proc, sysfs, devtmpfs on /dev, tmpfs on /run and /dev/shm (guest-only mounts
 *      over the host's tree, which is the guest's root through hostfs or virtio-9p);
 *   2. loads every module listed in $LVMKIT_VM_RUN/modules (one path a line, already in
 *      dependency order) with finit_module; a failure is fatal (status 126);
 *   3. runs $LVMKIT_VM_RUN/scenario (executed directly: it has a #! line or is a binary),
 *      stdout+stderr into $LVMKIT_VM_RUN/output, cwd = the run folder, $VM_DISKS = the line
 *      in $LVMKIT_VM_RUN/disks (the images' guest device paths, space-separated);
 *   4. writes the exit status to $LVMKIT_VM_RUN/status (via a rename, so a status file is
 *      always complete), syncs and powers off (UML and qemu then exit 0 whatever the status).
 * Debian's busybox-static is not used: it segfaults in its TLS set-up under UML 6.1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char run[4096];

static void path(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", run, name);
}

static void finish(int status)
{
	char tmp[4200], fin[4200];
	FILE *f;

	path(tmp, sizeof tmp, "status.tmp");
	path(fin, sizeof fin, "status");
	f = fopen(tmp, "w");
	if (f) {
		fprintf(f, "%d\n", status);
		fclose(f);
		rename(tmp, fin);
	}
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

static void log_err(const char *fmt, const char *arg, int err)
{
	char p[4200];
	FILE *f;

	path(p, sizeof p, "output");
	f = fopen(p, "w");
	if (f) {
		fprintf(f, fmt, arg, strerror(err));
		fclose(f);
	}
	fprintf(stderr, fmt, arg, strerror(err));
}

int main(void)
{
	const char *r = getenv("LVMKIT_VM_RUN");
	char p[4200], line[4200];
	FILE *mods, *f;
	pid_t pid;
	int st;

	if (!r || !*r) {
		fprintf(stderr, "init: LVMKIT_VM_RUN is not set\n");
		reboot(RB_POWER_OFF);
		return 1;
	}
	snprintf(run, sizeof run, "%s", r);

	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL); /* may already be (DEVTMPFS_MOUNT) */
	mount("tmpfs", "/run", "tmpfs", 0, "mode=0755");
	mkdir("/dev/shm", 01777);
	mount("tmpfs", "/dev/shm", "tmpfs", 0, NULL);
	/* No usermode uevent helper: Debian's UML kernel would spawn the (absent) /sbin/hotplug
	 * for every uevent, and those spawns pile up — creating 1000 dm devices slowed from
	 * 0.3 s to 14 s over a few cycles (bench/activate.py). Hosts have udev instead. */
	{
		int fd = open("/sys/kernel/uevent_helper", O_WRONLY);
		if (fd >= 0) {
			/* Best effort: without it the tests only run slower. */
			if (write(fd, "\n", 1) != 1)
				fprintf(stderr, "init: cannot clear /sys/kernel/uevent_helper\n");
			close(fd);
		}
	}

	path(p, sizeof p, "modules");
	mods = fopen(p, "r");
	if (mods) {
		while (fgets(line, sizeof line, mods)) {
			int fd;

			line[strcspn(line, "\n")] = 0;
			if (!*line)
				continue;
			fd = open(line, O_RDONLY | O_CLOEXEC);
			if (fd < 0 || syscall(SYS_finit_module, fd, "", 0) != 0) {
				if (errno != EEXIST) {
					log_err("init: loading %s: %s\n", line, errno);
					finish(126);
				}
			}
			if (fd >= 0)
				close(fd);
		}
		fclose(mods);
	}

	/*
	 * Everything the child needs is prepared here: the child only makes raw system calls
	 * (printf and friends misbehaved in a forked static child under UML).
	 */
	char out[4200], vm_run[4200], home[4200], tmpdir[4200], disks[4200] = "VM_DISKS=";
	char *argv[] = { p, NULL };
	char *envp[] = { vm_run, home, tmpdir, disks, "LVMKIT_VM=1",
			 "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	static const char exec_failed[] = "init: cannot execute the scenario\n";

	path(p, sizeof p, "disks");
	f = fopen(p, "r");
	if (f) {
		size_t at = strlen(disks);

		if (fgets(disks + at, sizeof disks - at, f))
			disks[strcspn(disks, "\n")] = 0;
		fclose(f);
	}
	path(p, sizeof p, "scenario");
	path(out, sizeof out, "output");
	snprintf(vm_run, sizeof vm_run, "VM_RUN=%s", run);
	snprintf(home, sizeof home, "HOME=%s", run);
	snprintf(tmpdir, sizeof tmpdir, "TMPDIR=%s", run);
	pid = fork();
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0) {
			dup2(fd, 0);
			close(fd);
		}
		if (chdir(run) != 0)
			_exit(127);
		execve(p, argv, envp);
		if (write(2, exec_failed, sizeof exec_failed - 1) < 0)
			_exit(127);
		_exit(127);
	}
	if (pid < 0)
		finish(125);
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			finish(125);
	}
	/* Reap anything the scenario left behind that got reparented to us. */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	finish(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}
