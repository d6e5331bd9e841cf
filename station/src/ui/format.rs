//! Numbers as a person reads them on a small screen: "3 h ago", "4.3 GB", "5.2 MB/s".

use std::time::Duration;

/// A size in decimal units, as disc and card makers print them: "812 MB", "4.3 GB".
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 || value >= 100.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A rate: "5.2 MB/s".
pub fn rate(bytes_per_second: u64) -> String {
    format!("{}/s", bytes(bytes_per_second))
}

/// A span in the largest unit that reads naturally: "40 s", "12 min", "3 h", "2 days".
pub fn span(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s} s"),
        60..=5_399 => format!("{} min", (s + 30) / 60),
        5_400..=129_599 => format!("{} h", (s + 1_800) / 3_600),
        _ => format!("{} days", (s + 43_200) / 86_400),
    }
}

/// Time left: "12 min left".
pub fn left(d: Duration) -> String {
    format!("{} left", span(d))
}

/// A write speed: "8x", "2.4x".
pub fn speed(x: f32) -> String {
    if x >= 10.0 || (x.fract()).abs() < 0.05 {
        format!("{x:.0}x")
    } else {
        format!("{x:.1}x")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_naturally() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(4_700_000_000), "4.7 GB");
        assert_eq!(bytes(812_400_000), "812 MB");
        assert_eq!(rate(5_230_000), "5.2 MB/s");
        assert_eq!(span(Duration::from_secs(40)), "40 s");
        assert_eq!(span(Duration::from_secs(719)), "12 min");
        assert_eq!(span(Duration::from_secs(3 * 3600)), "3 h");
        assert_eq!(span(Duration::from_secs(2 * 86_400)), "2 days");
        assert_eq!(speed(8.0), "8x");
        assert_eq!(speed(2.4), "2.4x");
        assert_eq!(speed(16.02), "16x");
    }
}
