//! The system calls: the device-mapper ioctl on `/dev/mapper/control`, and `mknod` for the
//! device nodes nobody else makes when udev is absent. The only `unsafe` code of the
//! workspace is the ioctl call here, with its SAFETY argument (nix wraps mknod safely).
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
