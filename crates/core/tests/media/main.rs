//! Media tests on a corpus the tests build themselves
//! (`natter_testkit::images`): valid images with metadata to strip, and
//! hostile files (truncated, pixel floods, markup, polyglots).

mod hostile;
mod images;
mod sniffing;
