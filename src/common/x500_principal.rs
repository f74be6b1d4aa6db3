//! A certificate's subject as text, the way Java prints it with
//! `X500Principal.getName()` (RFC 2253 form): the `x509` identity of a
//! client that presented a certificate.
//!
//! The subject is read straight from the certificate's DER (a small
//! reader for the few structures on the way), then printed: relative
//! names last-to-first joined by `,`, the values of one multi-valued name
//! joined by `+` in their encoded order, a type as its RFC 2253 keyword
//! (`CN`, `C`, `L`, `ST`, `O`, `OU`, `STREET`, `DC`, `UID`) or its dotted
//! OID, a string value with `,=+<>#;"\` escaped by a backslash (and
//! leading or trailing spaces), any other value (or any value of a type
//! without a keyword) as `#` and the lowercase hex of its DER encoding.
//!
//! Pure functions, no threads.
//!
//! Mirrors: `javax.security.auth.x500.X500Principal.getName()` (with
//! `sun.security.x509.AVA` and `RDN`'s RFC 2253 printing).

use std::fmt::Write as _;

/// Why a certificate's subject could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerError(pub &'static str);

impl std::fmt::Display for DerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed certificate: {}", self.0)
    }
}

impl std::error::Error for DerError {}

/// One DER element: its tag byte, its content, and its whole encoding.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub encoded: &'a [u8],
}

/// Reads one element off the front of `input`; returns it and the rest.
pub fn read_tlv(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), DerError> {
    let (&tag, rest) = input.split_first().ok_or(DerError("truncated tag"))?;
    if tag & 0x1f == 0x1f {
        return Err(DerError("multi-byte tags are not used in certificates"));
    }
    let (&first, mut rest) = rest.split_first().ok_or(DerError("truncated length"))?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return Err(DerError("bad length"));
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        rest = &rest[n..];
        len
    };
    if rest.len() < len {
        return Err(DerError("element longer than its container"));
    }
    let header = input.len() - rest.len();
    let tlv = Tlv {
        tag,
        content: &rest[..len],
        encoded: &input[..header + len],
    };
    Ok((tlv, &rest[len..]))
}

/// The elements inside a constructed element's content.
fn children(mut content: &[u8]) -> Result<Vec<Tlv<'_>>, DerError> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (tlv, rest) = read_tlv(content)?;
        out.push(tlv);
        content = rest;
    }
    Ok(out)
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
const UTF8_STRING: u8 = 0x0c;
const PRINTABLE_STRING: u8 = 0x13;
const T61_STRING: u8 = 0x14;
const IA5_STRING: u8 = 0x16;
const GENERAL_STRING: u8 = 0x1b;
const BMP_STRING: u8 = 0x1e;

/// The subject Name (a SEQUENCE of RDN SETs) of a DER certificate.
pub fn subject_of(cert_der: &[u8]) -> Result<Tlv<'_>, DerError> {
    let (cert, _) = read_tlv(cert_der)?;
    let parts = children(cert.content)?;
    let tbs = parts
        .first()
        .filter(|t| t.tag == SEQUENCE)
        .ok_or(DerError("no tbsCertificate"))?;
    let fields = children(tbs.content)?;
    // [0] version is optional; then serial, signature, issuer, validity, subject.
    let skip = usize::from(fields.first().map(|f| f.tag) == Some(0xa0));
    let subject = fields
        .get(skip + 4)
        .filter(|t| t.tag == SEQUENCE)
        .ok_or(DerError("no subject"))?;
    Ok(*subject)
}

/// `X500Principal.getName()` of a certificate's subject.
pub fn subject_name(cert_der: &[u8]) -> Result<String, DerError> {
    rfc2253(subject_of(cert_der)?.content)
}

/// RFC 2253 text of a Name's content (its RDN SETs).
pub fn rfc2253(name_content: &[u8]) -> Result<String, DerError> {
    let rdns = children(name_content)?;
    let mut out = String::new();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if rdn.tag != SET {
            return Err(DerError("RDN is not a SET"));
        }
        if i > 0 {
            out.push(',');
        }
        for (j, ava) in children(rdn.content)?.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            write_ava(&mut out, ava)?;
        }
    }
    Ok(out)
}

/// One `type=value`.
fn write_ava(out: &mut String, ava: &Tlv<'_>) -> Result<(), DerError> {
    let parts = children(ava.content)?;
    let (Some(oid), Some(value)) = (parts.first(), parts.get(1)) else {
        return Err(DerError("attribute without type or value"));
    };
    if oid.tag != OID {
        return Err(DerError("attribute type is not an OID"));
    }
    let dotted = oid_text(oid.content)?;
    let keyword = rfc2253_keyword(&dotted);
    out.push_str(keyword.unwrap_or(&dotted));
    out.push('=');
    match (keyword, string_value(value)) {
        (Some(_), Some(text)) => escape_into(out, &text),
        _ => {
            out.push('#');
            for b in value.encoded {
                let _ = write!(out, "{:02x}", b);
            }
        }
    }
    Ok(())
}

/// The keywords RFC 2253 printing uses; other types print as OIDs.
fn rfc2253_keyword(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.9" => "STREET",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        _ => return None,
    })
}

/// The text of a string value of the kinds Java prints as text.
fn string_value(value: &Tlv<'_>) -> Option<String> {
    match value.tag {
        UTF8_STRING | PRINTABLE_STRING | IA5_STRING | GENERAL_STRING => {
            Some(String::from_utf8_lossy(value.content).into_owned())
        }
        // Java reads a T61String as ISO-8859-1.
        T61_STRING => Some(value.content.iter().map(|&b| char::from(b)).collect()),
        BMP_STRING => {
            let units: Vec<u16> = value
                .content
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect();
            Some(String::from_utf16_lossy(&units))
        }
        _ => None,
    }
}

/// RFC 2253 escaping as Java does it (not canonical form).
fn escape_into(out: &mut String, text: &str) {
    const SPECIAL: &str = ",=+<>#;\"\\";
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if SPECIAL.contains(c) {
            escaped.push('\\');
            escaped.push(c);
        } else if c == '\0' {
            escaped.push_str("\\00");
        } else {
            escaped.push(c);
        }
    }
    let chars: Vec<char> = escaped.chars().collect();
    let blank = |c: char| c == ' ' || c == '\r';
    let lead = chars.iter().position(|&c| !blank(c)).unwrap_or(chars.len());
    let trail = chars.iter().rposition(|&c| !blank(c));
    for (i, &c) in chars.iter().enumerate() {
        if i < lead || trail.is_none_or(|t| i > t) {
            out.push('\\');
        }
        out.push(c);
    }
}

/// Dotted text of an OID's content.
fn oid_text(content: &[u8]) -> Result<String, DerError> {
    let mut arcs: Vec<u64> = Vec::new();
    let mut acc: u64 = 0;
    for &b in content {
        if acc > (u64::MAX >> 7) {
            return Err(DerError("OID arc too large"));
        }
        acc = (acc << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            arcs.push(acc);
            acc = 0;
        }
    }
    let Some(&first) = arcs.first() else {
        return Err(DerError("empty OID"));
    };
    let (a, b) = match first {
        0..=39 => (0, first),
        40..=79 => (1, first - 40),
        _ => (2, first - 80),
    };
    let mut text = format!("{}.{}", a, b);
    for arc in &arcs[1..] {
        let _ = write!(text, ".{}", arc);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DER of one element.
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        if content.len() < 0x80 {
            out.push(content.len() as u8);
        } else {
            out.extend_from_slice(&[0x82, (content.len() >> 8) as u8, content.len() as u8]);
        }
        out.extend_from_slice(content);
        out
    }

    fn ava(oid: &[u8], tag: u8, value: &[u8]) -> Vec<u8> {
        tlv(SEQUENCE, &[tlv(OID, oid), tlv(tag, value)].concat())
    }

    const CN: &[u8] = &[0x55, 0x04, 0x03];
    const O: &[u8] = &[0x55, 0x04, 0x0a];
    const C: &[u8] = &[0x55, 0x04, 0x06];
    const EMAIL: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01];

    #[test]
    fn rdns_print_last_first_with_keywords() {
        let name = [
            tlv(SET, &ava(C, PRINTABLE_STRING, b"US")),
            tlv(SET, &ava(O, UTF8_STRING, b"Acme, Inc.")),
            tlv(SET, &ava(CN, UTF8_STRING, b"client one")),
        ]
        .concat();
        assert_eq!(rfc2253(&name).unwrap(), "CN=client one,O=Acme\\, Inc.,C=US");
    }

    #[test]
    fn a_type_without_keyword_prints_its_oid_and_der_hex() {
        let name = [
            tlv(SET, &ava(EMAIL, IA5_STRING, b"a@b")),
            tlv(SET, &ava(CN, UTF8_STRING, b"x")),
        ]
        .concat();
        assert_eq!(
            rfc2253(&name).unwrap(),
            "CN=x,1.2.840.113549.1.9.1=#1603614062"
        );
    }

    #[test]
    fn multi_valued_rdns_and_special_characters() {
        let rdn = [
            ava(CN, UTF8_STRING, b" #a+b=c<>;\"\\ "),
            ava(O, UTF8_STRING, b"o"),
        ]
        .concat();
        let name = tlv(SET, &rdn);
        assert_eq!(
            rfc2253(&name).unwrap(),
            "CN=\\ \\#a\\+b\\=c\\<\\>\\;\\\"\\\\\\ +O=o"
        );
    }

    #[test]
    fn bmp_and_t61_strings_are_text_other_kinds_hex() {
        let name = [
            tlv(SET, &ava(CN, BMP_STRING, &[0x00, 0x68, 0x00, 0xe9])),
            tlv(SET, &ava(O, T61_STRING, &[0x63, 0xe9])),
            tlv(SET, &ava(C, 0x04, &[0x01])),
        ]
        .concat();
        assert_eq!(rfc2253(&name).unwrap(), "C=#040101,O=c\u{e9},CN=h\u{e9}");
    }

    #[test]
    fn oids_and_bad_input() {
        assert_eq!(oid_text(EMAIL).unwrap(), "1.2.840.113549.1.9.1");
        assert_eq!(
            oid_text(&[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19]).unwrap(),
            "0.9.2342.19200300.100.1.25"
        );
        assert!(rfc2253(&[0x31, 0x05, 0x30]).is_err());
        assert!(subject_name(&[0x30, 0x00]).is_err());
    }
}
