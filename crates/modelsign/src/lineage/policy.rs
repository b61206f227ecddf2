//! The trust policy of a lineage store: which signers' attestations are taken into the
//! graph, and about what. An attestation is stored only when a signer of the policy
//! verifies it and allows it. The file format is [`crate::trust`]'s, the one model
//! verification reads too; an ingest always enforces it, whatever its `mode` (`warn` is
//! for loading models: a store keeps nothing a policy refuses).

pub use crate::trust::{
    build_verifiers, matches, AttestationKind, PolicyMode, TrustPolicy, TrustedSigner,
};

#[cfg(test)]
mod tests {
    use super::super::tests::{folder, on_each_backend, record, SqliteIn};
    use super::super::{ingest, sources};
    use super::*;
    use crate::keys::{Curve, PrivateKey};
    use crate::provenance::Stage;
    use crate::signing::KeySigner;

    #[test]
    fn an_ingest_refuses_what_a_warning_policy_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let trusted = PrivateKey::generate(Curve::P256).unwrap();
        std::fs::write(dir.path().join("ci.pub"), trusted.public_key().to_pem()).unwrap();
        let text = "mode = \"warn\"\n[[signer]]\nname = \"ci\"\nkey = \"ci.pub\"\n";
        let policy = TrustPolicy::parse(text, false, dir.path()).unwrap();
        assert_eq!(policy.mode, PolicyMode::Warn);
        let stranger = KeySigner::new(PrivateKey::generate(Curve::P256).unwrap());
        let base = folder(dir.path(), "base", "base");
        let tuned = folder(dir.path(), "tuned", "tuned");
        let signed = record(
            &stranger,
            Stage::Quantize,
            &tuned,
            &[format!("base-model={}", base.display())],
        );
        on_each_backend(SqliteIn::Memory, |backend| {
            let mut store = backend.open();
            let found = sources(std::slice::from_ref(&signed)).unwrap();
            let report = ingest(&mut store, &policy, found).unwrap();
            assert!(report.stored.is_empty(), "{report:?}");
            assert_eq!(report.refused.len(), 1, "{report:?}");
            assert_eq!(store.counts().unwrap(), (0, 0, 0));
        });
    }
}
