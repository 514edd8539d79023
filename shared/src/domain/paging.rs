//! One page of a list held whole (bounded by a quota), by key: what the
//! list routes whose stores answer everything at once page with.

/// The most items a page of such a list holds, and the default.
pub const MAX_PAGE: usize = 100;
pub const DEFAULT_PAGE: usize = 50;

/// A page and the cursor of the next one (the last key it holds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// The items whose key comes after `after`, by key, at most `limit`.
pub fn page<T>(mut items: Vec<T>, key: impl Fn(&T) -> String, after: Option<&str>, limit: usize) -> Page<T> {
    items.sort_by_key(|item| key(item));
    let mut items: Vec<T> = items.into_iter().filter(|item| after.is_none_or(|a| key(item).as_str() > a)).collect();
    let next = (items.len() > limit).then(|| {
        items.truncate(limit);
        items.last().map(&key)
    });
    Page { items, next: next.flatten() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_each_other() {
        let items: Vec<String> = ["d", "a", "c", "b", "e"].iter().map(|s| s.to_string()).collect();
        let first = page(items.clone(), String::clone, None, 2);
        assert_eq!((first.items.as_slice(), first.next.as_deref()), (&["a".to_string(), "b".to_string()][..], Some("b")));
        let second = page(items.clone(), String::clone, first.next.as_deref(), 2);
        assert_eq!(second.items, ["c", "d"]);
        let last = page(items, String::clone, second.next.as_deref(), 2);
        assert_eq!((last.items, last.next), (vec!["e".to_string()], None));
    }
}
