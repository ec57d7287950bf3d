import type Database from "better-sqlite3";

/**
 * better-sqlite3 builds SQLite with a 16 MB page cache per connection
 * (SQLite's own default is 2 MB). The station's connections append (the
 * records writer) or walk indexes a page at a time (operator review): their
 * hot pages are the edges of a few B-trees, while a 16 MB cache fills, as the
 * database grows, with pages nobody reads again. The daemon's memory grew by
 * that much over the first half hour of a soak. Colder pages come from the
 * operating system's file cache.
 */
const PAGE_CACHE_KIB = 2048;

export function limitPageCache(db: Database.Database): void {
  db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
}
