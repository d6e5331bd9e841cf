//! Finding processes through `/proc`: the rsync a test started, the sessions an sshd serves.
//!
//! Tests run side by side in one process, so "the rsync" is always narrowed down by what its
//! command line mentions (the test's own directory), never by name alone.

use std::fs;
use std::path::Path;

/// One process, as `/proc` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    /// Its id.
    pub pid: u32,
    /// Its parent's id.
    pub parent: u32,
    /// Its name (`/proc/PID/comm`).
    pub name: String,
    /// Its arguments joined by spaces (empty for a zombie or a kernel thread).
    pub command_line: String,
}

/// Every process there is (those that exit while being read are left out).
pub fn all() -> Vec<Process> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let name = fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            let arguments = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            Some(Process {
                pid,
                parent: parent_of(pid)?,
                name: name.trim().to_string(),
                command_line: String::from_utf8_lossy(&arguments).replace('\0', " "),
            })
        })
        .collect()
}

/// The processes named `name` whose command line mentions `path`.
pub fn named_mentioning(name: &str, path: &Path) -> Vec<u32> {
    let path = path.display().to_string();
    all()
        .into_iter()
        .filter(|p| p.name == name && p.command_line.contains(&path))
        .map(|p| p.pid)
        .collect()
}

/// Every process descended from `root` (not `root` itself).
pub fn descendants(root: u32) -> Vec<u32> {
    let processes = all();
    let mut found = vec![root];
    let mut index = 0;
    while index < found.len() {
        let parent = found[index];
        found.extend(
            processes
                .iter()
                .filter(|p| p.parent == parent)
                .map(|p| p.pid),
        );
        index += 1;
    }
    found.remove(0);
    found
}

/// The parent of `pid`, from `/proc/PID/stat` (its fourth field, after the parenthesised name).
pub fn parent_of(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_is_found_by_its_parent_and_its_command_line() {
        let marker = format!("burnstation-procfs-test-{}", std::process::id());
        // `sh -c SCRIPT NAME`: the name is only the script's $0, but it is in the command line.
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 30", &marker])
            .spawn()
            .unwrap();
        let pid = child.id();
        assert!(descendants(std::process::id()).contains(&pid));
        assert_eq!(parent_of(pid), Some(std::process::id()));
        assert_eq!(named_mentioning("sh", Path::new(&marker)), [pid]);
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(named_mentioning("sh", Path::new(&marker)).is_empty());
    }
}
