//! Signing and verification methods from the command line: the flags become the library's
//! specs, the terminal answers its questions, and its errors get the flag that fixes them.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use modelsign::error::Classify;
use modelsign::error::SignError;
use modelsign::spec::{
    BuiltSigner, CertificateFiles, IdentityMatch, KeySource, PrivateKeySpec, Prompter,
    SecretSource, SignIn, SignerSpec, SignerWarning, SigstoreSignerSpec, SpecError, TokenSpec,
    VerifierSpec,
};
use modelsign::{
    Bundle, BundleError, CertError, IdentityTokenSecret, KeyError, UnverifiableCertificate,
};

use crate::args::{
    AttestSignMethod, AttestVerifyMethod, CertificateChainArgs, OutputArgs, PrivateKeyArgs,
    SigstoreSignerArgs, SigstoreVerifierArgs,
};
use crate::failure::Failure;

/// An attestation command's own flags, and the signing method with its material.
pub fn attest_signer<C: clap::Args>(method: &AttestSignMethod<C>) -> (&C, SignerSpec) {
    match method {
        AttestSignMethod::Key(a) => (&a.common, key(&a.key)),
        AttestSignMethod::Certificate(a) => (&a.common, certificate(&a.key, &a.certificate)),
        AttestSignMethod::Sigstore(a) => (&a.common, sigstore_signer(&a.sigstore)),
        AttestSignMethod::Pkcs11Key(a) => (&a.common, pkcs11_key(&a.pkcs11_uri)),
        AttestSignMethod::Pkcs11Certificate(a) => {
            (&a.common, pkcs11_certificate(&a.pkcs11_uri, &a.certificate))
        }
    }
}

/// An attestation command's own flags.
pub fn attest_verify_common<C: clap::Args>(method: &AttestVerifyMethod<C>) -> &C {
    match method {
        AttestVerifyMethod::Key(a) => &a.common,
        AttestVerifyMethod::Certificate(a) => &a.common,
        AttestVerifyMethod::Sigstore(a) => &a.common,
    }
}

/// The verifying method of an attestation command, and how messages name it.
pub fn attest_verifier<C: clap::Args>(
    method: &AttestVerifyMethod<C>,
) -> Result<(VerifierSpec, &'static str), Failure> {
    let spec = match method {
        AttestVerifyMethod::Key(a) => key_verifier(&a.public_key),
        AttestVerifyMethod::Certificate(a) => certificate_verifier(&a.certificate_chain),
        AttestVerifyMethod::Sigstore(a) => sigstore_verifier(&a.sigstore)?,
    };
    let trusted = spec.trust_description();
    Ok((spec, trusted))
}

pub fn key(key: &PrivateKeyArgs) -> SignerSpec {
    SignerSpec::Key(private_key(key))
}

pub fn certificate(key: &PrivateKeyArgs, certificate: &CertificateChainArgs) -> SignerSpec {
    SignerSpec::Certificate {
        key: private_key(key),
        certificates: certificates(certificate),
    }
}

pub fn pkcs11_key(uri: &str) -> SignerSpec {
    SignerSpec::Pkcs11Key {
        uri: uri.to_owned(),
        module_directories: Vec::new(),
    }
}

pub fn pkcs11_certificate(uri: &str, certificate: &CertificateChainArgs) -> SignerSpec {
    SignerSpec::Pkcs11Certificate {
        uri: uri.to_owned(),
        certificates: certificates(certificate),
        module_directories: Vec::new(),
    }
}

fn private_key(args: &PrivateKeyArgs) -> PrivateKeySpec {
    PrivateKeySpec {
        key: KeySource::File(args.private_key.clone()),
        password: secret_source(
            args.password_file.as_deref(),
            args.password_env.as_deref(),
            args.password.as_deref(),
        ),
    }
}

/// The first given of a secret's file, environment variable and value (clap lets only
/// one be given).
pub fn secret_source(
    file: Option<&Path>,
    env: Option<&str>,
    value: Option<&str>,
) -> Option<SecretSource> {
    file.map(|f| SecretSource::File(f.to_path_buf()))
        .or_else(|| env.map(|v| SecretSource::Env(v.to_owned())))
        .or_else(|| value.map(|v| SecretSource::Value(v.to_owned())))
}

fn certificates(args: &CertificateChainArgs) -> CertificateFiles {
    CertificateFiles {
        signing_certificate: args.signing_certificate.clone(),
        chain: args.certificate_chain.clone(),
        unverifiable: if args.allow_unverifiable_certificate {
            UnverifiableCertificate::SignAnyway
        } else {
            UnverifiableCertificate::Refuse
        },
    }
}

pub fn sigstore_signer(args: &SigstoreSignerArgs) -> SignerSpec {
    let given = secret_source(
        args.identity_token_file.as_deref(),
        args.identity_token_env.as_deref(),
        args.identity_token.as_deref(),
    );
    SignerSpec::Sigstore(SigstoreSignerSpec {
        use_staging: args.use_staging,
        trust_config: args.trust_config.clone(),
        token: TokenSpec {
            given,
            ambient_credentials: !args.no_ambient_credentials,
            sign_in: SignIn {
                client_id: args.client_id.clone(),
                client_secret: Some(args.client_secret.clone()),
                force_oob: args.oauth_force_oob,
                oidc_issuer: None,
            },
        },
    })
}

pub fn key_verifier(public_key: &Path) -> VerifierSpec {
    VerifierSpec::Key {
        public_key: public_key.to_path_buf(),
    }
}

pub fn certificate_verifier(trust_anchors: &[PathBuf]) -> VerifierSpec {
    VerifierSpec::Certificate {
        trust_anchors: trust_anchors.to_vec(),
    }
}

pub fn sigstore_verifier(args: &SigstoreVerifierArgs) -> Result<VerifierSpec, Failure> {
    let identity = match (&args.identity, &args.identity_regex) {
        (_, Some(pattern)) => IdentityMatch::Regex(pattern.clone()),
        (Some(identity), None) => IdentityMatch::Exact(identity.clone()),
        (None, None) => return Err(Failure::input("give --identity or --identity-regex")),
    };
    Ok(VerifierSpec::Sigstore {
        use_staging: args.use_staging,
        trust_file: args.trust_config.clone().or(args.trusted_root.clone()),
        identity,
        issuer: args.identity_provider.clone(),
    })
}

/// Builds the signer, asking on the terminal what the flags do not give, and says what
/// the user should know before it signs.
pub fn build_signer(spec: &SignerSpec, output: &OutputArgs) -> Result<BuiltSigner, Failure> {
    let built = spec.build(&Terminal).map_err(spec_failure)?;
    for warning in &built.warnings {
        match warning {
            SignerWarning::UnverifiableCertificate { reason } => warnln!(
                "{reason}; signing anyway, as --allow-unverifiable-certificate asks: `verify certificate` will refuse this signature"
            ),
            other => warnln!("{other}"),
        }
    }
    if let (Some(signer), false) = (&built.sigstore, output.json) {
        infoln!(
            "Signing as {} (identity provider {}) with {}",
            signer.identity,
            signer.issuer,
            signer.certificate_authority
        );
    }
    Ok(built)
}

/// The signature to verify: unreadable is bad input, unparsable a failed check.
pub fn read_bundle(path: &Path) -> Result<Bundle, Failure> {
    Bundle::read(path).map_err(|e| Failure::of(matches!(e, BundleError::Io { .. }), e))
}

/// The library's error, with the flag that fixes it where there is one.
pub fn spec_failure(error: SpecError) -> Failure {
    let message = match &error {
        SpecError::PasswordRequired { .. } => KeyError::PasswordRequired.to_string(),
        SpecError::NoIdentityToken { provider_listed } => {
            let no_token = "no identity token: pass --identity-token, --identity-token-file or --identity-token-env, run in a CI system that provides OIDC credentials, or sign in interactively on a terminal";
            if *provider_listed {
                no_token.to_owned()
            } else {
                format!("{no_token} (the signing config names no OIDC provider)")
            }
        }
        SpecError::NoPasswordPrompt => "--password without a value asks for the password on a terminal, and there is none; use --password-file or --password-env".to_owned(),
        SpecError::ClientSecretUnsupported => "--client-secret is not supported: interactive sign-in uses a public OAuth client with PKCE".to_owned(),
        SpecError::IdentityRegex(reason) => {
            format!("--identity-regex is not a valid regular expression: {reason}")
        }
        SpecError::Signer(SignError::UnverifiableCertificate(_)) => {
            format!("{error} (to sign anyway, pass --allow-unverifiable-certificate)")
        }
        SpecError::Signer(SignError::Certificate(CertError::TooMany { .. })) => format!(
            "{error}; pass with --certificate-chain only the intermediates between the signing certificate and its root"
        ),
        _ => error.to_string(),
    };
    Failure::of(error.is_input_error(), message)
}

/// Asks on the terminal, when there is one.
pub struct Terminal;

impl Prompter for Terminal {
    fn key_password(&self) -> Option<std::io::Result<String>> {
        std::io::stdin()
            .is_terminal()
            .then(|| rpassword::prompt_password("Password for the private key: "))
    }

    fn new_key_password(&self) -> Option<std::io::Result<[String; 2]>> {
        let ask = rpassword::prompt_password;
        std::io::stdin().is_terminal().then(|| {
            Ok([
                ask("Password for the new private key: ")?,
                ask("The same password again: ")?,
            ])
        })
    }

    fn token_pin(&self, token: &str) -> Option<String> {
        if !std::io::stdin().is_terminal() {
            return None;
        }
        rpassword::prompt_password(format!("PIN for PKCS#11 token '{token}': ")).ok()
    }

    fn sign_in(
        &self,
        oidc_url: &str,
        sign_in: &SignIn,
    ) -> Option<Result<IdentityTokenSecret, SignError>> {
        std::io::stdin().is_terminal().then(|| {
            IdentityTokenSecret::interactive(oidc_url, &sign_in.client_id, sign_in.force_oob)
        })
    }
}
