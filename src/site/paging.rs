//! RFC 5005 paging: the subscription feed and the archive pages a list of entries is split
//! into.

/// How a list of entries (newest first) is split into the subscription feed and RFC 5005
/// archive pages. Pages are numbered from the oldest (page 1) so a full page never changes
/// when posts are added; the subscription feed holds the newest `feed_limit` entries and the
/// pages hold everything older, each entry exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// Entries in the list.
    pub total: usize,
    /// Entries in the subscription feed.
    pub feed_limit: usize,
    /// Entries in a full archive page.
    pub page_size: usize,
}

impl Paging {
    /// Number of archive pages (the newest may be partial).
    pub fn pages(&self) -> usize {
        self.archived().div_ceil(self.page_size)
    }

    /// Entries older than the subscription feed.
    pub fn archived(&self) -> usize {
        self.total.saturating_sub(self.feed_limit)
    }

    /// Index range (into the newest-first list) of the subscription feed.
    pub fn current(&self) -> std::ops::Range<usize> {
        0..self.total.min(self.feed_limit)
    }

    /// Index range (into the newest-first list) of archive page `n` (1 = oldest), newest first.
    pub fn page(&self, n: usize) -> std::ops::Range<usize> {
        let oldest_first_start = (n - 1) * self.page_size;
        let oldest_first_end = (n * self.page_size).min(self.archived());
        (self.total - oldest_first_end)..(self.total - oldest_first_start)
    }

    /// Whether page `n` is full and so will never change as posts are added.
    pub fn is_full(&self, n: usize) -> bool {
        n * self.page_size <= self.archived()
    }
}
