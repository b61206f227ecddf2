//! Every flag of model_signing 1.1.1 works with modelsign, read at run time from the
//! reference's own `--help` (so a new reference flag or command fails here, by name), and
//! one behavioural test for each flag modelsign once rejected.
//!
//! The reference comes from the venv that scripts/test.sh prepares; outside CI a missing
//! venv skips these tests with a message, in CI it is a failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use test_support::{assert_ok, explain, text};

const MODELSIGN: &str = env!("CARGO_BIN_EXE_modelsign");

/// One option as the reference's help lists it: its spelling, and whether it takes a value
/// (the help then names a metavariable after it, e.g. `--signature SIGNATURE_PATH`).
#[derive(Debug)]
struct ReferenceFlag {
    name: String,
    metavar: Option<String>,
}

fn help_of(cli: &Path, command: &[&str]) -> String {
    let out = Command::new(cli)
        .args(command)
        .arg("--help")
        .output()
        .expect("run model_signing");
    assert_ok(&out);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The lines of a click help section (`Options:`, `Commands:`), up to the next blank line.
fn section<'a>(help: &'a str, title: &str) -> Vec<&'a str> {
    help.lines()
        .skip_while(|line| line.trim_end() != title)
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .collect()
}

/// The subcommand names a click group's help lists.
fn commands(help: &str) -> Vec<String> {
    section(help, "Commands:")
        .iter()
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .collect()
}

/// Every option a click help lists. An entry is `  -h, --help  text` or `  --a / --b  text`
/// or `  --name METAVAR  text`; the description starts after two spaces or on the next line.
fn flags(help: &str) -> Vec<ReferenceFlag> {
    let mut found = Vec::new();
    for line in section(help, "Options:") {
        let Some(entry) = line.strip_prefix("  ").filter(|l| l.starts_with('-')) else {
            continue;
        };
        let spec = entry.split("  ").next().unwrap_or(entry);
        for alternative in spec.split(['/', ',']) {
            let mut words = alternative.split_whitespace();
            if let Some(name) = words.next() {
                found.push(ReferenceFlag {
                    name: name.to_owned(),
                    metavar: words.next().map(str::to_owned),
                });
            }
        }
    }
    found
}

/// A value clap will accept for an option whose help names `metavar`.
fn sample_value(metavar: &str) -> &'static str {
    match metavar {
        "LEVEL" => "DEBUG",
        _ => "value",
    }
}

/// Whether modelsign parses `flag` after `command`: followed by `--help`, a known flag
/// shows the help (exit 0), an unknown one is a usage error naming it (exit 2).
fn accepted(command: &[&str], flag: &ReferenceFlag) -> Result<(), String> {
    let mut args: Vec<&str> = command.to_vec();
    args.push(&flag.name);
    if let Some(metavar) = &flag.metavar {
        args.push(sample_value(metavar));
    }
    args.push("--help");
    let out = Command::new(MODELSIGN)
        .args(&args)
        .output()
        .expect("run modelsign");
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`modelsign {}` is refused: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

#[test]
fn every_model_signing_flag_of_every_command_and_method_is_accepted() {
    let Some(cli) = test_support::model_signing_cli() else {
        return;
    };
    let top = help_of(&cli, &[]);
    let mut refused = Vec::new();
    let mut checked = 0;
    for flag in flags(&top) {
        checked += 1;
        if let Err(e) = accepted(&[], &flag) {
            refused.push(e);
        }
    }
    let groups = commands(&top);
    assert!(
        groups.contains(&"sign".to_owned()) && groups.contains(&"verify".to_owned()),
        "cannot read the commands of model_signing --help:\n{top}"
    );
    for group in &groups {
        let group_help = help_of(&cli, &[group]);
        for flag in flags(&group_help) {
            checked += 1;
            if let Err(e) = accepted(&[group], &flag) {
                refused.push(e);
            }
        }
        let methods = commands(&group_help);
        assert!(
            methods.contains(&"key".to_owned()),
            "cannot read the methods of model_signing {group} --help:\n{group_help}"
        );
        for method in &methods {
            let method_help = help_of(&cli, &[group, method]);
            let method_flags = flags(&method_help);
            assert!(
                method_flags.iter().any(|f| f.name == "--signature"),
                "cannot read the options of model_signing {group} {method} --help:\n{method_help}"
            );
            for flag in method_flags {
                checked += 1;
                if let Err(e) = accepted(&[group, method], &flag) {
                    refused.push(e);
                }
            }
        }
    }
    assert!(checked > 40, "only {checked} flags read from the reference");
    assert!(
        refused.is_empty(),
        "{} of {checked} model_signing flags are refused:\n{}",
        refused.len(),
        refused.join("\n")
    );
}

/// A two-file model signed by modelsign with the reference's test certificate chain (P-384
/// leaf, intermediate in the bundle), and the root certificate that verifies it.
struct CertificateSigned {
    _dir: tempfile::TempDir,
    model: PathBuf,
    signature: PathBuf,
    root: PathBuf,
}

fn certificate_signed() -> CertificateSigned {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = test_support::two_file_model(dir.path());
    let signature = dir.path().join("model.sig");
    let keys = test_support::vector("oms-conformance/assets/keys/certificate");
    let out = Command::new(MODELSIGN)
        .args([
            "sign",
            "certificate",
            text(&model),
            "--signature",
            text(&signature),
        ])
        .args(["--private-key", text(&keys.join("signing-key.pem"))])
        .args([
            "--signing-certificate",
            text(&keys.join("signing-key-cert.pem")),
        ])
        .args(["--certificate-chain", text(&keys.join("int-ca-cert.pem"))])
        .output()
        .expect("run modelsign");
    assert_ok(&out);
    CertificateSigned {
        _dir: dir,
        model,
        signature,
        root: keys.join("ca-cert.pem"),
    }
}

impl CertificateSigned {
    /// `verify certificate` by `tool` (modelsign or model_signing), `global` flags before
    /// the command, `extra` after it.
    fn verify(&self, tool: &Path, global: &[&str], extra: &[&str]) -> Output {
        let out = Command::new(tool)
            .args(global)
            .args(["verify", "certificate", text(&self.model)])
            .args(["--signature", text(&self.signature)])
            .args(["--certificate_chain", text(&self.root)])
            .args(extra)
            .output()
            .expect("run the verifier");
        assert_ok(&out);
        out
    }
}

/// The stderr lines containing `needle`.
fn lines_with(out: &Output, needle: &str) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|line| line.contains(needle))
        .map(str::to_owned)
        .collect()
}

/// `openssl x509 -fingerprint -sha256` of a PEM certificate: `AB:CD:...`.
fn openssl_fingerprint(certificate: &Path) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(certificate)
        .output()
        .expect("run openssl");
    assert_ok(&out);
    let printed = String::from_utf8_lossy(&out.stdout);
    let (_, fingerprint) = printed
        .trim()
        .split_once('=')
        .expect("openssl prints NAME=FP");
    fingerprint.to_owned()
}

#[test]
fn log_fingerprints_logs_every_certificate_exactly_as_model_signing_does() {
    let Some(cli) = test_support::model_signing_cli() else {
        return;
    };
    let signed = certificate_signed();
    let theirs = lines_with(
        &signed.verify(&cli, &[], &["--log_fingerprints"]),
        "Fingerprint",
    );
    let ours_out = signed.verify(Path::new(MODELSIGN), &[], &["--log_fingerprints"]);
    let ours = lines_with(&ours_out, "Fingerprint");
    assert_eq!(ours, theirs, "{}", explain(&ours_out));
    // The root as loaded, then the bundle's intermediate and signing certificate.
    assert_eq!(ours.len(), 3, "{ours:?}");
    assert_eq!(
        ours[0],
        format!(
            "[  init  ] sha256 Fingerprint: {}",
            openssl_fingerprint(&signed.root)
        )
    );
    assert!(
        ours[1].starts_with("[ verify ] sha256 Fingerprint: "),
        "{ours:?}"
    );

    let without = signed.verify(Path::new(MODELSIGN), &[], &[]);
    assert_eq!(lines_with(&without, "Fingerprint"), Vec::<String>::new());
    assert_eq!(
        without.stdout, ours_out.stdout,
        "the flag only adds log lines"
    );
}

#[test]
fn log_level_hides_or_adds_messages_but_never_results() {
    let Some(cli) = test_support::model_signing_cli() else {
        return;
    };
    let signed = certificate_signed();
    let ours = Path::new(MODELSIGN);
    let fingerprints = &["--log_fingerprints"][..];

    // WARNING hides informational messages, in model_signing as in modelsign.
    for tool in [ours, cli.as_path()] {
        let out = signed.verify(tool, &["--log-level", "WARNING"], fingerprints);
        assert_eq!(
            lines_with(&out, "Fingerprint"),
            Vec::<String>::new(),
            "{}",
            explain(&out)
        );
    }
    let default = signed.verify(ours, &[], fingerprints);
    let info = signed.verify(ours, &["--log-level", "info"], fingerprints);
    assert_eq!(info.stderr, default.stderr, "INFO is the default");

    // DEBUG adds what was decided, before or after the command; results are unchanged.
    let debug = signed.verify(ours, &["--log-level", "DEBUG"], &[]);
    let after = signed.verify(ours, &[], &["--log_level", "debug"]);
    for out in [&debug, &after] {
        let lines = lines_with(out, "debug: ");
        assert!(
            lines
                .iter()
                .any(|l| l.contains("certificate chain (certificate method)"))
                && lines.iter().any(|l| l.contains("2 resources checked")),
            "{}",
            explain(out)
        );
        assert_eq!(out.stdout, default.stdout);
    }
    assert_eq!(lines_with(&default, "debug: "), Vec::<String>::new());

    // ERROR (and CRITICAL) hide warnings too.
    let outside = signed.model.with_file_name("elsewhere");
    let warned = &["--ignore-paths", text(&outside)][..];
    let warning = "is not inside the model";
    assert_eq!(
        lines_with(&signed.verify(ours, &[], warned), warning).len(),
        1
    );
    for level in ["WARNING", "DEBUG"] {
        let out = signed.verify(ours, &["--log-level", level], warned);
        assert_eq!(lines_with(&out, warning).len(), 1, "{level}");
    }
    for level in ["ERROR", "critical"] {
        let out = signed.verify(ours, &["--log-level", level], warned);
        assert!(out.stderr.is_empty(), "{level}: {}", explain(&out));
        assert_eq!(out.stdout, default.stdout, "{level}");
    }

    // An unknown level is a usage error naming the levels, as in model_signing.
    let out = Command::new(MODELSIGN)
        .args(["--log-level", "LOUD", "digest", text(&signed.model)])
        .output()
        .expect("run modelsign");
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("debug, info, warning, error, critical"),
        "{}",
        explain(&out)
    );
}
