//! A terminal's keys standing in for the buttons (the demo, a box on a desk).
//!
//! A terminal reports keys, not how long they were held, so a long press is its own key:
//! lower case is a short press, upper case a long one. The reader runs on its own thread so
//! that [`ButtonSource::next_event`] can time out; give it a terminal in non-canonical mode
//! (keys arrive without Enter), or any byte stream.

use std::io::Read;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

use super::{Button, ButtonError, ButtonEvent, ButtonSource};

/// Buttons read from a byte stream of keys.
#[derive(Debug)]
pub struct KeyboardButtons {
    keys: Receiver<u8>,
    escape: Vec<u8>,
}

/// The keys, for a help line: one `(keys, meaning)` per row.
pub fn key_help() -> &'static [(&'static str, &'static str)] {
    &[
        ("Enter, space, s", "press select (the obvious next step)"),
        ("S", "hold select (menu)"),
        ("n, j, Down", "press next"),
        ("p, k, Up", "press previous"),
        ("m", "press menu (open the menu, back)"),
        ("N, P, M", "hold next, previous, menu"),
    ]
}

impl KeyboardButtons {
    /// Reads keys from `input` on a thread of its own until it ends.
    pub fn spawn(mut input: impl Read + Send + 'static) -> Self {
        let (send, keys) = mpsc::channel();
        std::thread::Builder::new()
            .name("keyboard-buttons".into())
            .spawn(move || {
                let mut byte = [0u8; 1];
                while let Ok(1) = input.read(&mut byte) {
                    if send.send(byte[0]).is_err() {
                        break;
                    }
                }
            })
            .expect("spawning a thread at start-up");
        Self {
            keys,
            escape: Vec::new(),
        }
    }

    /// The press a key stands for, keeping arrow keys' escape sequences (ESC [ A / B) whole.
    fn key(&mut self, byte: u8) -> Option<ButtonEvent> {
        if !self.escape.is_empty() || byte == 0x1b {
            self.escape.push(byte);
            return match self.escape.as_slice() {
                [0x1b] | [0x1b, b'['] => None,
                [0x1b, b'[', b'A'] => self.end_escape(Some(ButtonEvent::short(Button::Previous))),
                [0x1b, b'[', b'B'] => self.end_escape(Some(ButtonEvent::short(Button::Next))),
                _ => self.end_escape(None),
            };
        }
        let (button, long) = match byte {
            b'\n' | b'\r' | b' ' | b's' => (Button::Select, false),
            b'S' => (Button::Select, true),
            b'n' | b'j' => (Button::Next, false),
            b'N' => (Button::Next, true),
            b'p' | b'k' => (Button::Previous, false),
            b'P' => (Button::Previous, true),
            b'm' => (Button::Menu, false),
            b'M' => (Button::Menu, true),
            _ => return None,
        };
        Some(if long {
            ButtonEvent::long(button)
        } else {
            ButtonEvent::short(button)
        })
    }

    fn end_escape(&mut self, event: Option<ButtonEvent>) -> Option<ButtonEvent> {
        self.escape.clear();
        event
    }
}

impl ButtonSource for KeyboardButtons {
    fn next_event(&mut self, timeout: Duration) -> Result<Option<ButtonEvent>, ButtonError> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.keys.recv_timeout(left) {
                Ok(byte) => {
                    if let Some(event) = self.key(byte) {
                        return Ok(Some(event));
                    }
                }
                Err(RecvTimeoutError::Timeout) => return Ok(None),
                Err(RecvTimeoutError::Disconnected) => return Err(ButtonError::InputClosed),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_become_presses_and_the_end_of_input_is_reported() {
        let mut kb = KeyboardButtons::spawn(&b"s\x1b[BxSm"[..]);
        let mut got = Vec::new();
        loop {
            match kb.next_event(Duration::from_secs(5)) {
                Ok(Some(event)) => got.push(event),
                Ok(None) => panic!("the input has five keys and then ends"),
                Err(ButtonError::InputClosed) => break,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(
            got,
            [
                ButtonEvent::short(Button::Select),
                ButtonEvent::short(Button::Next),
                ButtonEvent::long(Button::Select),
                ButtonEvent::short(Button::Menu),
            ]
        );
    }
}
