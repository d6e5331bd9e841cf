//! Showing a burn or a read-back as it goes: a progress bar on a terminal, and plain lines
//! (a few per minute) when the output is a log or a pipe.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use burnstation::pipeline::PipelineEvent;
use burnstation_hal::{BurnEvent, BurnPhase, ReadProgress, WriteProgress};
use burnstation_images::iso9660::BLOCK;
use indicatif::{ProgressBar, ProgressStyle};

/// How often a plain line is printed when there is no terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(10);

/// The display of a running job.
pub struct Progress {
    bar: Option<ProgressBar>,
    last_plain: Instant,
    last_phase: Option<BurnPhase>,
}

impl Progress {
    /// A bar when stderr is a terminal, plain lines otherwise.
    pub fn new() -> Progress {
        Progress {
            bar: None,
            last_plain: Instant::now() - PLAIN_EVERY,
            last_phase: None,
        }
    }

    fn terminal() -> bool {
        std::io::stderr().is_terminal()
    }

    /// Starts a bar of `total` bytes with `message`, or prints the message.
    fn start(&mut self, total: u64, message: &str) {
        self.finish();
        if Progress::terminal() {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg:>10} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} {prefix} eta {eta}",
                )
                .expect("the template is valid")
                .progress_chars("=> "),
            );
            bar.set_message(message.to_string());
            self.bar = Some(bar);
        } else {
            eprintln!("{message}...");
        }
        self.last_plain = Instant::now();
    }

    fn line(&mut self, text: String) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    /// Ends the current bar.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    /// Shows one event of the pipeline.
    pub fn event(&mut self, event: PipelineEvent) {
        match event {
            PipelineEvent::Scanning => self.line("reading the tree".to_string()),
            PipelineEvent::Warning(warning) => self.line(format!("warning: {warning}")),
            PipelineEvent::Note(note) => self.line(format!("note: {note}")),
            PipelineEvent::Planned { plan, files } => {
                let what = if files > 0 {
                    format!("{files} files, ")
                } else {
                    String::new()
                };
                self.line(format!(
                    "burning {what}{} MB onto a {} ({}{})",
                    plan.image_blocks * BLOCK / 1_000_000,
                    plan.profile,
                    plan.method.describe(),
                    if plan.finalize {
                        ", finalized"
                    } else {
                        ", left appendable"
                    }
                ));
                for note in &plan.notes {
                    self.line(format!("  {note}"));
                }
            }
            PipelineEvent::Burn(event) => self.burn_event(event),
            PipelineEvent::Verifying { bytes } => self.start(bytes, "verifying"),
            PipelineEvent::ReadBack(progress) => self.read_progress(progress),
        }
    }

    /// Shows one event of a burn.
    pub fn burn_event(&mut self, event: BurnEvent) {
        match event {
            BurnEvent::Phase(phase) => {
                self.last_phase = Some(phase);
                match phase {
                    BurnPhase::Writing => self.start(0, "writing"),
                    other => {
                        self.finish();
                        self.line(format!("{other}..."));
                    }
                }
            }
            BurnEvent::Progress(p) => self.write_progress(p),
            BurnEvent::Waiting { phase, fraction } => {
                if !Progress::terminal() && self.last_plain.elapsed() >= PLAIN_EVERY {
                    self.last_plain = Instant::now();
                    match fraction {
                        Some(f) => eprintln!("{phase}: {:.0}%", f * 100.0),
                        None => eprintln!("{phase}: still working"),
                    }
                }
            }
            BurnEvent::Note(note) => self.line(format!("note: {note}")),
        }
    }

    fn write_progress(&mut self, p: WriteProgress) {
        let buffers = format!(
            "{:.1}x  host buffer {}  drive buffer {}",
            p.speed_times,
            p.host_buffer
                .map_or("-".to_string(), |f| format!("{:.0}%", f.fraction() * 100.0)),
            p.drive_buffer.map_or("-".to_string(), |f| format!(
                "{:.0}%",
                f.used as f64 * 100.0 / f.size.max(1) as f64
            )),
        );
        if let Some(bar) = &self.bar {
            bar.set_length(p.total_bytes);
            bar.set_position(p.written_bytes);
            bar.set_prefix(buffers);
        } else if self.last_plain.elapsed() >= PLAIN_EVERY || p.written_bytes == p.total_bytes {
            self.last_plain = Instant::now();
            eprintln!(
                "writing: {:.1}% ({} of {} MB, {:.1} MB/s, {buffers}{})",
                p.written_bytes as f64 * 100.0 / p.total_bytes.max(1) as f64,
                p.written_bytes / 1_000_000,
                p.total_bytes / 1_000_000,
                p.bytes_per_sec / 1e6,
                p.eta
                    .map_or(String::new(), |e| format!(", {} s left", e.as_secs())),
            );
        }
    }

    /// Shows read-back progress.
    pub fn read_progress(&mut self, p: ReadProgress) {
        let bad = if p.unreadable_blocks > 0 {
            format!("{} unreadable", p.unreadable_blocks)
        } else {
            String::new()
        };
        if let Some(bar) = &self.bar {
            bar.set_length(p.total_bytes);
            bar.set_position(p.read_bytes);
            bar.set_prefix(bad);
        } else if self.last_plain.elapsed() >= PLAIN_EVERY || p.read_bytes == p.total_bytes {
            self.last_plain = Instant::now();
            eprintln!(
                "verifying: {:.1}% ({} of {} MB, {:.1} MB/s{}{})",
                p.read_bytes as f64 * 100.0 / p.total_bytes.max(1) as f64,
                p.read_bytes / 1_000_000,
                p.total_bytes / 1_000_000,
                p.bytes_per_sec / 1e6,
                if bad.is_empty() {
                    String::new()
                } else {
                    format!(", {bad}")
                },
                p.eta
                    .map_or(String::new(), |e| format!(", {} s left", e.as_secs())),
            );
        }
    }
}
