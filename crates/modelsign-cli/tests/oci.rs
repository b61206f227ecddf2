//! Models in OCI registries, against real registries on loopback that scripts/test.sh
//! starts (tests/oci/build.sh builds them from the Go module proxy): olareg, which has the
//! OCI 1.1 referrers API (`MODELSIGN_TEST_OCI_REGISTRY`), and go-containerregistry's
//! registry, which has none (`MODELSIGN_TEST_OCI_REGISTRY_NO_REFERRERS`). Artifacts are
//! pushed by oras (`MODELSIGN_OCI_TOOLS`) as users push them: a ModelPack artifact, a
//! KitOps-style ModelKit of tarball layers, a ModelCar image with OLOT annotations.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use test_support::oci::{key_pair, rh, sha256, stderr, stdout};
use test_support::{explain, text, SigstoreStack};

const BIN: &str = env!("CARGO_BIN_EXE_modelsign");
const SIGNATURE_ARTIFACT_TYPE: &str = "application/vnd.model-signing.signature.v0.1";
const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
const MODELPACK: &str = "application/vnd.cncf.model.manifest.v1+json";
const WEIGHT_RAW: &str = "application/vnd.cncf.model.weight.v1.raw";

/// The registries and tools: the shared ones, and the registry without the referrers API.
struct Peers {
    oci: test_support::oci::Peers,
    no_referrers: String,
}

impl std::ops::Deref for Peers {
    type Target = test_support::oci::Peers;
    fn deref(&self) -> &Self::Target {
        &self.oci
    }
}

/// The registries and tools, or `None` outside CI when they are not set up.
fn peers() -> Option<Peers> {
    let (oci, no_referrers) = test_support::oci::Peers::find_with_no_referrers(
        "scripts/test.sh builds the registries (tests/oci/build.sh) and starts them",
    )?;
    Some(Peers { oci, no_referrers })
}

fn modelsign(args: &[&str]) -> Output {
    test_support::oci::run_modelsign(BIN, args)
}

/// `modelsign COMMAND… REFERENCE ARGS… --insecure-registry REGISTRY`.
fn at_registry(command: &[&str], reference: &str, args: &[&str], registry: &str) -> Output {
    let mut all = command.to_vec();
    all.push(reference);
    all.extend(args);
    all.extend(["--insecure-registry", registry]);
    modelsign(&all)
}

/// `modelsign sign key REFERENCE --private-key KEY EXTRA… --insecure-registry REGISTRY`.
fn sign_key(reference: &str, key: &Path, extra: &[&str], registry: &str) -> Output {
    let args = [&["--private-key", text(key)][..], extra].concat();
    at_registry(&["sign", "key"], reference, &args, registry)
}

/// `modelsign verify key REFERENCE --public-key PUBLIC EXTRA… --insecure-registry REGISTRY`.
fn verify_key(reference: &str, public: &Path, extra: &[&str], registry: &str) -> Output {
    let args = [&["--public-key", text(public)][..], extra].concat();
    at_registry(&["verify", "key"], reference, &args, registry)
}

/// A two-file model in `dir/model`: weights and a tokenizer.
fn model(dir: &Path) -> PathBuf {
    let model = dir.join("model");
    std::fs::create_dir_all(&model).unwrap();
    let weights: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(model.join("model.safetensors"), weights).unwrap();
    std::fs::write(model.join("tokenizer.json"), br#"{"vocab": {"a": 0}}"#).unwrap();
    model
}

fn push_modelpack(peers: &Peers, model: &Path, image: &str) -> String {
    peers.push(
        model,
        image,
        MODELPACK,
        &[
            &format!("model.safetensors:{WEIGHT_RAW}"),
            "tokenizer.json:application/vnd.cncf.model.weight.config.v1.raw",
        ],
        &[],
    )
}

#[test]
fn a_modelpack_artifact_signed_with_a_key_verifies_from_its_registry_signature_and_as_a_local_copy()
{
    let Some(peers) = peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let (key, public) = key_pair(dir.path());
    let image = format!("{}/acme/modelpack:v1", peers.registry);
    let digest = push_modelpack(&peers, &model, &image);
    let reference = format!("oci://{image}");
    let registry = peers.registry.as_str();

    let signed = sign_key(&reference, &key, &["--attach", "--json"], registry);
    assert!(signed.status.success(), "{}", explain(&signed));
    let report: serde_json::Value = serde_json::from_slice(&signed.stdout).unwrap();
    assert_eq!(report["image_manifest_digest"], digest.as_str());
    assert_eq!(report["attached"]["mode"], "referrers");
    assert_eq!(
        report["resources"], 3,
        "config.json and two layers: {report}"
    );
    assert!(
        report["signature"].is_null(),
        "no file unless --signature: {report}"
    );

    // The signature is stored as rh-model-signing stores it: a referrer of the image
    // manifest, of the model-signing artifact type, whose one layer is the bundle.
    let referrer = peers.manifest(&format!(
        "{}/acme/modelpack@{}",
        peers.registry,
        report["attached"]["digest"].as_str().unwrap()
    ));
    assert_eq!(referrer["artifactType"], SIGNATURE_ARTIFACT_TYPE);
    assert_eq!(referrer["subject"]["digest"], digest.as_str());
    assert_eq!(referrer["layers"][0]["mediaType"], BUNDLE_MEDIA_TYPE);
    let listed = peers.tool(
        "oras",
        &["discover", "--plain-http", "--format", "json", &image],
        dir.path(),
    );
    assert!(
        stdout(&listed).contains(report["attached"]["digest"].as_str().unwrap()),
        "{}",
        stdout(&listed)
    );

    // The root digest is that of the manifest's layers, the same from `digest`.
    let digest_out = at_registry(&["digest"], &reference, &[], registry);
    assert_eq!(
        stdout(&digest_out).trim(),
        report["root_digest"].as_str().unwrap(),
        "{}",
        explain(&digest_out)
    );

    let verified = verify_key(
        &reference,
        &public,
        &["--local-model", text(&model)],
        registry,
    );
    assert!(verified.status.success(), "{}", explain(&verified));
    assert!(
        stdout(&verified).contains("signature from the registry (referrer"),
        "{}",
        stdout(&verified)
    );
    assert!(
        stdout(&verified).contains("Local copy") && stdout(&verified).contains("2 files"),
        "{}",
        stdout(&verified)
    );

    // A changed file of the local copy is named.
    std::fs::write(model.join("tokenizer.json"), b"{}").unwrap();
    let tampered = verify_key(
        &reference,
        &public,
        &["--local-model", text(&model)],
        registry,
    );
    assert_eq!(tampered.status.code(), Some(1), "{}", explain(&tampered));
    assert!(
        stderr(&tampered).contains("tokenizer.json"),
        "{}",
        stderr(&tampered)
    );
}

#[test]
fn a_changed_layer_a_retagged_manifest_and_a_signature_of_another_manifest_are_each_refused() {
    let Some(peers) = peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let (key, public) = key_pair(dir.path());
    let image = format!("{}/acme/tamper:v1", peers.registry);
    let original = push_modelpack(&peers, &model, &image);
    let registry = peers.registry.as_str();
    let signature = dir.path().join("v1.sig");
    let pinned = format!("oci://{}/acme/tamper@{original}", peers.registry);
    let signed = sign_key(
        &pinned,
        &key,
        &["--attach", "--signature", text(&signature)],
        registry,
    );
    assert!(signed.status.success(), "{}", explain(&signed));

    // The tag now names another manifest: one layer changed.
    std::fs::write(model.join("model.safetensors"), b"poisoned weights").unwrap();
    let retagged = push_modelpack(&peers, &model, &image);
    assert_ne!(retagged, original);
    let by_tag = format!("oci://{image}");
    let verify = |reference: &str, extra: &[&str]| verify_key(reference, &public, extra, registry);
    // No signature is stored for the manifest the tag names now.
    let unsigned = verify(&by_tag, &[]);
    assert_eq!(unsigned.status.code(), Some(1), "{}", explain(&unsigned));
    assert!(
        stderr(&unsigned).contains(&format!(
            "no model signature found for {}/acme/tamper@{retagged}",
            peers.registry
        )),
        "{}",
        stderr(&unsigned)
    );
    // The old signature, given as a file, names the changed layer and both digests.
    let changed = verify(&by_tag, &["--signature", text(&signature), "--json"]);
    assert_eq!(changed.status.code(), Some(1), "{}", explain(&changed));
    let failure: serde_json::Value = serde_json::from_slice(&changed.stdout).unwrap();
    assert_eq!(
        failure["changed"],
        serde_json::json!(["model.safetensors"]),
        "{failure}"
    );
    let poisoned = sha256(b"poisoned weights");
    assert_eq!(
        failure["changed_digests"][0]["actual"],
        &poisoned[7..],
        "{failure}"
    );
    // The pinned original still verifies from the registry.
    let still = verify(&pinned, &[]);
    assert!(still.status.success(), "{}", explain(&still));

    // The old signature attached (by oras) as a referrer of the new manifest: found, and
    // refused for the layer it does not match.
    std::fs::copy(&signature, dir.path().join("bundle.json")).unwrap();
    peers.tool(
        "oras",
        &[
            "attach",
            "--plain-http",
            "--artifact-type",
            SIGNATURE_ARTIFACT_TYPE,
            &format!("{}/acme/tamper@{retagged}", peers.registry),
            &format!("bundle.json:{BUNDLE_MEDIA_TYPE}"),
        ],
        dir.path(),
    );
    let foreign = verify(&by_tag, &[]);
    assert_eq!(foreign.status.code(), Some(1), "{}", explain(&foreign));
    assert!(
        stderr(&foreign).contains("model does not match its signature")
            && stderr(&foreign).contains("model.safetensors"),
        "{}",
        stderr(&foreign)
    );
}

#[test]
fn a_registry_without_the_referrers_api_keeps_the_signature_under_the_sig_tag() {
    let Some(peers) = peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let (key, public) = key_pair(dir.path());
    let image = format!("{}/acme/tagged:v1", peers.no_referrers);
    let digest = push_modelpack(&peers, &model, &image);
    let reference = format!("oci://{image}");
    let registry = peers.no_referrers.as_str();
    let signed = sign_key(&reference, &key, &["--attach", "--json"], registry);
    assert!(signed.status.success(), "{}", explain(&signed));
    let report: serde_json::Value = serde_json::from_slice(&signed.stdout).unwrap();
    assert_eq!(report["attached"]["mode"], "tag", "{report}");
    let tag = format!("{}.sig", digest.replace(':', "-"));
    let tags = peers.tool(
        "crane",
        &[
            "ls",
            "--insecure",
            &format!("{}/acme/tagged", peers.no_referrers),
        ],
        dir.path(),
    );
    assert!(stdout(&tags).lines().any(|t| t == tag), "{}", stdout(&tags));
    let stored = peers.manifest(&format!("{}/acme/tagged:{tag}", peers.no_referrers));
    assert_eq!(stored["layers"][0]["mediaType"], BUNDLE_MEDIA_TYPE);
    assert_eq!(
        stored["annotations"]["dev.sigstore.model-signing.artifact-type"],
        SIGNATURE_ARTIFACT_TYPE
    );

    let verified = verify_key(&reference, &public, &[], registry);
    assert!(verified.status.success(), "{}", explain(&verified));
    assert!(
        stdout(&verified).contains("signature from the registry (tag"),
        "{}",
        stdout(&verified)
    );
}

/// Pushes `model` to `image` as KitOps pushes a ModelKit: the Kitfile as the config blob
/// and `model.safetensors` in a gzipped tarball layer (made in `work/kit`); the manifest
/// digest.
fn push_modelkit(peers: &Peers, model: &Path, work: &Path, image: &str) -> String {
    let kit = work.join("kit");
    std::fs::create_dir_all(&kit).unwrap();
    std::fs::write(
        kit.join("Kitfile"),
        "manifestVersion: 1.0.0\npackage:\n  name: chat\nmodel:\n  path: model.safetensors\n",
    )
    .unwrap();
    let tar = Command::new("tar")
        .args(["-czf"])
        .arg(kit.join("model.tar.gz"))
        .arg("-C")
        .arg(model)
        .arg("model.safetensors")
        .output()
        .unwrap();
    assert!(tar.status.success());
    peers.push(
        &kit,
        image,
        "application/vnd.kitops.modelkit.manifest.v1+json",
        &["model.tar.gz:application/vnd.kitops.modelkit.model.v1.tar+gzip"],
        &[
            "--config",
            "Kitfile:application/vnd.kitops.modelkit.config.v1+json",
        ],
    )
}

#[test]
fn a_kitops_modelkit_of_tarball_layers_verifies_in_the_registry_but_not_as_loose_files() {
    let Some(peers) = peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let (key, public) = key_pair(dir.path());
    let image = format!("{}/acme/modelkit:v1", peers.registry);
    push_modelkit(&peers, &model, dir.path(), &image);
    let reference = format!("oci://{image}");
    let registry = peers.registry.as_str();
    let signed = sign_key(&reference, &key, &["--attach"], registry);
    assert!(signed.status.success(), "{}", explain(&signed));
    let verified = verify_key(&reference, &public, &[], registry);
    assert!(verified.status.success(), "{}", explain(&verified));
    assert!(
        stdout(&verified).contains("2 resources"),
        "Kitfile as config.json and the tarball: {}",
        stdout(&verified)
    );
    let local = verify_key(
        &reference,
        &public,
        &["--local-model", text(&model)],
        registry,
    );
    assert_eq!(local.status.code(), Some(2), "{}", explain(&local));
    assert!(
        stderr(&local).contains("tarballs or unnamed"),
        "{}",
        stderr(&local)
    );
}

/// Pushes `model` to `image` as a ModelCar image, annotated as OLOT annotates its layers:
/// the files named in `in_directory` together in one `directory` layer (a gzipped tarball
/// of `models/…`), every other file in a `file` layer of its own (a tarball holding
/// `models/<file>`), made in `work/car`; the manifest digest.
fn push_modelcar(
    peers: &Peers,
    model: &Path,
    work: &Path,
    image: &str,
    in_directory: &[&str],
) -> String {
    let car = work.join("car");
    let _ = std::fs::remove_dir_all(&car);
    std::fs::create_dir_all(&car).unwrap();
    let tar = |args: &[&str]| {
        let out = Command::new("tar")
            .args(args)
            .current_dir(&car)
            .output()
            .unwrap();
        assert!(out.status.success(), "tar {args:?}: {}", explain(&out));
    };
    let mut annotations = serde_json::Map::new();
    let mut files = Vec::new();
    if !in_directory.is_empty() {
        let staged = car.join("directory").join("models");
        std::fs::create_dir_all(&staged).unwrap();
        for name in in_directory {
            std::fs::copy(model.join(name), staged.join(name)).unwrap();
        }
        tar(&["-czf", "models.tar.gz", "-C", "directory", "models"]);
        annotations.insert(
            "models.tar.gz".to_owned(),
            serde_json::json!({
                "olot.layer.content.type": "directory",
                "olot.layer.content.inlayerpath": "/models",
                "olot.layer.content.name": "models",
            }),
        );
        files.push("models.tar.gz:application/vnd.oci.image.layer.v1.tar+gzip".to_owned());
    }
    for name in ["model.safetensors", "tokenizer.json"] {
        if in_directory.contains(&name) {
            continue;
        }
        let staged = car.join("stage").join("models");
        std::fs::create_dir_all(&staged).unwrap();
        std::fs::copy(model.join(name), staged.join(name)).unwrap();
        let layer = format!("{name}.tar");
        tar(&["-cf", &layer, "-C", "stage", &format!("models/{name}")]);
        let digest = sha256(&std::fs::read(model.join(name)).unwrap());
        annotations.insert(
            layer.clone(),
            serde_json::json!({
                "olot.layer.content.type": "file",
                "olot.layer.content.digest": digest,
                "olot.layer.content.inlayerpath": format!("/models/{name}"),
                "olot.layer.content.name": name,
            }),
        );
        files.push(format!("{layer}:application/vnd.oci.image.layer.v1.tar"));
    }
    std::fs::write(
        car.join("annotations.json"),
        serde_json::to_vec(&annotations).unwrap(),
    )
    .unwrap();
    let file_args: Vec<&str> = files.iter().map(String::as_str).collect();
    peers.push(
        &car,
        image,
        "application/vnd.oci.image.config.v1+json",
        &file_args,
        &["--annotation-file", "annotations.json"],
    )
}

#[test]
fn a_modelcar_image_is_signed_with_its_files_own_digests_so_an_unpacked_copy_verifies() {
    let Some(peers) = peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let (key, public) = key_pair(dir.path());
    let image = format!("{}/acme/modelcar:v1", peers.registry);
    // One `file` layer per file, no directory layer.
    push_modelcar(&peers, &model, dir.path(), &image, &[]);
    let reference = format!("oci://{image}");
    let registry = peers.registry.as_str();
    let signed = sign_key(&reference, &key, &["--attach"], registry);
    assert!(signed.status.success(), "{}", explain(&signed));
    // The root digest is the local model's: the same files, the same digests.
    let local_digest = modelsign(&["digest", text(&model)]);
    let image_digest = at_registry(&["digest"], &reference, &[], registry);
    assert_eq!(
        stdout(&image_digest),
        stdout(&local_digest),
        "{}",
        explain(&image_digest)
    );
    let verified = verify_key(
        &reference,
        &public,
        &["--local-model", text(&model)],
        registry,
    );
    assert!(verified.status.success(), "{}", explain(&verified));
    assert!(
        stdout(&verified).contains("2 files"),
        "{}",
        stdout(&verified)
    );
}

#[test]
fn sigstore_signing_on_the_loopback_stack_attaches_and_verifies() {
    let Some(peers) = peers() else { return };
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let image = format!("{}/acme/keyless:v1", peers.registry);
    push_modelpack(&peers, &model, &image);
    let reference = format!("oci://{image}");
    let token = stack.identity_token_file();
    let trust = stack.trust_config();
    let signed = at_registry(
        &["sign", "sigstore"],
        &reference,
        &[
            "--attach",
            "--trust-config",
            text(&trust),
            "--identity-token-file",
            text(&token),
        ],
        &peers.registry,
    );
    assert!(signed.status.success(), "{}", explain(&signed));
    let verified = at_registry(
        &["verify", "sigstore"],
        &reference,
        &[
            "--trust-config",
            text(&trust),
            "--identity",
            &stack.identity,
            "--identity-provider",
            &stack.url,
        ],
        &peers.registry,
    );
    assert!(verified.status.success(), "{}", explain(&verified));
    assert!(
        stdout(&verified).contains(&format!("Signed by {}", stack.identity)),
        "{}",
        stdout(&verified)
    );
    let stranger = at_registry(
        &["verify", "sigstore"],
        &reference,
        &[
            "--trust-config",
            text(&trust),
            "--identity",
            "someone@else.example",
            "--identity-provider",
            &stack.url,
        ],
        &peers.registry,
    );
    assert_eq!(stranger.status.code(), Some(1), "{}", explain(&stranger));
}

#[test]
fn an_image_layout_folder_has_the_registry_images_digest_and_its_signature_verifies_the_registry_copy(
) {
    let Some(peers) = peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let (key, public) = key_pair(dir.path());
    let image = format!("{}/acme/layout:v1", peers.registry);
    push_modelpack(&peers, &model, &image);
    let layout = dir.path().join("layout");
    peers.tool(
        "oras",
        &[
            "copy",
            "--from-plain-http",
            "--to-oci-layout",
            &image,
            &format!("{}:v1", layout.display()),
        ],
        dir.path(),
    );
    let from_layout = format!("oci-layout:{}:v1", layout.display());
    let signature = dir.path().join("layout.sig");
    let signed = modelsign(&[
        "sign",
        "key",
        &from_layout,
        "--private-key",
        text(&key),
        "--signature",
        text(&signature),
    ]);
    assert!(signed.status.success(), "{}", explain(&signed));
    let verified = verify_key(
        &format!("oci://{image}"),
        &public,
        &["--signature", text(&signature)],
        &peers.registry,
    );
    assert!(verified.status.success(), "{}", explain(&verified));
    let attach = modelsign(&[
        "sign",
        "key",
        &from_layout,
        "--private-key",
        text(&key),
        "--attach",
    ]);
    assert_eq!(attach.status.code(), Some(2), "{}", explain(&attach));
}

#[test]
fn registry_failures_say_what_is_wrong() {
    let Some(peers) = peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (_, public) = key_pair(dir.path());
    let verify = |reference: &str, extra: &[&str]| {
        let mut args = vec!["verify", "key", reference, "--public-key", text(&public)];
        args.extend(extra);
        modelsign(&args)
    };
    let missing = verify(
        &format!("oci://{}/acme/nothing:v9", peers.registry),
        &["--insecure-registry", &peers.registry],
    );
    assert_eq!(missing.status.code(), Some(2), "{}", explain(&missing));
    assert!(
        stderr(&missing).contains("not found"),
        "{}",
        stderr(&missing)
    );
    let remote = verify(
        "oci://registry.example.com/acme/x:v1",
        &["--insecure-registry", "registry.example.com"],
    );
    assert_eq!(remote.status.code(), Some(2), "{}", explain(&remote));
    assert!(
        stderr(&remote).contains("loopback registries"),
        "{}",
        stderr(&remote)
    );
    let untagged = verify(&format!("oci://{}/acme/x", peers.registry), &[]);
    assert_eq!(untagged.status.code(), Some(2), "{}", explain(&untagged));
    assert!(
        stderr(&untagged).contains("give a tag"),
        "{}",
        stderr(&untagged)
    );
    let local_only = verify(
        &format!("oci://{}/acme/nothing:v9", peers.registry),
        &["--ignore-paths", "a.bin"],
    );
    assert_eq!(
        local_only.status.code(),
        Some(2),
        "{}",
        explain(&local_only)
    );
    assert!(
        stderr(&local_only).contains("--ignore-paths shape how a local model is hashed"),
        "{}",
        stderr(&local_only)
    );
    let sharded = modelsign(&[
        "digest",
        "oci://127.0.0.1:1/acme/x:v1",
        "--serialization",
        "shards",
    ]);
    assert_eq!(sharded.status.code(), Some(2), "{}", explain(&sharded));
    assert!(
        stderr(&sharded).contains("--serialization shape"),
        "{}",
        stderr(&sharded)
    );
    let https = verify(&format!("oci://{}/acme/nothing:v9", peers.registry), &[]);
    assert_ne!(https.status.code(), Some(0), "{}", explain(&https));
    assert!(
        stderr(&https).contains("--insecure-registry"),
        "{}",
        stderr(&https)
    );
}

#[test]
fn rh_model_signing_verifies_modelsigns_registry_signatures_and_modelsign_verifies_its() {
    let Some(peers) = peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let (key, public) = key_pair(dir.path());
    for (registry, rh_mode) in [(&peers.registry, "referrers"), (&peers.no_referrers, "tag")] {
        // modelsign signs and attaches (a referrer, or the tag where there is no referrers
        // API); rh finds and verifies it, and checks the pulled copy.
        let ours = format!("{registry}/interop/ours:v1");
        push_modelpack(&peers, &model, &ours);
        let reference = format!("oci://{ours}");
        let signed = sign_key(&reference, &key, &["--attach"], registry);
        assert!(signed.status.success(), "{}", explain(&signed));
        let Some(verified) = rh("verify-registry", &ours, &["--public-key", text(&public)]) else {
            return;
        };
        assert!(
            verified.status.success(),
            "rh on {registry}: {}",
            explain(&verified)
        );
        let local = rh(
            "verify-local",
            &ours,
            &["--public-key", text(&public), "--local-model", text(&model)],
        )
        .unwrap();
        // rh wants the config blob as config.json in the copy; modelsign accepts it too.
        assert!(
            !local.status.success(),
            "rh accepted a copy without config.json: {}",
            explain(&local)
        );
        std::fs::write(model.join("config.json"), b"{}").unwrap();
        let local = rh(
            "verify-local",
            &ours,
            &["--public-key", text(&public), "--local-model", text(&model)],
        )
        .unwrap();
        assert!(
            local.status.success(),
            "rh local copy on {registry}: {}",
            explain(&local)
        );
        let ours_local = verify_key(
            &reference,
            &public,
            &["--local-model", text(&model)],
            registry,
        );
        assert!(ours_local.status.success(), "{}", explain(&ours_local));
        std::fs::remove_file(model.join("config.json")).unwrap();

        // rh signs and attaches; modelsign finds and verifies it, and the local copy.
        let theirs = format!("{registry}/interop/theirs:v1");
        push_modelpack(&peers, &model, &theirs);
        let rh_signed = rh(
            "sign-attach",
            &theirs,
            &["--private-key", text(&key), "--mode", rh_mode],
        )
        .unwrap();
        assert!(
            rh_signed.status.success(),
            "rh sign on {registry}: {}",
            explain(&rh_signed)
        );
        let reference = format!("oci://{theirs}");
        let verified = verify_key(
            &reference,
            &public,
            &["--local-model", text(&model), "--json"],
            registry,
        );
        assert!(verified.status.success(), "{}", explain(&verified));
        let report: serde_json::Value = serde_json::from_slice(&verified.stdout).unwrap();
        assert_eq!(
            report["signed_model_name"],
            theirs.as_str(),
            "rh names the model by its reference: {report}"
        );
        // A signature file rh wrote verifies the same image with modelsign too.
        let file = dir.path().join(format!("rh-{rh_mode}.sig"));
        let to_file = rh(
            "sign-to-file",
            &theirs,
            &["--private-key", text(&key), "--signature", text(&file)],
        )
        .unwrap();
        assert!(to_file.status.success(), "{}", explain(&to_file));
        let from_file = verify_key(&reference, &public, &["--signature", text(&file)], registry);
        assert!(from_file.status.success(), "{}", explain(&from_file));
    }
}

#[test]
fn a_model_card_attaches_beside_the_image_and_verifies_against_its_manifest() {
    let Some(peers) = peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let (key, public) = key_pair(dir.path());
    let card = dir.path().join("card.yaml");
    std::fs::write(
        &card,
        "name: chat\nlicense: apache-2.0\nmetrics:\n- metric: accuracy\n  value: 0.91\n  dataset: acme/evals\n",
    )
    .unwrap();
    for registry in [&peers.registry, &peers.no_referrers] {
        let image = format!("{registry}/acme/carded:v1");
        let digest = push_modelpack(&peers, &model, &image);
        let reference = format!("oci://{image}");
        let signed = at_registry(
            &["card", "sign", "key"],
            &reference,
            &[
                "--card",
                text(&card),
                "--private-key",
                text(&key),
                "--attach",
                "--json",
            ],
            registry,
        );
        assert!(signed.status.success(), "{}", explain(&signed));
        let report: serde_json::Value = serde_json::from_slice(&signed.stdout).unwrap();
        // The card is bound to the same root digest a model signature of the image names.
        let root = modelsign(&["digest", &reference, "--insecure-registry", registry]);
        assert_eq!(
            report["root_digest"].as_str(),
            Some(stdout(&root).trim()),
            "{report}"
        );
        let attached = &report["attached"];
        if *registry == peers.registry {
            assert_eq!(attached["mode"], "referrers", "{report}");
            let referrer = peers.manifest(&format!(
                "{registry}/acme/carded@{}",
                attached["digest"].as_str().unwrap()
            ));
            assert_eq!(
                referrer["artifactType"],
                "application/vnd.modelsign.model-card.v1"
            );
            assert_eq!(referrer["subject"]["digest"], digest.as_str());
        } else {
            assert_eq!(attached["mode"], "tag", "{report}");
            assert!(
                attached["reference"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("{}.card", digest.replace(':', "-"))),
                "{report}"
            );
        }
        let verified = at_registry(
            &["card", "verify", "key"],
            &reference,
            &["--public-key", text(&public), "--require", "accuracy>=0.9"],
            registry,
        );
        assert!(verified.status.success(), "{}", explain(&verified));
        assert!(
            stdout(&verified).contains("Card verification succeeded"),
            "{}",
            stdout(&verified)
        );
        // The card is not a model signature: `verify` does not take it for one.
        let not_a_signature = verify_key(&reference, &public, &[], registry);
        assert_eq!(
            not_a_signature.status.code(),
            Some(1),
            "{}",
            explain(&not_a_signature)
        );
        assert!(
            stderr(&not_a_signature).contains("no model signature found"),
            "{}",
            stderr(&not_a_signature)
        );
        // Another manifest under the tag: the card does not carry over.
        std::fs::write(
            model.join("tokenizer.json"),
            format!("{{\"v\": \"{registry}\"}}"),
        )
        .unwrap();
        push_modelpack(&peers, &model, &image);
        let moved = at_registry(
            &["card", "verify", "key"],
            &reference,
            &["--public-key", text(&public)],
            registry,
        );
        assert_eq!(moved.status.code(), Some(1), "{}", explain(&moved));
        assert!(
            stderr(&moved).contains("no model card signature found"),
            "{}",
            stderr(&moved)
        );
    }
}

#[test]
fn an_index_of_one_image_resolves_to_it_and_an_index_of_several_must_be_narrowed_by_digest() {
    let Some(peers) = peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let (key, public) = key_pair(dir.path());
    let repo = format!("{}/acme/indexed", peers.registry);
    let first = peers.push(
        &model,
        &format!("{repo}:a"),
        MODELPACK,
        &[&format!("model.safetensors:{WEIGHT_RAW}")],
        &[],
    );
    peers.push(
        &model,
        &format!("{repo}:b"),
        MODELPACK,
        &[&format!("tokenizer.json:{WEIGHT_RAW}")],
        &[],
    );
    peers.tool(
        "crane",
        &[
            "index",
            "append",
            "--insecure",
            "-m",
            &format!("{repo}:a"),
            "-t",
            &format!("{repo}:one"),
        ],
        dir.path(),
    );
    peers.tool(
        "crane",
        &[
            "index",
            "append",
            "--insecure",
            "-m",
            &format!("{repo}:a"),
            "-m",
            &format!("{repo}:b"),
            "-t",
            &format!("{repo}:two"),
        ],
        dir.path(),
    );
    let registry = peers.registry.as_str();

    let one = format!("oci://{repo}:one");
    let signed = sign_key(&one, &key, &["--attach", "--json"], registry);
    assert!(signed.status.success(), "{}", explain(&signed));
    let report: serde_json::Value = serde_json::from_slice(&signed.stdout).unwrap();
    assert_eq!(
        report["image_manifest_digest"],
        first.as_str(),
        "the image, not the index, is signed: {report}"
    );
    assert_eq!(
        report["index_digest"],
        peers.digest(&format!("{repo}:one")).as_str(),
        "{report}"
    );
    // The signature is the image's: found through the index and through the image's tag.
    for reference in [one.clone(), format!("oci://{repo}:a")] {
        let verified = verify_key(&reference, &public, &[], registry);
        assert!(
            verified.status.success(),
            "{reference}: {}",
            explain(&verified)
        );
    }

    let two = format!("oci://{repo}:two");
    let ambiguous = at_registry(&["digest"], &two, &[], registry);
    assert_eq!(ambiguous.status.code(), Some(2), "{}", explain(&ambiguous));
    assert!(
        stderr(&ambiguous).contains("is an index of 2 images")
            && stderr(&ambiguous).contains(&first),
        "{}",
        stderr(&ambiguous)
    );
}

#[test]
fn a_certificate_signature_of_an_image_verifies_against_its_root() {
    let Some(peers) = peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let image = format!("{}/acme/certified:v1", peers.registry);
    push_modelpack(&peers, &model, &image);
    let reference = format!("oci://{image}");
    let keys = test_support::vector("oms-conformance/assets/keys/certificate");
    let signed = at_registry(
        &["sign", "certificate"],
        &reference,
        &[
            "--attach",
            "--private-key",
            text(&keys.join("signing-key.pem")),
            "--signing-certificate",
            text(&keys.join("signing-key-cert.pem")),
            "--certificate-chain",
            text(&keys.join("int-ca-cert.pem")),
        ],
        &peers.registry,
    );
    assert!(signed.status.success(), "{}", explain(&signed));
    let verified = at_registry(
        &["verify", "certificate"],
        &reference,
        &["--certificate-chain", text(&keys.join("ca-cert.pem"))],
        &peers.registry,
    );
    assert!(verified.status.success(), "{}", explain(&verified));
    // Another root does not verify it.
    test_support::certs::new_key(dir.path(), "other");
    let stranger = test_support::certs::make_cert(
        dir.path(),
        "other-root",
        &test_support::certs::CertSpec {
            subject: "other root",
            key: "other",
            issuer: None,
            serial: 7,
            key_ids: true,
        },
    );
    let refused = at_registry(
        &["verify", "certificate"],
        &reference,
        &["--certificate-chain", text(&stranger)],
        &peers.registry,
    );
    assert_eq!(refused.status.code(), Some(1), "{}", explain(&refused));
}

/// `provenance record` of a stage whose base model and output are images, with the
/// provenance attached beside the output: its arguments after the method.
fn record_image_stage<'a>(
    output: &'a str,
    base: &'a str,
    data: &'a str,
    key: &'a Path,
    registry: &'a str,
    extra: &[&'a str],
) -> Output {
    let mut args = vec![
        "provenance",
        "record",
        "key",
        "--stage",
        "finetune",
        "--output",
        output,
        "--input",
        base,
        "--input",
        data,
        "--param",
        "learning_rate=2e-5",
        "--private-key",
        text(key),
        "--insecure-registry",
        registry,
        "--json",
    ];
    args.extend(extra);
    modelsign(&args)
}

#[test]
fn a_finetune_from_a_base_image_to_an_image_attaches_its_provenance_and_verifies_from_the_registry()
{
    let Some(peers) = peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = key_pair(dir.path());
    std::fs::create_dir_all(dir.path().join("base")).unwrap();
    std::fs::create_dir_all(dir.path().join("tuned")).unwrap();
    let base_model = model(&dir.path().join("base"));
    let tuned_model = model(&dir.path().join("tuned"));
    std::fs::write(tuned_model.join("model.safetensors"), b"tuned weights").unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("train.jsonl"), b"{\"text\": \"hello\"}\n").unwrap();
    let data_input = format!("dataset={}", data.display());
    for registry in [&peers.registry, &peers.no_referrers] {
        let base_image = format!("{registry}/acme/base:v1");
        let tuned_image = format!("{registry}/acme/tuned:v1");
        let base_digest = push_modelpack(&peers, &base_model, &base_image);
        let tuned_digest = push_modelpack(&peers, &tuned_model, &tuned_image);
        let (base_ref, tuned_ref) = (
            format!("oci://{base_image}"),
            format!("oci://{tuned_image}"),
        );
        let root = |reference: &str| {
            let out = modelsign(&["digest", reference, "--insecure-registry", registry]);
            assert!(out.status.success(), "{}", explain(&out));
            stdout(&out).trim().to_owned()
        };
        let (base_root, tuned_root) = (root(&base_ref), root(&tuned_ref));
        let file = dir.path().join("tuned.provenance.sig");
        let recorded = record_image_stage(
            &tuned_ref,
            &format!("base-model={base_ref}"),
            &data_input,
            &key,
            registry,
            &["--attach", "--output-file", text(&file)],
        );
        assert!(recorded.status.success(), "{}", explain(&recorded));
        let report: serde_json::Value = serde_json::from_slice(&recorded.stdout).unwrap();
        // The output is the image's root digest, pinned to the manifest the stage made;
        // the base model is recorded the same way, as a model signature of it names it.
        assert_eq!(report["subjects"][0]["root_digest"], tuned_root.as_str());
        assert_eq!(
            report["subjects"][0]["uri"],
            format!("oci://{registry}/acme/tuned@{tuned_digest}").as_str()
        );
        let base_input = &report["inputs"][0];
        assert_eq!(base_input["role"], "base-model", "{report}");
        assert_eq!(
            base_input["digest"]["sha256"]
                .as_str()
                .map(|hex| format!("sha256:{hex}")),
            Some(base_root.clone()),
            "{report}"
        );
        assert_eq!(
            base_input["uri"],
            format!("oci://{registry}/acme/base@{base_digest}").as_str(),
            "{report}"
        );
        assert_eq!(report["provenance"], serde_json::json!([text(&file)]));
        let attached = &report["attached"][0];
        if *registry == peers.registry {
            assert_eq!(attached["mode"], "referrers", "{report}");
            let referrer = peers.manifest(&format!(
                "{registry}/acme/tuned@{}",
                attached["digest"].as_str().unwrap()
            ));
            assert_eq!(
                referrer["artifactType"],
                "application/vnd.modelsign.provenance.v1"
            );
            assert_eq!(referrer["subject"]["digest"], tuned_digest.as_str());
        } else {
            assert_eq!(attached["mode"], "tag", "{report}");
            assert!(
                attached["reference"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("{}.provenance", tuned_digest.replace(':', "-"))),
                "{report}"
            );
        }

        // Lineage joins the base image's own signature to the recorded input by root
        // digest: three artifacts (base, data, tuned), not four.
        let base_signature = dir.path().join("base.sig");
        let signed = sign_key(
            &base_ref,
            &key,
            &["--signature", text(&base_signature)],
            registry,
        );
        assert!(signed.status.success(), "{}", explain(&signed));
        let trust = dir.path().join("trust.toml");
        std::fs::write(
            &trust,
            format!("[[signer]]\nname = \"acme\"\nkey = \"{}\"\n", text(&public)),
        )
        .unwrap();
        let db = dir
            .path()
            .join(format!("lineage-{}.db", registry.replace(':', "-")));
        let ingested = modelsign(&[
            "lineage",
            "ingest",
            "--policy",
            text(&trust),
            text(&base_signature),
            text(&file),
            "--db",
            text(&db),
            "--json",
        ]);
        assert!(ingested.status.success(), "{}", explain(&ingested));
        let ingest: serde_json::Value = serde_json::from_slice(&ingested.stdout).unwrap();
        assert_eq!(ingest["artifacts"], 3, "{ingest}");
        assert_eq!(ingest["edges"], 2, "{ingest}");

        let verify = |model: &str, extra: &[&str]| {
            let mut args = vec![
                "provenance",
                "verify",
                "key",
                model,
                "--public-key",
                text(&public),
                "--insecure-registry",
                registry,
            ];
            args.extend(extra);
            modelsign(&args)
        };
        // From the registry, with the base image and the local dataset checked.
        let base_check = format!("base-model={base_ref}");
        let verified = verify(
            &tuned_ref,
            &["--input", &base_check, "--input", &data_input, "--json"],
        );
        assert!(verified.status.success(), "{}", explain(&verified));
        let verdict: serde_json::Value = serde_json::from_slice(&verified.stdout).unwrap();
        assert_eq!(verdict["stage"], "finetune", "{verdict}");
        assert_eq!(verdict["model"]["root_digest"], tuned_root.as_str());
        assert_eq!(verdict["inputs"][0]["status"], "checked", "{verdict}");
        assert_eq!(verdict["inputs"][0]["checked_against"], base_ref.as_str());
        assert_eq!(verdict["inputs"][1]["status"], "checked", "{verdict}");
        // The provenance is not the image's model signature nor its card.
        let not_a_signature = verify_key(&tuned_ref, &public, &[], registry);
        assert_eq!(
            not_a_signature.status.code(),
            Some(1),
            "{}",
            explain(&not_a_signature)
        );

        // Another image given as the base model: refused, naming both root digests.
        let wrong_check = format!("base-model={tuned_ref}");
        let wrong_base = verify(&tuned_ref, &["--input", &wrong_check]);
        assert_eq!(
            wrong_base.status.code(),
            Some(1),
            "{}",
            explain(&wrong_base)
        );
        assert!(
            stderr(&wrong_base).contains(&format!(
                "input changed: the base-model '{tuned_ref}' hashes to {tuned_root} (image manifest {tuned_digest}), but the provenance records {base_root}"
            )),
            "{}",
            stderr(&wrong_base)
        );

        // The tag re-pushed with other weights: no provenance is stored for the manifest
        // it names now, and the recorded one is about another model.
        std::fs::write(
            tuned_model.join("model.safetensors"),
            format!("poisoned {registry}"),
        )
        .unwrap();
        let moved_digest = push_modelpack(&peers, &tuned_model, &tuned_image);
        let moved_root = root(&tuned_ref);
        let unrecorded = verify(&tuned_ref, &[]);
        assert_eq!(
            unrecorded.status.code(),
            Some(1),
            "{}",
            explain(&unrecorded)
        );
        assert!(
            stderr(&unrecorded).contains(&format!(
                "no provenance found for {registry}/acme/tuned@{moved_digest}"
            )),
            "{}",
            stderr(&unrecorded)
        );
        let from_file = verify(&tuned_ref, &["--provenance", text(&file)]);
        assert_eq!(from_file.status.code(), Some(1), "{}", explain(&from_file));
        assert!(
            stderr(&from_file).contains(&format!(
                "the provenance is about another model: it records the output {tuned_root}, but this model's root digest is {moved_root}"
            )),
            "{}",
            stderr(&from_file)
        );
        // The original manifest, pinned, still verifies from the registry.
        let pinned = format!("oci://{registry}/acme/tuned@{tuned_digest}");
        let still = verify(&pinned, &[]);
        assert!(still.status.success(), "{}", explain(&still));
        std::fs::write(tuned_model.join("model.safetensors"), b"tuned weights").unwrap();
    }
}

#[test]
fn provenance_places_that_cannot_hold_an_images_provenance_are_refused_before_signing() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = key_pair(dir.path());
    let local = model(dir.path());
    let data = format!("dataset={}", local.display());
    let base = format!("base-model={}", local.display());
    let local_output = local.display().to_string();
    // No registry is reached: each refusal comes before any image is read.
    let image = "oci://127.0.0.1:9/acme/tuned:v1";
    for (output, extra, expected) in [
        (
            local_output.as_str(),
            &["--attach"][..],
            "is a local output",
        ),
        (image, &["--claims"][..], "no folder to keep a claims file"),
    ] {
        let refused = record_image_stage(output, &base, &data, &key, "127.0.0.1:9", extra);
        assert_eq!(refused.status.code(), Some(2), "{}", explain(&refused));
        let failure: serde_json::Value = serde_json::from_slice(&refused.stdout).unwrap();
        assert!(
            failure["error"]
                .as_str()
                .unwrap_or_default()
                .contains(expected),
            "{failure}"
        );
    }
    let claims = modelsign(&[
        "provenance",
        "verify",
        "key",
        image,
        "--claims",
        "--public-key",
        text(&dir.path().join("signer.pub")),
    ]);
    assert_eq!(claims.status.code(), Some(2), "{}", explain(&claims));
    assert!(
        stderr(&claims).contains("--claims reads a claims file kept beside a local model"),
        "{}",
        stderr(&claims)
    );
}

#[test]
fn each_kind_of_model_image_signed_with_each_method_attaches_and_verifies_only_by_that_method() {
    let Some(peers) = peers() else { return };
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let (key, public) = key_pair(dir.path());
    // model_signing's key hint: the SHA-256 of the public key's PEM, as openssl writes it.
    let hint = &sha256(&std::fs::read(&public).unwrap())[7..];
    let chain = test_support::vector("oms-conformance/assets/keys/certificate");
    let [chain_key, chain_leaf, chain_intermediate, chain_root] = [
        "signing-key.pem",
        "signing-key-cert.pem",
        "int-ca-cert.pem",
        "ca-cert.pem",
    ]
    .map(|name| chain.join(name));
    let (token, trust) = (stack.identity_token_file(), stack.trust_config());
    let registry = peers.registry.as_str();
    // Each method with what it signs with and what verifies it.
    let key_sign = ["--private-key", text(&key)];
    let key_verify = ["--public-key", text(&public)];
    let certificate_sign = [
        "--private-key",
        text(&chain_key),
        "--signing-certificate",
        text(&chain_leaf),
        "--certificate-chain",
        text(&chain_intermediate),
    ];
    let certificate_verify = ["--certificate-chain", text(&chain_root)];
    let sigstore_sign = [
        "--trust-config",
        text(&trust),
        "--identity-token-file",
        text(&token),
    ];
    let sigstore_verify = [
        "--trust-config",
        text(&trust),
        "--identity",
        &stack.identity,
        "--identity-provider",
        &stack.url,
    ];
    let methods: [(&str, &[&str], &[&str]); 3] = [
        ("key", &key_sign, &key_verify),
        ("certificate", &certificate_sign, &certificate_verify),
        ("sigstore", &sigstore_sign, &sigstore_verify),
    ];
    let verify = |method: &str, verify_args: &[&str], reference: &str| {
        let mut args = vec!["verify", method, reference, "--insecure-registry", registry];
        args.extend(verify_args);
        modelsign(&args)
    };
    let key_line = format!("Signed by the public key with hint {hint}");
    let identity_line = format!(
        "Signed by {} (identity provider {})",
        stack.identity, stack.url
    );

    // (kind, resources signed): ModelPack's config blob and two layers; the Kitfile and
    // the tarball; the ModelCar's two files, one from a directory layer, one from a file
    // layer (its config blob is not the model's).
    for (kind, resources) in [("modelpack", 3), ("modelkit", 2), ("modelcar", 2)] {
        for (position, &(method, sign_args, verify_args)) in methods.iter().enumerate() {
            let image = format!("{registry}/acme/matrix-{kind}-{method}:v1");
            let digest = match kind {
                "modelpack" => push_modelpack(&peers, &model, &image),
                "modelkit" => push_modelkit(&peers, &model, dir.path(), &image),
                _ => push_modelcar(&peers, &model, dir.path(), &image, &["tokenizer.json"]),
            };
            let reference = format!("oci://{image}");
            let mut args = vec![
                "sign",
                method,
                &reference,
                "--attach",
                "--insecure-registry",
                registry,
                "--json",
            ];
            args.extend(sign_args);
            let signed = modelsign(&args);
            assert!(
                signed.status.success(),
                "{kind} {method}: {}",
                explain(&signed)
            );
            let report: serde_json::Value = serde_json::from_slice(&signed.stdout).unwrap();
            assert_eq!(
                report["attached"]["mode"], "referrers",
                "{kind} {method}: {report}"
            );
            assert_eq!(report["image_manifest_digest"], digest.as_str(), "{report}");

            let verified = verify(method, verify_args, &reference);
            assert!(
                verified.status.success(),
                "{kind} {method}: {}",
                explain(&verified)
            );
            let said = stdout(&verified);
            assert!(
                said.contains(&format!("(image manifest {digest}, {resources} resources"))
                    && said.contains("signature from the registry (referrer"),
                "{kind} {method}: {said}"
            );
            let (says_key, says_identity) =
                (said.contains(&key_line), said.contains(&identity_line));
            match method {
                "key" => assert!(says_key && !says_identity, "{kind} {method}: {said}"),
                "sigstore" => assert!(says_identity && !says_key, "{kind} {method}: {said}"),
                // A certificate chain names neither a key hint nor an identity.
                _ => assert!(
                    !says_key && !says_identity && !said.contains("Signed by"),
                    "{kind} {method}: {said}"
                ),
            }

            // The next method round (key → certificate → sigstore → key) refuses it.
            let (wrong, _, wrong_args) = methods[(position + 1) % methods.len()];
            let refused = verify(wrong, wrong_args, &reference);
            assert_eq!(
                refused.status.code(),
                Some(1),
                "{kind} {method} verified as {wrong}: {}",
                explain(&refused)
            );
            assert!(
                stderr(&refused).contains(&format!("but {wrong} verification was requested")),
                "{kind} {method} verified as {wrong}: {}",
                stderr(&refused)
            );
        }
    }
}
