//! End-to-end encryption with MLS (RFC 9420): the server's part as the
//! Delivery Service. It parses and checks the public parts of what
//! clients send (KeyPackages, Commits, Welcomes, GroupInfo) and stores and
//! routes them; it never holds a key and never decrypts.
//!
//! `wire` is the shared encoding (base64 `MLSMessage`s, the ciphersuite,
//! device identities); `key_packages` is the KeyPackage directory;
//! `groups` reads the public parts of a group's traffic and `commits`
//! runs the group duties (Commit ordering, Welcomes, GroupInfo).

pub mod commits;
pub mod groups;
pub mod key_packages;
pub(crate) mod wire;
