//! ISO 9660 with Joliet and Rock Ridge: the layout of a whole image planned from a tree's
//! metadata, a streaming writer that produces its bytes in LBA order, and a reader.
//!
//! The modules follow the data: `entry` (what the tree holds) -> `names` and `susp` (how each
//! entry is named and described) -> `records` (the byte encoders) -> `layout` (where
//! everything goes) -> `directories` (the metadata's bytes) -> `stream` (the image's bytes,
//! hashed on the way) and `manifest` (`SHA256SUMS`, written and parsed); `reader` goes the
//! other way (with `extract` writing a read tree onto disk), and `regions` says which file
//! owns which block of either. `warnings` lists what the layout could not hold as given.
//! docs/iso9660.md explains the choices.

mod directories;
pub mod entry;
mod extract;
pub mod layout;
pub mod manifest;
pub mod names;
pub mod reader;
pub mod records;
pub mod regions;
pub mod source;
pub mod stream;
pub mod susp;
pub mod warnings;

pub use entry::{
    EntryKind, LinkIdentity, ScanError, ScanEvent, SourceEntry, Timestamp, scan_tree,
    scan_tree_each, scan_tree_with,
};
pub use layout::{
    DataFileRef, DirectoryCost, Extent, FileOrigin, GeneratedFile, ImageOptions, Layout,
    LayoutError, PlannedFile, Structure,
};
pub use manifest::{MANIFEST_NAME, ManifestEntry, ManifestFormatError, parse_manifest};
pub use reader::{FileReader, IsoEntry, IsoEntryKind, IsoImage, ReadError, TreeKind, VolumeInfo};
pub use records::BLOCK;
pub use regions::{
    Owner, OwnerRef, Region, RegionError, RegionHasher, RegionHashes, RegionMap, owners_of,
};
pub use source::{FileSource, OpenedFile, TreeSource, open_range};
pub use stream::{FileDigest, ImageDigest, ImageStream, StreamError};
pub use warnings::ImageWarning;

#[cfg(test)]
mod tests {
    /// The burn pipeline produces the stream on one thread and shares the layout with the
    /// verifier: these bounds are part of the API.
    #[test]
    fn the_stream_can_move_to_a_producer_thread_and_the_layout_can_be_shared() {
        fn send<T: Send>() {}
        fn send_sync<T: Send + Sync>() {}
        send::<super::ImageStream>();
        send::<super::IsoImage<std::fs::File>>();
        send_sync::<super::Layout>();
        send_sync::<super::ImageDigest>();
    }
}
