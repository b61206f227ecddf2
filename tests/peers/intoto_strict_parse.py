"""Parses the in-toto statement of each Sigstore bundle given with in-toto's own Python
bindings (PyPI in-toto-attestation), as a strict consumer would: protobuf JSON parsing,
which rejects any field the Statement or the SLSA v1 Provenance message does not define,
then the bindings' own validators. Prints one line per bundle; exits 1 at the first
statement that does not parse or validate, naming the bundle and why.

    python intoto_strict_parse.py BUNDLE...
"""

import base64
import importlib.metadata
import json
import sys

from google.protobuf import json_format
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.resource_descriptor import ResourceDescriptor
from in_toto_attestation.v1.statement import Statement

SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1"


def check(path):
    with open(path, encoding="utf-8") as file:
        payload = base64.b64decode(json.load(file)["dsseEnvelope"]["payload"])
    # ignore_unknown_fields=False is json_format's default; said here because it is the point.
    parsed = json_format.Parse(payload, statement_pb2.Statement(), ignore_unknown_fields=False)
    Statement.copy_from_pb(parsed).validate()
    if parsed.predicate_type != SLSA_PROVENANCE_V1:
        raise ValueError(f"predicateType is {parsed.predicate_type!r}, not {SLSA_PROVENANCE_V1}")
    provenance = json_format.ParseDict(
        json_format.MessageToDict(parsed.predicate),
        provenance_pb2.Provenance(),
        ignore_unknown_fields=False,
    )
    # The Python bindings have no Provenance validator (the Go ones do): these are the
    # fields SLSA v1 marks REQUIRED, and each resource descriptor by the bindings' rule.
    build = provenance.build_definition
    if not build.build_type:
        raise ValueError("buildDefinition.buildType is required")
    if not build.HasField("external_parameters"):
        raise ValueError("buildDefinition.externalParameters is required")
    if not provenance.run_details.builder.id:
        raise ValueError("runDetails.builder.id is required")
    for descriptor in list(build.resolved_dependencies) + list(provenance.run_details.byproducts):
        ResourceDescriptor.copy_from_pb(descriptor).validate()
    subjects = ", ".join(s.name for s in parsed.subject)
    print(f"strict-parse ok: {path}: {build.build_type} -> {subjects}")


def main():
    print("in-toto-attestation", importlib.metadata.version("in-toto-attestation"))
    for path in sys.argv[1:]:
        try:
            check(path)
        except Exception as error:  # every failure is a verdict on that bundle
            print(f"strict-parse FAILED: {path}: {type(error).__name__}: {error}")
            sys.exit(1)


if __name__ == "__main__":
    main()
