//! Counts per UTC day, as kept in the state folder and shown: per subscription feed, the
//! newest subscriber count of each aggregator and the distinct direct readers; per episode,
//! its downloads. Only numbers and names are here: no address, no hash of one.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

/// One day's counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DayCounts {
    /// By feed path (`/atom.xml`, `/tags/rust/feed.xml`).
    #[serde(default)]
    pub feeds: BTreeMap<String, FeedDay>,
    /// By episode: the slug of the post whose enclosure was downloaded.
    #[serde(default)]
    pub episodes: BTreeMap<String, EpisodeDay>,
}

/// One feed's readers on one day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedDay {
    /// The newest subscriber count each aggregator reported that day.
    #[serde(default)]
    pub aggregators: BTreeMap<String, u64>,
    /// Distinct direct readers (client address and agent) that polled it that day.
    #[serde(default)]
    pub direct: u64,
}

impl FeedDay {
    /// The subscribers aggregators reported, added up.
    pub fn aggregated(&self) -> u64 {
        self.aggregators.values().sum()
    }
}

/// One episode's downloads on one day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpisodeDay {
    /// The feed the episode is published in (its path).
    pub feed: String,
    /// Downloads: once per client and episode in 24 hours.
    pub downloads: u64,
}

/// Every day kept, oldest first.
pub type History = BTreeMap<NaiveDate, DayCounts>;

/// A feed's counts over the last days, for `/status`, `/metrics` and `dropfeed stats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedReport {
    /// Its path.
    pub feed: String,
    /// Today's estimate: subscribers aggregators report (the newest count of each, today
    /// or else yesterday).
    pub aggregator: u64,
    /// Today's distinct direct readers.
    pub direct: u64,
    /// The aggregators behind `aggregator`, with their counts.
    pub aggregators: BTreeMap<String, u64>,
    /// One entry per day of the period, oldest first (days without polls are zeros).
    pub days: Vec<DayReport>,
}

/// One day of a feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayReport {
    /// The UTC day.
    pub day: NaiveDate,
    /// Subscribers aggregators reported.
    pub aggregator: u64,
    /// Distinct direct readers.
    pub direct: u64,
}

/// An episode's downloads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EpisodeReport {
    /// The feed it is published in.
    pub feed: String,
    /// The post's slug.
    pub episode: String,
    /// Downloads over every day kept.
    pub total: u64,
    /// Downloads today.
    pub today: u64,
}

/// Readers and downloads as shown: the last `days` days up to `today`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReadersReport {
    /// The UTC day the report ends on.
    pub today: NaiveDate,
    /// Every feed polled in the period, by path.
    pub feeds: Vec<FeedReport>,
    /// Every episode downloaded in the days kept, by feed and slug.
    pub episodes: Vec<EpisodeReport>,
}

impl ReadersReport {
    /// The report of `history` over the `days` days ending `today`.
    pub fn of(history: &History, today: NaiveDate, days: u32) -> ReadersReport {
        let first = today
            .checked_sub_days(Days::new(u64::from(days.max(1)) - 1))
            .unwrap_or(NaiveDate::MIN);
        let period: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= today).collect();
        let mut names: Vec<&String> = history
            .range(first..=today)
            .flat_map(|(_, counts)| counts.feeds.keys())
            .collect();
        names.sort();
        names.dedup();
        let feeds = names
            .into_iter()
            .map(|feed| feed_report(history, feed, today, &period))
            .collect();
        ReadersReport {
            today,
            feeds,
            episodes: episodes(history, today),
        }
    }
}

/// One feed over `period`, with today's estimate.
fn feed_report(
    history: &History,
    feed: &str,
    today: NaiveDate,
    period: &[NaiveDate],
) -> FeedReport {
    let of = |day: &NaiveDate| history.get(day).and_then(|c| c.feeds.get(feed));
    let days = period
        .iter()
        .map(|day| {
            let counts = of(day);
            DayReport {
                day: *day,
                aggregator: counts.map_or(0, FeedDay::aggregated),
                direct: counts.map_or(0, |c| c.direct),
            }
        })
        .collect();
    // An aggregator that has not polled yet today still has the subscribers it reported
    // yesterday: the estimate does not drop to nothing at midnight.
    let mut aggregators = today
        .pred_opt()
        .and_then(|yesterday| of(&yesterday))
        .map(|c| c.aggregators.clone())
        .unwrap_or_default();
    if let Some(now) = of(&today) {
        aggregators.extend(now.aggregators.iter().map(|(k, v)| (k.clone(), *v)));
    }
    FeedReport {
        feed: feed.to_string(),
        aggregator: aggregators.values().sum(),
        direct: of(&today).map_or(0, |c| c.direct),
        aggregators,
        days,
    }
}

/// Every episode downloaded in `history`: its total and today's downloads.
fn episodes(history: &History, today: NaiveDate) -> Vec<EpisodeReport> {
    let mut found: BTreeMap<(String, String), EpisodeReport> = BTreeMap::new();
    for (day, counts) in history {
        for (slug, e) in &counts.episodes {
            let report = found
                .entry((e.feed.clone(), slug.clone()))
                .or_insert_with(|| EpisodeReport {
                    feed: e.feed.clone(),
                    episode: slug.clone(),
                    total: 0,
                    today: 0,
                });
            report.total += e.downloads;
            if *day == today {
                report.today += e.downloads;
            }
        }
    }
    found.into_values().collect()
}
