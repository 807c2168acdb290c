"""Serving a trained folder over HTTP: scripts/serve.sh, batched predictions, a page to try the model."""
