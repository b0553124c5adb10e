//! Dates of birth: parsing the forms lists use ("10 Oct 1959", "circa 1960", "1960 to 1962",
//! ISO dates) into `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, and a compact comparable form.

/// A date of birth with optional month and day (0 when unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartialDate {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl PartialDate {
    /// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (a time suffix is ignored).
    pub fn parse_iso(s: &str) -> Option<PartialDate> {
        let s = s.trim();
        let s = s.split('T').next().unwrap_or(s);
        let mut parts = s.split('-');
        let year = parse_year(parts.next()?)?;
        let month = match parts.next() {
            Some(m) => m.parse::<u8>().ok().filter(|m| (1..=12).contains(m))?,
            None => 0,
        };
        let day = match parts.next() {
            Some(d) if month > 0 => d.parse::<u8>().ok().filter(|d| (1..=31).contains(d))?,
            Some(_) => return None,
            None => 0,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(PartialDate { year, month, day })
    }

    /// Formats as `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub fn to_iso(self) -> String {
        match (self.month, self.day) {
            (0, _) => format!("{:04}", self.year),
            (m, 0) => format!("{:04}-{:02}", self.year, m),
            (m, d) => format!("{:04}-{:02}-{:02}", self.year, m, d),
        }
    }
}

fn parse_year(s: &str) -> Option<u16> {
    let s = s.trim();
    if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u16>().ok().filter(|y| (1800..=2100).contains(y))
}

fn month_number(s: &str) -> Option<u8> {
    let s = s.trim().trim_end_matches('.').to_ascii_lowercase();
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    if s.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| s.starts_with(m))
        .map(|i| i as u8 + 1)
}

/// Parses one date written the way lists write them: `1959`, `Oct 1959`, `10 Oct 1959`,
/// `1959-10-10`, `10.10.1959`, `10/10/1959` (day/month order is ambiguous, so only the
/// year is kept unless the day is above 12), with `circa`/`approximately` prefixes.
pub fn parse_one(s: &str) -> Option<PartialDate> {
    let s = s.trim().trim_end_matches(['.', ',', ';']).trim();
    let lower = s.to_ascii_lowercase();
    let s = [
        "circa ",
        "approximately ",
        "approx. ",
        "approx ",
        "about ",
        "ca. ",
        "c. ",
    ]
    .iter()
    .find_map(|p| lower.strip_prefix(p))
    .unwrap_or(&lower)
    .trim();
    if let Some(d) = PartialDate::parse_iso(s) {
        return Some(d);
    }
    let words: Vec<&str> = s.split_whitespace().collect();
    match words.as_slice() {
        [m, y] => Some(PartialDate {
            year: parse_year(y)?,
            month: month_number(m)?,
            day: 0,
        }),
        [d, m, y] => {
            let day = d.parse::<u8>().ok().filter(|d| (1..=31).contains(d))?;
            Some(PartialDate {
                year: parse_year(y)?,
                month: month_number(m)?,
                day,
            })
        }
        [one] => {
            let sep = if one.contains('/') { '/' } else { '.' };
            let parts: Vec<&str> = one.split(sep).collect();
            if parts.len() != 3 {
                return None;
            }
            let year = parse_year(parts[2])?;
            let a = parts[0].parse::<u8>().ok()?;
            let b = parts[1].parse::<u8>().ok()?;
            if sep == '.' || a > 12 {
                // day.month.year, or an unambiguous day/month/year
                if (1..=31).contains(&a) && (1..=12).contains(&b) {
                    return Some(PartialDate {
                        year,
                        month: b,
                        day: a,
                    });
                }
            } else if b > 12 && (1..=12).contains(&a) && b <= 31 {
                return Some(PartialDate {
                    year,
                    month: a,
                    day: b,
                });
            }
            Some(PartialDate {
                year,
                month: 0,
                day: 0,
            })
        }
        _ => None,
    }
}

/// Parses a date or a range (`1960 to 1962`, `01 Jan 1960 to 31 Dec 1962`) into ISO strings.
/// A range yields every year in it (at most 20); an unparsable text yields nothing.
pub fn parse_dates(s: &str) -> Vec<String> {
    let lower = s.to_ascii_lowercase();
    if let Some((a, b)) = lower.split_once(" to ").or_else(|| lower.split_once(" - ")) {
        if let (Some(a), Some(b)) = (parse_one(a), parse_one(b)) {
            if a.year == b.year && a.month == b.month && a.day == b.day {
                return vec![a.to_iso()];
            }
            if a.year <= b.year && b.year - a.year <= 20 {
                return (a.year..=b.year).map(|y| format!("{y:04}")).collect();
            }
        }
        return Vec::new();
    }
    parse_one(s).map(|d| vec![d.to_iso()]).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_list_forms() {
        assert_eq!(parse_dates("10 Oct 1959"), vec!["1959-10-10"]);
        assert_eq!(parse_dates("Oct 1959"), vec!["1959-10"]);
        assert_eq!(parse_dates("1959"), vec!["1959"]);
        assert_eq!(parse_dates("circa 1958"), vec!["1958"]);
        assert_eq!(parse_dates("1960 to 1962"), vec!["1960", "1961", "1962"]);
        assert_eq!(
            parse_dates("01 Jan 1960 to 31 Dec 1961"),
            vec!["1960", "1961"]
        );
        assert_eq!(parse_dates("1972-11-21"), vec!["1972-11-21"]);
        assert_eq!(parse_dates("21.11.1972"), vec!["1972-11-21"]);
        assert_eq!(parse_dates("03/04/1972"), vec!["1972"]);
        assert_eq!(parse_dates("1972."), vec!["1972"]);
        assert!(parse_dates("unknown").is_empty());
        assert!(parse_dates("").is_empty());
    }
}
