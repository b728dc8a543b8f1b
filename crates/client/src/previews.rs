//! Link previews (`GET /api/v1/link-preview`): what a page says about
//! itself, fetched by the server. "Nothing to preview" (204) is `None`,
//! not an error.

use crate::{Client, Result};
use natter_proto::previews::LinkPreview;
use reqwest::{Method, StatusCode};

impl Client {
    /// `GET /api/v1/link-preview?url=`: the preview of the page at `url`,
    /// or `None` when it has nothing to preview or cannot be fetched
    /// (204). A bad URL is a 400 problem, previews turned off a 404.
    pub async fn link_preview(&self, url: &str) -> Result<Option<LinkPreview>> {
        let builder = self
            .request(Method::GET, "/api/v1/link-preview")
            .query(&[("url", url)]);
        let (status, body) = self.checked(builder).await?;
        if status == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|error| crate::ClientError::Decode(format!("{error} in a link preview")))
    }
}
