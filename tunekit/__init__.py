"""tunekit: fine-tune transformer encoders for NER and sentence classification, online or offline."""

__version__ = "0.1.0"
