-- Near-duplicates by containment: each signature's shingle count, the containment estimate that
-- made a near-duplicate, and LSH keys of 64 bands of 2 rows instead of 32 bands of 4 rows.

-- NULL for signatures stored before: their articles are compared by Jaccard only.
ALTER TABLE signatures ADD COLUMN shingles INTEGER;
-- Set only when the containment test found the copy (Jaccard fell below its threshold);
-- between 0 and 1 (DuckDB cannot add a column with a CHECK).
ALTER TABLE duplicates ADD COLUMN containment DOUBLE;

-- The band keys of stored signatures, recomputed under the new scheme: a band's key is its
-- 8 signature bytes read big-endian, minus 2^63 (tasks.dedup.band_hashes computes the same).
DROP INDEX IF EXISTS lsh_bands_band_hash;
DROP TABLE lsh_bands;
CREATE TABLE lsh_bands (
    band_hash  BIGINT NOT NULL,
    article_id VARCHAR NOT NULL
);
INSERT INTO lsh_bands (band_hash, article_id)
SELECT (('0x' || substring(hex(s.signature), 16 * b.band + 1, 16))::UBIGINT::HUGEINT
        - 9223372036854775808)::BIGINT,
       s.article_id
FROM signatures AS s, range(64) AS b(band);
CREATE INDEX lsh_bands_band_hash ON lsh_bands (band_hash);
