use std::cell::RefCell;
use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use super::*;
use crate::keys::Curve;

/// An unsigned JWT for `email`, valid for an hour (its claims are read, not verified).
fn jwt(email: &str) -> String {
    let exp = jiff::Timestamp::now().as_second() + 3600;
    let claims = serde_json::json!({
        "iss": "https://issuer.example",
        "sub": "subject-1",
        "aud": "sigstore",
        "exp": exp,
        "email": email,
    });
    format!(
        "{}.{}.sig",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// Answers with what it was given, and records what it was asked.
#[derive(Default)]
struct Scripted {
    password: Option<String>,
    new_password: Option<[&'static str; 2]>,
    token: Option<String>,
    asked: RefCell<Vec<String>>,
}

impl Prompter for Scripted {
    fn key_password(&self) -> Option<io::Result<String>> {
        self.asked.borrow_mut().push("password".into());
        self.password.clone().map(Ok)
    }

    fn new_key_password(&self) -> Option<io::Result<[String; 2]>> {
        self.asked.borrow_mut().push("new password".into());
        self.new_password.map(|p| Ok(p.map(str::to_owned)))
    }

    fn sign_in(
        &self,
        oidc_url: &str,
        sign_in: &SignIn,
    ) -> Option<Result<IdentityTokenSecret, SignError>> {
        self.asked
            .borrow_mut()
            .push(format!("sign in at {oidc_url} as {}", sign_in.client_id));
        self.token.as_deref().map(IdentityTokenSecret::from_jwt)
    }
}

fn interactive_only() -> TokenSpec {
    TokenSpec {
        given: None,
        ambient_credentials: false,
        sign_in: SignIn::default(),
    }
}

#[test]
fn a_given_token_wins_over_ambient_credentials_and_sign_in() {
    let prompter = Scripted {
        token: Some(jwt("bob@example.com")),
        ..Scripted::default()
    };
    let spec = TokenSpec {
        given: Some(SecretSource::Value(jwt("alice@example.com"))),
        ambient_credentials: true,
        sign_in: SignIn::default(),
    };
    let token = spec
        .resolve(Some("https://oauth.example"), &prompter)
        .expect("the given token");
    assert_eq!(token.identity(), "alice@example.com");
    assert!(prompter.asked.borrow().is_empty(), "nobody is asked");
}

#[test]
fn a_token_file_is_read_whole_and_an_unset_variable_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("token");
    std::fs::write(&file, format!("{}\n", jwt("carol@example.com"))).expect("write");
    let token = TokenSpec::given(SecretSource::File(file))
        .resolve(None, &NoPrompts)
        .expect("the file's token");
    assert_eq!(token.identity(), "carol@example.com");

    let unset = TokenSpec::given(SecretSource::Env("MODELSIGN_SPEC_TEST_UNSET".into()))
        .resolve(Some("https://oauth.example"), &NoPrompts)
        .expect_err("unset");
    assert!(
        matches!(&unset, SpecError::SecretEnv { kind: SecretKind::IdentityToken, var } if var == "MODELSIGN_SPEC_TEST_UNSET"),
        "{unset}"
    );
    assert_eq!(
        unset.to_string(),
        "environment variable MODELSIGN_SPEC_TEST_UNSET holds no identity token"
    );
}

#[test]
fn without_a_token_the_prompter_signs_in_with_the_signing_configs_provider() {
    let prompter = Scripted {
        token: Some(jwt("dave@example.com")),
        ..Scripted::default()
    };
    let token = interactive_only()
        .resolve(Some("https://oauth.example"), &prompter)
        .expect("signed in");
    assert_eq!(token.identity(), "dave@example.com");
    assert_eq!(
        *prompter.asked.borrow(),
        ["sign in at https://oauth.example as sigstore"]
    );
}

#[test]
fn an_oidc_issuer_given_is_where_the_prompter_signs_in_instead_of_the_signing_configs() {
    let prompter = Scripted {
        token: Some(jwt("dave@example.com")),
        ..Scripted::default()
    };
    let with_issuer = |issuer: &str| TokenSpec {
        sign_in: SignIn {
            oidc_issuer: Some(issuer.to_owned()),
            ..SignIn::default()
        },
        ..interactive_only()
    };
    with_issuer("https://other-provider.example")
        .resolve(Some("https://oauth.example"), &prompter)
        .expect("signed in");
    // Also when the signing config lists no provider at all.
    with_issuer("https://other-provider.example")
        .resolve(None, &prompter)
        .expect("signed in");
    // An empty one is none, as model_signing takes it.
    with_issuer("")
        .resolve(Some("https://oauth.example"), &prompter)
        .expect("signed in");
    assert_eq!(
        *prompter.asked.borrow(),
        [
            "sign in at https://other-provider.example as sigstore",
            "sign in at https://other-provider.example as sigstore",
            "sign in at https://oauth.example as sigstore",
        ]
    );
}

#[test]
fn with_nobody_to_sign_in_or_no_provider_there_is_no_token() {
    let no_one = interactive_only()
        .resolve(Some("https://oauth.example"), &NoPrompts)
        .expect_err("nobody signs in");
    assert!(
        matches!(
            no_one,
            SpecError::NoIdentityToken {
                provider_listed: true
            }
        ),
        "{no_one}"
    );
    let prompter = Scripted {
        token: Some(jwt("erin@example.com")),
        ..Scripted::default()
    };
    let no_provider = interactive_only()
        .resolve(None, &prompter)
        .expect_err("nowhere to sign in");
    assert!(
        matches!(
            no_provider,
            SpecError::NoIdentityToken {
                provider_listed: false
            }
        ),
        "{no_provider}"
    );
    assert!(prompter.asked.borrow().is_empty(), "sign-in was not tried");
}

#[test]
fn a_client_secret_is_refused_only_when_sign_in_is_reached() {
    let with_secret = |given| TokenSpec {
        given,
        ambient_credentials: false,
        sign_in: SignIn {
            client_secret: Some("s3cret".into()),
            ..SignIn::default()
        },
    };
    let given = with_secret(Some(SecretSource::Value(jwt("frank@example.com"))))
        .resolve(Some("https://oauth.example"), &NoPrompts)
        .expect("a given token needs no sign-in");
    assert_eq!(given.identity(), "frank@example.com");
    let refused = with_secret(None)
        .resolve(Some("https://oauth.example"), &NoPrompts)
        .expect_err("sign-in with a secret");
    assert!(
        matches!(refused, SpecError::ClientSecretUnsupported),
        "{refused}"
    );
}

/// `key.pem` in `dir`, encrypted with `password` when given.
fn key_file(dir: &Path, password: Option<&str>) -> (PathBuf, PublicKey) {
    let key = PrivateKey::generate(Curve::P256).expect("generate");
    let pem = match password {
        Some(password) => key.to_encrypted_pkcs8_pem(password.as_bytes()),
        None => key.to_pkcs8_pem(),
    }
    .expect("encode");
    let path = dir.join("key.pem");
    std::fs::write(&path, pem).expect("write");
    (path, key.public_key())
}

#[test]
fn an_encrypted_keys_password_comes_from_its_source_before_the_prompter() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, public) = key_file(dir.path(), Some("hunter2"));
    let password_file = dir.path().join("password.txt");
    std::fs::write(&password_file, "hunter2\nsecond line is not the password\n").expect("write");
    let prompter = Scripted {
        password: Some("wrong".into()),
        ..Scripted::default()
    };
    let spec = PrivateKeySpec {
        key: KeySource::File(path),
        password: Some(SecretSource::File(password_file)),
    };
    let key = spec
        .load(&prompter)
        .expect("the file's first line decrypts it");
    assert_eq!(key.public_key(), public);
    assert!(prompter.asked.borrow().is_empty(), "nobody is asked");
}

#[test]
fn an_encrypted_key_without_a_password_asks_the_prompter_or_fails_with_nobody_to_ask() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, public) = key_file(dir.path(), Some("hunter2"));
    let spec = PrivateKeySpec::file(&path);
    let prompter = Scripted {
        password: Some("hunter2".into()),
        ..Scripted::default()
    };
    assert_eq!(spec.load(&prompter).expect("asked").public_key(), public);
    assert_eq!(*prompter.asked.borrow(), ["password"]);

    let refused = spec.load(&NoPrompts).expect_err("nobody to ask");
    assert!(
        matches!(&refused, SpecError::PasswordRequired { origin } if *origin == path.display().to_string()),
        "{refused}"
    );
    let wrong = PrivateKeySpec {
        key: KeySource::File(path),
        password: Some(SecretSource::Value("wrong".into())),
    }
    .load(&NoPrompts)
    .expect_err("wrong password");
    assert!(
        matches!(
            wrong,
            SpecError::Key {
                source: KeyError::Decrypt(_),
                ..
            }
        ),
        "{wrong}"
    );
}

#[test]
fn an_unencrypted_key_never_asks_and_an_unset_password_variable_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, public) = key_file(dir.path(), None);
    let prompter = Scripted::default();
    let spec = PrivateKeySpec {
        key: KeySource::Pem(std::fs::read(&path).expect("read")),
        password: Some(SecretSource::Env("MODELSIGN_SPEC_TEST_UNSET".into())),
    };
    assert_eq!(spec.load(&prompter).expect("loads").public_key(), public);
    assert!(prompter.asked.borrow().is_empty());

    let unset = SecretSource::Env("MODELSIGN_SPEC_TEST_UNSET".into())
        .read(SecretKind::Password)
        .expect_err("unset");
    assert_eq!(
        unset.to_string(),
        "environment variable MODELSIGN_SPEC_TEST_UNSET is not set"
    );
}

#[test]
fn a_key_spec_builds_a_signer_whose_signatures_its_verifier_spec_accepts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, public) = key_file(dir.path(), None);
    let built = SignerSpec::Key(PrivateKeySpec::file(&path))
        .build(&NoPrompts)
        .expect("signer");
    assert_eq!(built.public_key.as_ref(), Some(&public));
    assert!(built.warnings.is_empty() && built.sigstore.is_none());
    let public_path = dir.path().join("key.pub");
    std::fs::write(&public_path, public.to_pem()).expect("write");
    let verifier = VerifierSpec::Key {
        public_key: public_path,
    }
    .build()
    .expect("verifier");
    let bundle = built
        .signer
        .sign_payload(b"{\"payload\": 1}".to_vec())
        .expect("signs");
    verifier
        .verifier
        .verify_signature(&bundle)
        .expect("verifies");
}

#[test]
fn an_expired_certificate_is_refused_unless_signing_anyway_which_warns() {
    let dir = test_support::vector("oms-conformance/assets/keys/expired");
    let spec = |unverifiable| SignerSpec::Certificate {
        key: PrivateKeySpec::file(dir.join("signing-key.pem")),
        certificates: CertificateFiles {
            signing_certificate: dir.join("signing-key-cert.pem"),
            chain: Vec::new(),
            unverifiable,
        },
    };
    let refused = spec(UnverifiableCertificate::Refuse)
        .build(&NoPrompts)
        .expect_err("expired");
    assert!(
        matches!(
            refused,
            SpecError::Signer(SignError::UnverifiableCertificate(
                CertError::Validity { .. }
            ))
        ),
        "{refused}"
    );
    let built = spec(UnverifiableCertificate::SignAnyway)
        .build(&NoPrompts)
        .expect("signs anyway");
    assert!(
        matches!(&built.warnings[..], [SignerWarning::UnverifiableCertificate { reason }] if reason.contains("expired on 2020-01-02")),
        "{:?}",
        built.warnings
    );
}

#[test]
fn a_bad_identity_pattern_is_named_after_the_trust_root_is_chosen() {
    let refused = VerifierSpec::Sigstore {
        use_staging: false,
        trust_file: None,
        identity: IdentityMatch::Regex("(unclosed".into()),
        issuer: "https://issuer.example".into(),
    }
    .build()
    .expect_err("bad pattern");
    assert!(matches!(refused, SpecError::IdentityRegex(_)), "{refused}");

    let missing = VerifierSpec::Sigstore {
        use_staging: false,
        trust_file: Some(PathBuf::from("/nonexistent/trusted_root.json")),
        identity: IdentityMatch::Regex("(unclosed".into()),
        issuer: "https://issuer.example".into(),
    }
    .build()
    .expect_err("no trust root");
    assert!(matches!(missing, SpecError::TrustRoot(_)), "{missing}");
}

#[test]
fn a_new_keys_password_is_given_or_asked_twice_and_must_match() {
    let typo = Scripted {
        new_password: Some(["hunter2", "hunter3"]),
        ..Scripted::default()
    };
    let differ = NewKeyPassword::Ask.resolve(&typo).expect_err("typo");
    assert!(matches!(differ, SpecError::PasswordsDiffer), "{differ}");
    let same = Scripted {
        new_password: Some(["hunter2", "hunter2"]),
        ..Scripted::default()
    };
    assert_eq!(
        NewKeyPassword::Ask.resolve(&same).expect("asked"),
        Some(b"hunter2".to_vec())
    );
    let nobody = NewKeyPassword::Ask.resolve(&NoPrompts).expect_err("nobody");
    assert!(matches!(nobody, SpecError::NoPasswordPrompt), "{nobody}");

    let given = NewKeyPassword::Given(SecretSource::Value("s3cret".into()));
    assert_eq!(
        given.resolve(&same).expect("given"),
        Some(b"s3cret".to_vec())
    );
    assert_eq!(NewKeyPassword::None.resolve(&same).expect("none"), None);
    assert_eq!(
        *same.asked.borrow(),
        ["new password"],
        "asked once, for Ask"
    );
}
