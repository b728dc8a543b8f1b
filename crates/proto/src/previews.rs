//! Link previews (`GET /api/v1/link-preview`): what the server found on a
//! page a message links to, for the card under the message.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A page's preview: its Open Graph / Twitter card data, else its
/// `<title>` and meta description. Every text is plain text (no markup),
/// trimmed and bounded; absent fields are left out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LinkPreview {
    /// The URL as the server normalized and fetched it (before redirects).
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<PreviewImage>,
}

/// The page's image, re-encoded by the server at thumbnail size.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PreviewImage {
    /// A signed, expiring link (path and query) to the image on this
    /// server; no token needed.
    pub url: String,
    pub width: u32,
    pub height: u32,
}
