//! File calls: uploads (`POST /api/v1/files`, one `file` field of
//! `multipart/form-data`) and downloads of a file's signed link or of
//! `/api/v1/files/{file_id}` with the caller's token, answers taken as
//! they come (status, headers, bytes) so callers can check what a browser
//! would be told.
//!
//! The form is built here rather than with reqwest's `multipart` feature
//! so the bytes on the wire are exactly what a browser sends: the file
//! name goes out as given (UTF-8, only `"`, CR and LF escaped), never
//! percent-encoded, which is what the server's name sanitising must face.

use crate::client::send_raw;
use crate::{Client, RawResponse, Result};
use natter_proto::messages::FileInfo;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderName};

/// A `multipart/form-data` body: its `Content-Type` (with the boundary)
/// and its bytes.
#[derive(Clone, Debug)]
pub struct MultipartBody {
    /// `multipart/form-data; boundary=...`.
    pub content_type: String,
    /// The encoded form.
    pub body: Vec<u8>,
}

impl MultipartBody {
    /// A form with one file field `field` holding `bytes`, sent with the
    /// file name `name` and the part type `content_type`.
    pub fn file(field: &str, name: &str, bytes: &[u8], content_type: &str) -> MultipartBody {
        let boundary = boundary_for(bytes);
        let mut body = Vec::with_capacity(bytes.len() + 256);
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        body.extend_from_slice(
            format!(
                "Content-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\n",
                escape(field),
                escape(name)
            )
            .as_bytes(),
        );
        body.extend_from_slice(format!("Content-Type: {content_type}\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        MultipartBody {
            content_type: format!("multipart/form-data; boundary={boundary}"),
            body,
        }
    }
}

/// A boundary that does not occur in `bytes` (a random one almost never
/// does; checking keeps the form well-formed whatever the content).
fn boundary_for(bytes: &[u8]) -> String {
    loop {
        let boundary = format!("natter-{}", uuid::Uuid::now_v7().simple());
        let needle = boundary.as_bytes();
        if !bytes.windows(needle.len()).any(|window| window == needle) {
            return boundary;
        }
    }
}

/// What browsers do to a name in a `Content-Disposition` of a form part
/// (WHATWG HTML, "multipart/form-data encoding"): `"` becomes `%22`,
/// CR `%0D`, LF `%0A`; every other character is sent as it is.
fn escape(name: &str) -> String {
    name.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

impl Client {
    /// `POST /api/v1/files`: uploads `bytes` as the form field `file`
    /// named `name`, declared as `content_type` (the server decides the
    /// type from the bytes anyway). Returns the stored file (201).
    pub async fn upload_file(
        &self,
        name: &str,
        bytes: &[u8],
        content_type: &str,
    ) -> Result<FileInfo> {
        let form = MultipartBody::file("file", name, bytes, content_type);
        let builder = self
            .request(Method::POST, "/api/v1/files")
            .header(CONTENT_TYPE, form.content_type)
            .body(form.body);
        Ok(self.call(builder).await?.0)
    }

    /// `GET` of a file: `url_or_path` is a signed link as the server gave
    /// it (`/api/v1/files/...?...&sig=...`, or absolute), or a plain
    /// `/api/v1/files/{file_id}` path to read with this client's token.
    /// The token is sent whenever this client has one; use
    /// [`Client::without_token`] to test a link on its own. Any status is
    /// returned as is.
    pub async fn download(&self, url_or_path: &str) -> Result<RawResponse> {
        self.download_with(url_or_path, &[]).await
    }

    /// [`Client::download`] with extra request headers (`Range`,
    /// `If-None-Match`...).
    pub async fn download_with(
        &self,
        url_or_path: &str,
        headers: &[(HeaderName, &str)],
    ) -> Result<RawResponse> {
        let mut builder =
            if url_or_path.starts_with("http://") || url_or_path.starts_with("https://") {
                let builder = self.http().get(url_or_path);
                match self.token() {
                    Some(token) => builder.bearer_auth(token),
                    None => builder,
                }
            } else {
                self.request(Method::GET, url_or_path)
            };
        for (name, value) in headers {
            builder = builder.header(name, *value);
        }
        send_raw(builder).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_form_has_one_part_with_the_name_as_given() {
        let form = MultipartBody::file("file", "../a\"b.png", b"PNG", "image/png");
        let boundary = form
            .content_type
            .strip_prefix("multipart/form-data; boundary=")
            .unwrap();
        let text = String::from_utf8(form.body).unwrap();
        assert_eq!(
            text,
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
                 filename=\"../a%22b.png\"\r\nContent-Type: image/png\r\n\r\nPNG\r\n--{boundary}--\r\n"
            )
        );
    }
}
