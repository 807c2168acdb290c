"""Training: the Trainer subclass, optimizer groups, losses, callbacks, the output folder's runs; speed/ holds the fast path."""
