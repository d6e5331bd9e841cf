//! Bad input gives clear errors naming the entry, never a silently wrong image; and the
//! layout's map of blocks names the right owner for every block.

use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use burnstation_images::iso9660::{
    EntryKind, FileOrigin, GeneratedFile, ImageOptions, ImageStream, IsoImage, Layout, LayoutError,
    RegionMap, ScanError, ScanEvent, SourceEntry, StreamError, Structure, Timestamp, scan_tree,
    scan_tree_with,
};
use burnstation_tests::awkward::*;

fn small_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir(dir.path().join("sub")).expect("mkdir");
    fs::write(dir.path().join("sub/victim.txt"), vec![7u8; 5000]).expect("write");
    fs::write(dir.path().join("other.txt"), b"other").expect("write");
    dir
}

/// Streams the image of `root` after `change` ran between planning and streaming; returns
/// the error `read` gave (as our typed error) and the one `finish` gave.
fn stream_after(root: &Path, change: impl FnOnce()) -> (StreamError, StreamError) {
    let layout = Layout::plan(scan_tree(root).expect("scan"), &options()).expect("plan");
    change();
    let mut stream = ImageStream::new(layout, root.to_path_buf());
    let mut buf = vec![0u8; 1 << 16];
    let read_error = loop {
        match stream.read(&mut buf) {
            Ok(0) => panic!("the stream ended although a file changed"),
            Ok(_) => {}
            Err(e) => break e,
        }
    };
    let typed = read_error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<StreamError>())
        .expect("the io::Error carries our StreamError")
        .clone();
    // Reading again keeps failing, and finish reports the same error.
    assert!(stream.read(&mut buf).is_err());
    let finished = stream.finish().expect_err("finish reports the error");
    (typed, finished)
}

#[test]
fn a_vanished_file_stops_the_stream_naming_it() {
    let dir = small_tree();
    let (read, finish) = stream_after(dir.path(), || {
        fs::remove_file(dir.path().join("sub/victim.txt")).expect("rm")
    });
    assert!(matches!(read, StreamError::Open { ref path, .. } if path == "sub/victim.txt"));
    assert_eq!(read.to_string(), finish.to_string());
    assert!(read.to_string().contains("plan the image again"), "{read}");
}

#[test]
fn a_file_that_grew_or_shrank_stops_the_stream_naming_it() {
    let dir = small_tree();
    let victim = dir.path().join("sub/victim.txt");
    let (grew, _) = stream_after(dir.path(), || {
        fs::write(&victim, vec![7u8; 5001]).expect("w")
    });
    assert!(
        matches!(grew, StreamError::SizeChanged { ref path, planned: 5000, .. } if path == "sub/victim.txt"),
        "{grew:?}"
    );
    assert!(grew.to_string().contains("grown"), "{grew}");
    let (shrank, _) = stream_after(dir.path(), || fs::write(&victim, vec![7u8; 10]).expect("w"));
    assert!(shrank.to_string().contains("sub/victim.txt"), "{shrank}");
    assert!(
        shrank.to_string().contains("ends after 10 bytes"),
        "{shrank}"
    );
}

#[test]
fn a_file_unreadable_while_streaming_stops_the_stream_naming_it() {
    let dir = small_tree();
    let victim = dir.path().join("sub/victim.txt");
    // A directory in its place opens but cannot be read (EISDIR), even for root.
    let (read, _) = stream_after(dir.path(), || {
        fs::remove_file(&victim).expect("rm");
        fs::create_dir(&victim).expect("mkdir");
    });
    assert!(
        matches!(read, StreamError::Read { ref path, .. } if path == "sub/victim.txt"),
        "{read:?}"
    );
}

#[test]
fn a_file_rewritten_to_the_same_size_before_it_is_read_stops_the_stream_naming_it() {
    let dir = small_tree();
    let victim = dir.path().join("sub/victim.txt");
    let (read, _) = stream_after(dir.path(), || {
        fs::write(&victim, vec![8u8; 5000]).expect("rewrite");
        // Whatever second the rewrite fell in, the clock has moved on since the plan.
        let later = fs::metadata(&victim).unwrap().modified().unwrap() + Duration::from_secs(2);
        fs::File::options()
            .write(true)
            .open(&victim)
            .unwrap()
            .set_modified(later)
            .unwrap();
    });
    assert!(
        matches!(read, StreamError::Changed { ref path, .. } if path == "sub/victim.txt"),
        "{read:?}"
    );
    assert!(read.to_string().contains("plan the image again"), "{read}");
}

/// Streams the image of a tree holding one 4 MiB file, `big.bin`, running `change` once the
/// stream is well inside that file's data; returns the error the stream stopped with.
fn change_while_streaming(change: impl FnOnce(&Path)) -> StreamError {
    let dir = tempfile::tempdir().expect("tempdir");
    let big = dir.path().join("big.bin");
    fs::write(&big, vec![1u8; 4 << 20]).expect("write");
    let layout = Layout::plan(scan_tree(dir.path()).expect("scan"), &options()).expect("plan");
    let start = layout
        .data_files()
        .find(|f| f.names().any(|n| n == b"big.bin"))
        .expect("big.bin is on the disc")
        .extents()[0]
        .lba
        * 2048;
    let mut stream = ImageStream::new(layout, dir.path().to_path_buf());
    let mut buf = vec![0u8; 1 << 16];
    let mut change = Some(change);
    loop {
        match stream.read(&mut buf) {
            Ok(0) => panic!("the stream ended although big.bin changed while it was read"),
            Ok(_) => {}
            Err(e) => {
                return e
                    .get_ref()
                    .and_then(|inner| inner.downcast_ref::<StreamError>())
                    .expect("the io::Error carries our StreamError")
                    .clone();
            }
        }
        if stream.position() > start + (1 << 20)
            && let Some(change) = change.take()
        {
            change(&big);
        }
    }
}

#[test]
fn a_file_rewritten_in_place_while_it_is_read_stops_the_stream_naming_it() {
    // Same size, and the modification time put back: only the change time tells.
    let err = change_while_streaming(|big| {
        let mtime = fs::metadata(big).unwrap().modified().unwrap();
        let mut file = fs::File::options().write(true).open(big).unwrap();
        std::io::Write::write_all(&mut file, &vec![2u8; 4 << 20]).unwrap();
        file.set_modified(mtime).unwrap();
    });
    assert!(
        matches!(err, StreamError::Changed { ref path, what } if path == "big.bin" && what.contains("written to")),
        "{err:?}"
    );
}

#[test]
fn a_file_replaced_by_a_rename_while_it_is_read_stops_the_stream_naming_it() {
    let err = change_while_streaming(|big| {
        let new = big.with_extension("new");
        fs::write(&new, vec![3u8; 4 << 20]).unwrap();
        fs::rename(&new, big).unwrap();
    });
    assert!(
        matches!(err, StreamError::Changed { ref path, what } if path == "big.bin" && what.contains("replaced")),
        "{err:?}"
    );
}

fn entry(path: &[u8], kind: EntryKind) -> SourceEntry {
    SourceEntry {
        path: path.to_vec(),
        kind,
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtime: Timestamp::default(),
        link: Default::default(),
    }
}

#[test]
fn names_that_cannot_be_encoded_are_refused_naming_the_entry() {
    let dir = || entry(b"dir", EntryKind::Directory);
    let file = |p: &[u8]| entry(p, EntryKind::File { size: 1 });
    let long = [b'n'; 256];
    for (bad, path_shown) in [
        (file(b"dir/nul\0byte"), "dir/nul"),
        (file(b"dir//empty-component"), "dir//empty-component"),
        (file(&[b"dir/".as_slice(), &long].concat()), "nnnnnnnn"),
        (file(b"dir/.."), "dir/.."),
    ] {
        let err = Layout::plan(vec![dir(), bad], &options()).expect_err("refused");
        assert!(matches!(err, LayoutError::InvalidName { .. }), "{err:?}");
        assert!(err.to_string().contains(path_shown), "{err}");
        assert!(err.to_string().contains("rename it"), "{err}");
    }
    let link = |len: usize| {
        entry(
            b"dir/link",
            EntryKind::Symlink {
                target: vec![b'x'; len],
            },
        )
    };
    Layout::plan(vec![dir(), link(1023)], &options()).expect("1023 bytes are fine");
    let err = Layout::plan(vec![dir(), link(1024)], &options()).expect_err("too long");
    assert!(matches!(
        err,
        LayoutError::SymlinkTargetTooLong { len: 1024, .. }
    ));
    assert!(err.to_string().contains("dir/link"), "{err}");
    let err = Layout::plan(vec![file(b"nowhere/file")], &options()).expect_err("orphan");
    assert!(err.to_string().contains("nowhere/file"), "{err}");
}

#[test]
fn a_tree_too_large_for_the_medium_names_the_first_file_that_does_not_fit() {
    let entries = vec![
        entry(b"a-small", EntryKind::File { size: 10_000 }),
        entry(b"b-large", EntryKind::File { size: 100 << 20 }),
        entry(b"c-after", EntryKind::File { size: 10 }),
    ];
    let options = ImageOptions {
        capacity_blocks: Some(10_000),
        ..options()
    };
    let err = Layout::plan(entries.clone(), &options).expect_err("too large");
    assert!(
        matches!(err, LayoutError::TooLarge { ref first_beyond, capacity: 10_000, .. } if first_beyond == "b-large"),
        "{err:?}"
    );
    assert!(err.to_string().contains("choose a larger medium"), "{err}");
    let roomy = ImageOptions {
        capacity_blocks: Some(1 << 20),
        ..options
    };
    let layout = Layout::plan(entries, &roomy).expect("fits");
    assert!(layout.total_blocks() > (100 << 20) / 2048);
}

#[test]
fn a_source_file_named_sha256sums_at_the_root_is_refused() {
    let entries = vec![entry(b"SHA256SUMS", EntryKind::File { size: 1 })];
    let err = Layout::plan(entries.clone(), &options()).expect_err("manifest name taken");
    assert!(matches!(err, LayoutError::ManifestNameTaken));
    assert!(err.to_string().contains("rename or remove it"), "{err}");
    // Without a manifest the name is free; deeper down it always is.
    let no_manifest = ImageOptions {
        manifest: false,
        ..options()
    };
    Layout::plan(entries, &no_manifest).expect("no manifest, no clash");
    let deeper = vec![
        entry(b"d", EntryKind::Directory),
        entry(b"d/SHA256SUMS", EntryKind::File { size: 1 }),
    ];
    Layout::plan(deeper, &options()).expect("only the root name is reserved");
}

#[test]
fn special_files_are_refused_or_skipped_with_an_event() {
    let dir = small_tree();
    let fifo = dir.path().join("sub/pipe");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    let err = scan_tree(dir.path()).expect_err("a FIFO cannot go on a disc");
    assert!(
        matches!(err, ScanError::Unsupported { kind: "FIFO", .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("sub/pipe"), "{err}");
    let mut events = Vec::new();
    let entries = scan_tree_with(dir.path(), |e| events.push(e)).expect("skipping scan");
    assert_eq!(
        events,
        [ScanEvent::SkippedSpecial {
            path: b"sub/pipe".to_vec(),
            kind: "FIFO"
        }]
    );
    assert!(entries.iter().all(|e| e.path != b"sub/pipe"));
}

#[test]
fn an_unreadable_directory_is_a_scan_error_naming_it() {
    let dir = small_tree();
    let gone = dir.path().join("missing-root");
    let err = scan_tree(&gone).expect_err("no such directory");
    assert!(err.to_string().contains("missing-root"), "{err}");
}

#[test]
fn extra_files_go_to_the_root_and_into_the_manifest() {
    let dir = small_tree();
    let readme = GeneratedFile {
        name: "README.txt".to_string(),
        contents: b"How to restore this disc.\n".to_vec(),
        mode: 0o444,
        mtime: 1_700_000_000,
    };
    let options = ImageOptions {
        extra_files: vec![readme.clone()],
        ..options()
    };
    let out = tempfile::tempdir().expect("tempdir");
    let image_path = out.path().join("extra.iso");
    let digest = build_image(dir.path(), &image_path, &options);
    let mut image = IsoImage::open(fs::File::open(&image_path).expect("open")).expect("read");
    let entry = image
        .entry(b"README.txt")
        .expect("README at the root")
        .clone();
    assert_eq!(entry.mode, 0o100444);
    let mut body = Vec::new();
    image
        .open_file(&entry)
        .read_to_end(&mut body)
        .expect("read");
    assert_eq!(body, readme.contents);
    let manifest = image.entry(b"SHA256SUMS").expect("manifest").clone();
    let mut sums = String::new();
    image
        .open_file(&manifest)
        .read_to_string(&mut sums)
        .expect("read");
    let readme_hash = hex(&digest.file(b"README.txt").expect("digest"));
    assert!(
        sums.contains(&format!("{readme_hash}  README.txt\n")),
        "{sums}"
    );
    assert!(sums.contains("  sub/victim.txt\n"), "{sums}");
    assert!(
        !sums.contains("SHA256SUMS"),
        "the manifest does not list itself"
    );
    // A generated file may not take a tree's name.
    let clash = ImageOptions {
        extra_files: vec![GeneratedFile {
            name: "other.txt".into(),
            ..readme
        }],
        ..ImageOptions::default()
    };
    let err = Layout::plan(scan_tree(dir.path()).expect("scan"), &clash).expect_err("clash");
    assert!(err.to_string().contains("other.txt"), "{err}");
}

#[test]
fn every_block_has_the_right_owner() {
    let dir = small_tree();
    fs::write(dir.path().join("empty"), b"").expect("write");
    fs::set_permissions(dir.path().join("empty"), fs::Permissions::from_mode(0o600))
        .expect("chmod");
    fs::hard_link(
        dir.path().join("other.txt"),
        dir.path().join("sub/other-link.txt"),
    )
    .expect("link");
    let layout =
        Arc::new(Layout::plan(scan_tree(dir.path()).expect("scan"), &options()).expect("plan"));
    let map = RegionMap::of_layout(&layout).expect("a consistent layout");
    let owner = |block: u64| map.owner_of(block).map(|o| o.to_string());
    // The map names its files through the layout; a map given every name and extent
    // explicitly has the same regions and owners, and each owner is its data file.
    let listed = RegionMap::build(
        layout.total_blocks(),
        layout.files().into_iter().map(|f| {
            let names = std::iter::once(f.path).chain(f.hard_links).collect();
            (f.extents.iter().map(|e| (e.lba, e.length)).collect(), names)
        }),
    )
    .expect("a consistent layout");
    assert_eq!(map.regions().len(), listed.regions().len());
    for (ours, theirs) in map.regions().iter().zip(listed.regions()) {
        assert_eq!(
            (ours.start, ours.blocks, ours.bytes),
            (theirs.start, theirs.blocks, theirs.bytes)
        );
        let owner = map.owner(ours.owner);
        assert_eq!(owner.to_owner(), listed.owner(theirs.owner).to_owner());
        if let Some(data) = owner.data_file() {
            assert_eq!(
                owner.names(),
                layout.data_file(data).names().collect::<Vec<_>>()
            );
        }
    }
    assert_eq!(
        owner(layout.files()[1].extents[0].lba).as_deref(),
        Some("/other.txt, /sub/other-link.txt"),
        "a hard-linked file's region has both names"
    );
    assert_eq!(layout.structure_at(0), Some(Structure::SystemArea));
    assert_eq!(layout.structure_at(16), Some(Structure::VolumeDescriptors));
    assert_eq!(
        layout.structure_at(19),
        Some(Structure::Directory { path: vec![] })
    );
    let files = layout.files();
    let names: Vec<&[u8]> = files.iter().map(|f| f.path.as_slice()).collect();
    assert_eq!(
        names,
        [
            &b"empty"[..],
            b"other.txt",
            b"sub/victim.txt",
            b"SHA256SUMS"
        ]
    );
    assert_eq!(files.last().map(|f| f.origin), Some(FileOrigin::Manifest));
    for file in files.iter().filter(|f| f.size > 0) {
        let first = file.extents[0].lba;
        let want: Vec<String> = std::iter::once(&file.path)
            .chain(&file.hard_links)
            .map(|name| format!("/{}", String::from_utf8_lossy(name)))
            .collect();
        assert_eq!(owner(first), Some(want.join(", ")), "{file:?}");
        assert_eq!(layout.structure_at(first), None);
    }
    let victim = &files[2];
    assert_eq!(victim.size, 5000);
    assert_eq!(victim.extents.len(), 1);
    let last_block = victim.extents[0].lba + 2;
    assert_eq!(owner(last_block).as_deref(), Some("/sub/victim.txt"));
    let end = layout.total_blocks();
    assert_eq!(layout.structure_at(end - 1), Some(Structure::Padding));
    assert_eq!(layout.structure_at(end), None);
    assert!(map.owner_of(end).is_none());
    // Directories and path tables lie between the descriptors and the data.
    let kinds: Vec<Structure> = (19..files[1].extents[0].lba)
        .filter_map(|b| layout.structure_at(b))
        .collect();
    for kind in [
        Structure::Directory {
            path: b"sub".to_vec(),
        },
        Structure::JolietDirectory {
            path: b"sub".to_vec(),
        },
        Structure::PathTable,
        Structure::EmptyFiles,
    ] {
        assert!(kinds.contains(&kind), "{kind:?} not in {kinds:?}");
    }
    // The two answers agree on every block: a structure exactly where no file owns it.
    for block in 0..end {
        let file = !map
            .owner_of(block)
            .expect("inside the image")
            .is_structures();
        assert_eq!(
            layout.structure_at(block).is_none(),
            file,
            "block {block}: {:?} / {:?}",
            layout.structure_at(block),
            owner(block)
        );
    }
}

#[test]
fn the_digest_lists_every_name_with_the_hash_sha256sum_computes() {
    let dir = small_tree();
    fs::hard_link(
        dir.path().join("other.txt"),
        dir.path().join("sub/other-link"),
    )
    .expect("ln");
    let out = tempfile::tempdir().expect("tempdir");
    let digest = build_image(dir.path(), &out.path().join("d.iso"), &options());
    let names: Vec<Vec<u8>> = digest.files().map(|f| f.path).collect();
    for name in [
        &b"other.txt"[..],
        b"sub/other-link",
        b"sub/victim.txt",
        b"SHA256SUMS",
    ] {
        assert!(names.iter().any(|n| n == name), "{names:?}");
    }
    let other = hex(&sha256_file(&dir.path().join("other.txt")));
    assert_eq!(hex(&digest.file(b"sub/other-link").expect("link")), other);
    assert_eq!(hex(&digest.file(b"other.txt").expect("file")), other);
    assert_eq!(digest.file(b"sub"), None, "a directory has no digest");
    assert_eq!(digest.file(b"nope"), None);
}

/// What the image cannot hold as given is still imaged, but listed: each warning names the
/// value and says what the disc holds instead, which is what a reader gets back.
#[test]
fn cut_labels_and_clamped_times_are_listed_as_warnings_naming_them() {
    let dir = small_tree();
    let set_mtime = |path: &Path, secs: u64| {
        fs::File::options()
            .write(true)
            .open(dir.path().join(path))
            .unwrap()
            .set_modified(std::time::UNIX_EPOCH + Duration::from_secs(secs))
            .unwrap();
    };
    // Past 2155 on real files; before 1900 is out of reach of most file systems (ext4
    // stops at 1901), so that is checked on a listed entry below.
    set_mtime(Path::new("sub/victim.txt"), 9_000_000_000); // 2255
    set_mtime(Path::new("other.txt"), 7_000_000_000); // 2191
    let odd = ImageOptions {
        volume_id: "Weekly backup of 2026-11-02".to_string(),
        volume_time: -2_500_000_000, // 1890
        ..options()
    };
    let layout = Layout::plan(scan_tree(dir.path()).expect("scan"), &odd).expect("plan");
    let warnings: Vec<String> = layout.warnings().iter().map(|w| w.to_string()).collect();
    assert_eq!(warnings.len(), 4, "{warnings:#?}");
    assert!(
        warnings[0].contains("\"Weekly backup of 2026-11-02\"")
            && warnings[0].contains("\"Weekly backup of\""),
        "{warnings:#?}"
    );
    assert!(
        warnings[1].contains("volume time -2500000000") && warnings[1].contains("1900-01-01"),
        "{warnings:#?}"
    );
    for (path, year) in [("sub/victim.txt", "2255-"), ("other.txt", "2191-")] {
        assert!(
            warnings[2..]
                .iter()
                .any(|w| w.contains(&format!("{path:?}"))
                    && w.contains(year)
                    && w.contains("2155-12-31 23:59:59")),
            "{path}: {warnings:#?}"
        );
    }
    // What the disc holds is what the warnings say.
    let out = tempfile::tempdir().expect("tempdir");
    let image_path = out.path().join("clamped.iso");
    build_image(dir.path(), &image_path, &odd);
    let image = IsoImage::open(fs::File::open(&image_path).expect("open")).expect("read");
    for path in [&b"sub/victim.txt"[..], b"other.txt"] {
        assert_eq!(image.entry(path).unwrap().mtime, 5_869_583_999);
    }
    assert_eq!(image.volume().volume_id, "WEEKLY_BACKUP_OF_2026_11_02");
    let mut early = entry(b"1874.txt", EntryKind::File { size: 1 });
    early.mtime.seconds = -3_000_000_000;
    let layout = Layout::plan(vec![early], &options()).expect("plan");
    let said = layout.warnings()[0].to_string();
    assert!(
        said.contains("\"1874.txt\"") && said.contains("1874-") && said.contains("1900-01-01"),
        "{said}"
    );

    // An ordinary tree and label give none.
    let plain = small_tree();
    let layout = Layout::plan(scan_tree(plain.path()).expect("scan"), &options()).unwrap();
    assert_eq!(layout.warnings(), &[]);
}
