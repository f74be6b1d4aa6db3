use super::*;

fn system(pairs: &[(&str, &str)]) -> SystemProperties {
    let mut s = SystemProperties::new();
    for (k, v) in pairs {
        s.set(k, v);
    }
    s
}

const SASL_PROVIDER: &str = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider";

fn jaas_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zk-auth-config-{}-{}", std::process::id(), name));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("jaas.conf");
    std::fs::write(&path, text).unwrap();
    path
}

fn refused_key(pairs: &[(&str, &str)]) -> ConfigError {
    AuthConfig::from_system(&system(pairs)).unwrap_err()
}

#[test]
fn defaults_are_javas() {
    let c =
        AuthConfig::from_system(&system(&[("java.security.krb5.conf", "/nonexistent")])).unwrap();
    assert_eq!(c, AuthConfig::default());
    assert!(c.digest_enabled && !c.sasl_provider && c.sasl.is_none() && !c.sasl_auth_required());
}

#[test]
fn digest_algorithms_by_java_names() {
    for (name, alg) in [
        ("SHA1", DigestAlgorithm::Sha1),
        ("sha", DigestAlgorithm::Sha1),
        ("SHA-256", DigestAlgorithm::Sha256),
        ("sha256", DigestAlgorithm::Sha256),
        ("SHA3-256", DigestAlgorithm::Sha3_256),
        ("SHA-512/256", DigestAlgorithm::Sha512_256),
        ("md5", DigestAlgorithm::Md5),
    ] {
        let c = AuthConfig::from_system(&system(&[(DIGEST_ALG_KEY, name)])).unwrap();
        assert_eq!(c.digest_alg, alg, "{}", name);
    }
    for bad in ["SHA3256", "MD2", "NOPE", ""] {
        assert_eq!(
            refused_key(&[(DIGEST_ALG_KEY, bad)]).key(),
            Some(DIGEST_ALG_KEY),
            "{}",
            bad
        );
    }
}

#[test]
fn providers_map_to_ours_and_others_are_refused() {
    let c = AuthConfig::from_system(&system(&[
        ("zookeeper.authProvider.1", SASL_PROVIDER),
        (
            "zookeeper.authProvider.ip",
            "org.apache.zookeeper.server.auth.IPAuthenticationProvider",
        ),
        (DIGEST_ENABLED_KEY, "false"),
    ]))
    .unwrap();
    assert!(c.sasl_provider);
    assert!(!c.digest_enabled);
    let named = AuthConfig::from_system(&system(&[
        (
            "zookeeper.authProvider.2",
            "org.apache.zookeeper.server.auth.DigestAuthenticationProvider",
        ),
        (DIGEST_ENABLED_KEY, "false"),
    ]))
    .unwrap();
    assert!(
        named.digest_enabled,
        "a named digest provider is registered even when disabled"
    );
    for class in ["com.example.Custom", ""] {
        let e = refused_key(&[("zookeeper.authProvider.7", class)]);
        assert_eq!(e.key(), Some("zookeeper.authProvider.7"), "{}", e);
    }
}

#[test]
fn enforcement_needs_registered_schemes() {
    let c = AuthConfig::from_system(&system(&[
        (ENFORCE_ENABLED_KEY, "true"),
        (ENFORCE_SCHEMES_KEY, " sasl , digest"),
        ("zookeeper.authProvider.1", SASL_PROVIDER),
    ]))
    .unwrap();
    assert_eq!(c.enforce_auth_schemes, vec!["sasl", "digest"]);
    assert!(c.sasl_auth_required());
    assert_eq!(
        refused_key(&[(ENFORCE_ENABLED_KEY, "true")]).key(),
        Some(ENFORCE_SCHEMES_KEY)
    );
    let e = refused_key(&[(ENFORCE_ENABLED_KEY, "true"), (ENFORCE_SCHEMES_KEY, "sasl")]);
    assert!(e.to_string().contains("'sasl' is not available"), "{}", e);
    let e = refused_key(&[(SESSION_REQUIRE_SASL_KEY, "true")]);
    assert_eq!(e.key(), Some(SESSION_REQUIRE_SASL_KEY));
    // sessionRequireClientSASLAuth wins over enforce.auth.*.
    let c = AuthConfig::from_system(&system(&[
        (SESSION_REQUIRE_SASL_KEY, "TRUE"),
        (ENFORCE_SCHEMES_KEY, "digest"),
        ("zookeeper.authProvider.1", SASL_PROVIDER),
    ]))
    .unwrap();
    assert_eq!(c.enforce_auth_schemes, vec!["sasl"]);
    // Disabled: schemes are not checked.
    assert!(AuthConfig::from_system(&system(&[(ENFORCE_SCHEMES_KEY, "nosuch")])).is_ok());
}

#[test]
fn jaas_server_section_gives_digest_users() {
    let path = jaas_file(
        "users",
        "Server {\n org.apache.zookeeper.server.auth.DigestLoginModule required\n user_bob=\"b\" user_super=\"s\" other=\"x\";\n};\nClient { x.Y required; };\n",
    );
    let p = path.to_str().unwrap();
    let c = AuthConfig::from_system(&system(&[
        (JAAS_CONF_KEY, p),
        (SUPER_PASSWORD_KEY, "override"),
    ]))
    .unwrap();
    let sasl = c.sasl.unwrap();
    assert_eq!(sasl.section, "Server");
    assert_eq!(
        sasl.users
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
        vec![("bob", "b"), ("super", "s")]
    );
    assert_eq!(sasl.super_password.as_deref(), Some("override"));
    // A client-only section name: no SASL server unless asked by name.
    let c = AuthConfig::from_system(&system(&[
        (JAAS_CONF_KEY, p),
        (SASL_SERVER_CONFIG_KEY, "Client"),
    ]));
    assert_eq!(
        c.unwrap_err().key(),
        Some(JAAS_CONF_KEY),
        "the Client section's module is not DigestLoginModule"
    );
    let e = refused_key(&[(JAAS_CONF_KEY, p), (SASL_SERVER_CONFIG_KEY, "Missing")]);
    assert_eq!(e.key(), Some(SASL_SERVER_CONFIG_KEY));
    let client_only = jaas_file("client", "Client { org.apache.zookeeper.server.auth.DigestLoginModule required username=\"a\" password=\"b\"; };\n");
    let c = AuthConfig::from_system(&system(&[(JAAS_CONF_KEY, client_only.to_str().unwrap())]))
        .unwrap();
    assert!(c.sasl.is_none());
}

#[test]
fn bad_jaas_files_stop_startup_naming_file_and_line() {
    let path = jaas_file("bad", "Server {\n org.apache.zookeeper.server.auth.DigestLoginModule required\n user_bob=\"b\"\n};\n");
    let p = path.to_str().unwrap();
    let e = refused_key(&[(JAAS_CONF_KEY, p)]);
    let text = e.to_string();
    assert!(text.contains(p) && text.contains("line 4"), "{}", text);
    let e = refused_key(&[(JAAS_CONF_KEY, "/nonexistent/jaas.conf")]);
    assert!(e.to_string().contains("/nonexistent/jaas.conf"), "{}", e);
    let krb = jaas_file(
        "krb",
        "Server {\n com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true;\n};\n",
    );
    let e = refused_key(&[(JAAS_CONF_KEY, krb.to_str().unwrap())]);
    assert!(
        e.to_string().contains("line 2") && e.to_string().contains("keyTab"),
        "{}",
        e
    );
}

#[test]
#[cfg(not(feature = "gssapi"))]
fn kerberos_login_needs_the_gssapi_build() {
    let keytab = jaas_file("nogss-keytab", "not really a keytab");
    let krb = jaas_file(
        "nogss",
        &format!(
            "Server {{\n com.sun.security.auth.module.Krb5LoginModule required\n useKeyTab=true keyTab=\"{}\"\n principal=\"zookeeper/localhost@ZK.TEST\";\n}};\n",
            keytab.display()
        ),
    );
    let e = refused_key(&[(JAAS_CONF_KEY, krb.to_str().unwrap())]);
    assert!(e.to_string().contains("--features gssapi"), "{}", e);
}

#[test]
#[cfg(feature = "gssapi")]
fn kerberos_server_login() {
    let dir = jaas_file("krb-ok", "").parent().unwrap().to_path_buf();
    let keytab = dir.join("zk.keytab");
    std::fs::write(&keytab, b"\x05\x02").unwrap();
    let text = format!(
        "Server {{\n com.sun.security.auth.module.Krb5LoginModule required\n useKeyTab=true keyTab=\"{}\" storeKey=true\n principal=\"zookeeper/localhost@ZK.TEST\";\n}};\n",
        keytab.display()
    );
    let path = jaas_file("krb-ok", &text);
    let props = [
        (JAAS_CONF_KEY, path.to_str().unwrap()),
        (KRB5_CONF_KEY, "/k/krb5.conf"),
    ];
    let c = AuthConfig::from_system(&system(&props)).unwrap();
    let login = c.sasl.unwrap().kerberos.unwrap();
    assert_eq!(login.service_and_host(), ("zookeeper", "localhost"));
    assert_eq!(login.keytab, keytab);
    let env = kerberos_environment(&system(&props));
    let ktname = format!("FILE:{}", keytab.display());
    assert_eq!(
        env,
        vec![
            ("KRB5_CONFIG", "/k/krb5.conf".to_string()),
            ("KRB5_KTNAME", ktname)
        ]
    );
    let missing = jaas_file(
        "krb-missing",
        &text.replace(keytab.to_str().unwrap(), "/nonexistent.keytab"),
    );
    let e = refused_key(&[(JAAS_CONF_KEY, missing.to_str().unwrap())]);
    assert!(e.to_string().contains("/nonexistent.keytab"), "{}", e);
}

#[test]
fn super_users_and_name_rules() {
    let c = AuthConfig::from_system(&system(&[
        (SUPER_USER_KEY, "admin"),
        ("zookeeper.superUser.2", "root"),
        ("zookeeper.superUserX", "not-a-super"),
        ("zookeeper.kerberos.removeHostFromPrincipal", "true"),
        ("zookeeper.kerberos.removeRealmFromPrincipal", "TRUE"),
        ("java.security.krb5.realm", "EXAMPLE.COM"),
        (AUTH_TO_LOCAL_KEY, " DEFAULT "),
    ]))
    .unwrap();
    assert_eq!(c.super_users, vec!["admin", "root"]);
    // Java compares with "true" exactly.
    assert!(c.name_rules.remove_host && !c.name_rules.remove_realm);
    assert_eq!(c.name_rules.default_realm, "EXAMPLE.COM");
    let c = AuthConfig::from_system(&system(&[(
        AUTH_TO_LOCAL_KEY,
        "RULE:[1:$1@$0](.*@X)s/@.*//",
    )]));
    assert!(c.is_ok());
    let e = refused_key(&[(AUTH_TO_LOCAL_KEY, "RULE:[1:$1")]);
    assert_eq!(e.key(), Some(AUTH_TO_LOCAL_KEY));
    assert_eq!(
        krb5_default_realm("[logging]\n default_realm = NO\n[libdefaults]\n  dns = false\n  default_realm = ZK.TEST\n"),
        Some("ZK.TEST".into())
    );
}
