//! The PKCS#11 URI parser (`--pkcs11-uri`, RFC 7512). Accepted URIs print (PIN hidden) and
//! parse back the same; refused ones never quote a `pin-value` in the error.

#![no_main]

use libfuzzer_sys::fuzz_target;
use modelsign::Pkcs11Uri;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Pkcs11Uri::parse(text) {
        Ok(uri) => {
            let _ = (uri.token(), uri.object(), uri.id(), uri.slot_id());
            let _ = (uri.module_path(), uri.module_name(), uri.pin());
            let shown = uri.to_string();
            let debug = format!("{uri:?}");
            // What is printed does not depend on the PIN at all.
            let other_pin = Pkcs11Uri::parse(&with_other_pins(text))
                .unwrap_or_else(|e| panic!("the URI with another PIN does not parse: {e}"));
            assert_eq!(
                other_pin.to_string(),
                shown,
                "the printed URI shows the PIN"
            );
            assert_eq!(
                format!("{other_pin:?}"),
                debug,
                "the debug form shows the PIN"
            );
            assert_every_percent_escape_is_two_hex_digits(text);
            // The printed URI hides the PIN, so only a URI without one prints back whole.
            if !shown.contains("pin-value=<redacted>") {
                let reparsed = Pkcs11Uri::parse(&shown)
                    .unwrap_or_else(|e| panic!("a printed URI does not parse: {shown}: {e}"));
                assert_eq!(reparsed, uri, "printing and parsing changed the URI");
            }
        }
        Err(error) => {
            // The marker itself is not a leak (written by the input, or part of a PIN:
            // `dacted`), nor is text the message has anyway (a PIN of `s11:` is found in
            // "must start with 'pkcs11:'").
            if text.contains("<redacted>") || text.contains('\0') {
                return;
            }
            let message = error.to_string().replace("<redacted>", "\0");
            let message_without_pins = Pkcs11Uri::parse(&cut_pins(text, "<redacted>"))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            for pin in anything_after_pin_value(text) {
                if message_without_pins.contains(pin) {
                    continue;
                }
                assert!(
                    !message.contains(pin),
                    "error message quotes a pin-value: {message}"
                );
            }
        }
    }
});

/// The URI with the value of every `pin-value` pair of the query replaced.
fn with_other_pins(uri: &str) -> String {
    let Some((head, query)) = uri.split_once('?') else {
        return uri.to_owned();
    };
    let query: Vec<&str> = query
        .split('&')
        .map(|pair| {
            if pair.starts_with("pin-value=") {
                "pin-value=0000"
            } else {
                pair
            }
        })
        .collect();
    format!("{head}?{}", query.join("&"))
}

/// What follows each `pin-value=` anywhere in the URI, up to the next separator: in a URI
/// refused as malformed, any of these may be the PIN the user meant. Quote marks around it
/// are cut: messages quote names with them, so a PIN of `'abc` is "found" in a message
/// quoting the public name `'abc...'` (a false alarm fuzzing found), and the quote carries
/// nothing of the secret anyway.
fn anything_after_pin_value(uri: &str) -> Vec<&str> {
    uri.match_indices("pin-value=")
        .map(|(at, mark)| {
            let value = &uri[at + mark.len()..];
            value[..value.find(['&', ';', '?']).unwrap_or(value.len())].trim_matches('\'')
        })
        .filter(|pin| distinctive(uri, pin))
        .collect()
}

/// True when `pin` is not found in the URI once every `pin-value=...` is cut out.
fn distinctive(uri: &str, pin: &str) -> bool {
    pin.len() >= 4 && !cut_pins(uri, "").contains(pin)
}

/// The URI with what follows each `pin-value=` (up to the next separator) replaced.
fn cut_pins(uri: &str, replacement: &str) -> String {
    let mut out = String::new();
    let mut rest = uri;
    while let Some(at) = rest.find("pin-value=") {
        out.push_str(&rest[..at + "pin-value=".len()]);
        out.push_str(replacement);
        rest = &rest[at + "pin-value=".len()..];
        rest = rest.find(['&', ';', '?']).map_or("", |end| &rest[end..]);
    }
    out.push_str(rest);
    out
}

/// RFC 7512 (via RFC 3986): `%` in a value is always followed by exactly two hex digits.
/// (Vendor attribute names are not decoded, and are accepted as written.)
fn assert_every_percent_escape_is_two_hex_digits(uri: &str) {
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let pairs = path.split(';').chain(query.split('&'));
    for value in pairs.filter_map(|pair| pair.split_once('=').map(|(_, value)| value)) {
        let bytes = value.as_bytes();
        for (at, _) in value.match_indices('%') {
            let escape = bytes.get(at + 1..at + 3);
            assert!(
                escape.is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)),
                "accepted the value '{value}': '%' not followed by two hex digits"
            );
        }
    }
}
