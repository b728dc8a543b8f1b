-- Files stored before voice notes were typed by their first bytes alone
-- (every Ogg `audio/ogg`, anything starting `ID3` `audio/mpeg`). Only
-- files typed by the track check (WebM, Ogg and MP4 tracks, MP3 frames)
-- may be voice notes or be served inline as audio, so earlier audio rows
-- become plain downloads. Uploads from now on are typed by that check.
UPDATE files
SET mime = 'application/octet-stream'
WHERE mime IN ('audio/ogg', 'audio/mpeg', 'audio/webm', 'audio/mp4', 'audio/m4a');
