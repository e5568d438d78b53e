//! A simulated vendor's users by id, with an index of their names so that a create's
//! already-exists check stays constant-time at ten thousand users.

use std::collections::{BTreeMap, HashMap};

/// A user that has a name the vendor keeps unique, compared without regard to ASCII case.
pub trait Named {
    fn name(&self) -> &str;
}

/// Users in id order (listings come out as the vendor's do), found by id or by name.
pub struct Directory<U> {
    by_id: BTreeMap<i64, U>,
    by_name: HashMap<String, i64>,
    /// How many times a user was added, changed or removed: whether a request changed anything.
    changes: u64,
}

impl<U> Default for Directory<U> {
    fn default() -> Self {
        Directory {
            by_id: BTreeMap::new(),
            by_name: HashMap::new(),
            changes: 0,
        }
    }
}

fn key(name: &str) -> String {
    name.to_ascii_lowercase()
}

impl<U: Named> Directory<U> {
    pub fn insert(&mut self, id: i64, user: U) {
        self.changes += 1;
        self.by_name.insert(key(user.name()), id);
        if let Some(old) = self.by_id.insert(id, user) {
            self.forget_name(&old, id);
        }
    }

    pub fn remove(&mut self, id: i64) -> Option<U> {
        let user = self.by_id.remove(&id)?;
        self.changes += 1;
        self.forget_name(&user, id);
        Some(user)
    }

    /// Change a user in place; a changed name is re-indexed.
    pub fn update(&mut self, id: i64, change: impl FnOnce(&mut U)) -> bool {
        let Some(user) = self.by_id.get_mut(&id) else {
            return false;
        };
        self.changes += 1;
        let before = key(user.name());
        change(user);
        let after = key(user.name());
        if before != after {
            if self.by_name.get(&before) == Some(&id) {
                self.by_name.remove(&before);
            }
            self.by_name.insert(after, id);
        }
        true
    }

    fn forget_name(&mut self, user: &U, id: i64) {
        let k = key(user.name());
        if self.by_name.get(&k) == Some(&id) {
            self.by_name.remove(&k);
        }
    }

    /// The id of the user of this name, in any ASCII case.
    pub fn find_id(&self, name: &str) -> Option<i64> {
        self.by_name.get(&key(name)).copied()
    }

    pub fn find(&self, name: &str) -> Option<&U> {
        self.find_id(name).and_then(|id| self.by_id.get(&id))
    }

    pub fn get(&self, id: &i64) -> Option<&U> {
        self.by_id.get(id)
    }

    pub fn contains_key(&self, id: &i64) -> bool {
        self.by_id.contains_key(id)
    }

    pub fn values(&self) -> impl Iterator<Item = &U> {
        self.by_id.values()
    }

    /// Adds, changes and removals so far.
    pub fn changes(&self) -> u64 {
        self.changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct U(String);
    impl Named for U {
        fn name(&self) -> &str {
            &self.0
        }
    }

    #[test]
    fn names_follow_inserts_renames_and_removals() {
        let mut d = Directory::default();
        d.insert(1, U("Alice".into()));
        d.insert(2, U("bob".into()));
        assert_eq!(d.find_id("ALICE"), Some(1));
        assert!(d.update(1, |u| u.0 = "carol".into()));
        assert_eq!(d.find_id("alice"), None);
        assert_eq!(d.find_id("Carol"), Some(1));
        assert!(d.remove(2).is_some());
        assert_eq!(d.find_id("bob"), None);
        assert!(!d.update(2, |_| {}));
        assert_eq!(d.values().count(), 1);
    }
}
