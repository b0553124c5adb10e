//! Given-name equivalence groups (Bob = Robert, Bill = William): one group per name of
//! carltonnorthern/nicknames (`data/nicknames.csv`, Apache-2.0, source and commit in its
//! header), holding the name and its nicknames. A name belongs to every group it is in
//! (Al: Albert, Alfred, Alexander...); two names match when they share a group.

use std::collections::HashMap;
use std::sync::OnceLock;

fn table() -> &'static HashMap<&'static str, Vec<u16>> {
    static TABLE: OnceLock<HashMap<&'static str, Vec<u16>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut ids: HashMap<&'static str, u16> = HashMap::new();
        let mut map: HashMap<&'static str, Vec<u16>> = HashMap::new();
        for line in include_str!("../../data/nicknames.csv").lines() {
            let mut f = line.split(',').map(str::trim);
            let (Some(name), Some("has_nickname"), Some(nick)) = (f.next(), f.next(), f.next())
            else {
                continue; // comments and the header
            };
            let next = ids.len() as u16;
            let id = *ids.entry(name).or_insert(next);
            for n in [name, nick] {
                let groups = map.entry(n).or_default();
                if !groups.contains(&id) {
                    groups.push(id);
                }
            }
        }
        for groups in map.values_mut() {
            groups.sort_unstable();
        }
        map
    })
}

/// The groups a given name belongs to, sorted (empty when none).
pub fn groups(token: &str) -> &'static [u16] {
    table().get(token).map_or(&[], Vec::as_slice)
}

/// Whether two sorted group lists share a group.
pub fn share(a: &[u16], b: &[u16]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}
