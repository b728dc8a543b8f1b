//! Media tests on a corpus the tests build themselves: valid images with
//! metadata to strip, and hostile files (truncated, pixel floods, markup,
//! polyglots).

mod fixtures;
mod hostile;
mod images;
mod sniffing;
