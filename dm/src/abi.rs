//! The kernel's device-mapper ioctl ABI (`<linux/dm-ioctl.h>`, interface 4.x): struct layouts,
//! command numbers, request codes, flags, and the byte-level buffer builder and parsers.
//!
//! Nothing here is `unsafe`: buffers are plain `Vec<u8>`s written and read at the offsets
//! below (native byte order, as the kernel's structs are), and the `#[repr(C)]` mirrors of
//! the kernel structs exist only so the compile-time checks prove those offsets. The one
//! system call is in [`crate::ioctl`].
//!
//! ```text
//! struct dm_ioctl (312 bytes)          struct dm_target_spec (40 bytes, then params, NUL, pad 8)
//!   0 version[3]   u32                   0 sector_start u64
//!  12 data_size    u32 (whole buffer)     8 length       u64
//!  16 data_start   u32 (= 312)           16 status       i32
//!  20 target_count u32                   20 next         u32  (load: from this spec;
//!  24 open_count   i32                                          status: from the first spec)
//!  28 flags        u32                   24 target_type  [u8; 16]
//!  32 event_nr     u32 (udev cookie)
//!  36 padding      u32                 struct dm_name_list: dev u64, next u32, name NUL,
//!  40 dev          u64 (huge_encode_dev)   then at 8-alignment: event_nr u32, flags u32,
//!  48 name         [u8; 128]               uuid NUL when flags has HAS_UUID
//! 176 uuid         [u8; 129]           struct dm_target_versions: next u32, version[3] u32, name
//! 305 data         [u8; 7]             struct dm_target_deps: count u32, pad u32, dev[] u64
//!                                      struct dm_target_msg: sector u64, message NUL
//! ```

#![allow(dead_code)] // the repr(C) mirrors are read only by the layout checks

use std::mem::{offset_of, size_of};

use crate::devnum::DevNum;
use crate::name::{DM_NAME_LEN, DM_UUID_LEN};

/// `struct dm_ioctl`, for the layout checks.
#[repr(C)]
pub struct DmIoctl {
    pub version: [u32; 3],
    pub data_size: u32,
    pub data_start: u32,
    pub target_count: u32,
    pub open_count: i32,
    pub flags: u32,
    pub event_nr: u32,
    pub padding: u32,
    pub dev: u64,
    pub name: [u8; DM_NAME_LEN],
    pub uuid: [u8; DM_UUID_LEN],
    pub data: [u8; 7],
}

/// `struct dm_target_spec`, for the layout checks.
#[repr(C)]
pub struct DmTargetSpec {
    pub sector_start: u64,
    pub length: u64,
    pub status: i32,
    pub next: u32,
    pub target_type: [u8; DM_MAX_TYPE_NAME],
}

/// `struct dm_name_list` (without the flexible name), for the layout checks.
#[repr(C)]
pub struct DmNameList {
    pub dev: u64,
    pub next: u32,
}

/// `struct dm_target_versions` (without the name), for the layout checks.
#[repr(C)]
pub struct DmTargetVersions {
    pub next: u32,
    pub version: [u32; 3],
}

/// `struct dm_target_deps` (without the array), for the layout checks.
#[repr(C)]
pub struct DmTargetDeps {
    pub count: u32,
    pub padding: u32,
}

/// `struct dm_target_msg` (without the message), for the layout checks.
#[repr(C)]
pub struct DmTargetMsg {
    pub sector: u64,
}

const _: () = {
    assert!(size_of::<DmIoctl>() == HEADER_SIZE);
    assert!(offset_of!(DmIoctl, data_size) == OFF_DATA_SIZE);
    assert!(offset_of!(DmIoctl, data_start) == OFF_DATA_START);
    assert!(offset_of!(DmIoctl, target_count) == OFF_TARGET_COUNT);
    assert!(offset_of!(DmIoctl, open_count) == OFF_OPEN_COUNT);
    assert!(offset_of!(DmIoctl, flags) == OFF_FLAGS);
    assert!(offset_of!(DmIoctl, event_nr) == OFF_EVENT_NR);
    assert!(offset_of!(DmIoctl, dev) == OFF_DEV);
    assert!(offset_of!(DmIoctl, name) == OFF_NAME);
    assert!(offset_of!(DmIoctl, uuid) == OFF_UUID);
    assert!(size_of::<DmTargetSpec>() == SPEC_SIZE);
    assert!(offset_of!(DmTargetSpec, status) == 16);
    assert!(offset_of!(DmTargetSpec, next) == SPEC_OFF_NEXT);
    assert!(offset_of!(DmTargetSpec, target_type) == SPEC_OFF_TYPE);
    assert!(offset_of!(DmNameList, next) == 8);
    assert!(size_of::<DmNameList>() == 16); // the name starts at 12, inside the padding
    assert!(size_of::<DmTargetVersions>() == 16);
    assert!(size_of::<DmTargetDeps>() == 8);
    assert!(size_of::<DmTargetMsg>() == 8);
};

/// `sizeof(struct dm_ioctl)`.
pub const HEADER_SIZE: usize = 312;
/// `sizeof(struct dm_target_spec)`.
pub const SPEC_SIZE: usize = 40;
/// `DM_MAX_TYPE_NAME`: target type buffer, NUL included.
pub const DM_MAX_TYPE_NAME: usize = 16;

const OFF_DATA_SIZE: usize = 12;
const OFF_DATA_START: usize = 16;
const OFF_TARGET_COUNT: usize = 20;
const OFF_OPEN_COUNT: usize = 24;
const OFF_FLAGS: usize = 28;
const OFF_EVENT_NR: usize = 32;
const OFF_DEV: usize = 40;
const OFF_NAME: usize = 48;
const OFF_UUID: usize = 176;
const SPEC_OFF_NEXT: usize = 20;
const SPEC_OFF_TYPE: usize = 24;

/// `DM_VERSION_MAJOR`: the only interface major this code speaks.
pub const DM_VERSION_MAJOR: u32 = 4;
/// `DM_IOCTL`, the ioctl type byte.
pub const DM_IOCTL: u8 = 0xfd;

/// The commands (`enum { DM_VERSION_CMD = 0, … }`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Cmd {
    /// `DM_VERSION`.
    Version = 0,
    /// `DM_REMOVE_ALL`.
    RemoveAll = 1,
    /// `DM_LIST_DEVICES`.
    ListDevices = 2,
    /// `DM_DEV_CREATE`.
    DevCreate = 3,
    /// `DM_DEV_REMOVE`.
    DevRemove = 4,
    /// `DM_DEV_RENAME`.
    DevRename = 5,
    /// `DM_DEV_SUSPEND` (suspend, or resume without `DM_SUSPEND_FLAG`).
    DevSuspend = 6,
    /// `DM_DEV_STATUS` (info).
    DevStatus = 7,
    /// `DM_DEV_WAIT`.
    DevWait = 8,
    /// `DM_TABLE_LOAD`.
    TableLoad = 9,
    /// `DM_TABLE_CLEAR`.
    TableClear = 10,
    /// `DM_TABLE_DEPS`.
    TableDeps = 11,
    /// `DM_TABLE_STATUS`.
    TableStatus = 12,
    /// `DM_LIST_VERSIONS`.
    ListVersions = 13,
    /// `DM_TARGET_MSG`.
    TargetMsg = 14,
    /// `DM_DEV_SET_GEOMETRY`.
    DevSetGeometry = 15,
    /// `DM_DEV_ARM_POLL`.
    DevArmPoll = 16,
    /// `DM_GET_TARGET_VERSION`.
    GetTargetVersion = 17,
}

impl Cmd {
    /// The name libdevmapper and the kernel log use (`DM_TABLE_LOAD`, …).
    pub fn name(self) -> &'static str {
        match self {
            Cmd::Version => "DM_VERSION",
            Cmd::RemoveAll => "DM_REMOVE_ALL",
            Cmd::ListDevices => "DM_LIST_DEVICES",
            Cmd::DevCreate => "DM_DEV_CREATE",
            Cmd::DevRemove => "DM_DEV_REMOVE",
            Cmd::DevRename => "DM_DEV_RENAME",
            Cmd::DevSuspend => "DM_DEV_SUSPEND",
            Cmd::DevStatus => "DM_DEV_STATUS",
            Cmd::DevWait => "DM_DEV_WAIT",
            Cmd::TableLoad => "DM_TABLE_LOAD",
            Cmd::TableClear => "DM_TABLE_CLEAR",
            Cmd::TableDeps => "DM_TABLE_DEPS",
            Cmd::TableStatus => "DM_TABLE_STATUS",
            Cmd::ListVersions => "DM_LIST_VERSIONS",
            Cmd::TargetMsg => "DM_TARGET_MSG",
            Cmd::DevSetGeometry => "DM_DEV_SET_GEOMETRY",
            Cmd::DevArmPoll => "DM_DEV_ARM_POLL",
            Cmd::GetTargetVersion => "DM_GET_TARGET_VERSION",
        }
    }

    /// The request code: `_IOWR(DM_IOCTL, cmd, struct dm_ioctl)`. The size field says 312
    /// although the buffer passed is larger; the kernel reads `data_size` for the rest.
    pub const fn request(self) -> u32 {
        const IOC_READ_WRITE: u32 = 3;
        (IOC_READ_WRITE << 30) | ((HEADER_SIZE as u32) << 16) | ((DM_IOCTL as u32) << 8) | self as u32
    }
}

/// `DM_*_FLAG` bits of `dm_ioctl.flags`.
pub mod flags {
    /// In: load/create read-only. Out: the device is read-only.
    pub const READONLY: u32 = 1 << 0;
    /// In (DEV_SUSPEND): suspend rather than resume. Out: the device is suspended.
    pub const SUSPEND: u32 = 1 << 1;
    /// In (DEV_CREATE): use the minor in `dev`.
    pub const PERSISTENT_DEV: u32 = 1 << 3;
    /// In (TABLE_STATUS): return the table rather than status.
    pub const STATUS_TABLE: u32 = 1 << 4;
    /// Out: a live table is present.
    pub const ACTIVE_PRESENT: u32 = 1 << 5;
    /// Out: an inactive (loaded, not yet resumed) table is present.
    pub const INACTIVE_PRESENT: u32 = 1 << 6;
    /// Out: the buffer was too small.
    pub const BUFFER_FULL: u32 = 1 << 8;
    /// In (suspend): do not freeze the filesystem.
    pub const SKIP_LOCKFS: u32 = 1 << 10;
    /// In (suspend): do not flush queued I/O.
    pub const NOFLUSH: u32 = 1 << 11;
    /// In (TABLE_STATUS, TABLE_DEPS, DEV_STATUS): about the inactive table.
    pub const QUERY_INACTIVE_TABLE: u32 = 1 << 12;
    /// Out: a uevent was generated (udev will answer the cookie).
    pub const UEVENT_GENERATED: u32 = 1 << 13;
    /// In (DEV_RENAME): set the uuid instead of the name.
    pub const UUID: u32 = 1 << 14;
    /// In: wipe buffers that held the table (keys).
    pub const SECURE_DATA: u32 = 1 << 15;
    /// Out (TARGET_MSG): the message produced output.
    pub const DATA_OUT: u32 = 1 << 16;
    /// In (DEV_REMOVE): remove when the last opener closes. Out: such a removal is pending.
    pub const DEFERRED_REMOVE: u32 = 1 << 17;
    /// Out: suspended internally by the kernel.
    pub const INTERNAL_SUSPEND: u32 = 1 << 18;
}

/// `DM_NAME_LIST_FLAG_HAS_UUID`.
pub const NAME_LIST_HAS_UUID: u32 = 1;
/// `DM_NAME_LIST_FLAG_DOESNT_HAVE_UUID`.
pub const NAME_LIST_NO_UUID: u32 = 2;

/// How the ioctl addresses a device (only one of name and uuid, never both, except on create).
#[derive(Clone, Copy, Debug, Default)]
pub struct Header<'a> {
    /// Interface version the command needs (the kernel writes its own back).
    pub version: [u32; 3],
    /// `flags` in.
    pub flags: u32,
    /// `event_nr` in (udev cookie and flags; only for remove, rename, resume).
    pub event_nr: u32,
    /// `target_count` in (TABLE_LOAD: the number of specs in the payload).
    pub target_count: u32,
    /// `dev` in (DEV_CREATE with `PERSISTENT_DEV`).
    pub dev: Option<DevNum>,
    /// `name` in.
    pub name: Option<&'a str>,
    /// `uuid` in.
    pub uuid: Option<&'a str>,
}

fn put_u32(buf: &mut [u8], at: usize, v: u32) {
    buf[at..at + 4].copy_from_slice(&v.to_ne_bytes());
}

fn put_u64(buf: &mut [u8], at: usize, v: u64) {
    buf[at..at + 8].copy_from_slice(&v.to_ne_bytes());
}

fn get_u32(buf: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(buf.get(at..at + 4)?.try_into().ok()?))
}

fn get_u64(buf: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(buf.get(at..at + 8)?.try_into().ok()?))
}

/// A NUL-terminated string at `at`, at most `max` bytes (the NUL not counted).
fn get_cstr(buf: &[u8], at: usize, max: usize) -> Option<String> {
    let tail = buf.get(at..)?;
    let tail = &tail[..tail.len().min(max + 1)];
    let end = tail.iter().position(|&b| b == 0)?;
    Some(String::from_utf8_lossy(&tail[..end]).into_owned())
}

/// Rounds up to the next multiple of 8 (`align_ptr` in the kernel; buffers start 8-aligned
/// and the payload starts at 312, a multiple of 8).
pub fn align8(n: usize) -> usize {
    (n + 7) & !7
}

/// An ioctl buffer: the 312-byte header followed by `payload`, `capacity` bytes in all (at
/// least header + payload). `data_size` = the buffer's length, `data_start` = 312.
pub fn build(h: &Header<'_>, payload: &[u8], capacity: usize) -> Vec<u8> {
    let len = capacity.max(HEADER_SIZE + payload.len());
    let mut buf = vec![0u8; len];
    for (i, v) in h.version.iter().enumerate() {
        put_u32(&mut buf, i * 4, *v);
    }
    put_u32(&mut buf, OFF_DATA_SIZE, len as u32);
    put_u32(&mut buf, OFF_DATA_START, HEADER_SIZE as u32);
    put_u32(&mut buf, OFF_TARGET_COUNT, h.target_count);
    put_u32(&mut buf, OFF_FLAGS, h.flags);
    put_u32(&mut buf, OFF_EVENT_NR, h.event_nr);
    if let Some(d) = h.dev {
        put_u64(&mut buf, OFF_DEV, d.to_kernel());
    }
    if let Some(n) = h.name {
        let n = &n.as_bytes()[..n.len().min(DM_NAME_LEN - 1)];
        buf[OFF_NAME..OFF_NAME + n.len()].copy_from_slice(n);
    }
    if let Some(u) = h.uuid {
        let u = &u.as_bytes()[..u.len().min(DM_UUID_LEN - 1)];
        buf[OFF_UUID..OFF_UUID + u.len()].copy_from_slice(u);
    }
    buf[HEADER_SIZE..HEADER_SIZE + payload.len()].copy_from_slice(payload);
    buf
}

/// The header fields the kernel writes back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The kernel's interface version.
    pub version: [u32; 3],
    /// `data_size`: bytes of the buffer used (header included).
    pub data_size: u32,
    /// `data_start`.
    pub data_start: u32,
    /// Targets in the table asked about.
    pub target_count: u32,
    /// Openers of the device.
    pub open_count: i32,
    /// `DM_*_FLAG` bits.
    pub flags: u32,
    /// Event counter (uevent cookie on the way in).
    pub event_nr: u32,
    /// The device's number.
    pub dev: DevNum,
    /// The device's name.
    pub name: String,
    /// The device's uuid (empty: none).
    pub uuid: String,
}

/// Reads the header back; `None` if the buffer is shorter than a header.
pub fn parse_reply(buf: &[u8]) -> Option<Reply> {
    if buf.len() < HEADER_SIZE {
        return None;
    }
    Some(Reply {
        version: [get_u32(buf, 0)?, get_u32(buf, 4)?, get_u32(buf, 8)?],
        data_size: get_u32(buf, OFF_DATA_SIZE)?,
        data_start: get_u32(buf, OFF_DATA_START)?,
        target_count: get_u32(buf, OFF_TARGET_COUNT)?,
        open_count: get_u32(buf, OFF_OPEN_COUNT)? as i32,
        flags: get_u32(buf, OFF_FLAGS)?,
        event_nr: get_u32(buf, OFF_EVENT_NR)?,
        dev: DevNum::from_kernel(get_u64(buf, OFF_DEV)?),
        name: get_cstr(buf, OFF_NAME, DM_NAME_LEN - 1)?,
        uuid: get_cstr(buf, OFF_UUID, DM_UUID_LEN - 1)?,
    })
}

/// The reply's payload: `buf[data_start..data_size]`, clamped to the buffer.
pub fn payload<'b>(buf: &'b [u8], r: &Reply) -> &'b [u8] {
    let start = (r.data_start as usize).min(buf.len());
    let end = (r.data_size as usize).clamp(start, buf.len());
    &buf[start..end]
}

/// One raw table line: start, length, target type, parameters.
pub type RawLine = (u64, u64, String, String);

/// Why a target line cannot go into a TABLE_LOAD payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpecError {
    /// Empty or `DM_MAX_TYPE_NAME` (16) bytes or longer (the kernel needs a NUL in 16).
    TargetType(String),
    /// Parameters containing a NUL byte.
    Params(String),
}

/// TABLE_LOAD payload: one `dm_target_spec` + NUL-terminated params per line, each padded to
/// 8 bytes; `next` is the distance from this spec to the next (0 on the last).
pub fn table_load_payload(lines: &[RawLine]) -> Result<Vec<u8>, SpecError> {
    let mut out = Vec::new();
    for (i, (start, length, ttype, params)) in lines.iter().enumerate() {
        if ttype.is_empty() || ttype.len() >= DM_MAX_TYPE_NAME || ttype.as_bytes().contains(&0) {
            return Err(SpecError::TargetType(ttype.clone()));
        }
        if params.as_bytes().contains(&0) {
            return Err(SpecError::Params(params.clone()));
        }
        let at = out.len();
        let size = align8(SPEC_SIZE + params.len() + 1);
        out.resize(at + size, 0);
        put_u64(&mut out, at, *start);
        put_u64(&mut out, at + 8, *length);
        let next = if i + 1 == lines.len() { 0 } else { size as u32 };
        put_u32(&mut out, at + SPEC_OFF_NEXT, next);
        out[at + SPEC_OFF_TYPE..at + SPEC_OFF_TYPE + ttype.len()].copy_from_slice(ttype.as_bytes());
        out[at + SPEC_SIZE..at + SPEC_SIZE + params.len()].copy_from_slice(params.as_bytes());
    }
    Ok(out)
}

/// TABLE_STATUS reply payload: `count` specs, each `next` counted from the payload's start.
pub fn parse_table_status(data: &[u8], count: u32) -> Option<Vec<RawLine>> {
    let mut out = Vec::with_capacity(count as usize);
    let mut at = 0usize;
    for i in 0..count {
        let start = get_u64(data, at)?;
        let length = get_u64(data, at + 8)?;
        let next = get_u32(data, at + SPEC_OFF_NEXT)? as usize;
        let ttype = get_cstr(data, at + SPEC_OFF_TYPE, DM_MAX_TYPE_NAME - 1)?;
        let params = get_cstr(data, at + SPEC_SIZE, data.len())?;
        out.push((start, length, ttype, params));
        if i + 1 < count {
            if next <= at {
                return None;
            }
            at = next;
        }
    }
    Some(out)
}

/// One entry of a LIST_DEVICES reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameListEntry {
    /// Device number.
    pub dev: DevNum,
    /// Name.
    pub name: String,
    /// Event counter, when the kernel reports it.
    pub event_nr: Option<u32>,
    /// `Some(Some(uuid))` / `Some(None)` (no uuid) when the kernel says (4.45+ kernels);
    /// `None` when it does not tell.
    pub uuid: Option<Option<String>>,
}

/// LIST_DEVICES reply payload. An empty list is a single entry with `dev == 0`.
pub fn parse_name_list(data: &[u8]) -> Option<Vec<NameListEntry>> {
    let mut out = Vec::new();
    if data.len() < 8 || get_u64(data, 0)? == 0 {
        return Some(out);
    }
    let mut at = 0usize;
    loop {
        let dev = DevNum::from_kernel(get_u64(data, at)?);
        let next = get_u32(data, at + 8)? as usize;
        let name = get_cstr(data, at + 12, DM_NAME_LEN - 1)?;
        let mut entry = NameListEntry { dev, name, event_nr: None, uuid: None };
        let extra = align8(at + 12 + entry.name.len() + 1);
        let limit = if next == 0 { data.len() } else { at + next };
        if extra + 8 <= limit {
            entry.event_nr = get_u32(data, extra);
            let f = get_u32(data, extra + 4)?;
            if f & NAME_LIST_HAS_UUID != 0 {
                entry.uuid = Some(Some(get_cstr(data, extra + 8, DM_UUID_LEN - 1)?));
            } else if f & NAME_LIST_NO_UUID != 0 {
                entry.uuid = Some(None);
            }
        }
        out.push(entry);
        if next == 0 {
            return Some(out);
        }
        at += next;
    }
}

/// LIST_VERSIONS reply payload: (name, version) per loaded target; `next` is relative to the
/// current entry, 0 on the last.
pub fn parse_versions(data: &[u8]) -> Option<Vec<(String, [u32; 3])>> {
    let mut out = Vec::new();
    let mut at = 0usize;
    if data.len() < 16 {
        return Some(out);
    }
    loop {
        let next = get_u32(data, at)? as usize;
        let v = [get_u32(data, at + 4)?, get_u32(data, at + 8)?, get_u32(data, at + 12)?];
        let name = get_cstr(data, at + 16, data.len())?;
        out.push((name, v));
        if next == 0 {
            return Some(out);
        }
        at += next;
    }
}

/// TABLE_DEPS reply payload: the device numbers the table uses.
pub fn parse_deps(data: &[u8]) -> Option<Vec<DevNum>> {
    let count = get_u32(data, 0)? as usize;
    (0..count).map(|i| get_u64(data, 8 + 8 * i).map(DevNum::from_kernel)).collect()
}

/// TARGET_MSG payload: the sector and the NUL-terminated message.
pub fn target_msg_payload(sector: u64, message: &str) -> Vec<u8> {
    let mut out = vec![0u8; align8(8 + message.len() + 1)];
    put_u64(&mut out, 0, sector);
    out[8..8 + message.len()].copy_from_slice(message.as_bytes());
    out
}

/// A NUL-terminated string reply payload (TARGET_MSG output).
pub fn parse_string(data: &[u8]) -> String {
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    String::from_utf8_lossy(&data[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_codes() {
        // Measured against the 4.47 header (spec §1.6).
        assert_eq!(Cmd::Version.request(), 0xc138_fd00);
        assert_eq!(Cmd::ListDevices.request(), 0xc138_fd02);
        assert_eq!(Cmd::DevCreate.request(), 0xc138_fd03);
        assert_eq!(Cmd::DevSuspend.request(), 0xc138_fd06);
        assert_eq!(Cmd::TableLoad.request(), 0xc138_fd09);
        assert_eq!(Cmd::GetTargetVersion.request(), 0xc138_fd11);
    }

    #[test]
    fn header_round_trip() {
        let h = Header {
            version: [4, 0, 0],
            flags: flags::READONLY | flags::PERSISTENT_DEV,
            event_nr: 0x0d4d_0001,
            target_count: 2,
            dev: Some(DevNum::new(253, 7)),
            name: Some("vg0-lin"),
            uuid: Some("LVM-abc"),
        };
        let buf = build(&h, b"xyz", 1024);
        assert_eq!(buf.len(), 1024);
        // version, data_size, data_start, target_count, open_count, flags, event_nr
        assert_eq!(&buf[0..12], &[4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(get_u32(&buf, 12), Some(1024));
        assert_eq!(get_u32(&buf, 16), Some(312));
        assert_eq!(get_u32(&buf, 20), Some(2));
        assert_eq!(get_u32(&buf, 28), Some(0b1001));
        assert_eq!(get_u32(&buf, 32), Some(0x0d4d_0001));
        assert_eq!(get_u64(&buf, 40), Some((7 & 0xff) | (253 << 8)));
        assert_eq!(&buf[48..56], b"vg0-lin\0");
        assert_eq!(&buf[176..184], b"LVM-abc\0");
        assert_eq!(&buf[312..315], b"xyz");
        let r = parse_reply(&buf).unwrap();
        assert_eq!((r.name.as_str(), r.uuid.as_str(), r.dev), ("vg0-lin", "LVM-abc", DevNum::new(253, 7)));
        assert_eq!(payload(&buf, &r).len(), 1024 - 312);
        // A payload larger than the asked capacity grows the buffer.
        assert_eq!(build(&Header::default(), &[1; 100], 0).len(), 412);
    }

    #[test]
    fn table_load_layout() {
        let lines = vec![
            (0, 8192, "linear".to_string(), "7:0 2048".to_string()),
            (8192, 8, "zero".to_string(), String::new()),
        ];
        let p = table_load_payload(&lines).unwrap();
        // spec 0: 40 + "7:0 2048\0" (9) = 49 -> 56; spec 1: 40 + "\0" -> 48
        assert_eq!(p.len(), 56 + 48);
        assert_eq!(get_u64(&p, 0), Some(0));
        assert_eq!(get_u64(&p, 8), Some(8192));
        assert_eq!(get_u32(&p, 20), Some(56), "next is relative to this spec");
        assert_eq!(&p[24..31], b"linear\0");
        assert_eq!(&p[40..49], b"7:0 2048\0");
        assert_eq!(get_u64(&p, 56), Some(8192));
        assert_eq!(get_u32(&p, 56 + 20), Some(0));
        assert_eq!(&p[56 + 24..56 + 29], b"zero\0");
        let long = vec![(0, 8, "a-very-long-target".to_string(), String::new())];
        assert!(matches!(table_load_payload(&long), Err(SpecError::TargetType(_))));
        let nul = vec![(0, 8, "zero".to_string(), "a\0b".to_string())];
        assert!(matches!(table_load_payload(&nul), Err(SpecError::Params(_))));
    }

    #[test]
    fn table_status_offsets_are_from_the_first_spec() {
        // Lay out what the kernel returns: the load layout, with `next` made absolute.
        let lines = vec![
            (0, 16, "striped".to_string(), "2 8 98:16 0 98:32 0".to_string()),
            (16, 8, "error".to_string(), String::new()),
            (24, 8, "linear".to_string(), "98:16 100".to_string()),
        ];
        let mut p = table_load_payload(&lines).unwrap();
        let first = get_u32(&p, 20).unwrap();
        let second = get_u32(&p, first as usize + 20).unwrap();
        put_u32(&mut p, first as usize + 20, first + second);
        put_u32(&mut p, 20, first);
        assert_eq!(parse_table_status(&p, 3).unwrap(), lines);
        assert!(parse_table_status(&p[..20], 1).is_none());
    }

    #[test]
    fn name_list() {
        let mut d = vec![0u8; 256];
        // entry 0 at 0: dev 254:0, name "a-b", event 3, uuid "LVM-x"; next at 40
        put_u64(&mut d, 0, DevNum::new(254, 0).to_kernel());
        put_u32(&mut d, 8, 40);
        d[12..16].copy_from_slice(b"a-b\0");
        put_u32(&mut d, 16, 3);
        put_u32(&mut d, 20, NAME_LIST_HAS_UUID);
        d[24..30].copy_from_slice(b"LVM-x\0");
        // entry 1 at 40: dev 254:1, "c", no uuid, last
        put_u64(&mut d, 40, DevNum::new(254, 1).to_kernel());
        d[52..54].copy_from_slice(b"c\0");
        put_u32(&mut d, 56, 0);
        put_u32(&mut d, 60, NAME_LIST_NO_UUID);
        d.truncate(64);
        let l = parse_name_list(&d).unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].name, "a-b");
        assert_eq!(l[0].dev, DevNum::new(254, 0));
        assert_eq!(l[0].event_nr, Some(3));
        assert_eq!(l[0].uuid, Some(Some("LVM-x".into())));
        assert_eq!(l[1].uuid, Some(None));
        // No devices: dev 0.
        assert!(parse_name_list(&[0u8; 16]).unwrap().is_empty());
        // Old kernels: no event/flags after the name.
        let mut old = vec![0u8; 16];
        put_u64(&mut old, 0, DevNum::new(254, 2).to_kernel());
        old[12..14].copy_from_slice(b"d\0");
        let l = parse_name_list(&old).unwrap();
        assert_eq!((l[0].name.as_str(), l[0].uuid.clone()), ("d", None));
    }

    #[test]
    fn versions_and_deps_and_messages() {
        let mut d = vec![0u8; 64];
        put_u32(&mut d, 0, 24);
        put_u32(&mut d, 4, 1);
        put_u32(&mut d, 8, 4);
        d[16..23].copy_from_slice(b"linear\0");
        put_u32(&mut d, 24, 0);
        put_u32(&mut d, 28, 1);
        put_u32(&mut d, 32, 22);
        d[40..50].copy_from_slice(b"thin-pool\0");
        assert_eq!(
            parse_versions(&d).unwrap(),
            vec![("linear".to_string(), [1, 4, 0]), ("thin-pool".to_string(), [1, 22, 0])]
        );
        let mut deps = vec![0u8; 24];
        put_u32(&mut deps, 0, 2);
        put_u64(&mut deps, 8, DevNum::new(98, 16).to_kernel());
        put_u64(&mut deps, 16, DevNum::new(98, 32).to_kernel());
        assert_eq!(parse_deps(&deps).unwrap(), vec![DevNum::new(98, 16), DevNum::new(98, 32)]);
        assert!(parse_deps(&deps[..16]).is_none());
        let m = target_msg_payload(0, "create_thin 1");
        assert_eq!(m.len(), 24);
        assert_eq!(&m[8..22], b"create_thin 1\0");
        assert_eq!(parse_string(b"ok\0junk"), "ok");
    }
}
