-- The link preview cache: one row per normalized URL, what its last fetch
-- found (found = false: nothing to preview, or the fetch failed) and when.
-- The image's bytes are in the blob store under `image_id`.
CREATE TABLE link_previews (
    url          TEXT PRIMARY KEY,
    fetched_at   BIGINT NOT NULL,
    found        BOOLEAN NOT NULL,
    title        TEXT,
    description  TEXT,
    site_name    TEXT,
    image_id     TEXT,
    image_width  INTEGER,
    image_height INTEGER
);

-- The sweep of stale rows (oldest first).
CREATE INDEX link_previews_fetched_at ON link_previews (fetched_at);
