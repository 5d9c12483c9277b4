// The V8 flags the manager runs under (started by `daemon start`, or by its service unit).
//
// `--heap-growing-percent=20`: the heap grows by a fifth past what the last collection left, not
// by V8's default factor of up to four. At a million pins the manager's peak memory stays where
// `--optimize-for-size` held it (417 against 413 MB; 765 MB with V8's defaults), without that
// flag's costs: its collections to reduce memory are not incremental (pauses of 100-235 ms in the
// middle of encoding a row group of pins.parquet) and its code runs slower (the first index and
// a refresh took 76 s of CPU under it, 59 s without). Measured with bench/event-loop.mjs; the
// table is in docs/BENCHMARKS.md.
export const MANAGER_NODE_FLAGS = ['--heap-growing-percent=20'] as const
