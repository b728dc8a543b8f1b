-- Secrets shared by every process using this database (the token signing
-- key...): the first one to ask stores its candidate, the others read it.
CREATE TABLE secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;
