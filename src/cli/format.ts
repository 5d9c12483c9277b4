// Small text helpers shared by the commands' human-readable output.

/** "12 s ago", "5 min ago", "3 h ago" for an ISO time. */
export function timeAgo(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000))
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`
}
