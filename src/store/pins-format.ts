// The format of pins.parquet and its subsets in one place: schema versions, columns, row-group
// and page sizes. The collector writes by it, the reader (layout.ts's checks, pins.ts's queries)
// and the tests read by it; it loads no Parquet code (the column type is only a type).
import type { IndexColumn } from './writer.js'

/**
 * Version 4: the page index of the cid column (and an uncompressed cid column); version 5: when
 * each pin was first seen (`first_seen`, and `first_seen_exact`: false for the pins already there
 * when this node was first indexed, whose first_seen is that first index); version 6:
 * `first_seen_exact` as INT32 0/1 instead of BOOLEAN (below).
 */
export const PINS_SCHEMA_VERSION = 6
/**
 * The versions readers accept: version 5 differs only in the physical type of first_seen_exact,
 * so a file written before the upgrade keeps answering, and the manager keeps its first_seen
 * (pin-history.ts reads it back) until its next cycle writes version 6.
 */
export const PINS_READ_VERSIONS = [5, 6] as const

/** The columns of pins.parquet and of its subsets, in file order, with their physical types. */
export const PIN_FILE_COLUMNS = [
  { name: 'cid', type: 'BYTE_ARRAY' },
  { name: 'type', type: 'BYTE_ARRAY' },
  { name: 'name', type: 'BYTE_ARRAY' },
  { name: 'first_seen', type: 'INT64' },
  { name: 'first_seen_exact', type: 'INT32' },
] as const
/** The physical type of first_seen_exact by schema version (pins and subsets); the other columns are the same. */
export function firstSeenExactType(schemaVersion: number, subset: boolean): 'BOOLEAN' | 'INT32' {
  return schemaVersion < (subset ? 3 : 6) ? 'BOOLEAN' : 'INT32'
}
export type PinColumn = (typeof PIN_FILE_COLUMNS)[number]['name']
export const PIN_COLUMNS: readonly PinColumn[] = PIN_FILE_COLUMNS.map((c) => c.name)
/**
 * Rows per row group. Every query parses the footer, whose size grows with the number of groups;
 * a CID lookup checks the checksum of its group's whole `cid` chunk (1.6 MB at this size) but
 * decodes only the page the page index points it to.
 */
export const PINS_ROW_GROUP_SIZE = 25_000
/**
 * Bytes per data page (about 250 CIDs): `--limit 10` and a lookup decode one page of each
 * column, not the group.
 */
export const PINS_PAGE_SIZE = 16_384
/**
 * How pins files are cut: a first row group of 1,000 rows, so that the first rows (`pin list
 * --limit 10`) cost a check of 63 KB of CIDs, not of a whole group's 1.6 MB.
 */
export const PINS_WRITE_OPTIONS = {
  rowGroupSize: PINS_ROW_GROUP_SIZE,
  firstRowGroupSize: 1_000,
  pageSize: PINS_PAGE_SIZE,
} as const

/** The columns of pins.parquet for these rows (in CID order), as the collector writes them. */
export function pinsColumns(
  cids: string[],
  types: string[],
  names: Array<string | null>,
  firstSeen: Date[],
  firstSeenExact: boolean[],
): IndexColumn[] {
  return [
    // CIDs are random bytes, which Snappy shrinks by a sixth; decoding it was most of the cost
    // of reading a page. Its page index lets a lookup decode one page.
    // Required (never null), as every column: a nullable column is decoded with a definition level
    // per value and assembled value by value (hyparquet's assembleLists), a tenth of a lookup.
    { name: 'cid', data: cids, type: 'STRING', codec: 'UNCOMPRESSED', nullable: false, pageIndex: true },
    // The type's min/max let `--type direct` skip groups with no direct pin. The name has none:
    // names can be long, and the footer is parsed by every query. Every column has an offset index
    // (where each page starts): the rows of a lookup are read a page per column, not
    // decoded from the start of their row group.
    { name: 'type', data: types, type: 'STRING', nullable: false, pageIndex: 'offset' },
    // '' for no name (Kubo has no empty names), not null: a required column of dictionary
    // indexes is paged like the type column, where a nullable one with few names would be one
    // page per group, decoded whole to read one row.
    {
      name: 'name',
      data: names.map((n) => n ?? ''),
      type: 'STRING',
      nullable: false,
      statistics: false,
      pageIndex: 'offset',
    },
    // Most pins of a node share few times (the first index, a cycle's finds): dictionary pages.
    { name: 'first_seen', data: firstSeen, type: 'TIMESTAMP', nullable: false, pageIndex: 'offset' },
    // 0 or 1, not BOOLEAN (version 5): hyparquet-writer sizes pages in bytes, one size for every
    // column, and counts a boolean as an eighth of a byte, so a boolean column was one page of
    // 25,000 values per group that every lookup decoded whole (1.6 ms of a warm lookup's 2.4).
    // As INT32 it is paged about like first_seen.
    {
      name: 'first_seen_exact',
      data: firstSeenExact.map((e) => (e ? 1 : 0)),
      type: 'INT32',
      nullable: false,
      pageIndex: 'offset',
    },
  ]
}

/** The schema version of the pin subset files (pins_named.parquet, pins_direct.parquet); 3: as pins version 6. */
export const PINS_SUBSET_SCHEMA_VERSION = 3
export const PINS_SUBSET_READ_VERSIONS = [2, 3] as const
/**
 * A subset file is written while its rows are at most this share of all pins; with more,
 * reading the column of pins.parquet costs about as much, and the file is not written.
 */
export const SUBSET_MAX_SHARE = 0.1
