//! The bytes of the image's metadata: each directory of both trees (with Rock Ridge and
//! its continuation areas), the path tables and the volume descriptors, from a [`Layout`].
//!
//! The layout calls these with placeholder numbers to measure each structure, and the
//! stream calls them again with the real numbers to write it; nothing here may make a
//! length depend on a number. Records never cross a block, nor do continuation areas.

use super::layout::{DirectoryBytes, Layout, NodeKind};
use super::names;
use super::records::{
    self, BLOCK, BLOCK_USIZE, DescriptorKind, FLAG_DIRECTORY, FLAG_MULTI_EXTENT, RecordHead,
    RecordName, VolumeDescriptor,
};
use super::susp::{self, PosixAttributes, SuspItem};

fn blocks_for(bytes: u64) -> u64 {
    bytes.div_ceil(BLOCK)
}

impl Layout {
    fn attributes(&self, node: u32) -> PosixAttributes {
        let n = &self.nodes[node as usize];
        PosixAttributes {
            mode: n.mode,
            nlink: n.nlink,
            uid: n.uid,
            gid: n.gid,
            serial: n.serial,
            mtime: n.mtime,
        }
    }

    /// Data length and extent of a node as its records describe it: (records, flags base).
    fn node_extents(&self, node: u32) -> Vec<(u32, u32)> {
        match &self.nodes[node as usize].kind {
            NodeKind::Directory { .. } => unreachable!("directories are handled by the caller"),
            NodeKind::File { data } if self.data[*data as usize].size > 0 => self
                .extents_of(*data)
                .into_iter()
                .map(|e| (e.lba as u32, e.length as u32))
                .collect(),
            _ => vec![(self.zero_block_lba as u32, 0)],
        }
    }

    /// The bytes of one ISO-tree directory (records with Rock Ridge) and its continuation
    /// blocks, with the numbers currently in the plan.
    pub(crate) fn iso_directory_bytes(&self, dir: u32) -> DirectoryBytes {
        let d = &self.dirs[dir as usize];
        let mut out = DirectoryBuilder::new(d.ce_lba);
        let parent_node = self.nodes[d.node as usize].parent;
        let parent = &self.dirs[self.dir_of(parent_node) as usize];
        let own_attrs = self.attributes(d.node);
        let mut dot_items = Vec::new();
        if dir == 0 {
            dot_items.push(SuspItem::Entry(susp::sp()));
        }
        dot_items.extend(susp::record_items(&own_attrs, None, None));
        if dir == 0 {
            dot_items.push(SuspItem::Entry(susp::er()));
        }
        out.record(
            &RecordHead {
                extent_lba: d.iso_lba as u32,
                data_length: d.iso_bytes as u32,
                recorded: own_attrs.mtime,
                flags: FLAG_DIRECTORY,
                name: RecordName::Current,
            },
            &dot_items,
        );
        let parent_attrs = self.attributes(parent_node);
        out.record(
            &RecordHead {
                extent_lba: parent.iso_lba as u32,
                data_length: parent.iso_bytes as u32,
                recorded: parent_attrs.mtime,
                flags: FLAG_DIRECTORY,
                name: RecordName::Parent,
            },
            &susp::record_items(&parent_attrs, None, None),
        );
        for &kid in &d.iso_children {
            let node = &self.nodes[kid as usize];
            let attrs = self.attributes(kid);
            let name = RecordName::Named(self.iso_name(kid));
            match &node.kind {
                NodeKind::Directory { dir: child } => {
                    let c = &self.dirs[*child as usize];
                    out.record(
                        &RecordHead {
                            extent_lba: c.iso_lba as u32,
                            data_length: c.iso_bytes as u32,
                            recorded: attrs.mtime,
                            flags: FLAG_DIRECTORY,
                            name,
                        },
                        &susp::record_items(&attrs, Some(self.name(kid)), None),
                    );
                }
                kind => {
                    let target = match kind {
                        NodeKind::Symlink { target } => Some(self.target(*target)),
                        _ => None,
                    };
                    let items = susp::record_items(&attrs, Some(self.name(kid)), target);
                    let extents = self.node_extents(kid);
                    let last = extents.len() - 1;
                    for (index, (lba, length)) in extents.into_iter().enumerate() {
                        let flags = if index < last { FLAG_MULTI_EXTENT } else { 0 };
                        out.record(
                            &RecordHead {
                                extent_lba: lba,
                                data_length: length,
                                recorded: attrs.mtime,
                                flags,
                                name,
                            },
                            &items,
                        );
                    }
                }
            }
        }
        out.finish()
    }

    /// The bytes of one Joliet directory (bare records, UCS-2 names).
    pub(crate) fn joliet_directory_bytes(&self, dir: u32) -> Vec<u8> {
        let d = &self.dirs[dir as usize];
        let parent_node = self.nodes[d.node as usize].parent;
        let parent = &self.dirs[self.dir_of(parent_node) as usize];
        let mut out = DirectoryBuilder::new(0);
        let own = &self.nodes[d.node as usize];
        out.record(
            &RecordHead {
                extent_lba: d.joliet_lba as u32,
                data_length: d.joliet_bytes as u32,
                recorded: own.mtime,
                flags: FLAG_DIRECTORY,
                name: RecordName::Current,
            },
            &[],
        );
        out.record(
            &RecordHead {
                extent_lba: parent.joliet_lba as u32,
                data_length: parent.joliet_bytes as u32,
                recorded: self.nodes[parent_node as usize].mtime,
                flags: FLAG_DIRECTORY,
                name: RecordName::Parent,
            },
            &[],
        );
        for &kid in &d.joliet_children {
            let node = &self.nodes[kid as usize];
            let name = names::ucs2_be(self.joliet_name(kid));
            if let NodeKind::Directory { dir: child } = node.kind {
                let c = &self.dirs[child as usize];
                out.record(
                    &RecordHead {
                        extent_lba: c.joliet_lba as u32,
                        data_length: c.joliet_bytes as u32,
                        recorded: node.mtime,
                        flags: FLAG_DIRECTORY,
                        name: RecordName::Named(&name),
                    },
                    &[],
                );
                continue;
            }
            let extents = self.node_extents(kid);
            let last = extents.len() - 1;
            for (index, (lba, length)) in extents.into_iter().enumerate() {
                out.record(
                    &RecordHead {
                        extent_lba: lba,
                        data_length: length,
                        recorded: node.mtime,
                        flags: if index < last { FLAG_MULTI_EXTENT } else { 0 },
                        name: RecordName::Named(&name),
                    },
                    &[],
                );
            }
        }
        out.finish().extent
    }

    /// One path table of one tree, whole blocks, little- or big-endian.
    pub(crate) fn path_table(&self, joliet: bool, big: bool) -> Vec<u8> {
        let order = if joliet {
            &self.joliet_path_order
        } else {
            &self.iso_path_order
        };
        let mut out = Vec::new();
        for &dir in order {
            let d = &self.dirs[dir as usize];
            let node = &self.nodes[d.node as usize];
            let parent = &self.dirs[self.dir_of(node.parent) as usize];
            let (name, lba, parent_number) = if joliet {
                (
                    names::ucs2_be(self.joliet_name(d.node)),
                    d.joliet_lba,
                    parent.joliet_number,
                )
            } else {
                (self.iso_name(d.node).to_vec(), d.iso_lba, parent.iso_number)
            };
            let name = if dir == 0 { vec![0] } else { name };
            records::put_path_record(&mut out, &name, lba as u32, parent_number, big);
        }
        out.resize(out.len().div_ceil(BLOCK_USIZE) * BLOCK_USIZE, 0);
        out
    }

    /// The three volume descriptor blocks (primary, Joliet, terminator).
    pub(crate) fn descriptors(&self) -> Vec<u8> {
        let root = &self.dirs[0];
        let iso_id = names::iso_volume_id(&self.volume_id);
        let joliet_id = names::joliet_volume_id(&self.volume_id);
        let mut out = records::volume_descriptor(&VolumeDescriptor {
            kind: DescriptorKind::Primary,
            volume_id: &iso_id,
            volume_blocks: self.total_blocks as u32,
            path_table_bytes: self.used_path_table_bytes(false),
            path_table_l_lba: self.iso_path_table_lba as u32,
            path_table_m_lba: (self.iso_path_table_lba + blocks_for(self.iso_path_table_bytes))
                as u32,
            root_lba: root.iso_lba as u32,
            root_bytes: root.iso_bytes as u32,
            volume_time: self.volume_time,
        });
        out.extend(records::volume_descriptor(&VolumeDescriptor {
            kind: DescriptorKind::Joliet,
            volume_id: &joliet_id,
            volume_blocks: self.total_blocks as u32,
            path_table_bytes: self.used_path_table_bytes(true),
            path_table_l_lba: self.joliet_path_table_lba as u32,
            path_table_m_lba: (self.joliet_path_table_lba
                + blocks_for(self.joliet_path_table_bytes)) as u32,
            root_lba: root.joliet_lba as u32,
            root_bytes: root.joliet_bytes as u32,
            volume_time: self.volume_time,
        }));
        out.extend(records::terminator());
        out
    }

    /// The path table's size as the descriptor records it: the bytes of its records.
    fn used_path_table_bytes(&self, joliet: bool) -> u32 {
        let order = if joliet {
            &self.joliet_path_order
        } else {
            &self.iso_path_order
        };
        order
            .iter()
            .map(|&dir| {
                let node = self.dirs[dir as usize].node;
                let len = if dir == 0 {
                    1
                } else if joliet {
                    self.joliet_name(node).len() * 2
                } else {
                    self.iso_name(node).len()
                };
                records::path_record_len(len) as u32
            })
            .sum()
    }
}

/// Packs directory records into blocks (never across a block boundary) and their
/// continuation areas into the directory's continuation blocks (never across a block).
struct DirectoryBuilder {
    extent: Vec<u8>,
    continuation: Vec<u8>,
    continuation_lba: u64,
}

impl DirectoryBuilder {
    fn new(continuation_lba: u64) -> Self {
        DirectoryBuilder {
            extent: Vec::with_capacity(BLOCK_USIZE),
            continuation: Vec::new(),
            continuation_lba,
        }
    }

    /// Places an area in the continuation blocks and returns (lba, offset).
    fn place_area(&mut self, area: &[u8]) -> (u32, u32) {
        let in_block = self.continuation.len() % BLOCK_USIZE;
        if in_block + area.len() > BLOCK_USIZE {
            let pad = BLOCK_USIZE - in_block;
            self.continuation.resize(self.continuation.len() + pad, 0);
        }
        let at = self.continuation.len();
        self.continuation.extend_from_slice(area);
        (
            (self.continuation_lba + (at / BLOCK_USIZE) as u64) as u32,
            (at % BLOCK_USIZE) as u32,
        )
    }

    fn record(&mut self, head: &RecordHead<'_>, items: &[SuspItem<'_>]) {
        let name_len = match head.name {
            RecordName::Named(name) => name.len(),
            _ => 1,
        };
        let budget = 254 - records::record_head_len(name_len);
        let mut system_use = susp::split(items, budget);
        // Areas go into the continuation blocks in chain order; then each CE is pointed at
        // the area that follows it.
        let areas = std::mem::take(&mut system_use.areas);
        let locations: Vec<(u32, u32)> = areas.iter().map(|a| self.place_area(a)).collect();
        for index in 1..areas.len() {
            let (lba, offset) = locations[index];
            let start = self.area_start(locations[index - 1]);
            let end = start + areas[index - 1].len();
            let len = areas[index].len() as u32;
            susp::patch_ce(&mut self.continuation[start..end], lba, offset, len);
        }
        if let (Some(&(lba, offset)), Some(first)) = (locations.first(), areas.first()) {
            susp::patch_ce(&mut system_use.record, lba, offset, first.len() as u32);
        }
        let len = records::record_head_len(name_len) + system_use.record.len();
        let len = len + len % 2;
        let in_block = self.extent.len() % BLOCK_USIZE;
        if in_block + len > BLOCK_USIZE {
            let pad = BLOCK_USIZE - in_block;
            self.extent.resize(self.extent.len() + pad, 0);
        }
        records::put_directory_record(&mut self.extent, head, &system_use.record);
    }

    fn area_start(&self, (lba, offset): (u32, u32)) -> usize {
        (u64::from(lba) - self.continuation_lba) as usize * BLOCK_USIZE + offset as usize
    }

    fn finish(mut self) -> DirectoryBytes {
        let extent_len = self.extent.len().div_ceil(BLOCK_USIZE) * BLOCK_USIZE;
        self.extent.resize(extent_len, 0);
        let ce_len = self.continuation.len().div_ceil(BLOCK_USIZE) * BLOCK_USIZE;
        self.continuation.resize(ce_len, 0);
        DirectoryBytes {
            extent: self.extent,
            continuation: self.continuation,
        }
    }
}
