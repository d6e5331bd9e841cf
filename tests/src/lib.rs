//! Cross-crate and system tests of the burn station.
//!
//! The library part holds what several test files share (fixture trees, oracle runners,
//! the emulated-burner harness); the tests themselves live in `tests/tests/`.
