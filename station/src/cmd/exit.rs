//! Exit codes a script can use, for the commands that choose their own: 0 ok, 2 error (the
//! settings, the network, the server, the disk), 130 interrupted (Ctrl-C, SIGTERM).
//!
//! A command returns [`Exit`] as its error to end with a given code; `main` prints its
//! message like any other error and exits with the code.

/// Something failed.
pub const ERROR: u8 = 2;
/// Stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
pub const INTERRUPTED: u8 = 130;

/// An error that ends the program with `code`.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Exit {
    /// The exit code.
    pub code: u8,
    /// The sentence for the person.
    pub message: String,
}

impl Exit {
    /// A failure (exit 2) saying `message`.
    pub fn error(message: impl std::fmt::Display) -> anyhow::Error {
        Exit {
            code: ERROR,
            message: message.to_string(),
        }
        .into()
    }

    /// An interruption (exit 130) saying `message`.
    pub fn interrupted(message: impl std::fmt::Display) -> anyhow::Error {
        Exit {
            code: INTERRUPTED,
            message: message.to_string(),
        }
        .into()
    }
}

/// The exit code for `error`: its own when it carries one, 1 otherwise.
pub fn code_for(error: &anyhow::Error) -> u8 {
    error.downcast_ref::<Exit>().map_or(1, |exit| exit.code)
}
