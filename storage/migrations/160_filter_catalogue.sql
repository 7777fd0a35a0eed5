-- What the dashboard's shared filters offer (storage/rollups.py keeps it at write time, with the
-- rollups of migration 070): how many mentions each brand, product and source has on each UTC day
-- of published_at. A few hundred rows per day however many mentions there are, so listing the
-- brands, products and sources and finding the data's first and last day reads this table instead
-- of scanning every mention. A missing brand or product is '' (a primary key cannot hold NULL).
CREATE TABLE rollup_days (
    day      DATE    NOT NULL,
    brand    VARCHAR NOT NULL,
    product  VARCHAR NOT NULL,
    source   VARCHAR NOT NULL,
    mentions BIGINT  NOT NULL,
    PRIMARY KEY (day, brand, product, source)
);

INSERT INTO rollup_days
SELECT published_at::DATE, coalesce(brand, ''), coalesce(product, ''), source, count(*)
FROM mentions
GROUP BY ALL;
