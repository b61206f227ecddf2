//! Certificates made with the openssl CLI for path-validation tests, hostile chains
//! included. Every certificate is a CA that may also sign, so any of them serves as a leaf.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs the openssl CLI in `dir`, panicking with its stderr if it fails (scripts/test.sh
/// installs openssl).
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh P-256 key `<name>.key` in `dir`.
pub fn new_key(dir: &Path, name: &str) -> PathBuf {
    let file = format!("{name}.key");
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            &file,
        ],
    );
    dir.join(file)
}

/// A test certificate: its subject CN, the key (`<key>.key`) it certifies, the
/// certificate and key (`<cert>.pem`, `<key>.key`) that sign it or `None` for
/// self-signed, a serial telling same-name certificates apart, and whether it carries
/// subject/authority key identifiers (without them only names link issuers).
pub struct CertSpec<'a> {
    pub subject: &'a str,
    pub key: &'a str,
    pub issuer: Option<(&'a str, &'a str)>,
    pub serial: usize,
    pub key_ids: bool,
}

/// Writes `<name>.pem` in `dir`, valid for two days from now, and returns its path.
pub fn make_cert(dir: &Path, name: &str, spec: &CertSpec<'_>) -> PathBuf {
    let mut ext = String::from(
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,digitalSignature\n",
    );
    if !spec.key_ids {
        ext.push_str("subjectKeyIdentifier=none\nauthorityKeyIdentifier=none\n");
    }
    let ext_file = format!("{name}.ext");
    std::fs::write(dir.join(&ext_file), ext).expect("write extensions");
    let subject = format!("/CN={}", spec.subject);
    let key = format!("{}.key", spec.key);
    let pem = format!("{name}.pem");
    let csr = format!("{name}.csr");
    let serial = spec.serial.to_string();
    openssl(
        dir,
        &["req", "-new", "-key", &key, "-subj", &subject, "-out", &csr],
    );
    let ca;
    let ca_key;
    let mut args = vec![
        "x509",
        "-req",
        "-in",
        &csr,
        "-out",
        &pem,
        "-days",
        "2",
        "-set_serial",
        &serial,
        "-extfile",
        &ext_file,
    ];
    match spec.issuer {
        Some((issuer, issuer_key)) => {
            ca = format!("{issuer}.pem");
            ca_key = format!("{issuer_key}.key");
            args.extend(["-CA", &ca, "-CAkey", &ca_key]);
        }
        None => args.extend(["-key", &key]),
    }
    openssl(dir, &args);
    dir.join(pem)
}

/// A self-signed root `stranger.pem` that none of the chains below lead to.
pub fn stranger(dir: &Path) -> PathBuf {
    new_key(dir, "stranger");
    make_cert(
        dir,
        "stranger",
        &CertSpec {
            subject: "stranger",
            key: "stranger",
            issuer: None,
            serial: 1,
            key_ids: true,
        },
    )
}

/// A leaf `leaf.pem` (key `leaf.key`, subject `leaf`) issued by `issuer` (certificate and
/// key names, as in [`CertSpec`]).
pub fn leaf(dir: &Path, issuer: (&str, &str), key_ids: bool) -> PathBuf {
    new_key(dir, "leaf");
    make_cert(
        dir,
        "leaf",
        &CertSpec {
            subject: "leaf",
            key: "leaf",
            issuer: Some(issuer),
            serial: 1000,
            key_ids,
        },
    )
}

/// A hostile chain and the leaf it serves: the leaf's path search must not explore it all.
pub struct HostileChain {
    pub leaf: PathBuf,
    pub chain: Vec<PathBuf>,
}

impl HostileChain {
    /// `n` self-signed CAs named `loop` with one key (they differ by serial), and a leaf
    /// issued by them: each of them issues every other, so a naive search tries every
    /// ordering.
    pub fn same_key_loop(dir: &Path, n: usize) -> Self {
        new_key(dir, "loop");
        let chain = (0..n)
            .map(|i| {
                let spec = CertSpec {
                    subject: "loop",
                    key: "loop",
                    issuer: None,
                    serial: i + 1,
                    key_ids: true,
                };
                make_cert(dir, &format!("loop{i}"), &spec)
            })
            .collect();
        let leaf = leaf(dir, ("loop0", "loop"), true);
        HostileChain { leaf, chain }
    }

    /// `levels` levels of `variants` interchangeable CAs each (one name and key per
    /// level), the top level issued by a certificate left out: `variants^levels` paths,
    /// every one a dead end, though each signature needs checking only once.
    pub fn interchangeable_levels(dir: &Path, levels: usize, variants: usize) -> Self {
        new_key(dir, "top");
        let top = CertSpec {
            subject: "top",
            key: "top",
            issuer: None,
            serial: 1,
            key_ids: true,
        };
        make_cert(dir, "top", &top);
        let mut chain = Vec::new();
        let mut issuer = ("top".to_owned(), "top".to_owned());
        for level in (0..levels).rev() {
            let name = format!("level{level}");
            new_key(dir, &name);
            for variant in 0..variants {
                let spec = CertSpec {
                    subject: &name,
                    key: &name,
                    issuer: Some((&issuer.0, &issuer.1)),
                    serial: variants * level + variant + 2,
                    key_ids: true,
                };
                chain.push(make_cert(dir, &format!("{name}-{variant}"), &spec));
            }
            issuer = (format!("{name}-0"), name);
        }
        let leaf = leaf(dir, (&issuer.0, &issuer.1), true);
        HostileChain { leaf, chain }
    }

    /// `n` CAs named `hydra` without key identifiers, each with its own key and issued by
    /// the next: every one is a candidate issuer of every other, and only a signature
    /// check tells them apart.
    pub fn many_keys_one_name(dir: &Path, n: usize) -> Self {
        new_key(dir, "stray");
        let stray = CertSpec {
            subject: "hydra",
            key: "stray",
            issuer: None,
            serial: 1,
            key_ids: false,
        };
        make_cert(dir, "stray", &stray);
        let mut chain = Vec::new();
        let mut issuer = "stray".to_owned();
        for i in (0..n).rev() {
            let name = format!("hydra{i}");
            new_key(dir, &name);
            let spec = CertSpec {
                subject: "hydra",
                key: &name,
                issuer: Some((&issuer, &issuer)),
                serial: i + 2,
                key_ids: false,
            };
            chain.push(make_cert(dir, &name, &spec));
            issuer = name;
        }
        let leaf = leaf(dir, (&issuer, &issuer), false);
        HostileChain { leaf, chain }
    }

    /// The chain's certificates in one PEM file `chain.pem` (for `--certificate-chain`).
    pub fn chain_file(&self, dir: &Path) -> PathBuf {
        let mut text = Vec::new();
        for pem in &self.chain {
            text.extend(std::fs::read(pem).expect("read certificate"));
        }
        let file = dir.join("chain.pem");
        std::fs::write(&file, text).expect("write chain");
        file
    }
}

/// A signing certificate `signer.pem` (key `signer.key`, subject `signer`) issued by a
/// self-signed root `signer-root.pem`, with the given extensions and validity.
pub struct SigningLeaf {
    pub leaf: PathBuf,
    pub key: PathBuf,
    pub root: PathBuf,
}

impl SigningLeaf {
    /// `extensions` are openssl extension-file lines for the leaf; `not_before` and
    /// `not_after` are dates as `openssl ca` takes them (`YYYYMMDDHHMMSSZ`), so a leaf can
    /// be expired or not yet valid (`openssl x509` sets no start date).
    pub fn issue(dir: &Path, extensions: &str, not_before: &str, not_after: &str) -> Self {
        new_key(dir, "signer-root");
        let root = make_cert(
            dir,
            "signer-root",
            &CertSpec {
                subject: "signer root",
                key: "signer-root",
                issuer: None,
                serial: 1,
                key_ids: true,
            },
        );
        let key = new_key(dir, "signer");
        openssl(
            dir,
            &[
                "req",
                "-new",
                "-key",
                "signer.key",
                "-subj",
                "/CN=signer",
                "-out",
                "signer.csr",
            ],
        );
        std::fs::write(dir.join("signer.ext"), extensions).expect("write extensions");
        std::fs::write(dir.join("index.txt"), "").expect("write CA database");
        std::fs::write(dir.join("serial"), "1000\n").expect("write CA serial");
        std::fs::write(
            dir.join("ca.cnf"),
            "[ca]\ndefault_ca = test\n[test]\ndatabase = index.txt\nnew_certs_dir = .\n\
             serial = serial\ndefault_md = sha256\npolicy = any\nunique_subject = no\n\
             [any]\ncommonName = supplied\n",
        )
        .expect("write CA configuration");
        openssl(
            dir,
            &[
                "ca",
                "-batch",
                "-notext",
                "-config",
                "ca.cnf",
                "-cert",
                "signer-root.pem",
                "-keyfile",
                "signer-root.key",
                "-in",
                "signer.csr",
                "-out",
                "signer.pem",
                "-extfile",
                "signer.ext",
                "-startdate",
                not_before,
                "-enddate",
                not_after,
            ],
        );
        SigningLeaf {
            leaf: dir.join("signer.pem"),
            key,
            root,
        }
    }
}
