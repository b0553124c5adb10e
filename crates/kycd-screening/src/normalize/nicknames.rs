//! Given names and their nicknames (Bob = Robert, Bill = William), from
//! carltonnorthern/nicknames (`data/nicknames.csv`, Apache-2.0, source and commit in its
//! header). Two names match when the table pairs them, in either direction. Names are not
//! paired through a third one: Nathan and John are both listed for Jonathan, yet are two
//! names.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Per name: its own number first, then the sorted numbers of the names paired with it.
fn table() -> &'static HashMap<&'static str, Vec<u16>> {
    static TABLE: OnceLock<HashMap<&'static str, Vec<u16>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut ids: HashMap<&'static str, u16> = HashMap::new();
        let mut pairs: Vec<(u16, u16)> = Vec::new();
        for line in include_str!("../../data/nicknames.csv").lines() {
            let mut f = line.split(',').map(str::trim);
            let (Some(name), Some("has_nickname"), Some(nick)) = (f.next(), f.next(), f.next())
            else {
                continue; // comments and the header
            };
            let mut id = |n: &'static str| {
                let next = ids.len() as u16;
                *ids.entry(n).or_insert(next)
            };
            let (a, b) = (id(name), id(nick));
            pairs.extend([(a, b), (b, a)]);
        }
        let mut map: HashMap<&'static str, Vec<u16>> = HashMap::new();
        let by_id: HashMap<u16, &'static str> = ids.iter().map(|(n, i)| (*i, *n)).collect();
        for (a, b) in pairs {
            map.entry(by_id[&a]).or_insert_with(|| vec![a]).push(b);
        }
        for v in map.values_mut() {
            v[1..].sort_unstable();
        }
        map
    })
}

/// A given name's entry (empty when the table does not know it): its own number, then
/// the numbers of its paired names.
pub fn groups(token: &str) -> &'static [u16] {
    table().get(token).map_or(&[], Vec::as_slice)
}

/// Whether the table pairs the two names (entries from [`groups`]).
pub fn share(a: &[u16], b: &[u16]) -> bool {
    match (a.split_first(), b.split_first()) {
        (Some((own_a, _)), Some((_, paired_b))) => paired_b.binary_search(own_a).is_ok(),
        _ => false,
    }
}
