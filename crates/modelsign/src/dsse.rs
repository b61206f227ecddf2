//! DSSE envelopes and the pre-authentication encoding (PAE) that is actually signed.

/// The payload type of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// A DSSE envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The payload bytes exactly as transported (signatures cover these bytes).
    pub payload: Vec<u8>,
    /// The payload's media type, signed with it (`application/vnd.in-toto+json`).
    pub payload_type: String,
    /// The signatures over the payload's pre-authentication encoding.
    pub signatures: Vec<Signature>,
}

/// One signature of an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The raw signature (DER-encoded ECDSA for every method modelsign writes).
    pub sig: Vec<u8>,
    /// Unused by OMS; `""` when written by modelsign, possibly absent or null when read.
    pub keyid: Option<String>,
}

/// DSSE v1 PAE: `"DSSEv1" SP len(type) SP type SP len(payload) SP payload`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// The PAE that model_signing 0.2 signed by mistake: `DSSEV1` (capital V) followed by
/// Python's `repr()` of the payload bytes instead of the bytes themselves. Only used to
/// verify signatures from that release.
pub(crate) fn legacy_pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEV1 {} {} {} b'",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    for &byte in payload {
        match byte {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\'' => out.extend_from_slice(b"\\'"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0x20..=0x7e => out.push(byte),
            other => out.extend_from_slice(format!("\\x{other:02x}").as_bytes()),
        }
    }
    out.push(b'\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        // Example from the DSSE protocol description.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn legacy_pae_reproduces_python_bytes_repr() {
        let payload = b"{\n  \"_type\": \"x\"\n}";
        let expected = "DSSEV1 28 application/vnd.in-toto+json 18 b'{\\n  \"_type\": \"x\"\\n}'";
        assert_eq!(legacy_pae(PAYLOAD_TYPE, payload), expected.as_bytes());
        assert_eq!(
            legacy_pae("t", b"a'\\\x01\xff"),
            b"DSSEV1 1 t 5 b'a\\'\\\\\\x01\\xff'".to_vec()
        );
    }
}
