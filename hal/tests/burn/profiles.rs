//! Every medium profile: burn, bytes on the medium, disc state, command sequence, read-back.

use burnstation_hal::Profile;
use burnstation_hal::drive::{BurnOptions, Method, SectorQuality};
use burnstation_hal::mmc::disc::DiscStatus;

use crate::{Rig, image};

/// 1500 blocks: not a multiple of 16 or 32, so the last WRITE is padded.
const BLOCKS: usize = 1500;

/// Burns a fresh medium of `profile` and checks everything an outsider can see; returns the
/// rig for profile-specific checks.
fn burn_and_check(
    profile: Profile,
    options: &BurnOptions,
    expect_method: Method,
    expect_actions: &[&str],
) -> Rig {
    let mut rig = Rig::new(profile);
    let data = image(BLOCKS, profile.number() as u32);
    let (report, events) = rig
        .burn(&data, options)
        .unwrap_or_else(|e| panic!("{profile}: {e}"));
    assert_eq!(report.plan.method, expect_method, "{profile}");

    let unit = profile.family().unwrap().write_unit_blocks() as usize;
    let padded = BLOCKS.div_ceil(unit) * unit;
    let padded = if profile.family() == Some(burnstation_hal::MediaFamily::Cd) {
        padded.max(300)
    } else {
        padded
    };
    assert_eq!(report.plan.written_blocks, padded as u64, "{profile}");
    let on_medium = rig.medium_bytes(padded * 2048);
    assert!(
        on_medium[..data.len()] == data[..],
        "{profile}: the medium file does not hold the image"
    );
    assert!(
        on_medium[data.len()..].iter().all(|&b| b == 0),
        "{profile}: the padding is not zeros"
    );

    assert_eq!(rig.actions(), expect_actions, "{profile}: command sequence");
    assert!(
        !rig.control.locked(),
        "{profile}: the tray must be unlocked after the burn"
    );

    let progress = events
        .iter()
        .filter(|e| matches!(e, burnstation_hal::drive::BurnEvent::Progress(_)))
        .count();
    assert!(progress >= 1, "{profile}: no progress event");

    let (read, map) = rig.read_back(BLOCKS as u64);
    assert!(read == data, "{profile}: read-back differs from the image");
    assert_eq!(
        map.count(SectorQuality::Good) + map.count(SectorQuality::Slow),
        BLOCKS as u64,
        "{profile}: {map}"
    );
    rig
}

fn finalized(rig: &mut Rig) -> DiscStatus {
    rig.drive
        .wait_until_ready(std::time::Duration::from_secs(5))
        .unwrap();
    rig.drive.media().unwrap().status
}

/// DVD+R and BD-R: written at the next writable address, the track and session closed, then
/// the disc finalized (CLOSE function 110b).
const SEQUENTIAL_FINALIZED: &[&str] = &[
    "PREVENT",
    "SET STREAMING",
    "WRITE(10)",
    "SYNC immed",
    "SYNC",
    "CLOSE 001",
    "CLOSE 110",
    "ALLOW",
];

/// DVD-R, DVD-R DL and a blank DVD-RW: page 05h for incremental recording, then track and
/// session closed.
const DVD_MINUS_INCREMENTAL: &[&str] = &[
    "PREVENT",
    "SET STREAMING",
    "MODE SELECT",
    "WRITE(10)",
    "SYNC immed",
    "SYNC",
    "CLOSE 001",
    "CLOSE 010",
    "ALLOW",
];

/// A fresh medium of one profile: how it must be burnt, and what it must be afterwards.
struct Fresh {
    what: &'static str,
    profile: Profile,
    options: BurnOptions,
    method: Method,
    actions: &'static [&'static str],
    /// The disc status after the burn, where the medium has one to check.
    after: Option<DiscStatus>,
}

/// Every medium, fresh: the method the plan chooses, the command sequence, the bytes on the
/// medium, the read-back, and the disc it leaves (finalized unless told not to).
#[test]
fn every_fresh_medium_is_burnt_with_its_method_and_sequence() {
    let cases = [
        Fresh {
            what: "DVD+R: written sequentially and finalized",
            profile: Profile::DvdPlusR,
            options: BurnOptions::default(),
            method: Method::DvdPlusR { dual_layer: false },
            actions: SEQUENTIAL_FINALIZED,
            after: Some(DiscStatus::Complete),
        },
        Fresh {
            what: "DVD+R DL: finalized with the minimal radius",
            profile: Profile::DvdPlusRDualLayer,
            options: BurnOptions::default(),
            method: Method::DvdPlusR { dual_layer: true },
            actions: &[
                "PREVENT",
                "SET STREAMING",
                "WRITE(10)",
                "SYNC immed",
                "SYNC",
                "CLOSE 001",
                "CLOSE 101",
                "ALLOW",
            ],
            after: Some(DiscStatus::Complete),
        },
        Fresh {
            what: "DVD+R without finalizing: stays appendable",
            profile: Profile::DvdPlusR,
            options: BurnOptions {
                finalize: false,
                ..BurnOptions::default()
            },
            method: Method::DvdPlusR { dual_layer: false },
            actions: &[
                "PREVENT",
                "SET STREAMING",
                "WRITE(10)",
                "SYNC immed",
                "SYNC",
                "CLOSE 001",
                "CLOSE 010",
                "ALLOW",
            ],
            after: Some(DiscStatus::Appendable),
        },
        Fresh {
            what: "DVD-R: written incrementally",
            profile: Profile::DvdRSequential,
            options: BurnOptions::default(),
            method: Method::DvdMinusIncremental,
            actions: DVD_MINUS_INCREMENTAL,
            after: Some(DiscStatus::Complete),
        },
        Fresh {
            what: "DVD-R DL: written incrementally",
            profile: Profile::DvdRDualLayerSequential,
            options: BurnOptions::default(),
            method: Method::DvdMinusIncremental,
            actions: DVD_MINUS_INCREMENTAL,
            after: Some(DiscStatus::Complete),
        },
        Fresh {
            what: "a blank DVD-RW: written incrementally",
            profile: Profile::DvdRwSequential,
            options: BurnOptions::default(),
            method: Method::DvdMinusIncremental,
            actions: DVD_MINUS_INCREMENTAL,
            after: Some(DiscStatus::Complete),
        },
        Fresh {
            what: "a blank DVD+RW: formatted in the background and written at once",
            profile: Profile::DvdPlusRw,
            // Unpaced, SimDrive's background format is done before writing ends; the lead-out is
            // written all the same, as growisofs does, so DVD-ROM drives read the disc.
            options: BurnOptions::default(),
            method: Method::DvdPlusRw,
            actions: &[
                "PREVENT",
                "FORMAT",
                "SET STREAMING",
                "WRITE(10)",
                "SYNC immed",
                "SYNC",
                "CLOSE 010",
                "ALLOW",
            ],
            after: None,
        },
        Fresh {
            what: "DVD-RW restricted overwrite: overwritten from block zero",
            profile: Profile::DvdRwRestrictedOverwrite,
            options: BurnOptions::default(),
            method: Method::DvdRwOverwrite,
            actions: &[
                "PREVENT",
                "SET STREAMING",
                "WRITE(10)",
                "SYNC immed",
                "SYNC",
                "ALLOW",
            ],
            after: None,
        },
        Fresh {
            what: "BD-R: written unformatted and finalized",
            profile: Profile::BdRSequential,
            options: BurnOptions::default(),
            method: Method::BdR,
            actions: SEQUENTIAL_FINALIZED,
            after: Some(DiscStatus::Complete),
        },
        Fresh {
            what: "BD-R with spares: formatted first",
            profile: Profile::BdRSequential,
            options: BurnOptions {
                bd_r_spares: true,
                ..BurnOptions::default()
            },
            method: Method::BdR,
            actions: &[
                "PREVENT",
                "FORMAT",
                "SET STREAMING",
                "WRITE(10)",
                "SYNC immed",
                "SYNC",
                "CLOSE 001",
                "CLOSE 110",
                "ALLOW",
            ],
            after: Some(DiscStatus::Complete),
        },
        Fresh {
            what: "CD-R: written track at once",
            profile: Profile::CdR,
            options: BurnOptions::default(),
            method: Method::CdTrackAtOnce,
            actions: &[
                "PREVENT",
                "SET CD SPEED",
                "MODE SELECT",
                "WRITE(10)",
                "SYNC immed",
                "SYNC",
                "CLOSE 010",
                "ALLOW",
            ],
            after: Some(DiscStatus::Complete),
        },
    ];
    for case in cases {
        let mut rig = burn_and_check(case.profile, &case.options, case.method, case.actions);
        if let Some(status) = case.after {
            assert_eq!(finalized(&mut rig), status, "{}", case.what);
        }
    }
}

#[test]
fn a_used_dvd_minus_rw_is_blanked_only_when_allowed_then_written_disc_at_once() {
    let mut rig = Rig::new(Profile::DvdRwSequential);
    rig.burn(&image(BLOCKS, 1), &BurnOptions::default())
        .unwrap();

    let refused = rig
        .burn(&image(BLOCKS, 2), &BurnOptions::default())
        .unwrap_err();
    assert!(
        refused.to_string().contains("holds data") && refused.to_string().contains("--erase"),
        "{refused}"
    );
    assert!(refused.disc_untouched());

    rig.control.clear_commands();
    let data = image(BLOCKS, 2);
    let options = BurnOptions {
        erase: true,
        ..BurnOptions::default()
    };
    let (report, _) = rig.burn(&data, &options).unwrap();
    // A minimal blank takes incremental recording away (mmc.md 1.1): disc at once, with a
    // reservation of exactly the padded size and no CLOSE.
    assert_eq!(report.plan.method, Method::DvdMinusDiscAtOnce);
    assert_eq!(
        rig.actions(),
        [
            "PREVENT",
            "BLANK 001",
            "SET STREAMING",
            "MODE SELECT",
            "RESERVE 1504",
            "WRITE(10)",
            "SYNC immed",
            "SYNC",
            "ALLOW"
        ]
    );
    assert!(rig.medium_bytes(data.len()) == data);
    assert_eq!(finalized(&mut rig), DiscStatus::Complete);
    let (read, _) = rig.read_back(BLOCKS as u64);
    assert!(read == data);
}

#[test]
fn a_running_dvd_plus_rw_format_is_closed_with_a_lead_out_or_stopped() {
    use burnstation_hal::sim::ClockMode;
    for (finalize, close) in [(true, "CLOSE 010"), (false, "CLOSE 000")] {
        // Paced at 4x on SimDrive's virtual clock: de-icing 4.7 GB takes far longer than
        // writing 3 MB, so the format is still running when the data is written.
        let mut rig = Rig::with(Profile::DvdPlusRw, |c| {
            c.speed = 4.0;
            c.clock = ClockMode::Virtual;
        });
        let data = image(BLOCKS, 4);
        rig.burn(
            &data,
            &BurnOptions {
                finalize,
                ..BurnOptions::default()
            },
        )
        .unwrap();
        assert_eq!(
            rig.actions(),
            [
                "PREVENT",
                "FORMAT",
                "SET STREAMING",
                "WRITE(10)",
                "SYNC immed",
                "SYNC",
                close,
                "ALLOW"
            ],
            "finalize: {finalize}"
        );
        assert!(rig.medium_bytes(data.len()) == data);
    }
}

#[test]
fn a_dvd_plus_rw_holding_a_filesystem_is_overwritten_only_when_allowed() {
    let mut rig = Rig::new(Profile::DvdPlusRw);
    let mut first = image(BLOCKS, 7);
    first[16 * 2048 + 1..16 * 2048 + 6].copy_from_slice(b"CD001");
    rig.burn(&first, &BurnOptions::default()).unwrap();

    let refused = rig
        .burn(&image(BLOCKS, 8), &BurnOptions::default())
        .unwrap_err();
    assert!(refused.to_string().contains("holds data"), "{refused}");
    assert!(
        rig.medium_bytes(first.len()) == first,
        "a refused burn changed the disc"
    );

    let second = image(BLOCKS, 8);
    rig.burn(
        &second,
        &BurnOptions {
            erase: true,
            ..BurnOptions::default()
        },
    )
    .unwrap();
    assert!(rig.medium_bytes(second.len()) == second);
}

#[test]
fn bd_re_is_formatted_when_needed_and_written_streaming() {
    let mut rig = burn_and_check(
        Profile::BdRe,
        &BurnOptions::default(),
        Method::BdRe,
        &[
            "PREVENT",
            "FORMAT",
            "SET STREAMING",
            "WRITE(12) streaming",
            "SYNC immed",
            "SYNC",
            "ALLOW",
        ],
    );
    // Formatted now: a second burn formats no more, and needs permission to overwrite.
    rig.control.clear_commands();
    let mut second = image(BLOCKS, 9);
    second[16 * 2048 + 1..16 * 2048 + 6].copy_from_slice(b"CD001");
    rig.burn(
        &second,
        &BurnOptions {
            erase: true,
            ..BurnOptions::default()
        },
    )
    .unwrap();
    assert_eq!(
        rig.actions(),
        [
            "PREVENT",
            "SET STREAMING",
            "WRITE(12) streaming",
            "SYNC immed",
            "SYNC",
            "ALLOW"
        ]
    );
}

#[test]
fn cd_rw_is_written_track_at_once_and_blanked_only_when_allowed() {
    let mut rig = burn_and_check(
        Profile::CdRw,
        &BurnOptions::default(),
        Method::CdTrackAtOnce,
        &[
            "PREVENT",
            "SET CD SPEED",
            "MODE SELECT",
            "WRITE(10)",
            "SYNC immed",
            "SYNC",
            "CLOSE 010",
            "ALLOW",
        ],
    );
    assert!(
        rig.burn(&image(BLOCKS, 3), &BurnOptions::default())
            .is_err()
    );
    rig.control.clear_commands();
    let data = image(BLOCKS, 3);
    rig.burn(
        &data,
        &BurnOptions {
            erase: true,
            ..BurnOptions::default()
        },
    )
    .unwrap();
    assert_eq!(rig.actions()[..2], ["PREVENT", "BLANK 001"]);
    assert!(rig.medium_bytes(data.len()) == data);
}

#[test]
fn write_once_discs_that_are_not_blank_are_refused_and_left_alone() {
    for profile in [
        Profile::DvdPlusR,
        Profile::DvdRSequential,
        Profile::BdRSequential,
        Profile::CdR,
    ] {
        let mut rig = Rig::new(profile);
        let first = image(BLOCKS, 11);
        rig.burn(&first, &BurnOptions::default()).unwrap();
        let err = rig
            .burn(
                &image(BLOCKS, 12),
                &BurnOptions {
                    erase: true,
                    ..BurnOptions::default()
                },
            )
            .unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("finalized") && message.contains("insert a blank disc"),
            "{profile}: {message}"
        );
        assert!(err.disc_untouched());
        assert!(
            rig.medium_bytes(first.len()) == first,
            "{profile}: a refused burn changed the disc"
        );
    }
}

#[test]
fn an_image_larger_than_the_disc_is_refused_before_writing() {
    let mut rig = Rig::new(Profile::DvdPlusR);
    let err = rig
        .drive
        .plan_burn(2_295_105, &BurnOptions::default())
        .unwrap_err();
    assert!(err.to_string().contains("has room for 2295104"), "{err}");
    assert!(
        rig.actions().is_empty(),
        "planning must not write: {:?}",
        rig.actions()
    );
}

#[test]
fn a_read_only_disc_and_an_empty_tray_are_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let iso = dir.path().join("pressed.iso");
    std::fs::write(&iso, image(64, 5)).unwrap();
    let sim = burnstation_hal::sim::SimDrive::open(burnstation_hal::sim::SimConfig::new(
        &iso,
        Profile::DvdRom,
    ))
    .unwrap();
    let mut drive = burnstation_hal::Drive::new(sim);
    let err = drive.plan_burn(16, &BurnOptions::default()).unwrap_err();
    // A finalized DVD+R can report as DVD-ROM too: the sentence must not hinge on the name.
    let message = err.to_string();
    assert!(
        message.ends_with(
            "already holds data and cannot be written (the drive reports a DVD-ROM: a \
             finalized or pressed disc): insert a blank DVD+R, DVD-R, BD-R or CD-R"
        ),
        "{message}"
    );

    let sim = burnstation_hal::sim::SimDrive::open(burnstation_hal::sim::SimConfig::empty_tray())
        .unwrap();
    let mut drive = burnstation_hal::Drive::new(sim);
    let err = drive.plan_burn(16, &BurnOptions::default()).unwrap_err();
    assert!(err.to_string().contains("insert a disc"), "{err}");
}
