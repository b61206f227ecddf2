//! `sign`, `verify` and `digest` of a model that is an OCI image (`oci://…`,
//! `oci-layout:…`): parse, call `modelsign::oci`, print.

use modelsign::bundle::Bundle;
use modelsign::error::Classify;
use modelsign::oci::attach::{AttachMode, Attachment};
use modelsign::oci::registry::Registry;
use modelsign::oci::{self, Credentials, ModelLocation, RegistryOptions, ResolvedImage};
use modelsign::spec::{SignerSpec, VerifierSpec};
use serde_json::json;

use crate::args::{
    AttachModeArg, DigestArgs, HashTypeArg, HashingArgs, RegistryArgs, SelectionArgs,
    SerializationArg, SignCommon, VerifyCommon,
};
use crate::failure::Failure;
use crate::methods::{self, spec_failure};
use crate::settings::count;
use crate::{output, progress, signer_json, verify_failure};

pub fn failure(error: impl Classify + 'static) -> Failure {
    Failure::of(error.is_input_error(), error)
}

/// The registry client the arguments describe.
pub fn registry(args: &RegistryArgs) -> Result<Registry, Failure> {
    Registry::new(registry_options(args)?).map_err(failure)
}

/// How to reach registries, as the arguments say (no client is made yet).
pub fn registry_options(args: &RegistryArgs) -> Result<RegistryOptions, Failure> {
    let credentials = match &args.registry_token_env {
        Some(var) => match std::env::var(var) {
            Ok(token) if !token.is_empty() => Credentials::Bearer(token),
            _ => {
                return Err(Failure::input(format!(
                "--registry-token-env {var}: the environment variable {var} is not set (or empty)"
            )))
            }
        },
        None => Credentials::DockerConfig,
    };
    Ok(RegistryOptions {
        insecure: args.insecure_registry.clone(),
        credentials,
        ca_files: args.registry_ca_file.clone(),
        ..RegistryOptions::default()
    })
}

pub fn resolve(location: &ModelLocation, registry: &Registry) -> Result<ResolvedImage, Failure> {
    let started = std::time::Instant::now();
    let image = oci::resolve(location, registry).map_err(failure)?;
    debugln!(
        "manifest {} of {location} read in {:.3} s ({} layers{})",
        image.manifest.digest,
        started.elapsed().as_secs_f64(),
        image.image.layers.len(),
        image
            .index_digest
            .as_ref()
            .map(|d| format!(", chosen from the index {d}"))
            .unwrap_or_default()
    );
    Ok(image)
}

/// Options that shape how a local model is walked and hashed mean nothing for an image,
/// whose manifest is the SHA-256 digests of its layers: refused rather than ignored.
pub fn refuse_local_options(
    hashing: Option<&HashingArgs>,
    selection: &SelectionArgs,
    extra: &[(&str, bool)],
) -> Result<(), Failure> {
    let mut given: Vec<&str> = Vec::new();
    if let Some(h) = hashing {
        if !matches!(h.hash_type, HashTypeArg::Sha256) {
            given.push("--hash-type");
        }
        if !matches!(h.serialization, SerializationArg::Files) {
            given.push("--serialization");
        }
        if h.shard_size != modelsign::DEFAULT_SHARD_SIZE {
            given.push("--shard-size");
        }
    }
    if !selection.ignore_paths.is_empty() {
        given.push("--ignore-paths");
    }
    if selection.allow_symlinks {
        given.push("--allow-symlinks");
    }
    if selection.include_attestation_files {
        given.push("--include-attestation-files");
    }
    given.extend(extra.iter().filter(|(_, set)| *set).map(|(flag, _)| *flag));
    if given.is_empty() {
        return Ok(());
    }
    Err(Failure::input(format!(
        "{} shape how a local model is hashed; an image is signed from its manifest (the SHA-256 digests of its layers), so they do not apply to oci:// or oci-layout: models",
        given.join(", ")
    )))
}

/// The library's attach mode for `--attach-mode`.
pub fn attach_mode(mode: AttachModeArg) -> AttachMode {
    match mode {
        AttachModeArg::Referrers => AttachMode::Referrers,
        AttachModeArg::Tag => AttachMode::Tag,
    }
}

/// Where an attachment went, for `--json`.
pub fn attached_json(attached: &oci::Attached) -> serde_json::Value {
    json!({
        "mode": attached.mode.as_str(),
        "reference": attached.reference,
        "digest": attached.digest,
    })
}

pub fn sign(
    common: &SignCommon,
    spec: &SignerSpec,
    location: &ModelLocation,
) -> Result<(), Failure> {
    refuse_local_options(
        Some(&common.hashing),
        &common.hashing.selection,
        &[
            (
                "--model-signing-single-file-name",
                common.model_signing_single_file_name,
            ),
            ("--reuse", common.incremental.reuse.is_some()),
            ("--stat-cache", common.incremental.stat_cache),
            ("--digests", common.incremental.digests.is_some()),
        ],
    )?;
    if common.attach && !matches!(location, ModelLocation::Registry(_)) {
        return Err(Failure::input(format!(
            "--attach stores the signature in a registry; {location} is not an oci:// image (write the signature with --signature)"
        )));
    }
    let signature_path = match (&common.signature, common.attach) {
        (Some(path), _) => Some(path.clone()),
        (None, true) => None,
        (None, false) => Some("model.sig".into()),
    };
    if let Some(path) = &signature_path {
        modelsign::bundle::check_target(path).map_err(failure)?;
    }
    let registry = registry(&common.registry)?;
    let image = resolve(location, &registry)?;
    let signer = methods::build_signer(spec, &common.output)?.signer;
    let (manifest, bundle) =
        oci::sign_image(&image, &registry, signer.as_ref()).map_err(failure)?;
    let bundle_json = bundle.to_json();
    if let Some(path) = &signature_path {
        bundle.write_atomic(path).map_err(failure)?;
    }
    let attached = if common.attach {
        let mode = attach_mode(common.attach_mode);
        Some(
            oci::attach(&registry, &image, &bundle_json, Attachment::Signature, mode)
                .map_err(failure)?,
        )
    } else {
        None
    };
    let digest = manifest.root_digest_string();
    if common.output.json {
        output::json(
            &json!({
                "ok": true,
                "method": spec.method(),
                "model": location.to_string(),
                "image_manifest_digest": image.manifest.digest,
                "index_digest": image.index_digest,
                "signature": signature_path,
                "attached": attached.as_ref().map(attached_json),
                "root_digest": digest,
                "resources": manifest.resources().len(),
                "hash_type": manifest.serialization().hash_type.as_str(),
                "serialization": manifest.serialization().serialization.method(),
                "warnings": [],
            }),
            0,
        );
    } else if !common.output.quiet {
        let mut places = Vec::new();
        if let Some(path) = &signature_path {
            places.push(path.display().to_string());
        }
        if let Some(a) = &attached {
            places.push(format!(
                "{} ({})",
                a.reference,
                match a.mode {
                    AttachMode::Referrers => "referrer",
                    AttachMode::Tag if common.attach_mode == AttachModeArg::Tag => "tag",
                    AttachMode::Tag => "tag: the registry keeps no referrers",
                }
            ));
        }
        outln!(
            "Signing succeeded: {location} (image manifest {}, {}, {digest}) -> {}",
            image.manifest.digest,
            count(manifest.resources().len(), "resource"),
            places.join(" and ")
        );
    }
    Ok(())
}

pub fn verify(
    common: &VerifyCommon,
    spec: &VerifierSpec,
    location: &ModelLocation,
) -> Result<(), Failure> {
    refuse_local_options(
        None,
        &common.selection,
        &[("--ignore-unsigned-files", common.ignore_unsigned_files)],
    )?;
    let built = spec.build().map_err(spec_failure)?;
    let registry = registry(&common.registry)?;
    let image = resolve(location, &registry)?;
    let (report, bundle, source) = match &common.signature {
        Some(path) => {
            let bundle = methods::read_bundle(path)?;
            let report = oci::verify_image(&image, &registry, &bundle, built.verifier.as_ref())
                .map_err(verify_failure)?;
            (report, bundle, path.display().to_string())
        }
        None => {
            let verifier = built.verifier.as_ref();
            let (report, used) =
                oci::verify_beside(&registry, &image, Attachment::Signature, |bundle| {
                    oci::verify_image(&image, &registry, bundle, verifier)
                })
                .map_err(verify_failure)?;
            let bundle = Bundle::from_json(&used.bundle_json).map_err(failure)?;
            let source = format!(
                "the registry ({} {})",
                match used.mode {
                    AttachMode::Referrers => "referrer",
                    AttachMode::Tag => "tag",
                },
                used.manifest_digest
            );
            (report, bundle, source)
        }
    };
    let local_files = match &common.local_model {
        Some(dir) => Some(
            oci::verify_local_copy(&image, &bundle, dir, &progress::for_output(&common.output))
                .map_err(verify_failure)?,
        ),
        None => None,
    };
    if common.output.json {
        output::json(
            &json!({
                "ok": true,
                "verified": true,
                "model": location.to_string(),
                "image_manifest_digest": image.manifest.digest,
                "signature": source,
                "signed_model_name": report.signed_model_name,
                "root_digest": report.root_digest,
                "resources": report.resources,
                "signed_files": report.signed_files,
                "partial": false,
                "checked_files": null,
                "resources_checked": report.resources_checked,
                "local_model": common.local_model,
                "local_files": local_files,
                "hash_type": report.serialization.hash_type.as_str(),
                "serialization": report.serialization.serialization.method(),
                "notes": report.notes,
                "signer": signer_json(&report),
            }),
            0,
        );
    } else if !common.output.quiet {
        for note in &report.notes {
            warnln!("{note}");
        }
        outln!(
            "Verification succeeded: {location} (image manifest {}, {}), signature from {source}",
            image.manifest.digest,
            crate::resources_and_digest(&report)
        );
        if let (Some(dir), Some(files)) = (&common.local_model, local_files) {
            outln!(
                "Local copy {} matches: {}",
                dir.display(),
                count(files, "file")
            );
        }
        crate::print_signer(&report);
    }
    Ok(())
}

pub fn digest(args: &DigestArgs, location: &ModelLocation) -> Result<(), Failure> {
    refuse_local_options(Some(&args.hashing), &args.hashing.selection, &[])?;
    let registry = registry(&args.registry)?;
    let image = resolve(location, &registry)?;
    let manifest = image.oms_manifest(&registry).map_err(failure)?;
    let digest = manifest.root_digest_string();
    if args.output.json {
        output::json(
            &json!({
                "ok": true,
                "digest": digest,
                "resources": manifest.resources().len(),
                "image_manifest_digest": image.manifest.digest,
                "index_digest": image.index_digest,
            }),
            0,
        );
    } else {
        outln!("{digest}");
    }
    Ok(())
}
