//! Volume IDs of the discs of a set: they name the set and the disc, in at most 16
//! d-characters, because Windows shows the Joliet label, which holds 16 characters.
//!
//! The most descriptive form that fits is used: `OSK261126_2OF3` (a prefix, the snapshot's
//! date, disc n of N), then without the prefix (`261126_123OF456`), then the disc number
//! alone (`261126_12345`, for sets of thousands of discs; README.txt and SET.json still say
//! "of N").

use crate::iso9660::records::civil_from_days;

/// Longest volume ID Joliet keeps.
pub const VOLUME_ID_MAX: usize = 16;

/// The set's label: the prefix and the snapshot's date (UTC), e.g. `OSK261126`.
pub fn set_label(prefix: &str, snapshot_time: i64) -> String {
    let (year, month, day) = civil_from_days(snapshot_time.div_euclid(86_400));
    format!(
        "{}{:02}{month:02}{day:02}",
        d_characters(prefix),
        year.rem_euclid(100)
    )
}

/// The date part of a label (`YYMMDD`).
fn date_part(snapshot_time: i64) -> String {
    set_label("", snapshot_time)
}

/// The volume ID of disc `disc` (1-based) of `discs`.
pub fn volume_id(prefix: &str, snapshot_time: i64, disc: u32, discs: u32) -> String {
    let label = set_label(prefix, snapshot_time);
    let date = date_part(snapshot_time);
    [
        format!("{label}_{disc}OF{discs}"),
        format!("{date}_{disc}OF{discs}"),
        format!("{date}_{disc}"),
    ]
    .into_iter()
    .find(|id| id.len() <= VOLUME_ID_MAX)
    .unwrap_or_else(|| disc.to_string())
}

/// Upper-case d-characters (`A-Z 0-9 _`), anything else dropped.
fn d_characters(text: &str) -> String {
    text.chars()
        .filter_map(|c| {
            let c = c.to_ascii_uppercase();
            (c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_').then_some(c)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-26 03:00 UTC.
    const TIME: i64 = 1_795_662_000;

    #[test]
    fn a_small_set_reads_like_its_name() {
        assert_eq!(set_label("osk", TIME), "OSK261126");
        assert_eq!(volume_id("OSK", TIME, 2, 3), "OSK261126_2OF3");
        assert_eq!(volume_id("OSK", TIME, 12, 40), "OSK261126_12OF40");
    }

    #[test]
    fn every_disc_of_sets_up_to_five_digit_counts_has_a_unique_fitting_id() {
        for discs in [
            1u32, 3, 9, 10, 99, 100, 999, 1000, 9999, 10_000, 12_345, 99_999,
        ] {
            let mut seen = std::collections::HashSet::new();
            let sample = [1, 2, discs / 2 + 1, discs.saturating_sub(1).max(1), discs];
            for disc in sample {
                let id = volume_id("OSK", TIME, disc, discs);
                assert!(id.len() <= VOLUME_ID_MAX, "{id}");
                assert!(
                    id.bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
                    "{id}"
                );
                assert!(id.contains(&disc.to_string()), "{id}");
                assert!(id.contains("261126"), "{id}");
                seen.insert((disc, id));
            }
            let ids: std::collections::HashSet<_> = seen.iter().map(|(_, id)| id).collect();
            let discs_seen: std::collections::HashSet<_> = seen.iter().map(|(d, _)| d).collect();
            assert_eq!(ids.len(), discs_seen.len(), "{discs}: {seen:?}");
        }
        assert_eq!(volume_id("OSK", TIME, 12_345, 99_999), "261126_12345");
    }
}
