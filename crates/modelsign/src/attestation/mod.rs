//! Statements about a model besides its OMS signature.

pub mod claims;
