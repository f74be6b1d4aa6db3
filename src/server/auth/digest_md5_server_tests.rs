use super::*;

/// RFC 2831 section 4's example: user chris, password secret, IMAP.
const RFC_NONCE: &str = "OA6MG9tEQGm2hh";
const RFC_RESPONSE: &[u8] = b"charset=utf-8,username=\"chris\",realm=\"elwood.innosoft.com\",\
nonce=\"OA6MG9tEQGm2hh\",nc=00000001,cnonce=\"OA6MHXh6VqTrRk\",\
digest-uri=\"imap/elwood.innosoft.com\",\
response=d388dad90d4bbd760a152321f2143af7,qop=auth";

fn chris(user: &str) -> Option<String> {
    (user == "chris").then(|| "secret".to_string())
}

fn as_authorization_id(v: &Verified) -> Result<String, SaslError> {
    Ok(v.authorization_id.clone())
}

fn rfc_server() -> DigestMd5Server {
    let mut s = DigestMd5Server::new("imap", "elwood.innosoft.com", RFC_NONCE.to_string());
    s.evaluate_response(b"", &chris, &as_authorization_id)
        .unwrap();
    s
}

#[test]
fn rfc_2831_example_vectors() {
    let mut s = DigestMd5Server::new("imap", "elwood.innosoft.com", RFC_NONCE.to_string());
    let challenge = s
        .evaluate_response(b"", &chris, &as_authorization_id)
        .unwrap();
    assert_eq!(
        String::from_utf8(challenge).unwrap(),
        "realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",charset=utf-8,algorithm=md5-sess"
    );
    assert_eq!(s.authorization_id(), None);
    let rspauth = s
        .evaluate_response(RFC_RESPONSE, &chris, &as_authorization_id)
        .unwrap();
    assert_eq!(rspauth, b"rspauth=ea40f60335c427b5527b84dbabcdfffd");
    assert_eq!(s.authorization_id(), Some("chris"));
    // Nothing more is accepted once complete.
    assert!(s
        .evaluate_response(b"", &chris, &as_authorization_id)
        .is_err());
}

#[test]
fn wrong_password_or_unknown_user_fails_for_good() {
    let mut s = rfc_server();
    let wrong = |_: &str| Some("not-secret".to_string());
    let e = s
        .evaluate_response(RFC_RESPONSE, &wrong, &as_authorization_id)
        .unwrap_err();
    assert!(e.0.contains("wrong password"), "{}", e);
    assert_eq!(s.authorization_id(), None);
    // A retry with the right password is refused: the exchange is over.
    assert!(s
        .evaluate_response(RFC_RESPONSE, &chris, &as_authorization_id)
        .is_err());
    let mut s = rfc_server();
    let nobody = |_: &str| None;
    assert!(s
        .evaluate_response(RFC_RESPONSE, &nobody, &as_authorization_id)
        .unwrap_err()
        .0
        .contains("no password"));
}

#[test]
fn initial_response_is_refused() {
    let mut s = DigestMd5Server::new("zookeeper", "zk-sasl-md5", "n".into());
    assert!(s
        .evaluate_response(b"username=x", &chris, &as_authorization_id)
        .is_err());
    assert!(
        s.evaluate_response(b"", &chris, &as_authorization_id)
            .is_err(),
        "failed for good"
    );
}

#[test]
fn every_field_is_checked() {
    let replace = |from: &str, to: &str| {
        let text = String::from_utf8(RFC_RESPONSE.to_vec()).unwrap();
        assert!(text.contains(from), "{}", from);
        text.replacen(from, to, 1).into_bytes()
    };
    for (response, needle) in [
        (
            replace("realm=\"elwood.innosoft.com\",", ""),
            "unknown realm",
        ),
        (
            replace("realm=\"elwood.innosoft.com\"", "realm=\"other\""),
            "unknown realm",
        ),
        (
            replace("nonce=\"OA6MG9tEQGm2hh\"", "nonce=\"forged\""),
            "nonce",
        ),
        (replace("nc=00000001", "nc=00000002"), "nonce count"),
        (replace("qop=auth", "qop=auth-conf"), "qop"),
        (replace("imap/elwood", "smtp/elwood"), "digest-uri"),
        (replace("username=\"chris\",", ""), "missing username"),
        (replace("cnonce=\"OA6MHXh6VqTrRk\",", ""), "missing cnonce"),
        (
            replace("response=d388dad90d4bbd760a152321f2143af7,", ""),
            "missing response",
        ),
        (replace("charset=utf-8", "charset=latin1"), "charset"),
        (replace("qop=auth", "qop=auth,qop=auth"), "more than one"),
        (replace("qop=auth", "qop=auth,authzid=\"x"), "unterminated"),
        (vec![b'x'; MAX_RESPONSE_LENGTH + 1], "at most"),
    ] {
        let mut s = rfc_server();
        let e = s
            .evaluate_response(&response, &chris, &as_authorization_id)
            .unwrap_err();
        assert!(
            e.0.contains(needle),
            "{:?} -> {}",
            String::from_utf8_lossy(&response),
            e
        );
    }
}

#[test]
fn authzid_is_part_of_a1_and_goes_to_authorize() {
    // Computed independently (Python hashlib) for user bob, password
    // bobsecret, authzid alice, nonce N, cnonce C, zookeeper/zk-sasl-md5.
    let response = b"username=\"bob\",realm=\"zk-sasl-md5\",nonce=\"N\",cnonce=\"C\",nc=00000001,\
qop=auth,digest-uri=\"zookeeper/zk-sasl-md5\",authzid=\"alice\",response=RESPONSE";
    let expected = Parts {
        username: "bob",
        realm: "zk-sasl-md5",
        password: "bobsecret",
        nonce: "N",
        cnonce: "C",
        authzid: Some("alice"),
        utf8: false,
    }
    .response_value("AUTHENTICATE:zookeeper/zk-sasl-md5")
    .unwrap();
    assert_eq!(expected, "1317f790ed5c997ba68061366c462807");
    let response = String::from_utf8(response.to_vec())
        .unwrap()
        .replace("RESPONSE", &expected);
    let mut s = DigestMd5Server::new("zookeeper", "zk-sasl-md5", "N".into());
    s.evaluate_response(b"", &chris, &as_authorization_id)
        .unwrap();
    let bob = |u: &str| (u == "bob").then(|| "bobsecret".to_string());
    let seen = std::cell::RefCell::new(None);
    let authorize = |v: &Verified| {
        *seen.borrow_mut() = Some(v.clone());
        Ok(format!("{}!", v.authentication_id))
    };
    s.evaluate_response(response.as_bytes(), &bob, &authorize)
        .unwrap();
    let seen = seen.into_inner().unwrap();
    assert_eq!(
        (
            seen.authentication_id.as_str(),
            seen.authorization_id.as_str()
        ),
        ("bob", "alice")
    );
    assert_eq!(s.authorization_id(), Some("bob!"));
}

#[test]
fn directives_parse_like_rfc_2831() {
    let d = parse_directives(b" ,a=1 , b = \"x\\\"y, z\" ,,c=\"\"").unwrap();
    assert_eq!(d["a"], b"1");
    assert_eq!(d["b"], b"x\"y, z");
    assert_eq!(d["c"], b"");
    assert!(parse_directives(b"a").is_err());
    assert!(parse_directives(b"a=1 b=2").is_err());
    assert!(parse_directives(b"").unwrap().is_empty());
}

#[test]
fn latin1_and_utf8_encodings() {
    assert_eq!(encode_8859_1("é", false).unwrap(), vec![0xe9]);
    assert_eq!(
        encode_8859_1("é", true).unwrap(),
        vec![0xe9],
        "ISO 8859-1 when every char fits"
    );
    assert_eq!(encode_8859_1("ж", true).unwrap(), "ж".as_bytes());
    assert!(encode_8859_1("ж", false).is_err());
    assert_eq!(decode(&[0xe9], false).unwrap(), "é");
    assert!(decode(&[0xe9], true).is_err());
    assert_eq!(new_nonce().unwrap().len(), 40);
    assert_ne!(new_nonce().unwrap(), new_nonce().unwrap());
}
