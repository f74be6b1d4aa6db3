//! A connection's identities in the order Java iterates them.
//!
//! `tests/java/AuthInfoOrder.java` fills Java ServerCnxn's kind of set
//! (a `ConcurrentHashMap` key set of `Id`) with the ip identity and then
//! n - 1 more identities (n = 1..60, so the table doubles several times
//! and duplicates are offered), and prints the iteration order. Our
//! replay of that order must list the same identities in the same order:
//! `whoami` shows it and the `auth` ACL scheme writes it into txns.
//! The oracle is Java's jar: with `CI=true` a missing JDK or jar fails.

use zookeeper::jute::data::Id;
use zookeeper::server::java_concurrent_hash_set::iteration_order;

mod java_oracle;

fn identity(j: usize) -> Id {
    let (scheme, id) = match j % 4 {
        0 => ("digest", format!("user{}:hash{}", j, j * 7919)),
        1 => ("super", String::new()),
        2 => ("sasl", format!("client{}@EXAMPLE.COM", j)),
        _ => ("digest", format!("u{}", j)),
    };
    Id {
        scheme: scheme.to_string(),
        id,
    }
}

fn java_orders() -> Option<Vec<String>> {
    Some(
        java_oracle::run("AuthInfoOrder", &[])?
            .lines()
            .map(str::to_string)
            .collect(),
    )
}

#[test]
fn identities_iterate_in_javas_order() {
    let Some(java) = java_orders() else { return };
    assert_eq!(java.len(), 60);
    for (k, expected) in java.iter().enumerate() {
        let n = k + 1;
        let mut ids = vec![Id {
            scheme: "ip".to_string(),
            id: "127.0.0.1".to_string(),
        }];
        ids.extend((1..n).map(identity));
        let ours: Vec<String> = iteration_order(&ids)
            .iter()
            .map(|i| format!("{}:{}", i.scheme, i.id))
            .collect();
        assert_eq!(ours.join(","), *expected, "n = {}", n);
    }
}
