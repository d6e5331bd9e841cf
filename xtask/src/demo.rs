//! `cargo xtask demo`: the station's main job on this machine, with no hardware.
//!
//! It generates a small sample backup tree (a few services' dumps, repositories and
//! uploads), burns it onto a software DVD+R paced at 2x so a person can watch the progress,
//! reads every byte back, and ends by saying where the disc is and how to look inside it with
//! ordinary tools. Everything lives under `target/demo/`; running it again starts afresh.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::{cargo, run};

/// How fast the software burner writes: slow enough to watch, quick enough to wait for.
const DEMO_SPEED: &str = "2";

/// Runs the demo.
pub fn demo(root: &Path) -> Result<()> {
    cargo(root, &["build", "--package", "burnstation"])?;
    let exe = root.join("target/debug/burnstation");
    let dir = root.join("target/demo");
    let tree = dir.join("backup");
    let disc = dir.join("disc.img");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;

    step("generating a sample backup tree");
    let bytes = sample_tree(&tree)?;
    println!("    {} ({} MB)", tree.display(), bytes / 1_000_000);

    let device = format!("sim:{}?profile=dvd+r&speed={DEMO_SPEED}", disc.display());
    step("a blank DVD+R in a software burner");
    run(
        Command::new(&exe).args(["media", "--device", &device]),
        "burnstation media",
    )?;

    step(&format!(
        "burning it at {DEMO_SPEED}x, then reading every byte back"
    ));
    run(
        Command::new(&exe).arg("burn").arg(&tree).args([
            "--device",
            &device,
            "--volume-id",
            "DEMO_BACKUP",
        ]),
        "burnstation burn",
    )?;

    step("checking the disc again, against the SHA256SUMS it carries");
    let again = format!("sim:{}", disc.display());
    run(
        Command::new(&exe).args(["verify", "--device", &again]),
        "burnstation verify",
    )?;

    step("done");
    let disc = disc.display();
    println!(
        "The disc's medium file is {disc}: the 2048-byte blocks of the disc, nothing else, so
ordinary tools read it as they would read the DVD itself:

    burnstation ls {disc}
    xorriso -indev {disc} -ls /
    7z l {disc}
    mkdir -p /tmp/disc && sudo mount -o loop,ro {disc} /tmp/disc
    cd /tmp/disc && sha256sum -c SHA256SUMS

To burn it again, delete {disc} and {disc}.state.json (a used DVD+R cannot be burnt twice)."
    );
    Ok(())
}

fn step(what: &str) {
    println!("\n==> {what}");
}

/// Writes a sample tree shaped like the OpenSkills backup tree (about 60 MB) and returns its
/// size. The contents are generated, compressible like real dumps, and repeatable.
fn sample_tree(root: &Path) -> Result<u64> {
    let mut total = 0;
    let mut put = |rel: &str, bytes: Vec<u8>| -> Result<()> {
        let path: PathBuf = root.join(rel);
        fs::create_dir_all(path.parent().expect("a file has a parent"))?;
        fs::File::create(&path)
            .and_then(|mut f| f.write_all(&bytes))
            .with_context(|| format!("cannot write {}", path.display()))?;
        total += bytes.len() as u64;
        Ok(())
    };
    put(
        "README.txt",
        b"OpenSkills backup tree (demo sample)\n".to_vec(),
    )?;
    for (service, dumps) in [("wiki", 3), ("forum", 2), ("accounts", 1)] {
        for day in 0..dumps {
            put(
                &format!("services/{service}/db/dump-2026-11-{:02}.sql", 20 + day),
                sql_dump(service, day, 6_000_000),
            )?;
        }
        put(
            &format!("services/{service}/config/settings.toml"),
            format!("[{service}]\nreplicas = 2\n").into_bytes(),
        )?;
    }
    for repo in ["website", "course-material", "tooling"] {
        put(
            &format!("services/git/{repo}.git/objects/pack/pack-0001.pack"),
            noise(repo.len() as u32, 3_000_000),
        )?;
        put(
            &format!("services/git/{repo}.git/HEAD"),
            b"ref: refs/heads/main\n".to_vec(),
        )?;
    }
    for upload in 0..200u32 {
        put(
            &format!("services/uploads/{:03}/image-{upload:04}.jpg", upload / 50),
            noise(upload + 7, 40_000 + upload as usize * 97),
        )?;
    }
    Ok(total)
}

/// SQL-looking text.
fn sql_dump(service: &str, day: u32, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 200);
    let mut row = 0u64;
    while out.len() < len {
        row += 1;
        let _ = writeln!(
            out,
            "INSERT INTO {service}_items VALUES ({row}, 'item {row} of day {day}', {});",
            row.wrapping_mul(2_654_435_761) % 100_000
        );
    }
    out
}

/// Incompressible bytes (like packs and photos), from a small generator.
fn noise(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}
