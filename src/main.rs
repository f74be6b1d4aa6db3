//! `zk-server <zoo.cfg>`: placeholder until the server lands.
fn main() {}
