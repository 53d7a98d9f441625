//! RFC 5005 paging: the subscription feed and the archive pages a list of entries is split
//! into.
//!
//! RFC 5005 §4 asks that archive documents be stable: a client that has fetched one need
//! not fetch it again. So only whole pages are archived. Pages are numbered from the oldest
//! (page 1) and each holds exactly `page_size` entries; the entries that do not fill a
//! whole page stay in the subscription feed, whose size therefore varies between
//! `feed_limit` and `feed_limit + page_size - 1`. Adding newer entries only ever appends a
//! new page once enough have piled up: an archive page, once it exists, shows the same
//! entries for as long as none of them is deleted or moved by a new date.

/// How a list of entries (newest first) is split into the subscription feed and RFC 5005
/// archive pages, each entry in exactly one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// Entries in the list.
    pub total: usize,
    /// Entries the subscription feed holds at least (when there are that many).
    pub feed_limit: usize,
    /// Entries in every archive page.
    pub page_size: usize,
}

impl Paging {
    /// Number of archive pages (all full).
    pub fn pages(&self) -> usize {
        self.total.saturating_sub(self.feed_limit) / self.page_size.max(1)
    }

    /// Entries in archive pages: the oldest ones, in whole pages.
    pub fn archived(&self) -> usize {
        self.pages() * self.page_size
    }

    /// Index range (into the newest-first list) of the subscription feed: everything newer
    /// than the archive pages.
    pub fn current(&self) -> std::ops::Range<usize> {
        0..self.total - self.archived()
    }

    /// Index range (into the newest-first list) of archive page `n` (1 = oldest, up to
    /// [`Paging::pages`]), newest first.
    pub fn page(&self, n: usize) -> std::ops::Range<usize> {
        let oldest_first_start = (n - 1) * self.page_size;
        let oldest_first_end = n * self.page_size;
        (self.total - oldest_first_end)..(self.total - oldest_first_start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paging(total: usize, feed_limit: usize, page_size: usize) -> Paging {
        Paging {
            total,
            feed_limit,
            page_size,
        }
    }

    #[test]
    fn every_entry_is_in_exactly_one_document() {
        for (feed_limit, page_size) in [(20, 20), (3, 5), (5, 3), (1, 1), (2, 7)] {
            for total in 0..70 {
                let paging = paging(total, feed_limit, page_size);
                let mut seen = vec![0; total];
                for i in paging.current() {
                    seen[i] += 1;
                }
                for n in 1..=paging.pages() {
                    let page = paging.page(n);
                    assert_eq!(page.len(), page_size, "page {n} of {paging:?} is whole");
                    for i in page {
                        seen[i] += 1;
                    }
                }
                assert!(seen.iter().all(|&c| c == 1), "{paging:?}: {seen:?}");
            }
        }
    }

    #[test]
    fn the_subscription_feed_holds_what_does_not_fill_a_page() {
        for total in 0..70 {
            let current = paging(total, 20, 7).current().len();
            if total < 20 {
                assert_eq!(current, total);
            } else {
                assert!((20..20 + 7).contains(&current), "{total}: {current}");
            }
        }
    }

    /// Regression: the newest archive page used to be partial, and changed as posts were
    /// added, so a client that had walked the archive missed what was added to it later.
    #[test]
    fn an_archive_page_shows_the_same_entries_however_many_are_added_after_it() {
        for (feed_limit, page_size) in [(20, 20), (3, 5), (5, 3)] {
            for total in 0..60 {
                let before = paging(total, feed_limit, page_size);
                for added in 1..30 {
                    let after = paging(total + added, feed_limit, page_size);
                    assert!(after.pages() >= before.pages());
                    for n in 1..=before.pages() {
                        // Same oldest-first positions: newest-first indices shift by the
                        // number of entries added, all newer.
                        let (a, b) = (before.page(n), after.page(n));
                        assert_eq!((a.start + added, a.end + added), (b.start, b.end));
                    }
                }
            }
        }
    }
}
