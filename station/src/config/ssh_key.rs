//! An OpenSSH public key as one line of text: `ssh-ed25519 AAAAC3Nza... comment`.
//!
//! Two settings hold one: the backup server's host key (pinned, so the box refuses a server
//! that answers with any other key) and an administrator's key for logging in to the box. The
//! key is checked as far as the text allows (a known type, base64 that decodes, a blob that
//! names the same type), so a key cut short while copying is caught on the day it is typed,
//! not when the first sync fails.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::values::ValueError;

/// The key types OpenSSH offers for host and user keys.
const KEY_TYPES: [&str; 7] = [
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

/// A public key: its type, its bytes, and the comment that followed it (if any).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct SshPublicKey {
    key_type: String,
    blob: Vec<u8>,
    comment: Option<String>,
}

impl SshPublicKey {
    /// The key type (`ssh-ed25519`).
    pub fn key_type(&self) -> &str {
        &self.key_type
    }

    /// The key's base64 text, as in `authorized_keys` and `known_hosts`.
    pub fn base64(&self) -> String {
        STANDARD.encode(&self.blob)
    }

    /// Its fingerprint as `ssh-keygen -l` and ssh's own messages show it (`SHA256:...`).
    pub fn fingerprint(&self) -> String {
        format!(
            "SHA256:{}",
            STANDARD_NO_PAD.encode(Sha256::digest(&self.blob))
        )
    }

    /// The `known_hosts` line that pins this key for the name `alias`.
    pub fn known_hosts_line(&self, alias: &str) -> String {
        format!("{alias} {} {}\n", self.key_type, self.base64())
    }

    /// The signature algorithms a server proves this key with: what ssh's
    /// `HostKeyAlgorithms` must allow so that the server offers this key and not another.
    pub fn signature_algorithms(&self) -> &str {
        match self.key_type.as_str() {
            // Plain `ssh-rsa` signs with SHA-1, which OpenSSH refuses since 8.8.
            "ssh-rsa" => "rsa-sha2-512,rsa-sha2-256",
            other => other,
        }
    }
}

impl fmt::Debug for SshPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SshPublicKey({} {})", self.key_type, self.fingerprint())
    }
}

impl fmt::Display for SshPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.key_type, self.base64())?;
        if let Some(comment) = &self.comment {
            write!(f, " {comment}")?;
        }
        Ok(())
    }
}

const KEY_HELP: &str = "paste the whole key on one line, exactly as your administrator sent it, \
                        like \"ssh-ed25519 AAAAC3Nza...\"";

impl TryFrom<String> for SshPublicKey {
    type Error = ValueError;

    fn try_from(text: String) -> Result<SshPublicKey, ValueError> {
        let refuse = |why: &str| Err(ValueError(format!("{why}; {KEY_HELP}")));
        let mut words = text.split_whitespace();
        let Some(first) = words.next() else {
            return refuse("the key is empty");
        };
        if !KEY_TYPES.contains(&first) {
            if words
                .next()
                .is_some_and(|second| KEY_TYPES.contains(&second))
            {
                return Err(ValueError(format!(
                    "the key starts with {first:?}, a server name; keep only the part from the \
                     key type (like \"ssh-ed25519\") on"
                )));
            }
            return refuse(&format!(
                "{first:?} is not a key type (known: {})",
                KEY_TYPES.join(", ")
            ));
        }
        let Some(encoded) = words.next() else {
            return refuse(&format!(
                "only the key type {first:?} is there, not the key"
            ));
        };
        let Ok(blob) = STANDARD.decode(encoded) else {
            return refuse("the key text is damaged or cut short");
        };
        if blob_type(&blob) != Some(first.as_bytes()) {
            return refuse(&format!(
                "the key text is damaged or cut short, or is not an {first} key"
            ));
        }
        if first == "ssh-ed25519" && blob.len() != 51 {
            return refuse("the key text is cut short");
        }
        let comment: Vec<&str> = words.collect();
        Ok(SshPublicKey {
            key_type: first.to_string(),
            blob,
            comment: (!comment.is_empty()).then(|| comment.join(" ")),
        })
    }
}

/// The key type a key blob names in its first field (a 32-bit length, then the name).
fn blob_type(blob: &[u8]) -> Option<&[u8]> {
    let length = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    blob.get(4..4usize.checked_add(length)?)
}

/// Reads an optional key: an empty string means "not set yet".
pub fn optional_key<'de, D>(deserializer: D) -> Result<Option<SshPublicKey>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let text = String::deserialize(deserializer)?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    SshPublicKey::try_from(text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real ed25519 public key (`ssh-keygen -t ed25519`), and its `ssh-keygen -l` fingerprint.
    const ED25519: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMuComClvJVBMuAjdtCwtOnVJvAekQ90lA8zyDmfTNOp box@test";
    const ED25519_FINGERPRINT: &str = "SHA256:I/RQKWzrP5AKZsz59VXrglvrreE9NGqKKxndsBXZRcM";

    #[test]
    fn a_real_key_reads_back_with_its_fingerprint() {
        let key = SshPublicKey::try_from(ED25519.to_string()).unwrap();
        assert_eq!(key.key_type(), "ssh-ed25519");
        assert_eq!(key.to_string(), ED25519);
        assert_eq!(key.fingerprint(), ED25519_FINGERPRINT);
        assert_eq!(
            key.known_hosts_line("source"),
            format!("source {}\n", &ED25519[..80])
        );
    }

    #[test]
    fn damaged_keys_are_refused_with_the_way_to_write_them() {
        let cut = &ED25519[..60];
        let host_first = format!("backup.example.org {ED25519}");
        let wrong_type = ED25519.replace("ssh-ed25519", "ssh-rsa");
        for (text, says) in [
            ("", "empty"),
            ("ssh-ed25519", "not the key"),
            ("ssh-dss AAAA", "not a key type"),
            (cut, "cut short"),
            ("ssh-ed25519 !!!notbase64", "damaged"),
            (host_first.as_str(), "a server name"),
            (wrong_type.as_str(), "not an ssh-rsa key"),
        ] {
            let err = SshPublicKey::try_from(text.to_string()).unwrap_err().0;
            assert!(err.contains(says), "{text:?}: {err}");
        }
    }
}
