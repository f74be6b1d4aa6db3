//! Runs a Java oracle program of the tests: compiles `tests/java/<Class>.java`
//! against Debian's ZooKeeper jars and runs it, returning its stdout. With
//! `CI=true` a missing JDK or jar fails the test; elsewhere it is skipped
//! with a message (`None`).
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// The ZooKeeper jars the oracle programs compile and run against.
pub const JARS: &[&str] = &[
    "/usr/share/java/zookeeper.jar",
    "/usr/share/java/zookeeper-jute.jar",
];

/// Compiles and runs `class`; `extra_cp` is added to the run classpath.
pub fn run(class: &str, extra_cp: &[&str]) -> Option<String> {
    let missing: Vec<_> = JARS.iter().filter(|j| !PathBuf::from(j).exists()).collect();
    if !missing.is_empty() || Command::new("javac").arg("-version").output().is_err() {
        let why = format!("Java ZooKeeper jars {:?} or javac missing", missing);
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{} (the oracle must be present in CI)", why);
        }
        eprintln!("SKIPPED: {}", why);
        return None;
    }
    // One directory per process and class: parallel tests must not share it.
    let out_dir =
        std::env::temp_dir().join(format!("zkrs-oracle-{}-{}", class, std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/java/{}.java", class));
    let cp = JARS.join(":");
    let status = Command::new("javac")
        .args([
            "-d",
            out_dir.to_str().unwrap(),
            "-cp",
            &cp,
            src.to_str().unwrap(),
        ])
        .status()
        .expect("run javac");
    assert!(status.success(), "javac failed");
    let mut run_cp = format!("{}:{}", out_dir.display(), cp);
    for extra in extra_cp {
        run_cp.push(':');
        run_cp.push_str(extra);
    }
    let out = Command::new("java")
        .args(["-cp", &run_cp, class])
        .output()
        .expect("run java");
    let _ = std::fs::remove_dir_all(&out_dir);
    assert!(
        out.status.success(),
        "java failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}
