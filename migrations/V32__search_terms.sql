-- The message index's term dictionary: every term `message_search` holds, spelled as the index
-- spells it, so a word typed as a prefix becomes the index's exact terms (`messaging::search`).
-- FTS5 answers a prefix query by merging every store's entries for every matching term before the
-- caller's rowid range applies; an exact term seeks straight into the range. New terms enter at
-- each commit, from the messages queued for the index (`index_queued_messages`); terms are never
-- removed (a term whose messages were deleted expands to a query that finds nothing).
CREATE TABLE search_terms (
    term TEXT PRIMARY KEY
) WITHOUT ROWID;

CREATE VIRTUAL TABLE temp.message_search_vocabulary USING fts5vocab(main, message_search, 'row');
INSERT INTO search_terms (term) SELECT term FROM temp.message_search_vocabulary;
DROP TABLE temp.message_search_vocabulary;
