//! Hotplug and media events for optical drives, as an async stream.
//!
//! [`DriveEvents`] listens on a udev monitor socket (a netlink socket, driven by tokio's
//! [`AsyncFd`]) for block devices named `srN`, and turns what arrives into
//! [`DriveEvent`]s: a drive was added or removed, its disc changed, someone pressed its
//! eject button.
//!
//! Two sources can feed it. With a udev daemon running (its control socket
//! `/run/udev/control` exists), events come after udev has processed them, carrying the
//! `ID_CDROM*` properties `cdrom_id` found. Without one (the bare initramfs of the system
//! tests), nobody would ever send udev-processed events, so the kernel's own uevents are
//! read instead: the same actions, without udev's properties. If neither can be opened
//! (no netlink, no tokio runtime), [`DriveEvents::new`] says so and the caller polls.
//!
//! Media events only exist while the kernel polls the drive (see
//! [`KernelMediaEvents`](super::KernelMediaEvents)); many systems never do, so the station
//! merges these events with a [`MediaPoller`](super::MediaPoller) that asks the drive.
//!
//! libudev objects are reference-counted without atomics and are not thread-safe. The
//! `udev` crate's `send` feature lets [`DriveEvents`] move between runtime threads; that is
//! sound because it owns the only monitor and context, and every `udev::Device` it
//! receives is turned into owned data and dropped inside one call, never shared or kept.

use std::io;
use std::path::{Path, PathBuf};

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use super::DiscoveryError;
use super::capabilities::{MediaView, UdevProperties};
use super::entry::DriveEntry;
use super::sysfs::{SysfsRoot, optical_block_number};

/// The file whose existence tells that a udev daemon is running (libudev checks the same).
const UDEV_CONTROL_SOCKET: &str = "/run/udev/control";

/// After this many receive failures in a row (other than "nothing to read"), the monitor
/// socket is considered broken.
const MAX_CONSECUTIVE_RECEIVE_FAILURES: u32 = 16;

/// Where drive events come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventSource {
    /// Events processed by the udev daemon, with `ID_CDROM*` properties.
    Udev,
    /// The kernel's raw uevents (no udev daemon): no `ID_CDROM*` properties.
    Kernel,
}

/// Something happened to an optical drive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DriveEvent {
    /// A drive appeared (plugged in, or its driver loaded).
    Added(Box<DriveEntry>),
    /// A drive disappeared (unplugged, or reset and re-enumerated).
    Removed {
        /// The kernel name (`sr0`).
        name: String,
        /// Its former device node.
        device_node: PathBuf,
    },
    /// The kernel noticed a disc being inserted or removed.
    MediaChanged {
        /// The kernel name.
        name: String,
        /// The device node.
        device_node: PathBuf,
        /// The new disc as udev sees it ([`MediaView::Unknown`] from the kernel source).
        media: MediaView,
    },
    /// Someone pressed the eject button while the tray was locked.
    EjectRequested {
        /// The kernel name.
        name: String,
        /// The device node.
        device_node: PathBuf,
    },
}

/// The hotplug and media events of optical drives, received asynchronously.
///
/// ```no_run
/// # async fn demo() -> Result<(), burnstation_hal::discovery::DiscoveryError> {
/// use burnstation_hal::discovery::DriveEvents;
/// let mut events = DriveEvents::new()?;
/// loop {
///     let event = events.next().await?;
///     tracing::info!(?event, "drive event");
/// }
/// # }
/// ```
pub struct DriveEvents {
    socket: AsyncFd<udev::MonitorSocket>,
    source: EventSource,
    sysfs: SysfsRoot,
    accepts: fn(&str) -> bool,
}

impl std::fmt::Debug for DriveEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DriveEvents")
            .field("source", &self.source)
            .field("sysfs", &self.sysfs)
            .finish_non_exhaustive()
    }
}

/// What kind of drive event a uevent is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventKind {
    Added,
    Removed,
    MediaChanged,
    EjectRequested,
}

/// One uevent as owned data, detached from libudev.
#[derive(Debug, Clone)]
pub(crate) struct Uevent {
    pub action: String,
    pub sysname: String,
    pub syspath: PathBuf,
    pub device_node: Option<PathBuf>,
    pub properties: UdevProperties,
}

impl EventSource {
    /// The udev daemon if one is running, the kernel otherwise.
    pub fn detect() -> EventSource {
        if Path::new(UDEV_CONTROL_SOCKET).exists() {
            EventSource::Udev
        } else {
            EventSource::Kernel
        }
    }
}

impl DriveEvents {
    /// Starts listening, from the udev daemon if one runs and from the kernel otherwise.
    /// Must be called inside a tokio runtime with I/O enabled. Events that happened before
    /// this call are not reported: list the drives after it to know the starting state.
    pub fn new() -> Result<DriveEvents, DiscoveryError> {
        DriveEvents::with_source(EventSource::detect())
    }

    /// Starts listening on the given source.
    pub fn with_source(source: EventSource) -> Result<DriveEvents, DiscoveryError> {
        DriveEvents::open(source, SysfsRoot::system(), is_optical_name)
    }

    /// Where the events come from; only [`EventSource::Udev`] events carry udev's view of
    /// the drive and disc.
    pub fn source(&self) -> EventSource {
        self.source
    }

    /// The next event of an optical drive. Events of other devices, and uevents that are
    /// not drive events (bind, unbind, a `change` replayed by `udevadm trigger`), are
    /// skipped. An error means the event stream is broken: fall back to polling.
    pub async fn next(&mut self) -> Result<DriveEvent, DiscoveryError> {
        loop {
            let uevent = self.next_uevent().await?;
            if let Some(event) = drive_event(&self.sysfs, uevent) {
                return Ok(event);
            }
        }
    }

    pub(crate) fn open(
        source: EventSource,
        sysfs: SysfsRoot,
        accepts: fn(&str) -> bool,
    ) -> Result<DriveEvents, DiscoveryError> {
        let unavailable = |source| DiscoveryError::EventsUnavailable { source };
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(unavailable(io::Error::other(
                "drive events must be received inside a tokio runtime",
            )));
        }
        let builder = match source {
            EventSource::Udev => udev::MonitorBuilder::new(),
            EventSource::Kernel => udev::MonitorBuilder::new_kernel(),
        }
        .map_err(unavailable)?;
        let socket = builder
            .match_subsystem_devtype("block", "disk")
            .and_then(|b| b.listen())
            .map_err(unavailable)?;
        // SAFETY: registering needs the fd to stay open and be the same one for as long as
        // the AsyncFd lives. The MonitorSocket owns its netlink fd, closes it only when it
        // is dropped (which happens inside the AsyncFd's drop, after deregistration), and
        // `as_raw_fd` always returns that one fd; nothing else can reach the socket.
        let socket = unsafe { AsyncFd::register_with_interest(socket, Interest::READABLE) }
            .map_err(|e| unavailable(e.into()))?;
        tracing::debug!(?source, "listening for drive events");
        Ok(DriveEvents {
            socket,
            source,
            sysfs,
            accepts,
        })
    }

    /// The next uevent of a device whose name this stream accepts.
    pub(crate) async fn next_uevent(&mut self) -> Result<Uevent, DiscoveryError> {
        let mut failures = 0;
        loop {
            // `readable_mut` borrows the socket exclusively, so this future is `Send`
            // without libudev's objects having to be `Sync` (they are not thread-safe).
            let mut guard = self
                .socket
                .readable_mut()
                .await
                .map_err(|source| DiscoveryError::EventsFailed { source })?;
            match guard.try_io(|socket| receive(socket.get_ref())) {
                Ok(Ok(uevent)) => {
                    failures = 0;
                    if (self.accepts)(&uevent.sysname) {
                        return Ok(uevent);
                    }
                }
                Ok(Err(error)) => {
                    failures += 1;
                    tracing::debug!(%error, failures, "udev monitor receive failed");
                    if failures >= MAX_CONSECUTIVE_RECEIVE_FAILURES {
                        return Err(DiscoveryError::EventsFailed { source: error });
                    }
                }
                // Nothing left to read: readiness was cleared, wait for the next message.
                Err(_would_block) => {}
            }
        }
    }
}

/// The drive event a uevent stands for, if any. An added drive is read from `sysfs` at
/// once; one that is gone again, or is not an MMC device, yields nothing.
pub(crate) fn drive_event(sysfs: &SysfsRoot, uevent: Uevent) -> Option<DriveEvent> {
    let kind = classify(&uevent.action, &uevent.properties)?;
    let device_node = uevent
        .device_node
        .clone()
        .unwrap_or_else(|| PathBuf::from("/dev").join(&uevent.sysname));
    let name = uevent.sysname;
    Some(match kind {
        EventKind::Added => DriveEvent::Added(Box::new(sysfs.read_drive(
            &uevent.syspath,
            &uevent.properties,
            Some(device_node),
        )?)),
        EventKind::Removed => DriveEvent::Removed { name, device_node },
        EventKind::MediaChanged => DriveEvent::MediaChanged {
            name,
            device_node,
            media: MediaView::from_properties(&uevent.properties),
        },
        EventKind::EjectRequested => DriveEvent::EjectRequested { name, device_node },
    })
}

/// Which drive event a uevent is, from its action and the kernel's event flags
/// (`DISK_MEDIA_CHANGE=1`, `DISK_EJECT_REQUEST=1`, block/disk-events.c).
pub(crate) fn classify(action: &str, properties: &UdevProperties) -> Option<EventKind> {
    let flag = |key: &str| properties.get(key).is_some_and(|v| v.trim() == "1");
    match action {
        "add" => Some(EventKind::Added),
        "remove" => Some(EventKind::Removed),
        "change" if flag("DISK_EJECT_REQUEST") => Some(EventKind::EjectRequested),
        "change" if flag("DISK_MEDIA_CHANGE") => Some(EventKind::MediaChanged),
        _ => None,
    }
}

/// `srN`: the names of optical block devices.
fn is_optical_name(name: &str) -> bool {
    optical_block_number(name).is_some()
}

/// Receives one uevent without blocking. libudev says "nothing to read" as a null device
/// with errno EAGAIN; any other null result is reported as an error of its own.
fn receive(socket: &udev::MonitorSocket) -> io::Result<Uevent> {
    let Some(event) = socket.iter().next() else {
        // Read errno at once: nothing has run since libudev returned.
        return Err(io::Error::last_os_error());
    };
    let action = event
        .property_value("ACTION")
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Uevent {
        action,
        sysname: event.sysname().to_string_lossy().into_owned(),
        syspath: event.syspath().to_path_buf(),
        device_node: event.devnode().map(Path::to_path_buf),
        properties: event
            .properties()
            .map(|p| {
                (
                    p.name().to_string_lossy().into_owned(),
                    p.value().to_string_lossy().into_owned(),
                )
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::time::Duration;

    use super::super::fixture::{FakeSys, Optical};
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> UdevProperties {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn hotplug_actions() {
        assert_eq!(classify("add", &props(&[])), Some(EventKind::Added));
        assert_eq!(classify("remove", &props(&[])), Some(EventKind::Removed));
        assert_eq!(classify("bind", &props(&[])), None);
        assert_eq!(classify("unbind", &props(&[])), None);
    }

    #[test]
    fn media_and_eject_changes() {
        // What the kernel sends for sr0 when its polling sees a new disc.
        let media = props(&[
            ("ACTION", "change"),
            ("DEVNAME", "sr0"),
            ("DEVTYPE", "disk"),
            ("DISK_MEDIA_CHANGE", "1"),
        ]);
        assert_eq!(classify("change", &media), Some(EventKind::MediaChanged));
        let eject = props(&[("DISK_EJECT_REQUEST", "1")]);
        assert_eq!(classify("change", &eject), Some(EventKind::EjectRequested));
    }

    #[test]
    fn change_without_event_flags_is_not_a_media_change() {
        // `udevadm trigger` replays "change" for every device, with no kernel flags.
        let replay = props(&[("ID_CDROM", "1"), ("ID_CDROM_MEDIA", "1")]);
        assert_eq!(classify("change", &replay), None);
    }

    #[test]
    fn media_change_from_udev_carries_the_new_disc() {
        let event = drive_event(
            &SysfsRoot::system(),
            Uevent {
                action: "change".into(),
                sysname: "sr0".into(),
                syspath: "/sys/devices/virtual/none/block/sr0".into(),
                device_node: Some("/dev/sr0".into()),
                properties: props(&[
                    ("DISK_MEDIA_CHANGE", "1"),
                    ("ID_CDROM", "1"),
                    ("ID_CDROM_MEDIA", "1"),
                    ("ID_CDROM_MEDIA_DVD_PLUS_R", "1"),
                    ("ID_CDROM_MEDIA_STATE", "blank"),
                ]),
            },
        );
        let Some(DriveEvent::MediaChanged {
            name,
            device_node,
            media: MediaView::Present(medium),
        }) = event
        else {
            panic!("expected a media change with a disc, got {event:?}");
        };
        assert_eq!(name, "sr0");
        assert_eq!(device_node, PathBuf::from("/dev/sr0"));
        assert_eq!(medium.formats.to_string(), "DVD_PLUS_R");
    }

    #[test]
    fn media_change_from_the_kernel_has_an_unknown_disc() {
        let event = drive_event(
            &SysfsRoot::system(),
            Uevent {
                action: "change".into(),
                sysname: "sr0".into(),
                syspath: "/sys/devices/virtual/none/block/sr0".into(),
                device_node: None,
                properties: props(&[("DISK_MEDIA_CHANGE", "1"), ("DEVNAME", "sr0")]),
            },
        );
        assert_eq!(
            event,
            Some(DriveEvent::MediaChanged {
                name: "sr0".into(),
                device_node: "/dev/sr0".into(),
                media: MediaView::Unknown,
            })
        );
    }

    #[test]
    fn removed_drive_needs_no_sysfs() {
        let removed = drive_event(
            &SysfsRoot::system(),
            Uevent {
                action: "remove".into(),
                sysname: "sr1".into(),
                syspath: "/sys/devices/gone/block/sr1".into(),
                device_node: None,
                properties: props(&[]),
            },
        );
        assert_eq!(
            removed,
            Some(DriveEvent::Removed {
                name: "sr1".into(),
                device_node: "/dev/sr1".into()
            })
        );
    }

    #[test]
    fn added_drive_is_read_from_sysfs() {
        let sys = FakeSys::new();
        sys.add_optical(&Optical::default());
        let syspath = fs::canonicalize(sys.sys().join("class/block/sr0")).unwrap();
        let added = drive_event(
            &sys.root(),
            Uevent {
                action: "add".into(),
                sysname: "sr0".into(),
                syspath: syspath.clone(),
                device_node: Some("/dev/sr0".into()),
                properties: props(&[("ID_CDROM", "1"), ("ID_CDROM_BD_RE", "1")]),
            },
        );
        let Some(DriveEvent::Added(drive)) = added else {
            panic!("expected an added drive, got {added:?}");
        };
        assert_eq!(drive.sysfs_path, syspath);
        assert_eq!(drive.device_node, PathBuf::from("/dev/sr0"));
        assert_eq!(drive.capabilities.known().unwrap().to_string(), "BD_RE");

        // Added and gone again before we looked: no event rather than a half-read drive.
        let vanished = drive_event(
            &sys.root(),
            Uevent {
                action: "add".into(),
                sysname: "sr5".into(),
                syspath: sys.sys().join("devices/gone/block/sr5"),
                device_node: None,
                properties: props(&[]),
            },
        );
        assert_eq!(vanished, None);
    }

    /// The station spawns the event loop on a multi-threaded runtime, so the stream and
    /// the future of `next` must be `Send` (see the module doc for why that is sound).
    #[test]
    fn the_stream_can_move_between_runtime_threads() {
        fn assert_send<T: Send>(_: &T) {}
        fn check(events: &mut DriveEvents) {
            assert_send(&*events);
            assert_send(&events.next());
        }
        let _ = check;
    }

    #[test]
    fn outside_a_runtime_events_are_unavailable_not_a_panic() {
        let err = DriveEvents::new().unwrap_err();
        assert!(matches!(err, DiscoveryError::EventsUnavailable { .. }));
        assert!(err.to_string().contains("poll"), "{err}");
    }

    /// The whole path: the kernel emits a uevent, netlink delivers it, tokio wakes the
    /// task, libudev parses it and the stream hands it over. A synthetic uevent (written
    /// to a block device's `uevent` file, Linux ≥ 4.13) on a loop device stands in for a
    /// burner, since this machine has none; its UUID tells it apart from other events.
    /// Writing `uevent` needs root, as CI runs.
    #[tokio::test]
    async fn a_kernel_uevent_reaches_the_stream() {
        let device = fs::read_dir("/sys/class/block")
            .expect("/sys/class/block")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("loop"))
            .min()
            .expect("a loop block device in /sys/class/block (modprobe loop)");
        let mut events = DriveEvents::open(EventSource::Kernel, SysfsRoot::system(), |n| {
            n.starts_with("loop")
        })
        .expect("a kernel uevent monitor");
        let uuid = "5f0c8a3e-2b7d-4c1e-9a6f-0d4b3e2a1c9f";
        fs::write(
            format!("/sys/class/block/{device}/uevent"),
            format!("change {uuid} BURNSTATIONTEST=1\n"),
        )
        .unwrap_or_else(|e| {
            panic!("cannot write /sys/class/block/{device}/uevent ({e}): run this test as root")
        });
        let seen = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let uevent = events.next_uevent().await.expect("a uevent");
                if uevent.properties.get("SYNTH_UUID").map(String::as_str) == Some(uuid) {
                    return uevent;
                }
            }
        })
        .await
        .expect("the synthetic uevent within 10 s");
        assert_eq!(seen.action, "change");
        assert_eq!(seen.sysname, device);
        assert_eq!(
            seen.syspath,
            PathBuf::from("/sys/devices/virtual/block").join(&device)
        );
        assert_eq!(
            seen.properties
                .get("SYNTH_ARG_BURNSTATIONTEST")
                .map(String::as_str),
            Some("1")
        );
        assert_eq!(
            seen.properties.get("DEVTYPE").map(String::as_str),
            Some("disk")
        );
        // A plain change is not a drive event, whatever the device.
        assert_eq!(classify(&seen.action, &seen.properties), None);
    }
}
