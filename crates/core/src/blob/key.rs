//! Object keys. Every key is built here from server-generated ids, so no
//! client-supplied text (file names, paths) can ever reach the object store.

use object_store::path::Path;
use std::fmt;
use uuid::Uuid;

/// Which rendition of a stored file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// The bytes as served (for images: re-encoded without metadata).
    Original,
    /// The thumbnail (images only).
    Thumb,
}

impl Variant {
    /// The name used in keys and in the `variant` query parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Original => "original",
            Variant::Thumb => "thumb",
        }
    }

    /// Parses `original` / `thumb`; anything else is `None`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "original" => Some(Variant::Original),
            "thumb" => Some(Variant::Thumb),
            _ => None,
        }
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A key in the blob store. Only [`key`], [`upload_key`] and
/// [`preview_key`] make one, so a key is always `files/<uuid>/<variant>`,
/// `uploads/<uuid>` or `previews/<uuid>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobKey(Path);

impl BlobKey {
    /// The key as a string (for logs; it carries no client text).
    pub fn as_str(&self) -> &str {
        self.0.as_ref()
    }

    pub(super) fn path(&self) -> &Path {
        &self.0
    }
}

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The key of a stored file's rendition: `files/<file_id>/<variant>`.
pub fn key(file_id: Uuid, variant: Variant) -> BlobKey {
    BlobKey(Path::from_iter([
        "files".to_owned(),
        file_id.to_string(),
        variant.as_str().to_owned(),
    ]))
}

/// The key of an upload in progress, before its type is known:
/// `uploads/<upload_id>`. Moved (or deleted) once the upload is processed.
pub fn upload_key(upload_id: Uuid) -> BlobKey {
    BlobKey(Path::from_iter([
        "uploads".to_owned(),
        upload_id.to_string(),
    ]))
}

/// The key of a link preview's image (re-encoded, thumbnail size):
/// `previews/<image_id>`.
pub fn preview_key(image_id: Uuid) -> BlobKey {
    BlobKey(Path::from_iter([
        "previews".to_owned(),
        image_id.to_string(),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_built_from_ids_only() {
        let id = Uuid::parse_str("0190a5e0-0000-7000-8000-000000000001").unwrap();
        assert_eq!(
            key(id, Variant::Thumb).as_str(),
            "files/0190a5e0-0000-7000-8000-000000000001/thumb"
        );
        assert_eq!(
            upload_key(id).as_str(),
            "uploads/0190a5e0-0000-7000-8000-000000000001"
        );
    }

    #[test]
    fn variants_round_trip_through_their_names() {
        for v in [Variant::Original, Variant::Thumb] {
            assert_eq!(Variant::parse(v.as_str()), Some(v));
        }
        assert_eq!(Variant::parse("../original"), None);
    }
}
