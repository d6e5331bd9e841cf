//! A writer for the "newc" cpio format, the format the kernel unpacks an initramfs from.
//!
//! Written here rather than by running `cpio` over a directory because the initramfs needs a
//! `/dev/console` device node (the kernel opens it for init's stdin/stdout before `/init`
//! runs), and making one on disk needs root; in an archive it is just a header. Every entry
//! is owned by root with mtime 0, so the same inputs give the same bytes.
//!
//! Format (see the kernel's `Documentation/driver-api/early-userspace/buffer-format.rst`):
//! a 110-byte ASCII header of "070701" and 13 eight-digit hex fields, the NUL-terminated
//! name, padding to 4 bytes, the data, padding to 4 bytes; the archive ends with an entry
//! named `TRAILER!!!`.

use std::io::{self, Write};

/// File type bits of `st_mode`.
const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;
const S_IFCHR: u32 = 0o020000;

/// Writes a newc archive entry by entry.
#[derive(Debug)]
pub struct CpioWriter<W: Write> {
    out: W,
    next_inode: u32,
    offset: u64,
}

/// The device numbers of a character device node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceNumber {
    /// Major number.
    pub major: u32,
    /// Minor number.
    pub minor: u32,
}

impl<W: Write> CpioWriter<W> {
    /// Starts an archive on `out`.
    pub fn new(out: W) -> CpioWriter<W> {
        CpioWriter {
            out,
            next_inode: 1,
            offset: 0,
        }
    }

    /// A directory (`path` relative, without a leading `/`).
    pub fn directory(&mut self, path: &str, permissions: u32) -> io::Result<()> {
        self.entry(path, S_IFDIR | permissions, 2, None, &[])
    }

    /// A regular file holding `data`.
    pub fn file(&mut self, path: &str, permissions: u32, data: &[u8]) -> io::Result<()> {
        self.entry(path, S_IFREG | permissions, 1, None, data)
    }

    /// A symbolic link to `target`.
    pub fn symlink(&mut self, path: &str, target: &str) -> io::Result<()> {
        self.entry(path, S_IFLNK | 0o777, 1, None, target.as_bytes())
    }

    /// A character device node.
    pub fn char_device(
        &mut self,
        path: &str,
        permissions: u32,
        device: DeviceNumber,
    ) -> io::Result<()> {
        self.entry(path, S_IFCHR | permissions, 1, Some(device), &[])
    }

    /// Writes the trailer and hands back the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.next_inode = 0;
        self.entry("TRAILER!!!", 0, 1, None, &[])?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn entry(
        &mut self,
        path: &str,
        mode: u32,
        links: u32,
        device: Option<DeviceNumber>,
        data: &[u8],
    ) -> io::Result<()> {
        let too_big = |what| io::Error::new(io::ErrorKind::InvalidInput, format!("{path}: {what}"));
        let size = u32::try_from(data.len()).map_err(|_| too_big("larger than 4 GiB"))?;
        let name_size =
            u32::try_from(path.len() + 1).map_err(|_| too_big("name longer than 4 GiB"))?;
        let device = device.unwrap_or(DeviceNumber { major: 0, minor: 0 });
        let inode = self.next_inode;
        if inode != 0 {
            self.next_inode += 1;
        }
        let fields = [
            inode,
            mode,
            0, // uid
            0, // gid
            links,
            0, // mtime
            size,
            0, // major of the device holding the file
            0, // minor of the device holding the file
            device.major,
            device.minor,
            name_size,
            0, // checksum, unused by newc
        ];
        let mut header = String::with_capacity(110);
        header.push_str("070701");
        for field in fields {
            header.push_str(&format!("{field:08X}"));
        }
        self.write(header.as_bytes())?;
        self.write(path.as_bytes())?;
        self.write(&[0])?;
        self.pad()?;
        self.write(data)?;
        self.pad()
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.offset += bytes.len() as u64;
        Ok(())
    }

    fn pad(&mut self) -> io::Result<()> {
        let padding = (4 - self.offset % 4) % 4;
        self.write(&[0; 3][..padding as usize])
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;
    use crate::tools;

    fn sample() -> Vec<u8> {
        let mut cpio = CpioWriter::new(Vec::new());
        cpio.directory("bin", 0o755).unwrap();
        cpio.file("bin/hello", 0o755, b"#!/bin/sh\necho hi\n")
            .unwrap();
        cpio.file("odd", 0o644, b"12345").unwrap();
        cpio.symlink("sbin", "bin").unwrap();
        cpio.directory("dev", 0o755).unwrap();
        cpio.char_device("dev/console", 0o600, DeviceNumber { major: 5, minor: 1 })
            .unwrap();
        cpio.finish().unwrap()
    }

    #[test]
    fn the_first_header_is_byte_exact() {
        let archive = sample();
        let expected = "070701\
                        00000001\
                        000041ED\
                        00000000\
                        00000000\
                        00000002\
                        00000000\
                        00000000\
                        00000000\
                        00000000\
                        00000000\
                        00000000\
                        00000004\
                        00000000\
                        bin\0";
        assert_eq!(&archive[..expected.len()], expected.as_bytes());
        // 110 + 4 = 114 bytes, padded to 116.
        assert_eq!(&archive[114..116], b"\0\0");
        assert_eq!(&archive[116..122], b"070701");
    }

    #[test]
    fn entries_are_aligned_and_the_archive_ends_with_the_trailer() {
        let archive = sample();
        assert_eq!(archive.len() % 4, 0);
        let text = String::from_utf8_lossy(&archive);
        assert!(text.contains("TRAILER!!!\0"));
    }

    /// GNU cpio, an independent reader, lists every entry with its type, mode and target.
    #[test]
    fn gnu_cpio_reads_it_back() {
        let cpio = tools::Tool {
            program: "cpio",
            package: "cpio",
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sample.cpio");
        std::fs::write(&path, sample()).unwrap();
        let mut command = cpio.command().unwrap_or_else(|e| panic!("{e}"));
        command.args(["-t", "-v", "--quiet", "-F"]).arg(&path);
        let listing = String::from_utf8(tools::run(&mut command).unwrap().stdout).unwrap();
        let summary: Vec<String> = listing
            .lines()
            .map(|line| {
                let words: Vec<&str> = line.split_whitespace().collect();
                format!("{} {}", words[0], words[words.len() - 1])
            })
            .collect();
        assert_eq!(
            summary,
            [
                "drwxr-xr-x bin",
                "-rwxr-xr-x bin/hello",
                "-rw-r--r-- odd",
                "lrwxrwxrwx bin",
                "drwxr-xr-x dev",
                "crw------- dev/console",
            ],
            "{listing}"
        );
        assert!(listing.contains("sbin -> bin"), "{listing}");

        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let mut extract = Command::new("cpio");
        extract
            .current_dir(&out)
            .args(["-i", "--quiet", "--nonmatching", "-F"])
            .arg(&path)
            // Making a device node needs root; the listing above already checked it.
            .arg("dev/console");
        tools::run(&mut extract).unwrap();
        assert_eq!(
            std::fs::read(out.join("bin/hello")).unwrap(),
            b"#!/bin/sh\necho hi\n"
        );
        assert_eq!(std::fs::read(out.join("odd")).unwrap(), b"12345");
    }
}
