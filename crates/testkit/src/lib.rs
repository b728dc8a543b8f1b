//! Test harness of natter, for its own test suites only: [`TestServer`]
//! (the real server in-process on a free port, with a data directory of
//! its own) and [`images`] (the image corpus, generated in memory).

pub mod images;
mod server;

pub use server::{PASSWORD, TestServer, display_name_of, test_settings};
