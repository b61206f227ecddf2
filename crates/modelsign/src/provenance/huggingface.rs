//! Claimed lineage from Hugging Face metadata (`provenance import-hf`).
