-- FTS5 keeps each index as segments, a new one for every commit that indexes something, and merges
-- them as it writes only once a level holds four (`automerge`); a query seeks into every segment
-- for every term, so an index built by a few million commits holds about thirty (31 measured at
-- ten million messages) and each search term pays thirty seeks. Parley merges further while the
-- database is quiet (`messaging::search::merge_step`), through FTS5's own 'merge' command, which
-- merges a level once it holds `usermerge` segments: at 2, a quiet database keeps at most one
-- segment a level (2 measured at ten million messages).
INSERT INTO message_search (message_search, rank) VALUES ('usermerge', 2);
INSERT INTO conversation_search (conversation_search, rank) VALUES ('usermerge', 2);
