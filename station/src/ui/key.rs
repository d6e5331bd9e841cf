//! The box's ssh key as an administrator registers it: a QR code of the public key line and
//! the key's fingerprint, as `ssh-keygen -lf` prints it.

use crate::config::SshPublicKey;

/// The SHA-256 fingerprint of an `authorized_keys` line ("ssh-ed25519 AAAA... comment"):
/// `SHA256:` and the unpadded base64 of the SHA-256 of the key blob, as OpenSSH prints it.
/// `None` if the line holds no readable key.
pub fn fingerprint(key_line: &str) -> Option<String> {
    SshPublicKey::try_from(key_line.to_string())
        .ok()
        .map(|key| key.fingerprint())
}

/// The QR code of the key line (type and key, without the comment, to keep the code small
/// enough to scan off a 128x64 OLED): its modules row by row, `true` = dark, and its width.
pub fn qr_modules(key_line: &str) -> Option<(Vec<bool>, usize)> {
    let mut words = key_line.split_whitespace();
    let (kind, blob) = (words.next()?, words.next()?);
    let code =
        qrcode::QrCode::with_error_correction_level(format!("{kind} {blob}"), qrcode::EcLevel::L)
            .ok()?;
    let width = code.width();
    let modules = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    Some((modules, width))
}
