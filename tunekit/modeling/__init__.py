"""Models: loading configs, tokenizers and Auto* heads (offline default, Hub, folders), the CRF head."""
