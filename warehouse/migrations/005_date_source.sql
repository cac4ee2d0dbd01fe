-- Where articles.published_at came from: the feed entry ('feed'), the page's own metadata
-- ('page': meta tags, JSON-LD, <time>), the URL's path ('url'); NULL when nothing stated a date
-- (a guess is never stored). An ENUM holds the column to that set: DuckDB cannot add a column
-- with a CHECK constraint ("Adding columns with CHECK constraints is not supported yet").

CREATE TYPE date_source_kind AS ENUM ('feed', 'page', 'url');
ALTER TABLE articles ADD COLUMN date_source date_source_kind;
