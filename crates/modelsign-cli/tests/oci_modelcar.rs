//! ModelCar images whose model is a `directory` layer (a tar.gz of `models/…`, as OLOT
//! builds it), against the loopback registries scripts/test.sh starts and the tools
//! tests/oci/build.sh builds (see tests/oci.rs): modelsign lists each file of the tarball
//! with its own digest, so an unpacked copy and the local folder have the image's digest,
//! and rh-model-signing 1.0.5 (tests/oci/rh_interop.py) verifies modelsign's signatures of
//! such an image and modelsign verifies rh's.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use test_support::oci::{key_pair, rh, sha256, stderr, stdout, Peers};
use test_support::{explain, text};

const BIN: &str = env!("CARGO_BIN_EXE_modelsign");

/// The registry and tools, or `None` outside CI when they are not set up.
fn peers() -> Option<Peers> {
    Peers::find("scripts/test.sh builds the registries (tests/oci/build.sh) and starts them")
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

/// `modelsign verify key REFERENCE --public-key PUBLIC EXTRA… --insecure-registry REGISTRY`.
fn verify_key(reference: &str, public: &Path, extra: &[&str], registry: &str) -> Output {
    let args = [&["--public-key", text(public)][..], extra].concat();
    at_registry(&["verify", "key"], reference, &args, registry)
}

/// A model in `dir/model` of nested folders, and `extra.bin`, which the image keeps in a
/// `file` layer of its own.
fn model(dir: &Path) -> PathBuf {
    let model = dir.join("model");
    std::fs::create_dir_all(model.join("sub/deep")).unwrap();
    std::fs::create_dir_all(model.join("tokenizer")).unwrap();
    let weights: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(model.join("sub/deep/weights.bin"), weights).unwrap();
    std::fs::write(model.join("config.json"), br#"{"layers": 2}"#).unwrap();
    std::fs::write(model.join("tokenizer/vocab.txt"), b"a\nb\n").unwrap();
    std::fs::write(model.join("extra.bin"), b"extra").unwrap();
    model
}

/// Pushes `model` as a ModelCar image to `image`: a base layer without annotations, the
/// model (all but `extra.bin`, plus a symbolic link, which nobody lists) as one
/// `directory` layer `models.tar.gz`, and `extra.bin` as a `file` layer, annotated as
/// OLOT annotates them.
fn push_modelcar(peers: &Peers, model: &Path, work: &Path, image: &str) {
    let stage = work.join("stage");
    let models = stage.join("models");
    let _ = std::fs::remove_dir_all(&stage);
    std::fs::create_dir_all(&models).unwrap();
    let copied = Command::new("cp")
        .arg("-r")
        .arg(model.join("sub"))
        .arg(model.join("tokenizer"))
        .arg(model.join("config.json"))
        .arg(&models)
        .output()
        .unwrap();
    assert!(copied.status.success(), "{}", explain(&copied));
    std::os::unix::fs::symlink("config.json", models.join("link.json")).unwrap();
    std::fs::create_dir_all(stage.join("extra/models")).unwrap();
    std::fs::copy(
        model.join("extra.bin"),
        stage.join("extra/models/extra.bin"),
    )
    .unwrap();
    std::fs::create_dir_all(stage.join("base/etc")).unwrap();
    std::fs::write(stage.join("base/etc/os-release"), b"ID=test\n").unwrap();
    let tar = |args: &[&str]| {
        let out = Command::new("tar")
            .args(args)
            .current_dir(work)
            .output()
            .unwrap();
        assert!(out.status.success(), "tar {args:?}: {}", explain(&out));
    };
    tar(&["-czf", "models.tar.gz", "-C", "stage", "models"]);
    tar(&["-cf", "extra.tar", "-C", "stage/extra", "models/extra.bin"]);
    tar(&["-cf", "base.tar", "-C", "stage/base", "etc"]);
    let annotations = serde_json::json!({
        "models.tar.gz": {
            "olot.layer.content.type": "directory",
            "olot.layer.content.inlayerpath": "/models",
            "olot.layer.content.name": "models",
        },
        "extra.tar": {
            "olot.layer.content.type": "file",
            "olot.layer.content.digest": sha256(&std::fs::read(model.join("extra.bin")).unwrap()),
            "olot.layer.content.inlayerpath": "/models/extra.bin",
            "olot.layer.content.name": "extra.bin",
        },
    });
    std::fs::write(
        work.join("annotations.json"),
        serde_json::to_vec(&annotations).unwrap(),
    )
    .unwrap();
    peers.tool(
        "oras",
        &[
            "push",
            image,
            "--plain-http",
            "--artifact-type",
            "application/vnd.oci.image.config.v1+json",
            "--annotation-file",
            "annotations.json",
            "base.tar:application/vnd.oci.image.layer.v1.tar",
            "models.tar.gz:application/vnd.oci.image.layer.v1.tar+gzip",
            "extra.tar:application/vnd.oci.image.layer.v1.tar",
        ],
        work,
    );
}

#[test]
fn a_modelcar_directory_layer_is_signed_file_by_file_so_the_folder_and_a_layout_copy_verify() {
    let Some(peers) = peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let (key, public) = key_pair(dir.path());
    let image = format!("{}/acme/modelcar-dir:v1", peers.registry);
    push_modelcar(&peers, &model, dir.path(), &image);
    let reference = format!("oci://{image}");
    let registry = peers.registry.as_str();
    let signature = dir.path().join("v1.sig");
    let signed = at_registry(
        &["sign", "key"],
        &reference,
        &[
            "--private-key",
            text(&key),
            "--attach",
            "--signature",
            text(&signature),
            "--json",
        ],
        registry,
    );
    assert!(signed.status.success(), "{}", explain(&signed));
    let report: serde_json::Value = serde_json::from_slice(&signed.stdout).unwrap();
    // Four files: three from the tarball (the symbolic link and folders left out), one
    // from the file layer; neither the base layer nor the config blob.
    assert_eq!(report["resources"], 4, "{report}");

    // The image's root digest is the folder's: the same files with the same digests.
    let local_digest = modelsign(&["digest", text(&model)]);
    assert!(local_digest.status.success(), "{}", explain(&local_digest));
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
        stdout(&verified).contains("4 files"),
        "{}",
        stdout(&verified)
    );

    // A local copy with a file changed inside the directory layer's part is refused.
    let changed = dir.path().join("changed");
    let copied = Command::new("cp")
        .arg("-r")
        .arg(&model)
        .arg(&changed)
        .output()
        .unwrap();
    assert!(copied.status.success(), "{}", explain(&copied));
    std::fs::write(changed.join("tokenizer/vocab.txt"), b"a\nc\n").unwrap();
    let refused = verify_key(
        &reference,
        &public,
        &["--local-model", text(&changed)],
        registry,
    );
    assert_eq!(refused.status.code(), Some(1), "{}", explain(&refused));
    assert!(
        stderr(&refused).contains("tokenizer/vocab.txt"),
        "{}",
        stderr(&refused)
    );

    // The same model with one file of the tarball changed is another image: the v1
    // signature does not verify it, and the difference names the file.
    let image_v2 = format!("{}/acme/modelcar-dir:v2", peers.registry);
    push_modelcar(&peers, &changed, dir.path(), &image_v2);
    let reference_v2 = format!("oci://{image_v2}");
    let other = verify_key(
        &reference_v2,
        &public,
        &["--signature", text(&signature)],
        registry,
    );
    assert_eq!(other.status.code(), Some(1), "{}", explain(&other));
    assert!(
        stderr(&other).contains("tokenizer/vocab.txt"),
        "{}",
        stderr(&other)
    );

    // An image layout copy reads the directory layer from its blobs on disk.
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
    let layout_digest = modelsign(&["digest", &from_layout]);
    assert_eq!(
        stdout(&layout_digest),
        stdout(&local_digest),
        "{}",
        explain(&layout_digest)
    );
    let from_file = modelsign(&[
        "verify",
        "key",
        &from_layout,
        "--public-key",
        text(&public),
        "--signature",
        text(&signature),
    ]);
    assert!(from_file.status.success(), "{}", explain(&from_file));
}

#[test]
fn rh_model_signing_and_modelsign_verify_each_others_signatures_of_a_modelcar_directory_layer() {
    let Some(peers) = peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let (key, public) = key_pair(dir.path());
    let registry = peers.registry.as_str();

    // modelsign signs and attaches; rh finds and verifies it, and the local folder.
    let ours = format!("{}/interop/modelcar-dir-ours:v1", peers.registry);
    push_modelcar(&peers, &model, dir.path(), &ours);
    let reference = format!("oci://{ours}");
    let signed = at_registry(
        &["sign", "key"],
        &reference,
        &["--private-key", text(&key), "--attach"],
        registry,
    );
    assert!(signed.status.success(), "{}", explain(&signed));
    let Some(verified) = rh("verify-registry", &ours, &["--public-key", text(&public)]) else {
        return;
    };
    assert!(verified.status.success(), "rh: {}", explain(&verified));
    let local = rh(
        "verify-local",
        &ours,
        &["--public-key", text(&public), "--local-model", text(&model)],
    )
    .unwrap();
    assert!(local.status.success(), "rh local: {}", explain(&local));

    // rh signs and attaches; modelsign finds and verifies it, and the local folder.
    let theirs = format!("{}/interop/modelcar-dir-theirs:v1", peers.registry);
    push_modelcar(&peers, &model, dir.path(), &theirs);
    let rh_signed = rh("sign-attach", &theirs, &["--private-key", text(&key)]).unwrap();
    assert!(
        rh_signed.status.success(),
        "rh sign: {}",
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
    assert_eq!(report["resources"], 4, "{report}");
    assert_eq!(report["local_files"], 4, "{report}");
}
