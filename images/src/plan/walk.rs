//! Paths of snapshot entries visited in increasing index order (depth-first pre-order),
//! built incrementally from the parent's path instead of walking up for every entry.

use super::snapshot::{Kind, Snapshot};

/// Builds the path of each entry visited, under a prefix (e.g. `backup`).
#[derive(Debug)]
pub(crate) struct PathWalker {
    prefix_len: usize,
    path: Vec<u8>,
    /// The directories on the current path: (index, length of its path).
    stack: Vec<(u32, usize)>,
}

impl PathWalker {
    pub(crate) fn new(prefix: &[u8]) -> PathWalker {
        PathWalker {
            prefix_len: prefix.len(),
            path: prefix.to_vec(),
            stack: Vec::new(),
        }
    }

    fn push_name(&mut self, name: &[u8]) {
        if !self.path.is_empty() {
            self.path.push(b'/');
        }
        self.path.extend_from_slice(name);
    }

    /// The path of entry `index` (not the root). Indices must come in increasing order
    /// for the walk to stay cheap; any order is correct.
    pub(crate) fn path(&mut self, snapshot: &Snapshot, index: u32) -> &[u8] {
        let parent = snapshot.entry(index).parent();
        while let Some(&(dir, _)) = self.stack.last() {
            if dir == parent {
                break;
            }
            self.stack.pop();
        }
        if self.stack.is_empty() {
            self.path.truncate(self.prefix_len);
            self.stack.push((0, self.prefix_len));
            if parent != 0 {
                for ancestor in snapshot.ancestors(index) {
                    self.push_name(snapshot.entry(ancestor).name());
                    self.stack.push((ancestor, self.path.len()));
                }
            }
        }
        let &(_, len) = self.stack.last().expect("the parent is on the stack");
        self.path.truncate(len);
        self.push_name(snapshot.entry(index).name());
        if snapshot.entry(index).kind() == Kind::Directory {
            self.stack.push((index, self.path.len()));
        }
        &self.path
    }
}
