//! Key and trust stores made by the real tools (`openssl`, Java's
//! `keytool`) read by our loaders, and certificate subjects printed as
//! Java prints them (Java itself, `X500Principal.getName()`, is the
//! oracle).
//!
//! With `CI=true` a missing `openssl`, `keytool` or `java` fails the test;
//! elsewhere it is skipped with a message.
//!
//! Mirrors: Java's `X509UtilTest` / `KeyStoreFileTypeTest` (loading real
//! files) and `X509AuthenticationProviderTest` (the client id).

use std::path::{Path, PathBuf};
use std::process::Command;

use zookeeper::common::key_store_file_type::{KeyKind, KeyStoreFileType};
use zookeeper::common::{x500_principal, x509_util};

const PASSWORD: &str = "changeit";

fn tools_present() -> bool {
    let ok = |tool: &str, arg: &str| Command::new(tool).arg(arg).output().is_ok();
    let present = ok("openssl", "version") && ok("keytool", "-help") && ok("java", "-version");
    if !present {
        let ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
        assert!(!ci, "openssl and keytool are needed (CI=true)");
        eprintln!("skipping: openssl or keytool is missing");
    }
    present
}

fn run(dir: &Path, program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("tool runs");
    assert!(
        out.status.success(),
        "{} {:?}: {}",
        program,
        args,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA-signed certificate for `subject` (openssl `-subj` form) with its
/// key, as PEM, PKCS#12 and JKS; returns the directory.
fn make_stores(name: &str, subject: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zk-x509-{}-{}", name, std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.as_path();
    run(
        d,
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-subj",
            "/CN=Test CA",
            "-days",
            "2",
        ],
    );
    run(
        d,
        "openssl",
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            subject,
        ],
    );
    std::fs::write(
        d.join("leaf.ext"),
        "extendedKeyUsage=clientAuth,serverAuth\n",
    )
    .unwrap();
    run(
        d,
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
        ],
    );
    let pass = format!("pass:{}", PASSWORD);
    run(
        d,
        "openssl",
        &[
            "pkcs12",
            "-export",
            "-in",
            "leaf.pem",
            "-inkey",
            "leaf.key",
            "-certfile",
            "ca.pem",
            "-out",
            "leaf.p12",
            "-passout",
            &pass,
        ],
    );
    run(
        d,
        "keytool",
        &[
            "-importkeystore",
            "-noprompt",
            "-srckeystore",
            "leaf.p12",
            "-srcstoretype",
            "PKCS12",
            "-srcstorepass",
            PASSWORD,
            "-destkeystore",
            "leaf.jks",
            "-deststoretype",
            "JKS",
            "-deststorepass",
            PASSWORD,
        ],
    );
    run(
        d,
        "keytool",
        &[
            "-importcert",
            "-noprompt",
            "-alias",
            "ca",
            "-file",
            "ca.pem",
            "-keystore",
            "trust.jks",
            "-storetype",
            "JKS",
            "-storepass",
            PASSWORD,
        ],
    );
    run(
        d,
        "keytool",
        &[
            "-importcert",
            "-noprompt",
            "-alias",
            "ca",
            "-file",
            "ca.pem",
            "-keystore",
            "trust.p12",
            "-storetype",
            "PKCS12",
            "-storepass",
            PASSWORD,
        ],
    );
    dir
}

fn load(
    dir: &Path,
    file: &str,
    trust: bool,
) -> Result<zookeeper::common::key_store_file_type::StoreContents, String> {
    let kind = KeyStoreFileType::from_file_name(file).unwrap();
    x509_util::load_store(&dir.join(file), PASSWORD, kind, trust)
}

#[test]
fn keytool_and_openssl_stores_load_with_the_same_key_and_chain() {
    if !tools_present() {
        return;
    }
    let dir = make_stores("formats", "/CN=server");
    let leaf = std::fs::read(dir.join("leaf.pem")).unwrap();
    let leaf_der = rustls_pem_cert(&leaf);
    for file in ["leaf.jks", "leaf.p12"] {
        let store = load(&dir, file, false).unwrap_or_else(|e| panic!("{}: {}", file, e));
        assert_eq!(store.keys.len(), 1, "{}", file);
        let key = &store.keys[0];
        assert_eq!(key.kind, KeyKind::Pkcs8, "{}", file);
        assert_eq!(key.chain.first(), Some(&leaf_der), "{}: leaf first", file);
        assert_eq!(key.chain.len(), 2, "{}: leaf and CA", file);
        let (chain, private) = x509_util::key_and_chain(&store).unwrap();
        assert_eq!(chain.len(), 2);
        assert!(matches!(
            private,
            rustls::pki_types::PrivateKeyDer::Pkcs8(_)
        ));
    }
    let pem = [std::fs::read(dir.join("leaf.key")).unwrap(), leaf.clone()].concat();
    std::fs::write(dir.join("key.pem"), pem).unwrap();
    let store = load(&dir, "key.pem", false).unwrap();
    assert_eq!(store.keys[0].chain, vec![leaf_der.clone()]);
    // The JDK's JKS keystore reads PKCS#12 too, whatever the name says.
    std::fs::copy(dir.join("leaf.p12"), dir.join("renamed.jks")).unwrap();
    assert_eq!(load(&dir, "renamed.jks", false).unwrap().keys.len(), 1);
    for file in ["trust.jks", "trust.p12", "ca.pem"] {
        let store = load(&dir, file, true).unwrap_or_else(|e| panic!("{}: {}", file, e));
        assert_eq!(store.trusted.len(), 1, "{}", file);
        assert_eq!(
            x500_principal::subject_name(&store.trusted[0]).unwrap(),
            "CN=Test CA"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn wrong_passwords_are_refused() {
    if !tools_present() {
        return;
    }
    let dir = make_stores("passwords", "/CN=server");
    for file in ["leaf.jks", "leaf.p12", "trust.jks"] {
        let kind = KeyStoreFileType::from_file_name(file).unwrap();
        let err = x509_util::load_store(&dir.join(file), "not-it", kind, false).unwrap_err();
        assert!(err.contains("password"), "{}: {}", file, err);
        assert!(err.contains(file), "{}: {}", file, err);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn subjects_print_as_java_prints_them() {
    if !tools_present() {
        return;
    }
    // (openssl -subj, what Java's X500Principal.getName() gives, when known)
    let cases = [
        (
            "/C=US/O=Acme, Inc./CN=zk client",
            Some("CN=zk client,O=Acme\\, Inc.,C=US"),
        ),
        ("/DC=org/DC=example/OU=ops+CN=multi", None),
        (
            "/CN=with email/emailAddress=a@b.c",
            Some("1.2.840.113549.1.9.1=#16056140622e63,CN=with email"),
        ),
        ("/CN= padded #1 <x>;y=\"q\"/O=Bar\\Baz", None),
    ];
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for (i, (subject, _)) in cases.iter().enumerate() {
        let dir = make_stores(&format!("subject{}", i), subject);
        files.push(dir.join("leaf.pem"));
        dirs.push(dir);
    }
    let java = java_subjects(&files);
    for (i, (subject, expected)) in cases.iter().enumerate() {
        let leaf = rustls_pem_cert(&std::fs::read(&files[i]).unwrap());
        let ours = x500_principal::subject_name(&leaf).unwrap();
        assert_eq!(ours, java[i], "subject {}", subject);
        if let Some(expected) = expected {
            assert_eq!(&ours, expected);
        }
    }
    for dir in dirs {
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// Java's own `X500Principal.getName()` of each certificate file, from a
/// one-file Java program run by the JDK's source launcher.
fn java_subjects(files: &[PathBuf]) -> Vec<String> {
    let dir = files[0].parent().unwrap();
    let source = dir.join("PrintSubject.java");
    std::fs::write(
        &source,
        "import java.io.FileInputStream;\n\
         import java.security.cert.CertificateFactory;\n\
         import java.security.cert.X509Certificate;\n\
         public class PrintSubject {\n\
           public static void main(String[] args) throws Exception {\n\
             CertificateFactory factory = CertificateFactory.getInstance(\"X.509\");\n\
             for (String path : args) {\n\
               try (FileInputStream in = new FileInputStream(path)) {\n\
                 X509Certificate cert = (X509Certificate) factory.generateCertificate(in);\n\
                 System.out.println(cert.getSubjectX500Principal().getName());\n\
               }\n\
             }\n\
           }\n\
         }\n",
    )
    .unwrap();
    let out = Command::new("java")
        .arg(&source)
        .args(files)
        .output()
        .expect("java runs");
    assert!(
        out.status.success(),
        "java: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn rustls_pem_cert(pem: &[u8]) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::from_pem_slice(pem)
        .unwrap()
        .to_vec()
}
