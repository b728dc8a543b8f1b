-- The MLS KeyPackage directory: per device, the KeyPackages others add
-- it to encrypted chats with. `key_ref` is the KeyPackageRef (the hash
-- Welcomes name it by), `bytes` the MLSMessage as uploaded. An ordinary
-- one is available until `claimed_at` is set (once, by the claim that
-- takes it, which also empties its `bytes`: only the owner is kept); a
-- last-resort one (`last_resort = 1`) is the device's until
-- `replaced_at`, and `claimed_at` is the last time it was handed out.
-- Handed-out rows stay (so that a Welcome can be routed to the device)
-- until the device uploads again long after, or has too many of them;
-- every row of a device goes when its session ends.
CREATE TABLE key_packages (
    key_ref     BLOB PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    device_id   TEXT NOT NULL REFERENCES sessions (id),
    bytes       BLOB NOT NULL,
    last_resort INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    claimed_at  INTEGER,
    replaced_at INTEGER
) STRICT, WITHOUT ROWID;

CREATE INDEX key_packages_device ON key_packages (device_id, last_resort, created_at);
-- What claims and stocks look for: the available ones, oldest first.
CREATE INDEX key_packages_unclaimed ON key_packages (device_id, last_resort, created_at, key_ref)
    WHERE claimed_at IS NULL;

-- The signature key a device's KeyPackages are signed with, pinned by
-- its first accepted upload: a KeyPackage of the device signed with any
-- other key is refused.
CREATE TABLE key_package_signers (
    device_id     TEXT PRIMARY KEY REFERENCES sessions (id),
    signature_key BLOB NOT NULL
) STRICT, WITHOUT ROWID;
