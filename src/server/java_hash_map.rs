//! A hash map that iterates in the order `java.util.HashMap` would.
//!
//! Java writes snapshot nodes in the iteration order of each parent's
//! `HashSet<String>` of children, and the ACL cache in the order of a
//! `HashMap<Long, List<ACL>>`. To write the same bytes (and answer
//! getChildren in the same order as a Java server) we keep the same
//! bucket layout: the same hash (`String.hashCode`, `Long.hashCode`,
//! spread by `h ^ h>>>16`), the same power-of-two table that doubles when
//! the size passes 3/4 of it (or when one bucket reaches 9 entries while
//! the table is under 64) and never shrinks, and entries kept in insertion
//! order within a bucket. Not reproduced: the red-black trees Java builds
//! for buckets of 8+ entries in tables of 64+ (inserting into such a bucket
//! may order differently); that needs pathological hash collisions.
//!
//! Storage is compact on purpose (it holds every child name of the tree):
//! entries live in one `Vec` chained by `u32` indices, the table is a
//! `Vec<u32>` of chain heads.
//!
//! Mirrors: the iteration order of `java.util.HashMap` (JDK 17).

use std::borrow::Borrow;

/// `Object.hashCode()` of the Java twin of a key type.
pub trait JavaHash {
    /// The Java hash code.
    fn java_hash(&self) -> i32;
}

impl JavaHash for str {
    /// `String.hashCode`: s[0]*31^(n-1) + ... over UTF-16 units.
    fn java_hash(&self) -> i32 {
        if self.is_ascii() {
            self.bytes()
                .fold(0i32, |h, b| h.wrapping_mul(31).wrapping_add(b as i32))
        } else {
            self.encode_utf16()
                .fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(u as i32))
        }
    }
}

impl JavaHash for Box<str> {
    fn java_hash(&self) -> i32 {
        (**self).java_hash()
    }
}

impl JavaHash for String {
    fn java_hash(&self) -> i32 {
        self.as_str().java_hash()
    }
}

impl JavaHash for i64 {
    /// `Long.hashCode`: the two halves XORed.
    fn java_hash(&self) -> i32 {
        (*self ^ ((*self as u64) >> 32) as i64) as i32
    }
}

/// End of a chain.
const NIL: u32 = u32::MAX;
/// Java's `TREEIFY_THRESHOLD - 1`-th append makes a bucket of this size.
const TREEIFY_BUCKET_LEN: usize = 9;
/// Below this table size Java doubles the table instead of treeifying.
const MIN_TREEIFY_CAPACITY: usize = 64;

#[derive(Debug, Clone)]
struct Entry<K, V> {
    key: K,
    value: V,
    /// The spread hash, kept so resizing never rehashes.
    hash: u32,
    /// Next entry of the same bucket, or NIL.
    next: u32,
}

/// A map with Java `HashMap` iteration order.
#[derive(Debug, Clone)]
pub struct JavaHashMap<K, V> {
    /// Chain heads; its length is the table capacity (0 = no table yet).
    heads: Vec<u32>,
    /// Entries in no particular order; chains give the order.
    entries: Vec<Entry<K, V>>,
    /// Table size allocated by the first insert.
    initial_capacity: u32,
}

/// Java's `HashMap.hash`: spreads high bits down.
fn spread(h: i32) -> u32 {
    let h = h as u32;
    h ^ (h >> 16)
}

/// Java's `tableSizeFor`: the next power of two ≥ n (at least 1).
fn table_size_for(n: usize) -> usize {
    n.max(1).next_power_of_two()
}

impl<K: JavaHash + Eq, V> Default for JavaHashMap<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: JavaHash + Eq, V> JavaHashMap<K, V> {
    /// `new HashMap<>()`: table of 16 on first insert.
    pub fn new() -> Self {
        Self::with_capacity(16)
    }

    /// `new HashMap<>(n)`: table of `tableSizeFor(n)` on first insert.
    pub fn with_capacity(n: usize) -> Self {
        JavaHashMap {
            heads: Vec::new(),
            entries: Vec::new(),
            initial_capacity: table_size_for(n) as u32,
        }
    }

    /// `new HashMap<>(other)` on JDK 17: a table sized for `s/0.75 + 1`,
    /// filled in `other`'s iteration order.
    pub fn copy_of(other: &Self) -> Self
    where
        K: Clone,
        V: Clone,
    {
        let s = other.len();
        let mut copy = Self::with_capacity(16);
        if s > 0 {
            let t = (s as f32 / 0.75f32 + 1.0f32) as usize;
            copy.initial_capacity = table_size_for(t) as u32;
        }
        for (k, v) in other.iter() {
            copy.insert(k.clone(), v.clone());
        }
        copy
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The current table size (0 before the first insert).
    pub fn capacity(&self) -> usize {
        self.heads.len()
    }

    fn bucket(&self, hash: u32) -> usize {
        hash as usize & (self.heads.len() - 1)
    }

    fn find<Q>(&self, key: &Q) -> Option<usize>
    where
        K: Borrow<Q>,
        Q: JavaHash + Eq + ?Sized,
    {
        if self.heads.is_empty() {
            return None;
        }
        let hash = spread(key.java_hash());
        let mut i = self.heads[self.bucket(hash)];
        while i != NIL {
            let e = &self.entries[i as usize];
            if e.hash == hash && e.key.borrow() == key {
                return Some(i as usize);
            }
            i = e.next;
        }
        None
    }

    /// The value of `key`.
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: JavaHash + Eq + ?Sized,
    {
        self.find(key).map(|i| &self.entries[i].value)
    }

    /// The value of `key`, mutably.
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: JavaHash + Eq + ?Sized,
    {
        self.find(key).map(move |i| &mut self.entries[i].value)
    }

    /// Whether `key` is present.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: JavaHash + Eq + ?Sized,
    {
        self.find(key).is_some()
    }

    /// Inserts or replaces (a replaced value keeps its position, as in
    /// Java). Returns the old value.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        if let Some(i) = self.find(&key) {
            return Some(std::mem::replace(&mut self.entries[i].value, value));
        }
        self.insert_new(key, value);
        None
    }

    /// Inserts a key the caller knows is absent (checked with `get` or
    /// `contains_key`), without looking for it again. Inserting a present
    /// key this way would leave two entries for it.
    pub fn insert_new(&mut self, key: K, value: V) {
        debug_assert!(self.find(&key).is_none(), "insert_new of a present key");
        if self.heads.is_empty() {
            self.heads = vec![NIL; self.initial_capacity as usize];
        }
        let hash = spread(key.java_hash());
        let index = self.entries.len() as u32;
        self.entries.push(Entry {
            key,
            value,
            hash,
            next: NIL,
        });
        let bucket_len = self.append_to_bucket(index);
        if bucket_len >= TREEIFY_BUCKET_LEN && self.heads.len() < MIN_TREEIFY_CAPACITY {
            self.resize();
        }
        if self.entries.len() > self.heads.len() / 4 * 3 {
            self.resize();
        }
    }

    /// Links entry `index` at the tail of its bucket; returns the
    /// bucket's new length.
    fn append_to_bucket(&mut self, index: u32) -> usize {
        let b = self.bucket(self.entries[index as usize].hash);
        if self.heads[b] == NIL {
            self.heads[b] = index;
            return 1;
        }
        let mut i = self.heads[b];
        let mut len = 2;
        while self.entries[i as usize].next != NIL {
            i = self.entries[i as usize].next;
            len += 1;
        }
        self.entries[i as usize].next = index;
        len
    }

    /// Doubles the table, keeping relative order within each bucket (as
    /// Java's lo/hi split does).
    fn resize(&mut self) {
        let order: Vec<u32> = self.chain_order().collect();
        let new_cap = self.heads.len() * 2;
        self.heads = vec![NIL; new_cap];
        let mut tails = vec![NIL; new_cap];
        for index in order {
            let b = self.bucket(self.entries[index as usize].hash);
            self.entries[index as usize].next = NIL;
            match tails[b] {
                NIL => self.heads[b] = index,
                t => self.entries[t as usize].next = index,
            }
            tails[b] = index;
        }
    }

    /// Removes `key`; later entries of its bucket keep their order.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: JavaHash + Eq + ?Sized,
    {
        let i = self.find(key)?;
        self.unlink(i);
        let last = self.entries.len() - 1;
        if i != last {
            // The last entry moves into slot i: repoint whoever linked it.
            self.relink(last as u32, i as u32);
        }
        Some(self.entries.swap_remove(i).value)
    }

    /// Takes entry `i` out of its chain.
    fn unlink(&mut self, i: usize) {
        let b = self.bucket(self.entries[i].hash);
        let next = self.entries[i].next;
        self.replace_link(b, i as u32, next);
    }

    /// Entry `from` is about to live at `to`: fix the link pointing at it.
    fn relink(&mut self, from: u32, to: u32) {
        let b = self.bucket(self.entries[from as usize].hash);
        self.replace_link(b, from, to);
    }

    /// In bucket `b`, makes the link that points at `target` point at
    /// `replacement` instead.
    fn replace_link(&mut self, b: usize, target: u32, replacement: u32) {
        if self.heads[b] == target {
            self.heads[b] = replacement;
            return;
        }
        let mut p = self.heads[b];
        while p != NIL {
            let next = self.entries[p as usize].next;
            if next == target {
                self.entries[p as usize].next = replacement;
                return;
            }
            p = next;
        }
    }

    /// Entry indices in Java iteration order.
    fn chain_order(&self) -> impl Iterator<Item = u32> + '_ {
        self.heads.iter().flat_map(move |&head| {
            std::iter::successors(Some(head).filter(|&h| h != NIL), move |&i| {
                Some(self.entries[i as usize].next).filter(|&n| n != NIL)
            })
        })
    }

    /// Entries in Java iteration order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        self.chain_order().map(move |i| {
            let e = &self.entries[i as usize];
            (&e.key, &e.value)
        })
    }

    /// Keys in Java iteration order.
    pub fn keys(&self) -> impl Iterator<Item = &K> + '_ {
        self.iter().map(|(k, _)| k)
    }

    /// Removes every entry; like Java's `clear`, keeps the table size.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.heads.iter_mut().for_each(|h| *h = NIL);
    }

    /// Heap bytes used (for memory estimates).
    pub fn heap_bytes(&self) -> usize {
        self.heads.capacity() * 4 + self.entries.capacity() * std::mem::size_of::<Entry<K, V>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_hash_codes() {
        // Values printed by JDK 17.
        assert_eq!("zookeeper".java_hash(), 1600681804);
        assert_eq!("".java_hash(), 0);
        assert_eq!("ab".java_hash(), 97 * 31 + 98);
        assert_eq!("é".java_hash(), 0xe9);
        assert_eq!(5i64.java_hash(), 5);
        assert_eq!((-1i64).java_hash(), 0);
        assert_eq!((1i64 << 32).java_hash(), 1);
    }

    /// JDK 17 prints `[config, quota]` for a `new HashSet<>(8)` filled
    /// with "quota" then "config" (the fresh /zookeeper node).
    #[test]
    fn zookeeper_children_order_matches_java() {
        let mut set: JavaHashMap<Box<str>, ()> = JavaHashMap::with_capacity(8);
        set.insert("quota".into(), ());
        set.insert("config".into(), ());
        let order: Vec<&str> = set.keys().map(|k| &**k).collect();
        assert_eq!(order, ["config", "quota"]);
    }

    #[test]
    fn grows_like_java_and_never_shrinks() {
        let mut m: JavaHashMap<i64, ()> = JavaHashMap::with_capacity(8);
        for i in 0..6 {
            m.insert(i, ());
        }
        assert_eq!(m.capacity(), 8);
        m.insert(6, ());
        assert_eq!(m.capacity(), 16);
        for i in 0..7 {
            m.remove(&i);
        }
        assert_eq!(m.capacity(), 16);
        assert!(m.is_empty());
    }

    #[test]
    fn bucket_order_is_insertion_order_and_survives_removal() {
        // 1, 17, 33 share bucket 1 of a 16-table; 2 is alone in bucket 2.
        let mut m: JavaHashMap<i64, &str> = JavaHashMap::new();
        for k in [33, 2, 1, 17] {
            m.insert(k, "v");
        }
        assert_eq!(m.keys().copied().collect::<Vec<_>>(), [33, 1, 17, 2]);
        m.remove(&1);
        assert_eq!(m.keys().copied().collect::<Vec<_>>(), [33, 17, 2]);
        m.insert(1, "w");
        assert_eq!(m.keys().copied().collect::<Vec<_>>(), [33, 17, 1, 2]);
        assert_eq!(m.get(&1), Some(&"w"));
        assert_eq!(m.insert(1, "x"), Some("w"));
        assert_eq!(m.keys().copied().collect::<Vec<_>>(), [33, 17, 1, 2]);
    }

    #[test]
    fn long_bucket_forces_resize_below_64() {
        let mut m: JavaHashMap<i64, ()> = JavaHashMap::new();
        // Nine keys in bucket 0 of a 16-table (with few total entries).
        for k in 0..9 {
            m.insert(k * 64, ());
        }
        assert_eq!(m.capacity(), 32);
    }

    #[test]
    fn many_inserts_and_removes_stay_consistent() {
        let mut m: JavaHashMap<Box<str>, u32> = JavaHashMap::with_capacity(8);
        for i in 0..2000u32 {
            m.insert(format!("n{}", i).into(), i);
        }
        for i in (0..2000u32).step_by(3) {
            assert_eq!(m.remove(format!("n{}", i).as_str()), Some(i));
        }
        assert_eq!(m.len(), 2000 - 667);
        for i in 0..2000u32 {
            assert_eq!(m.contains_key(format!("n{}", i).as_str()), i % 3 != 0);
        }
        assert_eq!(m.iter().count(), m.len());
    }

    /// JDK 17: a HashSet<String>(8) of "n0".."n1999", every third
    /// removed, then "s-0000000000".."s-0000000049" added, iterates in an
    /// order whose comma-joined string hashes to 2044858207.
    #[test]
    fn big_set_order_matches_jdk17() {
        let mut m: JavaHashMap<Box<str>, ()> = JavaHashMap::with_capacity(8);
        for i in 0..2000 {
            m.insert(format!("n{}", i).into(), ());
        }
        for i in (0..2000).step_by(3) {
            m.remove(format!("n{}", i).as_str());
        }
        for i in 0..50 {
            m.insert(format!("s-{:010}", i).into(), ());
        }
        let joined: String = m.keys().map(|k| format!("{},", k)).collect();
        assert_eq!(m.len(), 1383);
        assert_eq!(joined.java_hash(), 2044858207);
    }

    /// JDK 17: `new HashMap<>(big)` where big held 7,14,..,280 with every
    /// other one removed.
    #[test]
    fn copy_order_matches_jdk17() {
        let mut big: JavaHashMap<i64, ()> = JavaHashMap::new();
        for k in 1..=40 {
            big.insert(k * 7, ());
        }
        for k in (1..=40).step_by(2) {
            big.remove(&(k * 7));
        }
        let copy = JavaHashMap::copy_of(&big);
        let keys: Vec<i64> = copy.keys().copied().collect();
        assert_eq!(
            keys,
            [
                224, 98, 196, 70, 168, 266, 42, 140, 14, 238, 112, 210, 84, 182, 280, 56, 154, 28,
                252, 126
            ]
        );
        assert_eq!(copy.capacity(), 32);
    }
}
