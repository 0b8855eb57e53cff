//! The system calls: the device-mapper ioctl on `/dev/mapper/control`, `mknod` for the
//! device nodes nobody else makes when udev is absent, and the SysV semaphore calls of
//! libdevmapper's udev cookies (`semget`, `semctl`, `semop`, `semtimedop`; the protocol is in
//! [`crate::udev`]). The only `unsafe` code of the workspace is here, each call with its SAFETY
//! argument (nix wraps mknod safely; it has no SysV semaphores).
//!
//! Why raw ioctls and not the `devicemapper` crate (0.34.8): its `list_devices` drops the
//! uuids the kernel returns (we sweep devices by uuid prefix `LVM-<vg uuid>`, and would need
//! one extra DEV_STATUS per device), its `table_load` panics on a target type of 16 bytes or
//! more instead of failing, and building it needs libdevmapper-dev, libclang and bindgen
//! (+71 s per clean build on 2 cores, plus env_logger, rand, retry and serde in our tree) —
//! for what is one ioctl with a 312-byte header (see [`crate::abi`]). The [`crate::control`]
//! trait keeps a crate-backed implementation possible.
#![allow(unsafe_code)]

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::Duration;

use crate::abi::{Cmd, HEADER_SIZE};
use crate::devnum::DevNum;

/// Issues one device-mapper ioctl on `control` with `buf` (header + payload, built by
/// [`crate::abi::build`]); the kernel writes its reply into the same buffer.
pub fn dm_ioctl(control: &File, cmd: Cmd, buf: &mut [u8]) -> io::Result<()> {
    assert!(buf.len() >= HEADER_SIZE, "a dm ioctl buffer holds at least the 312-byte header");
    let data_size = u32::from_ne_bytes(buf[12..16].try_into().expect("4 bytes"));
    assert!(data_size as usize <= buf.len(), "data_size must not exceed the buffer");
    // SAFETY: `control` is an open file, so the descriptor is valid for the call. The request
    // is a DM `_IOWR` code whose size field says 312, and `buf` is a live, exclusively
    // borrowed allocation of at least 312 bytes whose header's `data_size` (checked above)
    // does not exceed its length: the kernel reads and writes only within `data_size` bytes
    // (it copies the header, then `data_size` bytes, and writes back at most `data_size`).
    // The buffer outlives the call, and nothing else aliases it meanwhile.
    let rc = unsafe { libc::ioctl(control.as_raw_fd(), cmd.request() as _, buf.as_mut_ptr()) };
    if rc < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

/// `mknod(path, S_IFBLK | mode, dev)`, through nix's safe wrapper.
pub fn mknod_block(path: &Path, mode: u32, dev: DevNum) -> io::Result<()> {
    use nix::sys::stat::{Mode, SFlag, makedev, mknod};
    let perm = Mode::from_bits_truncate((mode & 0o7777) as libc::mode_t);
    mknod(path, SFlag::S_IFBLK, perm, makedev(dev.major.into(), dev.minor.into())).map_err(io::Error::from)
}

// --- SysV semaphores: libdevmapper's udev notification cookies (see crate::udev) ---
//
// Each call below is a plain system call on integers and on stack values owned by the call;
// none keeps a pointer past its return. Errors come back as `io::Error` from errno.

/// `semget(key, 1, IPC_CREAT | IPC_EXCL | mode)`: a new one-semaphore set under `key`
/// (`EEXIST` when the key is taken).
pub fn sem_create_excl(key: i32, mode: u32) -> io::Result<i32> {
    let flags = libc::IPC_CREAT | libc::IPC_EXCL | (mode & 0o777) as libc::c_int;
    // SAFETY: semget takes integers only and touches no memory of ours.
    let id = unsafe { libc::semget(key as libc::key_t, 1, flags) };
    if id < 0 { Err(io::Error::last_os_error()) } else { Ok(id) }
}

/// `semget(key, 1, 0)`: the existing set under `key` (`ENOENT` when there is none). What
/// `dmsetup udevcomplete` does first; the unit tests play udev with it.
#[cfg(test)]
pub fn sem_lookup(key: i32) -> io::Result<i32> {
    // SAFETY: semget takes integers only and touches no memory of ours.
    let id = unsafe { libc::semget(key as libc::key_t, 1, 0) };
    if id < 0 { Err(io::Error::last_os_error()) } else { Ok(id) }
}

/// The fourth argument of `semctl` (`union semun` of `<sys/sem.h>`): pointer-sized, so the
/// variadic call passes it exactly as glibc's `va_arg(ap, union semun)` reads it.
#[repr(C)]
#[derive(Clone, Copy)]
union SemUn {
    val: libc::c_int,
    ptr: *mut libc::c_void,
}

/// `semctl(semid, 0, SETVAL, value)`.
pub fn sem_set_value(semid: i32, value: i32) -> io::Result<()> {
    let arg = SemUn { val: value };
    // SAFETY: SETVAL reads only `arg.val`, an integer passed by value; `arg` is a fully
    // initialised pointer-sized union (the `val` member), as the variadic ABI expects.
    let rc = unsafe { libc::semctl(semid, 0, libc::SETVAL, arg) };
    if rc < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

/// `semctl(semid, 0, GETVAL)`: the semaphore's value.
pub fn sem_value(semid: i32) -> io::Result<i32> {
    // SAFETY: GETVAL takes no fourth argument and touches no memory of ours.
    let rc = unsafe { libc::semctl(semid, 0, libc::GETVAL) };
    if rc < 0 { Err(io::Error::last_os_error()) } else { Ok(rc) }
}

/// `semctl(semid, 0, IPC_RMID)`: removes the set (waiters wake with `EIDRM`).
pub fn sem_remove(semid: i32) -> io::Result<()> {
    // SAFETY: IPC_RMID takes no fourth argument and touches no memory of ours.
    let rc = unsafe { libc::semctl(semid, 0, libc::IPC_RMID) };
    if rc < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

/// `semop(semid, {0, delta, nowait ? IPC_NOWAIT : 0}, 1)` (no `SEM_UNDO`, as libdevmapper).
/// With `nowait`, a decrement below zero fails with `EAGAIN` instead of blocking.
pub fn sem_adjust(semid: i32, delta: i16, nowait: bool) -> io::Result<()> {
    let mut op = libc::sembuf {
        sem_num: 0,
        sem_op: delta,
        sem_flg: if nowait { libc::IPC_NOWAIT as libc::c_short } else { 0 },
    };
    // SAFETY: `op` is one initialised `struct sembuf` on our stack, and nsops is 1: the
    // kernel reads exactly that one element during the call and keeps no reference.
    let rc = unsafe { libc::semop(semid, &mut op, 1) };
    if rc < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

/// `semtimedop(semid, {0, 0, 0}, 1, timeout)`: waits until the semaphore is zero, at most
/// `timeout` (`EAGAIN` when it expires, `EINTR` on a signal, `EIDRM` when the set is removed).
/// glibc's wrapper is not in the `libc` crate, hence the raw system call.
pub fn sem_wait_zero(semid: i32, timeout: Duration) -> io::Result<()> {
    let mut op = libc::sembuf { sem_num: 0, sem_op: 0, sem_flg: 0 };
    let ts = libc::timespec {
        tv_sec: timeout.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: SYS_semtimedop(int semid, struct sembuf *sops, size_t nsops, const struct
    // timespec *timeout): `op` is one initialised sembuf and nsops is 1; `ts` is an
    // initialised timespec with tv_nsec < 1e9. Both live on our stack for the whole call and
    // the kernel keeps no reference to either after it returns.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_semtimedop,
            semid,
            &mut op as *mut libc::sembuf,
            1usize,
            &ts as *const libc::timespec,
        )
    };
    if rc < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
}
