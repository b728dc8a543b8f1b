-- What a group or channel says about itself besides its name: a one-line
-- topic, a longer description and an avatar (an image in `files`). All
-- NULL for direct chats and for chats that never set them. The avatar
-- keeps its file from the orphan sweep and makes it readable by the
-- chat's members (see `files.rs`).
ALTER TABLE chats ADD COLUMN topic TEXT;
ALTER TABLE chats ADD COLUMN description TEXT;
ALTER TABLE chats ADD COLUMN avatar_file_id TEXT;

CREATE INDEX chats_avatar ON chats (avatar_file_id) WHERE avatar_file_id IS NOT NULL;
