// The pin statuses IPFS Cluster's trackers report (its api.TrackerStatus names): what
// `cluster pin list --status` accepts. Its own module, so that checking the flag loads nothing else.

/** The statuses Cluster's trackers report (api.TrackerStatus), for --status. */
export const CLUSTER_STATUSES = [
  'undefined',
  'cluster_error',
  'pin_error',
  'unpin_error',
  'error',
  'pinned',
  'pinning',
  'unpinning',
  'unpinned',
  'remote',
  'pin_queued',
  'unpin_queued',
  'queued',
  'sharded',
  'unexpectedly_unpinned',
] as const
