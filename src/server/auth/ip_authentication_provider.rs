//! The `ip` scheme: every connection is automatically `ip:<its address>`,
//! and an ACL entry `ip:10.0.0.0/8` matches every address in that network.
//!
//! Pure code. Mirrors:
//! `org.apache.zookeeper.server.auth.IPAuthenticationProvider`.

use std::net::IpAddr;

/// The id Java gives a connection from `addr` (`getHostAddress()`):
/// dotted IPv4 (IPv4-mapped IPv6 addresses count as IPv4, as on a
/// dual-stack Java socket), IPv6 as eight uncompressed hex groups.
pub fn host_address(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6
                .segments()
                .iter()
                .map(|s| format!("{:x}", s))
                .collect::<Vec<_>>()
                .join(":"),
        },
    }
}

/// True if the client address `id` lies in the network `acl_expr`
/// (`address` or `address/bits`).
pub fn matches(id: &str, acl_expr: &str) -> bool {
    let mut parts = acl_expr.splitn(2, '/');
    let Some(mut acl_addr) = parts.next().and_then(addr_to_bytes) else {
        return false;
    };
    let bits = match parts.next() {
        None => acl_addr.len() * 8,
        Some(b) => match parse_mask_bits(b, acl_addr.len()) {
            Some(bits) => bits,
            None => return false,
        },
    };
    let Some(mut remote) = addr_to_bytes(id) else {
        return false;
    };
    mask(&mut acl_addr, bits);
    mask(&mut remote, bits);
    remote == acl_addr
}

/// An ip ACL id is valid if its address parses and its mask (if any) fits.
pub fn is_valid(id: &str) -> bool {
    let mut parts = id.splitn(2, '/');
    let Some(addr) = parts.next().and_then(addr_to_bytes) else {
        return false;
    };
    match parts.next() {
        None => true,
        Some(b) => parse_mask_bits(b, addr.len()).is_some(),
    }
}

/// Mask width `0..=8*len`, parsed like Java's `Integer.parseInt`.
fn parse_mask_bits(text: &str, len: usize) -> Option<usize> {
    let bits: i32 = text.parse().ok()?;
    (bits >= 0 && bits as usize <= len * 8).then_some(bits as usize)
}

/// Clears every bit after the first `bits`.
fn mask(bytes: &mut [u8], bits: usize) {
    for (i, b) in bytes.iter_mut().enumerate() {
        let keep = bits.saturating_sub(i * 8).min(8);
        *b &= if keep == 0 { 0 } else { 0xffu8 << (8 - keep) };
    }
}

/// Java's address parser: a ':' means IPv6, else a '.' means IPv4.
fn addr_to_bytes(addr: &str) -> Option<Vec<u8>> {
    if addr.contains(':') {
        parse_v6(addr)
    } else if addr.contains('.') {
        parse_v4(addr)
    } else {
        None
    }
}

fn parse_v4(addr: &str) -> Option<Vec<u8>> {
    let parts: Vec<&str> = addr.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    parts
        .iter()
        .map(|p| {
            p.parse::<i32>()
                .ok()
                .filter(|v| (0..=255).contains(v))
                .map(|v| v as u8)
        })
        .collect()
}

/// Eight groups, or fewer around a single "::".
fn parse_v6(addr: &str) -> Option<Vec<u8>> {
    let halves: Vec<&str> = addr.split("::").collect();
    let groups = |s: &str| -> Vec<String> {
        if s.is_empty() {
            Vec::new()
        } else {
            s.split(':').map(str::to_string).collect()
        }
    };
    let (head, tail) = match halves.len() {
        1 => {
            let head = halves[0].split(':').map(str::to_string).collect::<Vec<_>>();
            if head.len() != 8 {
                return None;
            }
            (head, Vec::new())
        }
        2 => {
            let (head, tail) = (groups(halves[0]), groups(halves[1]));
            if head.len() + tail.len() >= 8 {
                return None;
            }
            (head, tail)
        }
        _ => return None,
    };
    let mut out = vec![0u8; 16];
    write_groups(&mut out[..], 0, &head)?;
    write_groups(&mut out[..], 16 - tail.len() * 2, &tail)?;
    Some(out)
}

fn write_groups(out: &mut [u8], mut at: usize, groups: &[String]) -> Option<()> {
    for g in groups {
        if g.is_empty() || g.len() > 4 {
            return None;
        }
        let v = i32::from_str_radix(g, 16).ok()?;
        out[at] = (v >> 8) as u8;
        out[at + 1] = v as u8;
        at += 2;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_masked_ipv4() {
        assert!(matches("127.0.0.1", "127.0.0.1"));
        assert!(!matches("127.0.0.2", "127.0.0.1"));
        assert!(matches("10.1.2.3", "10.0.0.0/8"));
        assert!(!matches("11.1.2.3", "10.0.0.0/8"));
        assert!(matches("192.168.1.77", "192.168.1.64/26"));
        assert!(!matches("192.168.1.128", "192.168.1.64/26"));
        assert!(matches("1.2.3.4", "9.9.9.9/0"));
    }

    #[test]
    fn ipv6_with_and_without_compression() {
        assert!(matches("0:0:0:0:0:0:0:1", "::1"));
        assert!(matches("::1", "0:0:0:0:0:0:0:1/128"));
        assert!(matches("fe80:0:0:0:1:2:3:4", "fe80::/16"));
        assert!(!matches("127.0.0.1", "::1/0"), "families never match");
    }

    #[test]
    fn invalid_expressions() {
        assert!(!is_valid("localhost"));
        assert!(!is_valid("1.2.3"));
        assert!(!is_valid("1.2.3.256"));
        assert!(!is_valid("1.2.3.4/33"));
        assert!(!is_valid("1.2.3.4/x"));
        assert!(!is_valid("1::2::3"));
        assert!(!is_valid("1:2:3:4:5:6:7:8:9"));
        assert!(is_valid("1.2.3.4/32"));
        assert!(is_valid("::/0"));
        assert!(!matches("1.2.3.4", "1.2.3.4/33"));
    }

    #[test]
    fn host_address_is_javas_form() {
        assert_eq!(host_address("127.0.0.1".parse().unwrap()), "127.0.0.1");
        assert_eq!(host_address("::1".parse().unwrap()), "0:0:0:0:0:0:0:1");
        assert_eq!(host_address("::ffff:10.0.0.1".parse().unwrap()), "10.0.0.1");
    }
}
