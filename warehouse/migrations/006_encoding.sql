-- How each document's bytes were decoded, on the article and on its raw document: the codec
-- used, where that choice came from ('bom', 'http', 'meta', 'xml', 'detected', 'default'),
-- and how many U+FFFD the decode put in for bytes the codec does not allow.
-- NULL on rows loaded before this migration: not recorded then.

ALTER TABLE articles ADD COLUMN encoding VARCHAR;
ALTER TABLE articles ADD COLUMN encoding_source VARCHAR;
ALTER TABLE articles ADD COLUMN replaced_chars INTEGER;
ALTER TABLE raw_documents ADD COLUMN encoding VARCHAR;
ALTER TABLE raw_documents ADD COLUMN encoding_source VARCHAR;
ALTER TABLE raw_documents ADD COLUMN replaced_chars INTEGER;
