//! Command-line arguments. Flag names follow model_signing's; underscores are accepted in
//! place of hyphens (`--private_key`), see [`normalize_flag_spelling`].

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "modelsign",
    version,
    about = "Sign and verify machine-learning models (OpenSSF Model Signing v1.0)",
    long_about = "Sign and verify machine-learning models in the OpenSSF Model Signing (OMS) v1.0 \
format: a Sigstore bundle holding a DSSE-signed in-toto statement that lists the digest of every \
file of the model. Signatures interoperate with the Python reference `model_signing`.",
    after_help = "Examples:\n  \
modelsign key generate --private-key key.pem    # a P-256 key pair: key.pem and key.pub\n  \
modelsign sign key my-model --private-key key.pem --signature my-model.sig\n  \
modelsign verify key my-model --public-key key.pub --signature my-model.sig\n  \
modelsign sign certificate my-model --private-key key.pem --signing-certificate leaf.pem \\\n      \
--certificate-chain intermediate.pem --signature my-model.sig\n  \
modelsign verify certificate my-model --certificate-chain root.pem --signature my-model.sig\n  \
modelsign verify sigstore my-model --signature my-model.sig --identity alice@example.com \\\n      \
--identity-provider https://accounts.google.com\n  \
modelsign sign pkcs11-key my-model --signature my-model.sig \\\n      \
--pkcs11-uri 'pkcs11:token=release;object=signer?module-name=softhsm2&pin-source=/run/pin'\n  \
modelsign digest my-model\n\n\
Exit status: 0 success, 1 signing or verification failed, 2 bad usage or unreadable input."
)]
pub struct Cli {
    /// What to report on stderr besides results and errors: DEBUG adds what modelsign
    /// decided and how long it took; INFO (the default) informational messages such as
    /// --log-fingerprints; WARNING only warnings; ERROR and CRITICAL no warnings either.
    /// Case-insensitive; also accepted after the command (model_signing: before it only).
    #[arg(long, global = true, value_enum, ignore_case = true, value_name = "LEVEL",
          default_value_t = LogLevel::Info, hide_possible_values = false)]
    pub log_level: LogLevel,
    #[command(subcommand)]
    pub command: Command,
}

/// model_signing's `--log-level` values, least severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum LogLevel {
    Debug,
    Info,
    Warning,
    Error,
    Critical,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign a model, writing a signature bundle.
    #[command(subcommand)]
    Sign(SignMethod),
    /// Verify a model against its signature bundle: with a method and its trust material,
    /// or with --policy, against a trust policy naming who may sign which models.
    #[command(
        args_conflicts_with_subcommands = true,
        subcommand_negates_reqs = true,
        after_help = VERIFY_POLICY_HELP
    )]
    Verify(VerifyCommand),
    /// Print the model's root digest (`sha256:<hex>`), as recorded in a signature's subject.
    Digest(DigestArgs),
    /// Key pairs for `sign key` / `verify key`.
    #[command(subcommand)]
    Key(KeyCommand),
    /// PKCS#11 token helpers (HSMs, smart cards, SoftHSM).
    #[command(subcommand)]
    Pkcs11(Pkcs11Command),
    /// Signed model cards: claims about a model (evaluation scores, datasets, license,
    /// intended use) bound to its root digest, as a CycloneDX 1.6 BOM.
    #[command(subcommand)]
    Card(CardCommand),
    /// Signed SLSA provenance for each stage of an ML pipeline (data-prep, pretrain,
    /// finetune, adapter, quantize, merge, distill, convert, evaluate): outputs and inputs
    /// named by their OMS root digests, so every stage joins the next.
    #[command(subcommand)]
    Provenance(ProvenanceCommand),
    /// The lineage graph: ingest verified signatures, cards and provenance under a trust
    /// policy, then ask what a model was made from and what a compromised dataset, model,
    /// commit or container affects, in retraining order.
    #[command(subcommand)]
    Lineage(LineageCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate an EC key pair: the private key as PKCS#8 PEM (mode 0600, optionally
    /// password-encrypted) and the public key as PEM beside it (`key.pem` → `key.pub`).
    ///
    /// model_signing and OpenSSL read both files. Encryption is PBES2 (PBKDF2-HMAC-SHA256,
    /// AES-256-CBC). Existing files are never replaced without --force.
    #[command(after_help = "Examples:\n  \
modelsign key generate --private-key key.pem                      # writes key.pem and key.pub\n  \
modelsign key generate --private-key key.pem --curve p384 --password   # asks for a password\n  \
modelsign key generate --private-key ci.pem --public-key ci-signer.pub --password-file pass.txt\n\n\
Then:\n  \
modelsign sign key my-model --private-key key.pem --signature my-model.sig\n  \
modelsign verify key my-model --public-key key.pub --signature my-model.sig")]
    Generate(KeyGenerateArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CurveArg {
    P256,
    P384,
    P521,
}

#[derive(Debug, Args)]
pub struct KeyGenerateArgs {
    /// Where to write the private key.
    #[arg(long, value_name = "PRIVATE_KEY")]
    pub private_key: PathBuf,
    /// Where to write the public key (default: the private key's path with extension .pub).
    #[arg(long, value_name = "PUBLIC_KEY")]
    pub public_key: Option<PathBuf>,
    /// The NIST curve (P-256 signs with SHA-256, P-384 with SHA-384, P-521 with SHA-512).
    #[arg(long, value_enum, default_value_t = CurveArg::P256)]
    pub curve: CurveArg,
    /// Encrypt the private key with this password, or without a value ask for it twice on
    /// the terminal (a value is visible in the process list; prefer the prompt or a file).
    #[arg(long, value_name = "PASSWORD", num_args = 0..=1,
          conflicts_with_all = ["password_file", "password_env"])]
    pub password: Option<Option<String>>,
    /// Encrypt the private key with the password on the first line of this file.
    #[arg(long, value_name = "FILE", conflicts_with = "password_env")]
    pub password_file: Option<PathBuf>,
    /// Encrypt the private key with the password in this environment variable.
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// Replace existing key files.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Subcommand)]
pub enum CardCommand {
    /// Draft a card (YAML) from what the model folder says: a Hugging Face README's front
    /// matter (license, datasets, base model, languages, task, model-index results),
    /// .eval_results/*.yaml, config.json, plus the files and root digest. Edit it, then
    /// `card sign` it.
    #[command(after_help = "Examples:\n  \
modelsign card init my-model -o card.yaml\n  \
modelsign card init my-model -o card.yaml --eval more-results.json")]
    Init(CardInitArgs),
    /// Sign a card, bound to the model's root digest, into its own signature
    /// (default model-card.sig); the model's signature is not touched.
    #[command(subcommand)]
    Sign(CardSignMethod),
    /// Verify a card: its signature, that it is about this model, and each --require
    /// policy on its signed metrics. Exit 1 if any of them fails.
    #[command(subcommand)]
    Verify(CardVerifyMethod),
    /// Verify a card and render it (--format text, markdown, html, json or cyclonedx).
    #[command(subcommand)]
    Show(CardVerifyMethod),
}

#[derive(Debug, Args)]
pub struct CardInitArgs {
    /// The model: a directory or a single file.
    #[arg(value_name = "MODEL_PATH")]
    pub model: PathBuf,
    /// Where to write the draft.
    #[arg(long, short, value_name = "FILE", default_value = "card.yaml")]
    pub output: PathBuf,
    /// More evaluation results: a JSON or YAML list of {metric, value, dataset, split,
    /// source, date} (repeatable).
    #[arg(long = "eval", value_name = "FILE")]
    pub evals: Vec<PathBuf>,
    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub hashing: HashingArgs,
    #[command(flatten)]
    pub report: OutputArgs,
}

/// How a card or a provenance is signed: `modelsign card sign key …`. The method's own
/// flags, with the command's (`C`).
pub type CardSignMethod = AttestSignMethod<CardSignCommon>;
/// How a card's signature is checked.
pub type CardVerifyMethod = AttestVerifyMethod<CardVerifyCommon>;

/// The signing methods of an attestation (a card, a provenance), each with the command's
/// own flags `C`.
#[derive(Debug, Subcommand)]
pub enum AttestSignMethod<C: Args> {
    /// Sign with an EC private key.
    Key(AttestSignKey<C>),
    /// Sign with an EC private key and its certificate chain.
    Certificate(AttestSignCertificate<C>),
    /// Sign keylessly with Sigstore.
    Sigstore(AttestSignSigstore<C>),
    /// Sign with a key held in a PKCS#11 token.
    #[command(after_help = PKCS11_HELP)]
    Pkcs11Key(AttestSignPkcs11Key<C>),
    /// Sign with a PKCS#11 token's key and its certificate chain.
    #[command(after_help = PKCS11_HELP)]
    Pkcs11Certificate(AttestSignPkcs11Certificate<C>),
}

#[derive(Debug, Args)]
pub struct AttestSignKey<C: Args> {
    #[command(flatten)]
    pub common: C,
    #[command(flatten)]
    pub key: PrivateKeyArgs,
}

#[derive(Debug, Args)]
pub struct AttestSignCertificate<C: Args> {
    #[command(flatten)]
    pub common: C,
    #[command(flatten)]
    pub key: PrivateKeyArgs,
    #[command(flatten)]
    pub certificate: CertificateChainArgs,
}

#[derive(Debug, Args)]
pub struct AttestSignSigstore<C: Args> {
    #[command(flatten)]
    pub common: C,
    #[command(flatten)]
    pub sigstore: SigstoreSignerArgs,
}

#[derive(Debug, Args)]
pub struct AttestSignPkcs11Key<C: Args> {
    #[command(flatten)]
    pub common: C,
    /// RFC 7512 URI of the signing key (see below).
    #[arg(long, value_name = "PKCS11_URI")]
    pub pkcs11_uri: String,
}

#[derive(Debug, Args)]
pub struct AttestSignPkcs11Certificate<C: Args> {
    #[command(flatten)]
    pub common: C,
    /// RFC 7512 URI of the signing key (see below).
    #[arg(long, value_name = "PKCS11_URI")]
    pub pkcs11_uri: String,
    #[command(flatten)]
    pub certificate: CertificateChainArgs,
}

/// The verification methods of an attestation, each with the command's own flags `C`.
#[derive(Debug, Subcommand)]
pub enum AttestVerifyMethod<C: Args> {
    /// It was signed with an EC key (`key` or `pkcs11-key`).
    Key(AttestVerifyKey<C>),
    /// It was signed with a certificate chain.
    Certificate(AttestVerifyCertificate<C>),
    /// It was signed keylessly with Sigstore.
    Sigstore(AttestVerifySigstore<C>),
}

#[derive(Debug, Args)]
pub struct AttestVerifyKey<C: Args> {
    #[command(flatten)]
    pub common: C,
    /// PEM public key of the signer.
    #[arg(long, value_name = "PUBLIC_KEY")]
    pub public_key: PathBuf,
}

#[derive(Debug, Args)]
pub struct AttestVerifyCertificate<C: Args> {
    #[command(flatten)]
    pub common: C,
    /// PEM file of trusted root certificate(s) (repeatable).
    #[arg(long, value_name = "CERTIFICATE_PATH", required = true)]
    pub certificate_chain: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AttestVerifySigstore<C: Args> {
    #[command(flatten)]
    pub common: C,
    #[command(flatten)]
    pub sigstore: SigstoreVerifierArgs,
}

#[derive(Debug, Args)]
pub struct CardSignCommon {
    /// The model the card is about: a directory or a single file, or an image
    /// (oci://REGISTRY/REPO:TAG, oci://REGISTRY/REPO@sha256:…, oci-layout:PATH[:TAG]).
    #[arg(value_name = "MODEL_PATH")]
    pub model: PathBuf,
    /// The card to sign (YAML, as `card init` drafts it).
    #[arg(long, value_name = "CARD")]
    pub card: PathBuf,
    /// Where to write the card's signature. Default: model-card.sig; for an image with
    /// --attach, no file unless this is given.
    #[arg(long, value_name = "SIGNATURE_PATH")]
    pub signature: Option<PathBuf>,
    /// For an oci:// image: store the card's signature in the registry beside it, as a
    /// referrer of artifact type application/vnd.modelsign.model-card.v1.
    #[arg(long, conflicts_with = "claims")]
    pub attach: bool,
    /// How --attach stores it: `referrers` (falls back to `tag` when the registry keeps no
    /// referrers) or `tag` (the tag sha256-<hex>.card).
    #[arg(long, value_enum, default_value = "referrers", requires = "attach")]
    pub attach_mode: AttachModeArg,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Append the card's signature to a claims file (one Sigstore bundle per line, kept
    /// beside the model) instead of writing --signature: MODEL_PATH/claims.jsonl, or FILE.
    #[arg(long, value_name = "FILE", num_args = 0..=1, conflicts_with = "signature")]
    pub claims: Option<Option<PathBuf>>,
    /// Take the model's root digest from its signature instead of hashing the model (the
    /// signature must verify with the key signing the card; not with sigstore).
    #[arg(long, value_name = "MODEL_SIGNATURE")]
    pub model_signature: Option<PathBuf>,
    /// Accept metric names outside the common ones (accuracy, f1, bleu, wer, ...).
    #[arg(long)]
    pub allow_custom_metrics: bool,
    #[command(flatten)]
    pub hashing: HashingArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CardFormatArg {
    Text,
    Markdown,
    Html,
    Json,
    Cyclonedx,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Policies (--require, repeatable): METRIC OP VALUE with OP one of >= <= == != > <,\n\
optionally narrowed to a dataset and split: accuracy@imdb>=0.9, f1@squad:validation>0.8.\n\
Every metric of the card the policy names must satisfy it; a missing metric fails it.\n\n\
Examples:\n  \
modelsign card verify key my-model --public-key key.pub --require 'accuracy>=0.90'\n  \
modelsign card show key my-model --public-key key.pub --format html -o card.html"
)]
pub struct CardVerifyCommon {
    /// The model the card must be about, or an image (oci://…, oci-layout:…).
    #[arg(value_name = "MODEL_PATH")]
    pub model: PathBuf,
    /// The card's signature. Default: model-card.sig; for an oci:// image, the card
    /// signature stored beside it in the registry.
    #[arg(long, value_name = "SIGNATURE_PATH")]
    pub card_signature: Option<PathBuf>,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Take the card's signature from a claims file instead of --card-signature: the newest
    /// card in MODEL_PATH/claims.jsonl, or in FILE, that verifies.
    #[arg(long, value_name = "FILE", num_args = 0..=1, conflicts_with = "card_signature")]
    pub claims: Option<Option<PathBuf>>,
    /// Verify the model against its signature too (same method and trust as the card), and
    /// check the card is about the model that signature covers.
    #[arg(long, value_name = "MODEL_SIGNATURE")]
    pub model_signature: Option<PathBuf>,
    /// A policy the card's signed metrics must meet (repeatable; see below).
    #[arg(long = "require", value_name = "POLICY")]
    pub requirements: Vec<String>,
    /// How to render the card (`card show` default: text; `card verify`: a summary).
    #[arg(long, value_enum)]
    pub format: Option<CardFormatArg>,
    /// Write the rendering to this file instead of standard output.
    #[arg(long = "output-file", short = 'o', value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    /// Hashing threads (default: every available core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..4097))]
    pub max_workers: Option<u64>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Subcommand)]
pub enum ProvenanceCommand {
    /// Record one pipeline stage: digest its outputs and local inputs, and sign an SLSA v1
    /// provenance beside each output (OUTPUT/provenance.sig, or FILE.provenance.sig).
    #[command(subcommand)]
    Record(ProvenanceRecordMethod),
    /// Verify a stage's provenance: its signature, that MODEL is one of its outputs, and
    /// with --input that local copies of the inputs are the ones recorded.
    #[command(subcommand)]
    Verify(ProvenanceVerifyMethod),
    /// Draft a provenance from what a Hugging Face model folder says about its ancestry
    /// (README front matter, adapter_config.json, config.json, mergekit configs, the
    /// cache's refs and snapshots). Every input it finds is marked claimed. Review the
    /// draft, then sign it with `provenance record METHOD --draft FILE`.
    #[command(after_help = "Examples:\n  \
modelsign provenance import-hf ./my-adapter -o draft.json\n  \
modelsign provenance import-hf ~/.cache/huggingface/hub/models--org--name/snapshots/REV -o draft.json\n  \
modelsign provenance record key --draft draft.json --allow-undigested --private-key key.pem")]
    ImportHf(ProvenanceImportHfArgs),
}

/// How a stage's provenance is signed.
pub type ProvenanceRecordMethod = AttestSignMethod<ProvenanceRecordCommon>;
/// How a stage's provenance is checked.
pub type ProvenanceVerifyMethod = AttestVerifyMethod<ProvenanceVerifyCommon>;

/// `--stage`: one of the library's stages, by the name it gives them (the list clap
/// shows is the library's, so a new stage needs no second list here).
fn stage_parser() -> impl clap::builder::TypedValueParser<Value = modelsign::provenance::Stage> {
    use clap::builder::TypedValueParser as _;
    use modelsign::provenance::Stage;
    clap::builder::PossibleValuesParser::new(Stage::ALL.map(Stage::name))
        .try_map(|name: String| Stage::parse(&name).ok_or("not a stage"))
}

#[derive(Debug, Args)]
#[command(
    after_help = "Inputs (--input ROLE=REF, repeatable). ROLE is one of base-model, dataset, code,\n\
container, framework, config, tokenizer, eval-set. REF is:\n  \
./path                              a local model or dataset: its OMS root digest\n  \
PURL#sha256=HEX                     a purl with its OMS root digest (pkg:huggingface/ORG/NAME@REV)\n  \
PURL#path=./copy                    a purl, digested from a local copy\n  \
pkg:oci/NAME@sha256:HEX             a container image by digest\n  \
git+https://HOST/REPO@SHA           code at a commit (digest gitCommit)\n  \
oci://REGISTRY/REPO:TAG             a model image (also @sha256:…, oci-layout:PATH[:TAG]): its OMS\n                                      \
root digest, recorded with the reference pinned to its manifest\n\
An input without a digest is refused unless --allow-undigested.\n\n\
What each stage needs: finetune and adapter one base-model and a dataset; quantize and convert\n\
one base-model; merge two or more; distill a base-model (the teacher); data-prep and pretrain a\n\
dataset; evaluate one base-model (the model evaluated) and an eval-set, and its --output is the\n\
evaluation results file (`card init --eval` imports it). docs/buildtypes/ describes each.\n\n\
Examples:\n  \
modelsign provenance record key --stage finetune --output ./tuned \\\n      \
--input base-model=./base --input dataset=./data --param learning_rate=2e-5 --private-key key.pem\n  \
modelsign provenance record sigstore --stage quantize --output ./tuned-q4=pkg:huggingface/me/tuned-q4 \\\n      \
--input base-model=./tuned --param bits=4\n  \
modelsign provenance record key --stage finetune --output oci://registry.example.com/me/tuned:v1 --attach \\\n      \
--input base-model=oci://registry.example.com/org/base:v1 --input dataset=./data --private-key key.pem"
)]
pub struct ProvenanceRecordCommon {
    /// The stage (its build type: https://modelsign.dev/buildtypes/ml-STAGE/v1).
    #[arg(long, value_parser = stage_parser(), required_unless_present = "draft")]
    pub stage: Option<modelsign::provenance::Stage>,
    /// An output of the stage, a model or a dataset (file or folder) or an image
    /// (oci://REGISTRY/REPO:TAG, oci-layout:PATH[:TAG]), optionally with its URI: PATH or
    /// PATH=URI (repeatable; each is a subject of the provenance).
    #[arg(
        long = "output",
        value_name = "PATH[=URI]",
        required_unless_present = "draft"
    )]
    pub outputs: Vec<String>,
    /// An input of the stage: ROLE=REF (repeatable; see below).
    #[arg(long = "input", value_name = "ROLE=REF")]
    pub inputs: Vec<String>,
    /// A parameter of the run: a hyper-parameter, a seed, the command (repeatable).
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub parameters: Vec<String>,
    /// Who ran the stage, as a URI (default: self-recorded, SLSA Build L1:
    /// https://modelsign.dev/builders/self-recorded/v1).
    #[arg(long, value_name = "URI")]
    pub builder_id: Option<String>,
    /// When the stage started (RFC 3339, e.g. 2026-12-02T09:30:00Z; default: when it finished).
    #[arg(long, value_name = "TIME")]
    pub started: Option<String>,
    /// When the stage finished (RFC 3339; default: now).
    #[arg(long, value_name = "TIME")]
    pub finished: Option<String>,
    /// Record inputs without a digest (graph tools drop them; a warning says so).
    #[arg(long)]
    pub allow_undigested: bool,
    /// Start from a draft (`provenance import-hf`): its stage, outputs, inputs (kept marked
    /// claimed) and parameters; flags add to it, --stage overrides it.
    #[arg(long, value_name = "FILE")]
    pub draft: Option<PathBuf>,
    /// Write the provenance to this one file instead of beside each output (an image
    /// output's default: ./provenance.sig; with --attach, no file unless this is given).
    #[arg(long, value_name = "FILE", conflicts_with = "claims")]
    pub output_file: Option<PathBuf>,
    /// Append the provenance to each output's claims file (OUTPUT/claims.jsonl), or to FILE.
    #[arg(long, value_name = "FILE", num_args = 0..=1)]
    pub claims: Option<Option<PathBuf>>,
    /// Store the provenance in the registry beside each output (every output an oci://
    /// image), as a referrer of artifact type application/vnd.modelsign.provenance.v1.
    #[arg(long, conflicts_with = "claims")]
    pub attach: bool,
    /// How --attach stores it: `referrers` (falls back to `tag` when the registry keeps no
    /// referrers) or `tag` (the tag sha256-<hex>.provenance).
    #[arg(long, value_enum, default_value = "referrers", requires = "attach")]
    pub attach_mode: AttachModeArg,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub hashing: HashingArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
modelsign provenance verify key ./tuned --public-key key.pub\n  \
modelsign provenance verify key ./tuned --public-key key.pub --input dataset=./data --json\n  \
modelsign provenance verify sigstore ./tuned-q4 --identity ci@example.com \\\n      \
--identity-provider https://token.actions.githubusercontent.com\n  \
modelsign provenance verify key oci://registry.example.com/me/tuned:v1 --public-key key.pub \\\n      \
--input base-model=oci://registry.example.com/org/base:v1")]
pub struct ProvenanceVerifyCommon {
    /// An output of the stage: a model or dataset, file or folder, or an image (oci://…,
    /// oci-layout:…).
    #[arg(value_name = "MODEL_PATH")]
    pub model: PathBuf,
    /// The provenance (default: MODEL_PATH/provenance.sig, or FILE.provenance.sig; for an
    /// oci:// image, the newest provenance stored beside it in the registry that verifies).
    #[arg(long, value_name = "FILE", conflicts_with = "claims")]
    pub provenance: Option<PathBuf>,
    /// Take the provenance from a claims file: the newest in MODEL_PATH/claims.jsonl, or in
    /// FILE, that verifies.
    #[arg(long, value_name = "FILE", num_args = 0..=1)]
    pub claims: Option<Option<PathBuf>>,
    /// A local copy of an input, or the image it is (ROLE=oci://…), to check against the
    /// recorded digest: ROLE=PATH (repeatable).
    #[arg(long = "input", value_name = "ROLE=PATH")]
    pub inputs: Vec<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Hashing threads (default: every available core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..4097))]
    pub max_workers: Option<u64>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ProvenanceImportHfArgs {
    /// The Hugging Face model folder (a clone, a download, or a cache snapshot).
    #[arg(value_name = "MODEL_DIR")]
    pub model: PathBuf,
    /// Where to write the draft.
    #[arg(
        long,
        short,
        value_name = "FILE",
        default_value = "provenance-draft.json"
    )]
    pub output: PathBuf,
    /// Replace the draft file if it exists.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub report: OutputArgs,
}

#[derive(Debug, Subcommand)]
pub enum LineageCommand {
    /// Verify attestations (bundle files, claims.jsonl files, or folders holding them)
    /// against a trust policy and store those it accepts; the others are refused with
    /// their reason and nothing of them is stored (exit 1 if any is refused).
    #[command(
        after_help = "A trust policy (TOML, or YAML for .yaml/.yml; paths relative to it; the format\n\
`verify --policy` reads). An ingest always enforces it: its mode (\"warn\") is for `verify`,\n\
and nothing a policy refuses is stored.\n\n  \
[[signer]]\n  \
name = \"data team\"\n  \
key = \"keys/data.pub\"\n  \
stages = [\"data-prep\"]                # provenance of these stages only (default: any)\n\n  \
[[signer]]\n  \
name = \"training CI\"\n  \
sigstore = { identity = \"ci@acme.example\", issuer = \"https://accounts.google.com\" }\n  \
kinds = [\"provenance\", \"card\"]        # default: provenance, card, signature\n  \
names = [\"pkg:huggingface/acme/*\"]    # subjects named so (default: any)\n\n  \
[[signer]]\n  \
name = \"release builds\"\n  \
sigstore = { identity_regex = \"https://github.com/acme/.*\", issuer = \"https://token.actions.githubusercontent.com\" }\n  \
                                      # identity_regex must match the whole identity\n\n  \
[[signer]]\n  \
name = \"release\"\n  \
certificate_chain = [\"roots/acme-root.pem\"]\n\n\
Examples:\n  \
modelsign lineage ingest --policy trust.toml ./pipeline\n  \
modelsign lineage ingest --policy trust.toml ./tuned/provenance.sig ./data/claims.jsonl --json"
    )]
    Ingest(LineageIngestArgs),
    /// What an artifact was made from: every dataset, base model, code commit and
    /// container behind it, each edge verified or claimed, with its signer.
    #[command(
        after_help = "REF is a file or folder (digested on the spot), a digest (sha256:HEX) or a name or\n\
purl recorded for it (pkg:huggingface/ORG/NAME).\n\n\
Examples:\n  \
modelsign lineage show ./tuned-q4\n  \
modelsign lineage show pkg:huggingface/acme/chat --format dot | dot -Tsvg > chat.svg"
    )]
    Show(LineageQueryArgs),
    /// Everything made from a compromised artifact, grouped into retraining levels in
    /// topological order, each with the stage to rerun and the recorded stage time;
    /// artifacts linked only by claimed edges are listed apart.
    #[command(after_help = "Examples:\n  \
modelsign lineage impact ./datasets/web-crawl-2026-11\n  \
modelsign lineage impact sha256:3f1c... --format json")]
    Impact(LineageQueryArgs),
    /// The stored attestations about an artifact, and who signed each.
    WhoSigned(LineageQueryArgs),
    /// A shortest chain of stages from one artifact to another (exit 1 when there is none).
    Path(LineagePathArgs),
    /// Draw an artifact's impact (or with --upstream its ancestry) as SVG, with Graphviz's
    /// `dot` (Debian: apt install graphviz).
    #[command(after_help = "Example:\n  \
modelsign lineage graph ./datasets/web-crawl-2026-11 -o impact.svg")]
    Graph(LineageGraphArgs),
    /// Write the store's verified provenance (as plain in-toto statements) and model cards
    /// (as CycloneDX BOMs) for GUAC's collector: `guacone collect files DIR`. Prints the
    /// purl GUAC knows each artifact by, for `guacone query patch --start-purl`.
    #[command(after_help = "Example:\n  \
modelsign lineage export --guac ./guac-export\n  \
guacone collect files ./guac-export --gql-addr http://127.0.0.1:8080/query\n  \
guacone query patch --start-purl 'pkg:generic/web-crawl?checksum=sha256:...' --is-pkg-version-start --search-depth 10")]
    Export(LineageExportArgs),
}

#[derive(Debug, Args)]
pub struct LineageExportArgs {
    /// The folder to write (created; must be empty when it exists).
    #[arg(long, value_name = "DIR")]
    pub guac: PathBuf,
    #[command(flatten)]
    pub store: LineageStoreArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct LineageStoreArgs {
    /// The lineage store: an SQLite file (default: $XDG_DATA_HOME/modelsign/lineage.db, or
    /// ~/.local/share/modelsign/lineage.db), or a PostgreSQL database,
    /// postgres://USER@HOST[:PORT]/DB, with the password in PGPASSWORD (or in the URL,
    /// where other users may see it in the process list; messages never show it).
    #[arg(long, value_name = "PATH|URL")]
    pub db: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LineageIngestArgs {
    /// Bundle files, claims files, or folders searched for *.sig, *.sigstore.json and
    /// claims.jsonl.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// The trust policy: which keys, certificate roots and Sigstore identities are
    /// accepted, for which stages and subjects (see below).
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,
    #[command(flatten)]
    pub store: LineageStoreArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LineageFormatArg {
    Text,
    Json,
    Dot,
}

/// Where a lineage query reads, and how it prints its answer.
#[derive(Debug, Args)]
pub struct LineageAnswerArgs {
    /// How to print the answer (--json is --format json).
    #[arg(long, value_enum, default_value_t = LineageFormatArg::Text)]
    pub format: LineageFormatArg,
    #[command(flatten)]
    pub store: LineageStoreArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct LineageQueryArgs {
    /// The artifact: a file or folder, a digest, or a recorded name or purl.
    #[arg(value_name = "REF")]
    pub reference: String,
    #[command(flatten)]
    pub answer: LineageAnswerArgs,
}

#[derive(Debug, Args)]
pub struct LineagePathArgs {
    /// Where the chain starts (an ancestor).
    #[arg(value_name = "FROM")]
    pub from: String,
    /// Where it ends (a descendant).
    #[arg(value_name = "TO")]
    pub to: String,
    #[command(flatten)]
    pub answer: LineageAnswerArgs,
}

#[derive(Debug, Args)]
pub struct LineageGraphArgs {
    /// The artifact: a file or folder, a digest, or a recorded name or purl.
    #[arg(value_name = "REF")]
    pub reference: String,
    /// Draw what it was made from instead of what was made from it.
    #[arg(long)]
    pub upstream: bool,
    /// Where to write the SVG.
    #[arg(long = "output-file", short = 'o', value_name = "FILE")]
    pub output_file: PathBuf,
    #[command(flatten)]
    pub store: LineageStoreArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Subcommand)]
pub enum Pkcs11Command {
    /// Write the public key of a token's key as PEM, for `verify key`.
    ///
    /// Reads the public-key object with the URI's id/label (or, failing that, the
    /// certificate stored with it). Logs in only if the URI carries a PIN.
    #[command(after_help = "Example:\n  \
modelsign pkcs11 export-public-key \\\n      \
'pkcs11:token=release;object=model-signing?module-name=softhsm2' -o signer.pub")]
    ExportPublicKey(ExportPublicKeyArgs),
}

#[derive(Debug, Args)]
pub struct ExportPublicKeyArgs {
    /// RFC 7512 URI of the key (see `modelsign sign pkcs11-key --help`).
    #[arg(value_name = "PKCS11_URI")]
    pub uri: String,
    /// Write the PEM here instead of to standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum SignMethod {
    /// Sign with an EC private key (P-256, P-384 or P-521).
    ///
    /// The bundle records a hint of the public key; verifiers need the public key itself.
    Key(SignKeyArgs),
    /// Sign with an EC private key and its X.509 certificate chain.
    ///
    /// The signing certificate and the given chain go into the bundle; verifiers need the
    /// root certificate(s) they trust.
    Certificate(SignCertificateArgs),
    /// Sign keylessly with Sigstore (the default method): prove who you are with an OIDC
    /// identity, get a short-lived certificate from Fulcio, log the signature in Rekor.
    ///
    /// The identity token comes from --identity-token (or its file/environment variants),
    /// else from the CI system (GitHub Actions, GitLab, Buildkite, ...), else from signing
    /// in with the browser. Verifiers then check your identity with `verify sigstore`.
    #[command(after_help = "Examples:\n  \
modelsign sign sigstore my-model --signature my-model.sig\n  \
modelsign sign my-model --signature my-model.sig              # same: sigstore is the default\n  \
modelsign sign sigstore my-model --identity-token-env SIGSTORE_ID_TOKEN\n  \
modelsign sign sigstore my-model --trust-config private-instance.json --identity-token-file token")]
    Sigstore(SignSigstoreArgs),
    /// Sign with an EC key held in a PKCS#11 token (HSM, smart card, SoftHSM).
    ///
    /// The key never leaves the token. The bundle is that of `sign key` (a hint of the
    /// public key): verify it with `verify key` and the public key, which
    /// `modelsign pkcs11 export-public-key` writes.
    #[command(after_help = PKCS11_HELP)]
    Pkcs11Key(SignPkcs11KeyArgs),
    /// Sign with an EC key held in a PKCS#11 token, and its X.509 certificate chain.
    ///
    /// The bundle is that of `sign certificate`: verify it with `verify certificate` and
    /// the root certificate(s).
    #[command(after_help = PKCS11_HELP)]
    Pkcs11Certificate(SignPkcs11CertificateArgs),
}

const PKCS11_HELP: &str = "The key is addressed by an RFC 7512 URI:\n  \
pkcs11:token=LABEL;object=KEY-LABEL;id=%01?module-name=softhsm2&pin-source=/path/to/pin\n\n\
Path attributes (';'-separated): token (token label) and/or slot-id; object (key label)\n\
and/or id (key id, percent-encoded bytes).\n\
Query attributes ('&'-separated): module-path (the module file, or a folder to search) or\n\
module-name (e.g. softhsm2, searched in /usr/lib64/pkcs11, /usr/lib/pkcs11,\n\
/usr/lib/<arch>-linux-gnu/pkcs11, /usr/local/lib/pkcs11 and SoftHSM's folders);\n\
pin-source (a file holding exactly the PIN, no trailing newline) or pin-value.\n\
Without a PIN, modelsign asks for it on a terminal. A wrong PIN is never retried.\n\n\
Examples:\n  \
modelsign sign pkcs11-key my-model --signature my-model.sig \\\n      \
--pkcs11-uri 'pkcs11:token=release;object=signer?module-name=softhsm2&pin-source=/run/pin'\n  \
modelsign sign pkcs11-certificate my-model --signature my-model.sig \\\n      \
--pkcs11-uri 'pkcs11:token=release;id=%01?module-path=/usr/lib/softhsm/libsofthsm2.so' \\\n      \
--signing-certificate leaf.pem --certificate-chain intermediate.pem";

const VERIFY_POLICY_HELP: &str = "With --policy, the signature must verify as one of the policy's \
signers that may sign\nmodels of this name: a Hugging Face cache snapshot (models--ORG--NAME/snapshots/REV) is\n\
named ORG/NAME and pkg:huggingface/ORG/NAME, any other model by its folder or file name\n\
(never by the name its signature gives). A trust policy (TOML, or YAML for .yaml/.yml;\n\
paths relative to it; the format `lineage ingest` reads):\n\n  \
mode = \"enforce\"                      # or \"warn\": report a refusal on stderr, exit 0\n\n  \
[[signer]]\n  \
name = \"release\"\n  \
key = \"keys/release.pub\"\n  \
names = [\"pkg:huggingface/acme/*\"]    # models named so (default: any)\n\n  \
[[signer]]\n  \
name = \"training CI\"\n  \
sigstore = { identity = \"ci@acme.example\", issuer = \"https://accounts.google.com\" }\n  \
kinds = [\"signature\"]                # default: signature, card, provenance\n\n  \
[[signer]]\n  \
name = \"release builds\"\n  \
sigstore = { identity_regex = \"https://github.com/acme/.*\", issuer = \"https://token.actions.githubusercontent.com\" }\n  \
                                      # identity_regex must match the whole identity\n\n  \
[[signer]]\n  \
name = \"partners\"\n  \
certificate_chain = [\"roots/partners.pem\"]\n\n\
Examples:\n  \
modelsign verify my-model --policy trust.toml --signature my-model.sig\n  \
modelsign verify ~/.cache/huggingface/hub/models--acme--chat/snapshots/REV \\\n      \
--policy trust.toml --signature chat.sig --json\n  \
modelsign verify key my-model --public-key key.pub --signature my-model.sig\n\n\
A model folder named key, certificate or sigstore must be written ./key (else it is the method).";

/// `verify`: a method subcommand, or the model and a trust policy.
#[derive(Debug, Args)]
pub struct VerifyCommand {
    #[command(subcommand)]
    pub method: Option<VerifyMethod>,
    #[command(flatten)]
    pub policy: VerifyPolicyArgs,
}

/// `verify MODEL --policy FILE`; required unless a method is given instead.
#[derive(Debug, Args)]
pub struct VerifyPolicyArgs {
    /// The model: a directory or a single file, or an image (oci://REGISTRY/REPO:TAG,
    /// oci://…@sha256:…, oci-layout:PATH[:TAG]), named REGISTRY/REPO and
    /// pkg:oci/NAME?repository_url=REGISTRY/REPO for the policy's `names`.
    #[arg(value_name = "MODEL_PATH", required = true)]
    pub model: Option<PathBuf>,
    /// The trust policy: which keys, certificate roots and Sigstore identities may sign
    /// which models, and whether a refusal fails (mode enforce) or warns (see below).
    #[arg(long, value_name = "FILE", required = true)]
    pub policy: Option<PathBuf>,
    /// The signature to verify (required for a local model; for an oci:// image, default:
    /// the signatures stored beside it in the registry).
    #[arg(long, value_name = "SIGNATURE_PATH")]
    pub signature: Option<PathBuf>,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Tolerate files that the signature does not cover (signed files must still match).
    #[arg(long, overrides_with = "no_ignore_unsigned_files")]
    pub ignore_unsigned_files: bool,
    /// Fail on files the signature does not cover (default).
    #[arg(long)]
    pub no_ignore_unsigned_files: bool,
    #[command(flatten)]
    pub partial: PartialArgs,
    /// Hashing threads (default: every available core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..4097))]
    pub max_workers: Option<u64>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `--files`: partial verification of a local model.
#[derive(Debug, Args)]
pub struct PartialArgs {
    /// Partial verification: check the signature and the whole signed manifest, but hash
    /// only these files of the model (a directory: the signed files under it), as a loader
    /// needs before it reads one shard. No other file is read or checked, and the report
    /// lists the files checked. Several may follow one --files, and it may be repeated;
    /// give the model before it. A file the signature does not cover is refused.
    #[arg(long, value_name = "PATH", num_args = 1.., conflicts_with = "ignore_unsigned_files")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum VerifyMethod {
    /// Verify a signature made with `sign key`, using the signer's public key.
    Key(VerifyKeyArgs),
    /// Verify a signature made with `sign certificate`, using trusted root certificates.
    Certificate(VerifyCertificateArgs),
    /// Verify a Sigstore keyless signature: who signed (the identity in the Fulcio
    /// certificate, vouched for by an OIDC provider), logged in Rekor, and the model.
    ///
    /// Works offline: the public-good production trust root is built in. Give the
    /// expected signer with --identity (exact) or --identity-regex, and its identity
    /// provider with --identity-provider.
    #[command(after_help = "Examples:\n  \
modelsign verify sigstore my-model --signature my-model.sig \\\n      \
--identity alice@example.com --identity-provider https://accounts.google.com\n  \
modelsign verify sigstore my-model --signature my-model.sig \\\n      \
--identity-regex '^https://github.com/my-org/.*/release.yml@refs/tags/v.*$' \\\n      \
--identity-provider https://token.actions.githubusercontent.com")]
    Sigstore(VerifySigstoreArgs),
}

/// Which files make up the model.
#[derive(Debug, Clone, Args)]
pub struct SelectionArgs {
    /// Path to exclude (repeatable): relative to the model root, or absolute inside the
    /// model. A directory excludes its whole subtree; no globbing. Verification also
    /// excludes the paths the signature records as excluded.
    #[arg(long = "ignore-paths", value_name = "PATH")]
    pub ignore_paths: Vec<PathBuf>,
    /// Exclude .git, .gitattributes, .github and .gitignore at the model's top level (default).
    #[arg(long, overrides_with = "no_ignore_git_paths")]
    pub ignore_git_paths: bool,
    /// Include git metadata files in the model.
    #[arg(long)]
    pub no_ignore_git_paths: bool,
    /// Make attestation files at the model's top level (*.sig, *.sigstore.json,
    /// claims.jsonl) part of the model. By default they are left out, so that a card or
    /// claim signed later does not change the model, and a signature records the ones it
    /// left out among its ignore paths (model_signing skips them too).
    #[arg(long)]
    pub include_attestation_files: bool,
    /// Follow symbolic links whose target lies inside the model (refused otherwise). A
    /// Hugging Face cache snapshot's links into its repository's blobs/ are followed
    /// without it.
    #[arg(long)]
    pub allow_symlinks: bool,
}

/// Which files make up the model, and how they are hashed.
#[derive(Debug, Clone, Args)]
pub struct HashingArgs {
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Digest algorithm for each file or shard.
    #[arg(long, value_enum, default_value_t = HashTypeArg::Sha256)]
    pub hash_type: HashTypeArg,
    /// One digest per file, or per fixed-size byte range of each file.
    #[arg(long, value_enum, default_value_t = SerializationArg::Files)]
    pub serialization: SerializationArg,
    /// Shard size in bytes for `--serialization shards`.
    #[arg(long, value_name = "BYTES", default_value_t = modelsign::DEFAULT_SHARD_SIZE,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub shard_size: u64,
    /// Hashing threads (default: every available core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..4097))]
    pub max_workers: Option<u64>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum HashTypeArg {
    Sha256,
    Blake2b,
    Blake3,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SerializationArg {
    Files,
    Shards,
}

/// How results are reported.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Print the result as one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct SignCommon {
    /// The model: a directory or a single file, or an image: oci://REGISTRY/REPO:TAG,
    /// oci://REGISTRY/REPO@sha256:DIGEST (signed from its manifest; no layer is pulled
    /// but a ModelCar directory layer, streamed to hash its files), or oci-layout:PATH[:TAG].
    #[arg(value_name = "MODEL_PATH")]
    pub model: PathBuf,
    /// Where to write the signature (excluded from the model if inside it). Default:
    /// model.sig; for an image with --attach, no file unless this is given.
    #[arg(long, value_name = "SIGNATURE_PATH")]
    pub signature: Option<PathBuf>,
    /// For an oci:// image: store the signature in the registry beside it, as a referrer of
    /// the image manifest (artifact type application/vnd.model-signing.signature.v0.1).
    #[arg(long)]
    pub attach: bool,
    /// How --attach stores the signature: `referrers` (OCI 1.1; also under the tag when the
    /// registry keeps no referrers) or `tag` (the tag sha256-<hex>.sig).
    #[arg(long, value_enum, default_value = "referrers", requires = "attach")]
    pub attach_mode: AttachModeArg,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub hashing: HashingArgs,
    #[command(flatten)]
    pub incremental: IncrementalArgs,
    /// Name the file of a single-file model `.`, as model_signing 1.1.1 does, instead of
    /// by its file name as OMS v1.0 specifies: model_signing verifies only that form.
    #[arg(long)]
    pub model_signing_single_file_name: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Re-signing what changed: the digests of unchanged files come from an earlier signature.
#[derive(Debug, Args)]
#[command(next_help_heading = "Re-signing what changed")]
pub struct IncrementalArgs {
    /// An earlier signature of this model to take the digests of unchanged files from, so
    /// that only changed files are read. It is verified first (see --reuse-public-key) and
    /// must have been made with the same --hash-type and --serialization. Say what changed
    /// with --changed, --changed-since-git or --stat-cache. The new signature is the one a full re-sign
    /// would make; a changed file not declared changed keeps its old digest, and the new
    /// signature then fails verification naming that file.
    #[arg(long, value_name = "OLD_SIGNATURE")]
    pub reuse: Option<PathBuf>,
    /// A file or folder that changed since the earlier signature (repeatable), relative to
    /// the model root or absolute inside it. Added, removed and renamed files need not be
    /// given: they are found by the walk. Every other file keeps its earlier digest.
    #[arg(long, value_name = "PATH", requires = "reuse")]
    pub changed: Vec<PathBuf>,
    /// The git revision the earlier signature was made of: files `git diff REV` reports
    /// changed, and files git does not track, are hashed; a file renamed unchanged keeps its
    /// digest. The model must lie in a git working tree.
    #[arg(
        long,
        value_name = "REV",
        requires = "reuse",
        conflicts_with = "changed"
    )]
    pub changed_since_git: Option<String>,
    /// Keep a stat cache of the files signed (size, times, inode, device; in
    /// $MODELSIGN_CACHE_DIR, else $XDG_CACHE_HOME/modelsign, else ~/.cache/modelsign, never
    /// in the model). With --reuse and neither --changed nor --changed-since-git, a file
    /// whose stat is as recorded when the earlier signature's digest of it was made is
    /// taken as unchanged (what that trusts: README, "The stat cache").
    #[arg(long)]
    pub stat_cache: bool,
    /// Sign the digests a pipeline already computed instead of hashing those files: a
    /// `sha256sum`, `b2sum` or `b3sum` list (plain or --tag; give the matching --hash-type),
    /// or another tool's OMS manifest (a Sigstore bundle, whose signature is not checked, an
    /// in-toto statement, or its predicate). Files the list leaves out are hashed; a listed
    /// file the model lacks is refused. The report says which files were not re-hashed;
    /// verification always hashes, so a wrong digest gives a signature that fails to verify.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["reuse", "stat_cache"])]
    pub digests: Option<PathBuf>,
    /// The public key the earlier signature verifies with. Default for `sign key` and
    /// `sign pkcs11-key`: the signing key's own.
    #[arg(long, value_name = "FILE", requires = "reuse")]
    pub reuse_public_key: Option<PathBuf>,
    /// A root certificate the earlier signature's certificate must chain to (repeatable),
    /// as `verify certificate --certificate-chain` takes.
    #[arg(long, value_name = "FILE", requires = "reuse",
          conflicts_with_all = ["reuse_public_key", "reuse_identity", "reuse_identity_regex"])]
    pub reuse_certificate_chain: Vec<PathBuf>,
    /// The Sigstore identity that made the earlier signature, exactly (with
    /// --reuse-identity-provider; trusted with this signing's Sigstore instance).
    #[arg(long, value_name = "IDENTITY", requires_all = ["reuse", "reuse_identity_provider"],
          conflicts_with = "reuse_public_key")]
    pub reuse_identity: Option<String>,
    /// A regular expression the earlier signature's Sigstore identity must match.
    #[arg(long, value_name = "REGEX", requires_all = ["reuse", "reuse_identity_provider"],
          conflicts_with_all = ["reuse_identity", "reuse_public_key"])]
    pub reuse_identity_regex: Option<String>,
    /// The OIDC provider that vouched for the earlier signature's identity.
    #[arg(long, value_name = "URL", requires = "reuse")]
    pub reuse_identity_provider: Option<String>,
}

/// The signing key, and where the password of an encrypted key comes from (otherwise: a
/// prompt).
#[derive(Debug, Args)]
pub struct PrivateKeyArgs {
    /// PEM private key (PKCS#8, SEC1, or encrypted PKCS#8).
    #[arg(long, value_name = "PRIVATE_KEY")]
    pub private_key: PathBuf,
    /// Read the key's password from the first line of this file.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["password_env", "password"])]
    pub password_file: Option<PathBuf>,
    /// Read the key's password from this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with = "password")]
    pub password_env: Option<String>,
    /// The key's password (visible to other users in the process list; prefer the others).
    #[arg(long, value_name = "PASSWORD")]
    pub password: Option<String>,
}

#[derive(Debug, Args)]
pub struct SignKeyArgs {
    #[command(flatten)]
    pub common: SignCommon,
    #[command(flatten)]
    pub key: PrivateKeyArgs,
}

#[derive(Debug, Args)]
pub struct SignCertificateArgs {
    #[command(flatten)]
    pub common: SignCommon,
    #[command(flatten)]
    pub key: PrivateKeyArgs,
    #[command(flatten)]
    pub certificate: CertificateChainArgs,
}

/// The signing certificate and the intermediates that go into the bundle with it.
#[derive(Debug, Args)]
pub struct CertificateChainArgs {
    /// PEM certificate of the signing key.
    #[arg(long, value_name = "CERTIFICATE")]
    pub signing_certificate: PathBuf,
    /// PEM file of intermediate certificates to include, signing certificate's issuer first
    /// (repeatable; a file may hold several).
    #[arg(long, value_name = "CERTIFICATE_PATH")]
    pub certificate_chain: Vec<PathBuf>,
    /// Sign even though the signing certificate is one `verify certificate` refuses
    /// (expired, not yet valid, or with neither the digitalSignature key usage nor the
    /// codeSigning extended key usage), with a warning saying why. Without it such a
    /// certificate is refused before anything is hashed or written.
    #[arg(long)]
    pub allow_unverifiable_certificate: bool,
}

#[derive(Debug, Args)]
pub struct SignPkcs11KeyArgs {
    #[command(flatten)]
    pub common: SignCommon,
    /// RFC 7512 URI of the signing key (see below).
    #[arg(long, value_name = "PKCS11_URI")]
    pub pkcs11_uri: String,
}

#[derive(Debug, Args)]
pub struct SignPkcs11CertificateArgs {
    #[command(flatten)]
    pub common: SignCommon,
    /// RFC 7512 URI of the signing key (see below).
    #[arg(long, value_name = "PKCS11_URI")]
    pub pkcs11_uri: String,
    #[command(flatten)]
    pub certificate: CertificateChainArgs,
}

#[derive(Debug, Args)]
pub struct SignSigstoreArgs {
    #[command(flatten)]
    pub common: SignCommon,
    #[command(flatten)]
    pub sigstore: SigstoreSignerArgs,
}

/// Where keyless signing gets its identity and which Sigstore instance it uses.
#[derive(Debug, Args)]
pub struct SigstoreSignerArgs {
    /// Sign with Sigstore's staging instance instead of production.
    #[arg(long)]
    pub use_staging: bool,
    /// A ClientTrustConfig (trusted root + signing config) naming the Sigstore services to
    /// use (private instances). --use-staging wins over it, as in model_signing.
    #[arg(long, value_name = "FILE")]
    pub trust_config: Option<PathBuf>,
    /// The OIDC identity token (visible in the process list; prefer the file or
    /// environment variants).
    #[arg(long, value_name = "TOKEN", conflicts_with_all = ["identity_token_file", "identity_token_env"])]
    pub identity_token: Option<String>,
    /// Read the identity token from this file.
    #[arg(long, value_name = "FILE", conflicts_with = "identity_token_env")]
    pub identity_token_file: Option<PathBuf>,
    /// Read the identity token from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub identity_token_env: Option<String>,
    /// Look for CI credentials (the default; accepted for model_signing compatibility).
    #[arg(long, overrides_with = "no_ambient_credentials")]
    pub use_ambient_credentials: bool,
    /// Do not look for CI credentials: sign in interactively unless a token is given.
    #[arg(long)]
    pub no_ambient_credentials: bool,
    /// Sign in by pasting a code instead of through a browser redirect.
    #[arg(long)]
    pub oauth_force_oob: bool,
    /// OAuth client ID for interactive sign-in.
    #[arg(long, value_name = "ID", default_value = "sigstore")]
    pub client_id: String,
    /// OAuth client secret (public clients such as Sigstore's have none).
    #[arg(long, value_name = "SECRET", default_value = "")]
    pub client_secret: String,
}

#[derive(Debug, Args)]
pub struct VerifyCommon {
    /// The model: a directory or a single file, or an image: oci://REGISTRY/REPO:TAG,
    /// oci://REGISTRY/REPO@sha256:DIGEST or oci-layout:PATH[:TAG].
    #[arg(value_name = "MODEL_PATH")]
    pub model: PathBuf,
    /// The signature to verify (required for a local model; for an oci:// image, default:
    /// the signature stored beside it in the registry).
    #[arg(long, value_name = "SIGNATURE_PATH")]
    pub signature: Option<PathBuf>,
    /// For an image: also verify this unpacked copy of it (every file the signature names,
    /// no other file) against the same signature.
    #[arg(long, value_name = "DIR")]
    pub local_model: Option<PathBuf>,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Tolerate files that the signature does not cover (signed files must still match).
    #[arg(long, overrides_with = "no_ignore_unsigned_files")]
    pub ignore_unsigned_files: bool,
    /// Fail on files the signature does not cover (default).
    #[arg(long)]
    pub no_ignore_unsigned_files: bool,
    #[command(flatten)]
    pub partial: PartialArgs,
    /// Hashing threads (default: every available core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..4097))]
    pub max_workers: Option<u64>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct VerifyKeyArgs {
    #[command(flatten)]
    pub common: VerifyCommon,
    /// PEM public key of the signer.
    #[arg(long, value_name = "PUBLIC_KEY")]
    pub public_key: PathBuf,
}

#[derive(Debug, Args)]
pub struct VerifyCertificateArgs {
    #[command(flatten)]
    pub common: VerifyCommon,
    /// PEM file of trusted root certificate(s) (repeatable; a file may hold several).
    #[arg(long, value_name = "CERTIFICATE_PATH", required = true)]
    pub certificate_chain: Vec<PathBuf>,
    /// Log the SHA-256 fingerprint of every trust anchor (`[  init  ]`) and of every
    /// certificate in the signature, intermediates first (`[ verify ]`), on stderr, as
    /// model_signing does. Hidden by --log-level WARNING and above, and by --quiet.
    #[arg(long)]
    pub log_fingerprints: bool,
}

#[derive(Debug, Args)]
pub struct VerifySigstoreArgs {
    #[command(flatten)]
    pub common: VerifyCommon,
    #[command(flatten)]
    pub sigstore: SigstoreVerifierArgs,
}

/// Who must have signed, and which Sigstore trust root vouches for it.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("expected_identity").required(true).args(["identity", "identity_regex"])))]
pub struct SigstoreVerifierArgs {
    /// The signer's identity exactly as in the certificate: an email address, or for CI
    /// workflows a URI such as
    /// https://github.com/ORG/REPO/.github/workflows/release.yml@refs/heads/main.
    #[arg(long, value_name = "IDENTITY")]
    pub identity: Option<String>,
    /// A regular expression the signer's identity must match (use ^...$ to anchor it).
    #[arg(long, value_name = "REGEX", conflicts_with = "identity")]
    pub identity_regex: Option<String>,
    /// The OIDC identity provider (issuer URL) that must have vouched for the identity,
    /// e.g. https://accounts.google.com or https://token.actions.githubusercontent.com.
    #[arg(long, value_name = "URL")]
    pub identity_provider: String,
    /// Trust Sigstore's staging instance instead of production.
    #[arg(long)]
    pub use_staging: bool,
    /// A trusted_root.json to trust instead of the built-in roots (private instances).
    #[arg(long, value_name = "FILE", conflicts_with = "trust_config")]
    pub trusted_root: Option<PathBuf>,
    /// A ClientTrustConfig (trusted root + signing config, as model_signing's
    /// --trust_config takes) whose trusted root is used. Wins over --use-staging.
    #[arg(long, value_name = "FILE")]
    pub trust_config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DigestArgs {
    /// The model: a directory or a single file, or an image: oci://REGISTRY/REPO:TAG,
    /// oci://REGISTRY/REPO@sha256:DIGEST or oci-layout:PATH[:TAG] (its root digest from the
    /// manifest; no layer is pulled but a ModelCar directory layer, streamed to hash its
    /// files).
    #[arg(value_name = "MODEL_PATH")]
    pub model: PathBuf,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub hashing: HashingArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// As model_signing does, `sign MODEL ...` and `verify MODEL ...` without a method name
/// mean the `sigstore` method.
pub fn default_to_sigstore(mut args: Vec<OsString>) -> Vec<OsString> {
    const METHODS: [&str; 6] = [
        "key",
        "certificate",
        "sigstore",
        "pkcs11-key",
        "pkcs11-certificate",
        "help",
    ];
    let command = args.get(1).and_then(|a| a.to_str());
    // `verify MODEL --policy FILE` names its signers in the policy, not by a method.
    let policy_given = command == Some("verify")
        && args
            .iter()
            .skip(2)
            .take_while(|a| *a != "--")
            .filter_map(|a| a.to_str())
            .any(|a| a == "--policy" || a.starts_with("--policy="));
    if matches!(command, Some("sign" | "verify")) && !policy_given {
        if let Some(next) = args.get(2).and_then(|a| a.to_str()) {
            if !next.starts_with('-') && !METHODS.contains(&next) {
                args.insert(2, OsString::from("sigstore"));
            }
        }
    }
    args
}

/// model_signing accepts `--private_key` as well as `--private-key`; so do we. Only the
/// option name is rewritten (never a value, nor anything after `--`).
pub fn normalize_flag_spelling(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut seen_separator = false;
    args.into_iter()
        .map(|arg| {
            if seen_separator {
                return arg;
            }
            let Some(text) = arg.to_str() else {
                return arg;
            };
            if text == "--" {
                seen_separator = true;
                return arg;
            }
            if !text.starts_with("--") {
                return arg;
            }
            let (name, value) = match text.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (text, None),
            };
            let name = format!("--{}", name[2..].replace('_', "-"));
            OsString::from(match value {
                Some(value) => format!("{name}={value}"),
                None => name,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalized(args: &[&str]) -> Vec<String> {
        normalize_flag_spelling(args.iter().map(OsString::from))
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn underscore_flags_become_hyphenated_but_values_do_not() {
        assert_eq!(
            normalized(&[
                "modelsign",
                "--private_key",
                "my_key.pem",
                "--ignore_paths=a_b",
                "my_model"
            ]),
            [
                "modelsign",
                "--private-key",
                "my_key.pem",
                "--ignore-paths=a_b",
                "my_model"
            ]
        );
        assert_eq!(
            normalized(&["x", "--", "--not_a_flag"]),
            ["x", "--", "--not_a_flag"]
        );
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}

/// How `--attach` stores a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AttachModeArg {
    /// As a referrer of the image manifest (OCI 1.1 referrers API).
    Referrers,
    /// Under the tag sha256-<hex>.sig, for registries without the referrers API.
    Tag,
}

/// How to reach a registry, for oci:// models.
#[derive(Debug, Args)]
pub struct RegistryArgs {
    /// Speak plain HTTP to this registry (HOST:PORT); loopback hosts only (repeatable).
    #[arg(long, value_name = "HOST:PORT")]
    pub insecure_registry: Vec<String>,
    /// Present the bearer token in this environment variable to the registry (default: the
    /// credentials `docker login` stored in Docker's config.json or a credential helper,
    /// else none).
    #[arg(long, value_name = "VAR")]
    pub registry_token_env: Option<String>,
    /// Also trust the CA certificates in this PEM file for HTTPS registries, beside the
    /// system's: for a registry whose certificate a private CA issued (repeatable).
    #[arg(long, value_name = "FILE")]
    pub registry_ca_file: Vec<PathBuf>,
}
