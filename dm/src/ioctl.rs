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

// --- Start-up: mapping memory in bulk (kit's `startup` module calls these) ---
//
// Under user-mode-linux every first touch of a page costs a round trip through the host (the
// host's SIGSEGV, the guest kernel's fault handler, then a host mmap of that one page): about
// 50–90 µs a page, so a short-lived command pays more for the pages it touches than for its
// work. MADV_POPULATE_* fills the guest's page tables in one call, but UML passes pages on to
// the host only when a range's TLB is flushed, which an mprotect that changes the protection
// does: populate, then change and restore the protection, maps a whole range in a few calls.
// Measured in the guest: 1000 pages touched one by one 50–95 ms; after populate + mprotect
// (2.6 ms) 0.4 ms. On a native kernel the populate is a cheap fault-in and the mprotects are
// page-table updates.

/// Maps the running executable's read-only `PT_LOAD` segments (its code and read-only data)
/// into memory in bulk: `MADV_POPULATE_READ` over each, then an `mprotect` adding
/// `PROT_WRITE` and one restoring the segment's own protection (`PROT_READ`, plus
/// `PROT_EXEC` for code). Writable segments are left alone: the loader has already touched
/// them, and part of them is RELRO, whose protection differs from the program header's.
/// Returns the bytes populated; `Ok(0)` without an `AT_PHDR` auxv entry. A kernel without
/// `MADV_POPULATE_READ` (before 5.14) or refusing the writable step (W^X policies) fails the
/// call with nothing changed; the restoring `mprotect` never removes a permission the segment
/// had, so a failure cannot leave code or data inaccessible.
///
/// The code segment is writable (never written) for the two system calls, at start-up, on
/// one thread, before any input is read. Where W+X is forbidden (systemd's
/// `MemoryDenyWriteExecute=`, PaX MPROTECT) the first `mprotect` is refused and only the
/// speed-up is lost; SELinux asks nothing (the mapping never stops being executable, and no
/// page of it is written, so no `execmod`). The code is most of what a start-up touches:
/// in the guest, `lvmkit plan` of a one-LV VG took 51 ms with it, 74 ms with only the
/// read-only data and heap mapped in bulk, 74 ms with nothing (medians of 25).
pub fn prefault_executable() -> io::Result<usize> {
    // SAFETY: getauxval reads the process's auxiliary vector and takes no pointers.
    let (phdr, phent, phnum) = unsafe {
        (
            libc::getauxval(libc::AT_PHDR) as usize,
            libc::getauxval(libc::AT_PHENT) as usize,
            libc::getauxval(libc::AT_PHNUM) as usize,
        )
    };
    if phdr == 0 || phnum == 0 || phent != std::mem::size_of::<libc::Elf64_Phdr>() {
        return Ok(0);
    }
    // SAFETY: AT_PHDR/AT_PHNUM are the kernel's (or ld.so's) statement of where the
    // executable's program header table is: `phnum` entries of `phent` bytes (checked equal to
    // the type's size above), inside the executable's first loaded segment, mapped read-only
    // and never unmapped or changed for the life of the process; Elf64_Phdr is plain integers
    // (any bit pattern valid) and the table is 8-byte aligned per the ELF spec.
    let headers: &[libc::Elf64_Phdr] =
        unsafe { std::slice::from_raw_parts(phdr as *const libc::Elf64_Phdr, phnum) };
    // Load bias: where PT_PHDR says the table is versus where it is (0 for a fixed-address
    // executable, which has no PT_PHDR when not position-independent).
    let bias = headers
        .iter()
        .find(|h| h.p_type == libc::PT_PHDR)
        .map_or(0, |h| phdr.wrapping_sub(h.p_vaddr as usize));
    let page = page_size();
    let mut done = 0;
    for h in headers.iter().filter(|h| h.p_type == libc::PT_LOAD && h.p_flags & libc::PF_W == 0) {
        let start = bias.wrapping_add(h.p_vaddr as usize) / page * page;
        let end = (bias.wrapping_add(h.p_vaddr as usize) + h.p_memsz as usize).div_ceil(page) * page;
        let prot = libc::PROT_READ | if h.p_flags & libc::PF_X != 0 { libc::PROT_EXEC } else { 0 };
        // SAFETY: [start, end) is one loaded read-only segment of this executable, mapped
        // for the process's lifetime (page-rounded as the loader maps it). POPULATE_READ only
        // faults its pages in; the first mprotect adds PROT_WRITE and removes nothing (code
        // keeps running, nothing writes there), the second restores exactly the protection the
        // loader gave (`p_flags`; RELRO only ever covers writable segments, skipped above).
        // No Rust reference's validity depends on these pages' protection changing.
        unsafe {
            let p = start as *mut libc::c_void;
            check(libc::madvise(p, end - start, libc::MADV_POPULATE_READ))?;
            check(libc::mprotect(p, end - start, prot | libc::PROT_WRITE))?;
            check(libc::mprotect(p, end - start, prot))?;
        }
        done += end - start;
    }
    Ok(done)
}

/// Leaves `bytes` of malloc's main heap mapped in bulk and free for the allocations that
/// follow on the main thread (glibc only; `Ok(false)` elsewhere): sets glibc's mmap threshold
/// to 32 MiB and its trim threshold to the maximum (blocks up to 32 MiB then come from that
/// heap, and freed memory stays in it: fine for a short-lived command, which is what this is
/// for), allocates `bytes`, `MADV_POPULATE_WRITE`s the whole pages inside the block, changes
/// their protection to read-only and back (see above: UML maps them into the host then) and
/// frees the block into the heap's top.
pub fn reserve_heap(bytes: usize) -> io::Result<bool> {
    #[cfg(target_env = "gnu")]
    {
        // SAFETY: mallopt takes integers only; both values are within glibc's limits (the mmap
        // threshold at most HEAP_MAX_SIZE / 2 = 32 MiB on 64-bit).
        let ok = unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, libc::c_int::MAX) == 1
        };
        if !ok {
            return Err(io::Error::other("mallopt refused the thresholds"));
        }
        let mut block: Vec<u8> = Vec::with_capacity(bytes);
        let page = page_size();
        let at = block.as_mut_ptr() as usize;
        let start = at.div_ceil(page) * page;
        let end = (at + bytes) / page * page;
        if end > start {
            // SAFETY: [start, end) is whole pages inside `block`, a live allocation only this
            // function references (its bytes are uninitialised and never read). POPULATE_WRITE
            // faults the pages in without changing their contents; while they are read-only
            // nothing can write them (no other reference to the block exists), and the second
            // mprotect restores read-write, the protection malloc's heap has, before `block` is
            // freed (if it fails, the block is never freed, so malloc cannot hand out a
            // read-only page). No other memory is affected.
            unsafe {
                let p = start as *mut libc::c_void;
                check(libc::madvise(p, end - start, libc::MADV_POPULATE_WRITE))?;
                check(libc::mprotect(p, end - start, libc::PROT_READ))?;
                if let Err(e) = check(libc::mprotect(p, end - start, libc::PROT_READ | libc::PROT_WRITE)) {
                    std::mem::forget(block);
                    return Err(e);
                }
            }
        }
        drop(block);
        Ok(true)
    }
    #[cfg(not(target_env = "gnu"))]
    {
        let _ = bytes;
        Ok(false)
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf takes an integer only.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 { n as usize } else { 4096 }
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

#[cfg(test)]
mod prefault_tests {
    use super::*;

    /// The mappings of this process as (start, end, permissions) from /proc/self/maps.
    fn maps() -> Vec<(usize, usize, String)> {
        let text = std::fs::read_to_string("/proc/self/maps").expect("/proc/self/maps");
        text.lines()
            .map(|l| {
                let mut f = l.split_whitespace();
                let (a, b) = f.next().expect("range").split_once('-').expect("a-b");
                let hex = |s: &str| usize::from_str_radix(s, 16).expect("hex");
                (hex(a), hex(b), f.next().expect("perms").to_string())
            })
            .collect()
    }

    #[test]
    fn executable_segments_are_mapped_and_keep_their_protection() {
        let before = maps();
        let n = prefault_executable().expect("MADV_POPULATE_READ (Linux >= 5.14) and mprotect");
        // The test binary has code and read-only data: at least a few pages of each.
        assert!(n >= 8 * page_size(), "{n} bytes populated");
        let after = maps();
        assert_eq!(before.iter().filter(|m| m.2.contains('w') && m.2.contains('x')).count(), 0);
        assert_eq!(after.iter().filter(|m| m.2.contains('w') && m.2.contains('x')).count(), 0, "{after:?}");
        // Every executable mapping is still there, with the same permissions.
        for m in before.iter().filter(|m| m.2.contains('x')) {
            assert!(after.iter().any(|a| a.0 <= m.0 && m.1 <= a.1 && a.2 == m.2), "{m:?} in {after:?}");
        }
        // Code still runs and a second call is as harmless as the first.
        assert_eq!(prefault_executable().expect("second call"), n);
    }

    #[test]
    fn reserved_heap_is_writable_and_reused() {
        assert!(reserve_heap(1 << 20).expect("glibc's mallopt and madvise"));
        // Allocations after the reserve are ordinary, writable memory.
        let mut v: Vec<u64> = (0..100_000).collect();
        v.iter_mut().for_each(|x| *x *= 3);
        assert_eq!(v.iter().sum::<u64>(), 3 * 99_999 * 100_000 / 2);
        assert!(reserve_heap(0).expect("an empty reserve"));
    }
}
