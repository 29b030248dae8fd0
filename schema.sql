-- The schema of a slidearchive archive, applied in order.
--
-- Each section starting with a line `-- version N: why` is applied once, in one
-- transaction, when an archive at a lower `PRAGMA user_version` is opened. Released
-- sections are never edited: change the schema by appending a section. Tables are the
-- storage; the views at the end of each section are the documented query interface.

-- version 1: archive core: posts, sessions, blocks, slides and links
CREATE TABLE post (
    id             INTEGER PRIMARY KEY,
    -- Canonical absolute path or URL the post was imported from.
    source         TEXT NOT NULL UNIQUE,
    slug           TEXT NOT NULL UNIQUE,
    title          TEXT NOT NULL,
    author         TEXT,
    date           TEXT,
    description    TEXT,
    tags           TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
    front_matter_format TEXT CHECK (front_matter_format IN ('yaml', 'toml')),
    front_matter   TEXT,
    meta           TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(meta)),
    session_level  INTEGER,
    -- Parser version and options the rows below were made with (re-import re-parses
    -- an unchanged source when they differ).
    parsed_with    TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    bytes          INTEGER NOT NULL,
    imported_at    TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    -- The exact bytes imported; export starts from these.
    content        BLOB NOT NULL
);

CREATE TABLE session (
    id        INTEGER PRIMARY KEY,
    post_id   INTEGER NOT NULL REFERENCES post(id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    level     INTEGER NOT NULL,
    title     TEXT NOT NULL,
    UNIQUE (post_id, position)
);

CREATE TABLE block (
    id          INTEGER PRIMARY KEY,
    post_id     INTEGER NOT NULL REFERENCES post(id) ON DELETE CASCADE,
    session_id  INTEGER REFERENCES session(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    level       INTEGER,
    start       INTEGER NOT NULL,
    end         INTEGER NOT NULL,
    is_comment  INTEGER NOT NULL,
    markdown    TEXT NOT NULL,
    text        TEXT NOT NULL,
    UNIQUE (post_id, position)
);
CREATE INDEX block_session ON block(session_id);

CREATE TABLE slide (
    id         INTEGER PRIMARY KEY,
    post_id    INTEGER NOT NULL REFERENCES post(id) ON DELETE CASCADE,
    session_id INTEGER REFERENCES session(id) ON DELETE CASCADE,
    -- Not a foreign key: the block is always replaced together with its slides, and
    -- an index for the key's checks would cost every import more than it serves.
    block_id   INTEGER NOT NULL,
    position   INTEGER NOT NULL,
    url        TEXT NOT NULL,
    alt        TEXT NOT NULL,
    title      TEXT NOT NULL,
    syntax     TEXT NOT NULL,
    url_start  INTEGER NOT NULL,
    url_end    INTEGER NOT NULL,
    UNIQUE (post_id, position)
);
CREATE INDEX slide_session ON slide(session_id);
CREATE INDEX slide_url ON slide(url);

CREATE TABLE link (
    id         INTEGER PRIMARY KEY,
    post_id    INTEGER NOT NULL REFERENCES post(id) ON DELETE CASCADE,
    session_id INTEGER REFERENCES session(id) ON DELETE CASCADE,
    block_id   INTEGER NOT NULL,
    position   INTEGER NOT NULL,
    url        TEXT NOT NULL,
    host       TEXT,
    text       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    UNIQUE (post_id, position)
);
CREATE INDEX link_session ON link(session_id);
CREATE INDEX link_host ON link(host);

CREATE VIEW posts AS
SELECT p.id, p.slug, p.title, p.author, p.date, p.description, p.tags,
       p.meta AS front_matter, p.source, p.bytes, p.sha256,
       (SELECT count(*) FROM session s WHERE s.post_id = p.id) AS sessions,
       (SELECT count(*) FROM slide s WHERE s.post_id = p.id) AS slides,
       p.imported_at, p.updated_at
FROM post p;

CREATE VIEW sessions AS
SELECT s.id, s.post_id, p.slug AS post, s.position, s.level, s.title,
       (SELECT count(*) FROM block b WHERE b.session_id = s.id AND b.is_comment) AS comments,
       (SELECT count(*) FROM slide sl WHERE sl.session_id = s.id) AS slides
FROM session s JOIN post p ON p.id = s.post_id;

CREATE VIEW blocks AS
SELECT b.id, b.post_id, p.slug AS post, b.session_id, s.title AS session, b.position,
       b.kind, b.level, b.is_comment, b.start, b.end, b.markdown, b.text
FROM block b JOIN post p ON p.id = b.post_id LEFT JOIN session s ON s.id = b.session_id;

CREATE VIEW comments AS
SELECT b.id, b.post_id, p.slug AS post, b.session_id, s.title AS session, b.position,
       b.kind, b.text, b.markdown
FROM block b JOIN post p ON p.id = b.post_id JOIN session s ON s.id = b.session_id
WHERE b.is_comment;

CREATE VIEW slides AS
SELECT sl.id, sl.post_id, p.slug AS post, sl.session_id, s.title AS session,
       sl.position, sl.url, sl.alt, sl.title, sl.syntax
FROM slide sl JOIN post p ON p.id = sl.post_id LEFT JOIN session s ON s.id = sl.session_id;

CREATE VIEW links AS
SELECT l.id, l.post_id, p.slug AS post, l.session_id, s.title AS session,
       l.position, l.url, l.host, l.text, l.kind
FROM link l JOIN post p ON p.id = l.post_id LEFT JOIN session s ON s.id = l.session_id;

-- version 2: slide images: each URL once with its state, every fetch attempt, and the
-- content-addressed image files
CREATE TABLE image (
    sha256      TEXT PRIMARY KEY,
    bytes       INTEGER NOT NULL,
    media_type  TEXT NOT NULL,
    -- File name extension in the store: images/<sha256[0..2]>/<sha256>.<ext>
    ext         TEXT NOT NULL,
    width       INTEGER,
    height      INTEGER,
    stored_at   TEXT NOT NULL
) WITHOUT ROWID;

-- One row per distinct image address: an http(s) URL, or a file:// URL for an image
-- next to a local post (a page bundle).
CREATE TABLE url (
    id          INTEGER PRIMARY KEY,
    url         TEXT NOT NULL UNIQUE,
    state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'stored', 'failed')),
    -- The current content, once stored.
    sha256      TEXT REFERENCES image(sha256),
    -- Why the last attempt failed: http_status, not_an_image, too_large, timed_out,
    -- connection_error, refused_local_path, too_many_redirects, unsupported.
    error       TEXT,
    reason      TEXT,
    etag        TEXT,
    last_modified TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    fetched_at  TEXT
);
-- Partial: pending URLs, the bulk of every import, cost this index nothing.
CREATE INDEX url_sha256 ON url(sha256) WHERE sha256 IS NOT NULL;

-- Every attempt (a retry inside one run is one attempt), newest last.
CREATE TABLE fetch (
    id            INTEGER PRIMARY KEY,
    url_id        INTEGER NOT NULL REFERENCES url(id) ON DELETE CASCADE,
    at            TEXT NOT NULL,
    final_url     TEXT,
    http_status   INTEGER,
    content_type  TEXT,
    bytes         INTEGER,
    sha256        TEXT,
    error         TEXT,
    reason        TEXT,
    etag          TEXT,
    last_modified TEXT,
    milliseconds  INTEGER
);
CREATE INDEX fetch_url ON fetch(url_id);
CREATE INDEX fetch_sha256 ON fetch(sha256);

-- Which URL each slide resolves to (relative paths resolved against the post).
ALTER TABLE slide ADD COLUMN url_id INTEGER REFERENCES url(id);
CREATE INDEX slide_url_id ON slide(url_id);
-- Lookups by address go through url now.
DROP INDEX slide_url;

CREATE VIEW images AS
SELECT i.sha256, i.bytes, i.media_type, i.width, i.height,
       'images/' || substr(i.sha256, 1, 2) || '/' || i.sha256 || '.' || i.ext AS path,
       (SELECT count(*) FROM url u WHERE u.sha256 = i.sha256) AS urls,
       i.stored_at
FROM image i;

DROP VIEW slides;
CREATE VIEW slides AS
SELECT sl.id, sl.post_id, p.slug AS post, sl.session_id, s.title AS session,
       sl.position, sl.url, sl.alt, sl.title, sl.syntax,
       u.url AS resolved_url, u.state, u.error, u.reason, u.sha256,
       CASE WHEN i.sha256 IS NOT NULL
            THEN 'images/' || substr(i.sha256, 1, 2) || '/' || i.sha256 || '.' || i.ext END AS path
FROM slide sl
JOIN post p ON p.id = sl.post_id
LEFT JOIN session s ON s.id = sl.session_id
LEFT JOIN url u ON u.id = sl.url_id
LEFT JOIN image i ON i.sha256 = u.sha256;

CREATE VIEW urls AS
SELECT u.id, u.url, u.state, u.error, u.reason, u.sha256, u.attempts, u.fetched_at,
       u.etag, u.last_modified,
       (SELECT count(*) FROM slide sl WHERE sl.url_id = u.id) AS slides
FROM url u;

CREATE VIEW fetches AS
SELECT f.id, u.url, f.final_url, f.at, f.http_status, f.content_type, f.bytes, f.sha256,
       f.error, f.reason, f.etag, f.last_modified, f.milliseconds
FROM fetch f JOIN url u ON u.id = f.url_id;

-- version 3: full-text search over session titles and comments. The trigram tokenizer
-- matches any substring of three or more characters, so Chinese and Japanese need no
-- word splitting. Import and removal keep it in step (src/archive/write.rs), one
-- statement per post: a trigger per block would make FTS5 flush its index at every row.
-- rowid: 2 * block id for a comment, 2 * session id + 1 for a session title.
CREATE VIRTUAL TABLE search USING fts5(text, tokenize = 'trigram');
-- Every post's commit writes one small segment; merging 16 at a time rather than 4
-- keeps that merge work down during big imports.
INSERT INTO search (search, rank) VALUES ('automerge', 16);

INSERT INTO search (rowid, text)
SELECT 2 * id, text FROM block WHERE is_comment
UNION ALL
SELECT 2 * id + 1, title FROM session;

-- version 4: indexes behind the README's cookbook. Broken and missing images are found
-- from the few URLs not stored, not by reading every slide.
CREATE INDEX url_unstored ON url(state) WHERE state != 'stored';

DROP VIEW slides;
CREATE VIEW slides AS
SELECT sl.id, sl.post_id, p.slug AS post, sl.session_id, s.title AS session,
       sl.position, sl.url, sl.alt, sl.title, sl.syntax, sl.url_id,
       u.url AS resolved_url, u.state, u.error, u.reason, u.sha256,
       CASE WHEN i.sha256 IS NOT NULL
            THEN 'images/' || substr(i.sha256, 1, 2) || '/' || i.sha256 || '.' || i.ext END AS path
FROM slide sl
JOIN post p ON p.id = sl.post_id
LEFT JOIN session s ON s.id = sl.session_id
LEFT JOIN url u ON u.id = sl.url_id
LEFT JOIN image i ON i.sha256 = u.sha256;

-- version 5: how many slides and posts use each stored image, kept exact by the code
-- that writes slides and URLs (src/archive/counts.rs), so questions about reuse read a
-- few rows of `image` instead of every slide; and indexes for the cookbook's lookups of
-- the largest images and of failures.
ALTER TABLE image ADD COLUMN slides INTEGER NOT NULL DEFAULT 0;
ALTER TABLE image ADD COLUMN posts INTEGER NOT NULL DEFAULT 0;
UPDATE image SET
    slides = (SELECT count(*) FROM url u JOIN slide sl ON sl.url_id = u.id
              WHERE u.sha256 = image.sha256),
    posts = (SELECT count(DISTINCT sl.post_id) FROM url u JOIN slide sl ON sl.url_id = u.id
             WHERE u.sha256 = image.sha256);
CREATE INDEX image_reused ON image(slides, bytes) WHERE slides > 1;
CREATE INDEX image_shared ON image(posts) WHERE posts > 1;
CREATE INDEX image_bytes ON image(bytes);
CREATE INDEX url_failed ON url(error, url) WHERE state = 'failed';

DROP VIEW images;
CREATE VIEW images AS
SELECT i.sha256, i.bytes, i.media_type, i.width, i.height,
       'images/' || substr(i.sha256, 1, 2) || '/' || i.sha256 || '.' || i.ext AS path,
       i.slides, i.posts,
       (SELECT count(*) FROM url u WHERE u.sha256 = i.sha256) AS urls,
       i.stored_at
FROM image i;
