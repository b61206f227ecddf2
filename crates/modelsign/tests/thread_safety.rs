//! Signers and verifiers are `Send + Sync`, so a binding can release its interpreter's lock
//! while one signs or verifies, and threads can share one. These assertions fail to compile
//! if a scheme loses either.

use modelsign::{
    CertificateSigner, CertificateVerifier, KeySigner, KeyVerifier, Pkcs11Signer, Signer,
    SigstoreSigner, SigstoreVerifier, Verifier,
};

fn assert_send_sync<T: Send + Sync + ?Sized>() {}

#[test]
fn every_signer_and_verifier_is_send_and_sync() {
    assert_send_sync::<dyn Signer>();
    assert_send_sync::<dyn Verifier>();
    assert_send_sync::<KeySigner>();
    assert_send_sync::<CertificateSigner>();
    assert_send_sync::<Pkcs11Signer>();
    assert_send_sync::<SigstoreSigner>();
    assert_send_sync::<KeyVerifier>();
    assert_send_sync::<CertificateVerifier>();
    assert_send_sync::<SigstoreVerifier>();
}

#[test]
fn a_signer_signs_from_another_thread() {
    let key = modelsign::PrivateKey::generate(modelsign::keys::Curve::P256).expect("key");
    let public = key.public_key();
    let signer = KeySigner::new(key);
    let bundle = std::thread::scope(|scope| {
        scope
            .spawn(|| signer.sign_payload(b"{}".to_vec()))
            .join()
            .expect("the signing thread")
    })
    .expect("signed");
    let verified = KeyVerifier::new(public).verify_signature(&bundle);
    assert!(verified.is_ok(), "{verified:?}");
}
