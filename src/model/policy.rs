//! The region's rollout policy: which hospitals send FLS letters, and from which date.
//!
//! The default is the region's published plan; a config file's `[policy]` table replaces
//! a site's start date (or, with `false`, turns the site off).

use crate::model::Site;
use chrono::NaiveDate;
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RolloutPolicy {
    /// First local (Danish) date on which a result may be sent; absent = no FLS at the site.
    starts: BTreeMap<Site, NaiveDate>,
}

impl Default for RolloutPolicy {
    /// AUH and HEM from November 2023, Gødstrup from the end of November 2023 (the region
    /// gives no day: we take Monday 27 November), Horsens from 1 January 2024, Randers not yet.
    fn default() -> Self {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("valid date");
        RolloutPolicy {
            starts: BTreeMap::from([
                (Site::Auh, d(2023, 11, 1)),
                (Site::Hem, d(2023, 11, 1)),
                (Site::Godstrup, d(2023, 11, 27)),
                (Site::Horsens, d(2024, 1, 1)),
            ]),
        }
    }
}

impl RolloutPolicy {
    pub(crate) fn set_start(&mut self, site: Site, start: Option<NaiveDate>) {
        match start {
            Some(d) => self.starts.insert(site, d),
            None => self.starts.remove(&site),
        };
    }

    pub fn start(&self, site: Site) -> Option<NaiveDate> {
        self.starts.get(&site).copied()
    }

    /// Whether a result classified on `local_date` at `site` may be sent; the error says why not.
    pub fn check(&self, site: Site, local_date: NaiveDate) -> Result<(), String> {
        match self.start(site) {
            None => {
                Err(format!("{} has no Fracture Liaison Service arrangement; no letters are sent for it", site.code()))
            }
            Some(start) if local_date < start => Err(format!(
                "{} sends FLS letters for results classified from {start}; this one was classified {local_date}",
                site.code()
            )),
            Some(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_matches_the_region_plan() {
        let p = RolloutPolicy::default();
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert!(p.check(Site::Auh, d(2023, 11, 1)).is_ok());
        assert!(p.check(Site::Auh, d(2023, 10, 31)).is_err());
        assert!(p.check(Site::Godstrup, d(2023, 11, 20)).is_err());
        assert!(p.check(Site::Horsens, d(2023, 12, 31)).is_err());
        assert!(p.check(Site::Horsens, d(2024, 1, 1)).is_ok());
        let e = p.check(Site::Randers, d(2026, 1, 1)).unwrap_err();
        assert!(e.contains("no Fracture Liaison Service"), "{e}");
    }
}
