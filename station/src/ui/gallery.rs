//! Every screen with typical values, and again with the longest values each can show: what
//! the golden pictures in `docs/screens/`, the layout tests, the example program and the
//! demo draw.

use std::time::Duration;

use super::nav::{MenuItem, Page};
use super::view::*;

/// One screen to look at: a file-friendly name, the view and the page.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The name of its picture ("burning" -> `burning.png`).
    pub name: &'static str,
    /// The view.
    pub view: View,
    /// The page.
    pub page: Page,
}

const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUm burnstation@osk";

fn base(status: Status) -> View {
    View {
        status,
        device: DeviceInfo {
            name: "burnstation".into(),
            ip: Some("192.168.1.23".into()),
            version: "0.1.0".into(),
            free_bytes: Some(21_400_000_000),
            total_bytes: Some(31_900_000_000),
        },
        box_key: Some(KEY.into()),
    }
}

fn min(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}

fn sample(name: &'static str, status: Status) -> Sample {
    Sample {
        name,
        view: base(status),
        page: Page::Status,
    }
}

/// Every screen, with the values a volunteer usually sees.
pub fn typical() -> Vec<Sample> {
    let d = |n, of| DiscNo { n, of };
    let mut all = vec![
        sample("starting", Status::Starting),
        sample(
            "idle",
            Status::Idle(Idle {
                last_sync_ago: Some(min(180)),
                next_sync: NextSync::In(min(21 * 60)),
                set: Some(SetStatus {
                    label: "OSK 2026-11-26".into(),
                    burnt: 3,
                    verified: 3,
                    total: 3,
                }),
                burn_due: false,
            }),
        ),
        sample(
            "idle-burn-due",
            Status::Idle(Idle {
                last_sync_ago: Some(min(30)),
                next_sync: NextSync::In(min(23 * 60)),
                set: Some(SetStatus {
                    label: "OSK 2026-11-19".into(),
                    burnt: 3,
                    verified: 3,
                    total: 3,
                }),
                burn_due: true,
            }),
        ),
        sample(
            "syncing",
            Status::Syncing(Syncing {
                received: 1_234_000_000,
                progress: Some(Progress {
                    done: 42,
                    total: 100,
                }),
                rate: Some(5_200_000),
                eta: Some(min(12)),
            }),
        ),
        sample(
            "waiting-for-disc",
            Status::WaitingForDisc {
                disc: d(2, 3),
                medium: Some("DVD+R".into()),
            },
        ),
        sample(
            "ready-to-burn",
            Status::ReadyToBurn {
                disc: d(2, 3),
                medium: "DVD+R".into(),
                bytes: 4_380_000_000,
            },
        ),
        sample(
            "burning",
            Status::Burning(Burning {
                disc: d(2, 3),
                stage: BurnStage::Writing,
                progress: Progress {
                    done: 63,
                    total: 100,
                },
                speed_x: Some(8.0),
                eta: Some(min(4)),
                buffer_percent: Some(98),
            }),
        ),
        sample(
            "burning-closing",
            Status::Burning(Burning {
                disc: d(2, 3),
                stage: BurnStage::Closing,
                progress: Progress {
                    done: 100,
                    total: 100,
                },
                speed_x: None,
                eta: None,
                buffer_percent: None,
            }),
        ),
        sample(
            "verifying",
            Status::Verifying(Verifying {
                disc: Some(d(2, 3)),
                progress: Progress {
                    done: 27,
                    total: 100,
                },
                eta: Some(min(7)),
            }),
        ),
        sample(
            "disc-done",
            Status::DiscDone {
                disc: d(2, 3),
                label: "OSK 2026-11-26 2/3".into(),
                ejected: true,
            },
        ),
        sample(
            "set-complete",
            Status::SetComplete {
                label: "OSK 2026-11-26".into(),
                discs: 3,
            },
        ),
        sample("erasing", Status::Erasing { progress: None }),
        sample(
            "disc-checked",
            Status::DiscChecked {
                label: Some("OSK 2026-11-26 2/3".into()),
                ok: true,
                bad_files: 0,
            },
        ),
    ];
    for (name, problem) in problems() {
        all.push(sample(name, Status::Problem(problem)));
    }
    let idle = all[1].view.clone();
    for (name, page) in [
        (
            "menu",
            Page::Menu {
                selected: MenuItem::BurnNow,
            },
        ),
        (
            "menu-erase",
            Page::Menu {
                selected: MenuItem::EraseDisc,
            },
        ),
        ("confirm-erase", Page::ConfirmErase { erase: false }),
        ("device-info", Page::DeviceInfo),
        ("box-key", Page::BoxKey),
    ] {
        all.push(Sample {
            name,
            view: idle.clone(),
            page,
        });
    }
    all
}

/// Every problem, with its usual detail.
fn problems() -> Vec<(&'static str, Problem)> {
    let d = DiscNo { n: 2, of: 3 };
    vec![
        (
            "problem-settings",
            Problem::Settings {
                line: Some(23),
                detail: "host_key is not a valid ssh host key".into(),
            },
        ),
        ("problem-no-drive", Problem::NoDrive),
        (
            "problem-slow-link",
            Problem::SlowLink {
                detail: "the burner is connected at USB full speed (12 Mbit/s)".into(),
            },
        ),
        (
            "problem-drive-not-responding",
            Problem::DriveNotResponding {
                detail: "the burner did not answer after a reset".into(),
            },
        ),
        (
            "problem-disc-not-blank",
            Problem::DiscNotBlank {
                wanted: Some("DVD+R".into()),
            },
        ),
        (
            "problem-disc-holds-data",
            Problem::DiscHoldsData {
                medium: "DVD+RW".into(),
            },
        ),
        (
            "problem-wrong-disc",
            Problem::WrongDisc {
                found: "CD-R".into(),
                wanted: "DVD+R".into(),
            },
        ),
        ("problem-disc-interrupted", Problem::DiscInterrupted),
        (
            "problem-burn-failed",
            Problem::BurnFailed {
                disc: d,
                detail: "write error at block 1234567".into(),
            },
        ),
        (
            "problem-verify-failed",
            Problem::VerifyFailed {
                disc: d,
                bad_files: 2,
            },
        ),
        (
            "problem-sync-failed",
            Problem::SyncFailed {
                detail: "cannot reach backup.example.org".into(),
            },
        ),
        ("problem-host-key-changed", Problem::HostKeyChanged),
        (
            "problem-storage-full",
            Problem::StorageFull {
                free_bytes: 212_000_000,
            },
        ),
        (
            "problem-internal",
            Problem::Internal {
                detail: "the drive thread stopped".into(),
            },
        ),
    ]
}

/// Every screen again, with the longest values it can show: 5-digit disc counts, long
/// labels and media names, long error sentences, huge sizes.
pub fn longest() -> Vec<Sample> {
    let d = DiscNo {
        n: 99_999,
        of: 99_999,
    };
    let long = "the burner reported a hardware error while writing block 2298496 \
                (sense 4/44/00, internal target failure) and then stopped answering \
                altogether, even after a SCSI device reset and a USB reset of the port";
    let label = "OPENSKILLS-BACKUP 2026-11-26 99999/99999";
    let huge = u64::MAX;
    let far = Duration::from_secs(10 * 365 * 86_400);
    let mut all = typical();
    for s in &mut all {
        s.view.device = DeviceInfo {
            name: "burnstation-in-the-attic-of-the-town-hall".into(),
            ip: Some("fd12:3456:789a:1:abcd:ef01:2345:6789".into()),
            version: "0.1.0-rc.12+g1234567".into(),
            free_bytes: Some(huge),
            total_bytes: Some(huge),
        };
        s.view.status = match &s.view.status {
            Status::Starting => Status::Starting,
            Status::Idle(i) => Status::Idle(Idle {
                last_sync_ago: Some(far),
                next_sync: if i.burn_due {
                    NextSync::WaitingForClock
                } else {
                    NextSync::In(far)
                },
                set: Some(SetStatus {
                    label: label.into(),
                    burnt: 99_999,
                    verified: 99_998,
                    total: 99_999,
                }),
                burn_due: i.burn_due,
            }),
            Status::Syncing(_) => Status::Syncing(Syncing {
                received: huge,
                progress: Some(Progress {
                    done: 99,
                    total: 100,
                }),
                rate: Some(huge),
                eta: Some(far),
            }),
            Status::WaitingForDisc { .. } => Status::WaitingForDisc {
                disc: d,
                medium: Some("DVD+R DL".into()),
            },
            Status::ReadyToBurn { .. } => Status::ReadyToBurn {
                disc: d,
                medium: "BD-R DL".into(),
                bytes: huge,
            },
            Status::Burning(b) => Status::Burning(Burning {
                disc: d,
                stage: b.stage,
                progress: Progress {
                    done: 100,
                    total: 100,
                },
                speed_x: Some(16.0),
                eta: Some(far),
                buffer_percent: Some(100),
            }),
            Status::Verifying(_) => Status::Verifying(Verifying {
                disc: Some(d),
                progress: Progress {
                    done: 100,
                    total: 100,
                },
                eta: Some(far),
            }),
            Status::DiscDone { .. } => Status::DiscDone {
                disc: d,
                label: label.into(),
                ejected: false,
            },
            Status::SetComplete { .. } => Status::SetComplete {
                label: label.into(),
                discs: 99_999,
            },
            Status::Erasing { .. } => Status::Erasing {
                progress: Some(Progress {
                    done: 100,
                    total: 100,
                }),
            },
            Status::DiscChecked { .. } => Status::DiscChecked {
                label: Some(label.into()),
                ok: false,
                bad_files: 99_999,
            },
            Status::Problem(p) => Status::Problem(match p {
                Problem::Settings { .. } => Problem::Settings {
                    line: Some(99_999),
                    detail: long.into(),
                },
                Problem::SlowLink { .. } => Problem::SlowLink {
                    detail: long.into(),
                },
                Problem::DriveNotResponding { .. } => Problem::DriveNotResponding {
                    detail: long.into(),
                },
                Problem::DiscNotBlank { .. } => Problem::DiscNotBlank {
                    wanted: Some("DVD-R DL".into()),
                },
                Problem::DiscHoldsData { .. } => Problem::DiscHoldsData {
                    medium: "DVD-RW".into(),
                },
                Problem::WrongDisc { .. } => Problem::WrongDisc {
                    found: "DVD-ROM".into(),
                    wanted: "DVD+R DL".into(),
                },
                Problem::BurnFailed { .. } => Problem::BurnFailed {
                    disc: d,
                    detail: long.into(),
                },
                Problem::VerifyFailed { .. } => Problem::VerifyFailed {
                    disc: d,
                    bad_files: u32::MAX,
                },
                Problem::SyncFailed { .. } => Problem::SyncFailed {
                    detail: long.into(),
                },
                Problem::StorageFull { .. } => Problem::StorageFull { free_bytes: huge },
                Problem::Internal { .. } => Problem::Internal {
                    detail: long.into(),
                },
                other => other.clone(),
            }),
        };
    }
    all
}
